"""The benchmark machinery runs end to end at a toy size (no timing is asserted).

``python -m bench`` is the real thing (see ``bench/README.md``); this proves every scenario
still runs against the current code: the real ``feeds`` command in subprocesses, the local
feed server (started and stopped by the bench itself), ``feeds run`` and both baselines, and
that a no-op rebuild writes no file.  20 articles, 5 remote feeds, one run each: a few
seconds, most of them interpreter start-ups.
"""

from __future__ import annotations

from pathlib import Path

from bench.run import Plan, evaluate, format_table, run_bench


def test_every_scenario_runs_and_a_noop_build_writes_nothing(tmp_path: Path) -> None:
    report = run_bench(Plan.tiny(), tmp_path)

    by_name = {(r.scenario, r.n): r for r in report.results}
    expected = {("startup", None), ("baseline: feedgen", 20), ("baseline: stream", 20),
                ("cold", 20), ("no-op", 20), ("one new", 20), ("one edit", 20),
                ("daemon", 20), ("remote 1st pass", None), ("remote all-304", None)}
    assert expected <= set(by_name)
    errors = {key: r.error for key, r in by_name.items() if r.error}
    assert not errors
    assert all(r.samples for r in report.results)

    noop = by_name[("no-op", 20)]
    assert [s.written for s in noop.samples] == [0]
    assert by_name[("one new", 20)].samples[0].written  # the new article reached the feeds
    assert by_name[("one edit", 20)].samples[0].written
    first, second = by_name[("remote 1st pass", None)], by_name[("remote all-304", None)]
    assert first.extra["statuses"] == [{200: 5}]
    assert second.extra["statuses"] == [{304: 5}]

    assert all(s.peak_mb > 0 for r in report.results for s in r.samples)
    assert "no-op" in format_table(report)
    assert {t.status for t in evaluate(report)} <= {"met", "MISSED", "not run"}


def test_peak_memory_is_the_commands_own_not_the_benchs() -> None:
    """A child exec'd from a big parent inherits the parent's ru_maxrss on Linux."""
    import sys

    from bench.measure import run_command

    held = bytearray(300 * 1024 * 1024)  # the bench holding a large generated data set
    for i in range(0, len(held), 4096):
        held[i] = 1
    run = run_command([sys.executable, "-c", "x = bytearray(20 * 1024 * 1024)\n"
                       "for i in range(0, len(x), 4096): x[i] = 1"])
    assert run.returncode == 0
    assert 20 < run.peak_mb < 150
    del held


def test_a_long_running_command_is_stopped_through_the_launcher_and_measured_alone(
        tmp_path: Path) -> None:
    """``feeds run`` is started under the launcher too: SIGTERM reaches it, and its peak
    is its own (it used to be Popen'd from the bench and report the bench's)."""
    import signal
    import subprocess
    import sys
    import time

    from bench.measure import launch, launched_peak_mb

    held = bytearray(300 * 1024 * 1024)
    for i in range(0, len(held), 4096):
        held[i] = 1
    report = str(tmp_path / "peak")
    script = ("import signal, sys, time\n"
              "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
              "x = bytearray(20 * 1024 * 1024)\n"
              "for i in range(0, len(x), 4096): x[i] = 1\n"
              "print('ready', flush=True)\n"
              "time.sleep(60)\n")
    proc = launch([sys.executable, "-c", script], report, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert time.monotonic() - started < 10
    peak = launched_peak_mb(report)
    assert peak is not None and 20 < peak < 150
    del held
