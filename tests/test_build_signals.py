"""`feeds build` stopped by a signal: it unwinds, and no process-pool worker outlives it.

A pool worker waits for work on a pipe it shares with its parent, so a parent killed
without shutting its pool down used to leave its workers waiting forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ONE_FOLDER_CONFIG

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG and /proc are Linux's")

# Reads slowly (the pool is busy for seconds), then runs the real command line.
SLOW_BUILD = textwrap.dedent("""
    import sys, time
    from feeds import cli, normalize
    from feeds.pipeline import folder
    real = normalize.read
    def slow(*args, **kwargs):
        time.sleep(0.01)
        return real(*args, **kwargs)
    normalize.read = slow
    folder.PARALLEL_THRESHOLD = 1
    sys.argv = ["feeds", "build", "-q", "--config", sys.argv[1]]
    cli.entry()  # what the feeds command runs
""")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found += [int(x) for x in text.split()]
    return found


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def site(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(400):
        (articles / f"a{n:03}.txt").write_text(
            f"Story {n}\n\nPublished 3 May 2024\n\nLISBON: The story number {n}.\n",
            encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(ONE_FOLDER_CONFIG, encoding="utf-8")
    return tmp_path


def start_slow_build(site: Path) -> tuple[subprocess.Popen[bytes], list[int]]:
    process = subprocess.Popen([sys.executable, "-c", SLOW_BUILD, str(site / "feeds.toml")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: list[int] = []

    def pool_running() -> bool:  # (workers are forked as work arrives: one may be all)
        workers[:] = children(process.pid)
        return len(workers) >= 1

    if not wait_until(lambda: pool_running() or process.poll() is not None, timeout=60) \
            or not workers:
        process.kill()
        assert process.stderr is not None
        pytest.fail(f"the build never started its pool (exit {process.wait()}): "
                    f"{process.stderr.read().decode()[-2000:]}")
    return process, workers


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_build_stopped_midway_leaves_no_worker_behind(site: Path, sig: int) -> None:
    process, workers = start_slow_build(site)
    process.send_signal(sig)
    try:
        code = process.wait(timeout=30)
        assert wait_until(lambda: not any(alive(w) for w in workers), timeout=10), \
            "pool workers outlived the build"
    finally:
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
        process.kill()
        assert process.stderr is not None
        err = process.stderr.read().decode()
        process.stderr.close()
    if sig == signal.SIGTERM:  # unwound like Ctrl-C: a message, 143, no temporary file
        assert code == 143, err
        assert err.strip().endswith("feeds: terminated")
        leftovers = [p for p in site.rglob(".*")
                     if p.name.startswith(".spool.") or p.name.endswith(".tmp")]
        assert leftovers == []
    else:
        assert code == -signal.SIGKILL


# A build whose main thread gets stuck where it never asks whether to stop: in a reader
# (the first article takes a minute), or while a new feed file is being made durable
# (fsync takes a minute, the temporary file beside the feed exists meanwhile).
STUCK_BUILD = textwrap.dedent("""
    import os, sys, time
    from feeds import cli, normalize
    from feeds.pipeline import folder
    config, where, grace = sys.argv[1], sys.argv[2], float(sys.argv[3])
    cli.GRACE = grace
    folder.PARALLEL_THRESHOLD = 10**9  # read in the main thread
    def stuck(*args, **kwargs):
        sys.stderr.write("stuck\\n"); sys.stderr.flush()
        time.sleep(60)
    if where == "read":
        normalize.read = stuck
    else:
        real_fsync = os.fsync
        def fsync(fd):
            if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
                stuck()
            return real_fsync(fd)
        os.fsync = fsync
    sys.argv = ["feeds", "build", "-q", "--config", config]
    cli.entry()
""")


def start_stuck_build(site: Path, where: str, grace: float) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", STUCK_BUILD, str(site / "feeds.toml"), where, str(grace)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    line = process.stderr.readline()  # blocks until stuck (or the end)
    if line != b"stuck\n":
        process.kill()
        pytest.fail(f"the build never got stuck: {line!r} {process.stderr.read()!r}")
    return process


def temporaries(site: Path) -> list[Path]:
    return [p for p in site.rglob(".*") if p.name.startswith(".spool.") or p.name.endswith(".tmp")]


@pytest.mark.parametrize("where", ["read", "write"])
def test_sigterm_stops_a_stuck_build_within_the_grace_period(site: Path, where: str) -> None:
    if where == "write":  # a first build, so that the stuck one replaces existing files
        subprocess.run([sys.executable, "-m", "feeds", "build", "-q", "--config",
                        str(site / "feeds.toml")], check=True, timeout=120)
        (site / "articles" / "new.txt").write_text(
            "A new story\n\nPublished 4 May 2024\n\nLISBON: News.\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (site / "public").rglob("*") if p.is_file()}
    process = start_stuck_build(site, where, grace=2.0)
    if where == "write":
        assert [p.name for p in temporaries(site)] != []  # the half-made replacement
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=20)  # 60 s stuck otherwise; a 2 s grace
    finally:
        process.kill()
    elapsed = time.monotonic() - started
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    assert code == 143, err
    assert elapsed >= 2.0  # the build was given its grace period first
    assert err.replace("stuck\n", "").strip() == "feeds: terminated"  # (one per writer)
    assert temporaries(site) == []
    assert {p: p.read_bytes() for p in (site / "public").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_a_second_stop_signal_ends_a_stuck_build_at_once(site: Path, second: int) -> None:
    process = start_stuck_build(site, "read", grace=60.0)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    process.send_signal(second)
    try:
        code = process.wait(timeout=20)  # not the 60 s grace, nor the 60 s stuck read
    finally:
        process.kill()
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    if second == signal.SIGTERM:
        assert code == 143, err
        assert err.strip() == "feeds: terminated"
    else:  # Ctrl-C may also unwind the main thread first, as Ctrl-C alone does
        assert code in (143, 130), err
        assert err.strip().splitlines()[-1] in ("feeds: terminated", "feeds: interrupted")
