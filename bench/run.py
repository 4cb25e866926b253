"""``python -m bench``: run every scenario, print medians, ratios and the targets.

::

    plan (sizes, repeats) ─► startup ─► per N: dataset ─► baselines ─► cold ─► no-op
                                                            ─► one new ─► one edit ─► daemon
                         ─► remote (local server: 1st pass, all-304 pass) ─► table, targets

Every figure comes from a subprocess (``bench.measure``): wall time measured here, peak
RSS from ``wait4``.  ``--quick`` is a small plan for a run under a minute; the default is
the full plan (N = 1,000 / 10,000 / 50,000; about 20 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from bench import data, scenarios
from bench.scenarios import Result

__all__ = ["Plan", "Target", "evaluate", "format_table", "main", "run_bench"]

BUILD_SCENARIOS = ("cold", "no-op", "one new", "one edit")


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    repeats: dict[int, dict[str, int]]  # per N: scenario -> runs
    startup_runs: int = 10
    remote_feeds: int = 500
    remote_items: int = 20
    remote_rounds: int = 3
    remote_concurrency: int = 20
    daemon_sizes: tuple[int, ...] = ()
    daemon_writes: int = 3
    skip: frozenset[str] = frozenset()
    corpus: str = "mixed"  # bench.data.CORPORA
    archive: bool = False  # the every-item feed archived (RFC 5005)

    @staticmethod
    def full() -> Plan:
        per = {"cold": 3, "no-op": 5, "one new": 5, "one edit": 5, "baseline": 3}
        return Plan(
            sizes=(1_000, 10_000, 50_000),
            repeats={
                1_000: per,
                10_000: {"cold": 2, "no-op": 3, "one new": 3, "one edit": 3, "baseline": 3},
                50_000: {"cold": 1, "no-op": 2, "one new": 2, "one edit": 2, "baseline": 2},
            },
            daemon_sizes=(1_000, 10_000, 50_000),  # pickup should not grow with N
        )

    @staticmethod
    def quick() -> Plan:
        per = {"cold": 2, "no-op": 3, "one new": 3, "one edit": 3, "baseline": 2}
        return Plan(sizes=(100, 500), repeats={100: per, 500: per}, startup_runs=5,
                    remote_feeds=100, remote_rounds=1, daemon_sizes=(100,), daemon_writes=2)

    @staticmethod
    def tiny() -> Plan:
        """The smoke test's plan: everything once, at toy sizes."""
        one = {"cold": 1, "no-op": 1, "one new": 1, "one edit": 1, "baseline": 1}
        return Plan(sizes=(20,), repeats={20: one}, startup_runs=1, remote_feeds=5,
                    remote_items=3, remote_rounds=1, remote_concurrency=5,
                    daemon_sizes=(20,), daemon_writes=1,
                    skip=frozenset({"reader"}))  # no package downloads in a test

    def runs(self, n: int, scenario: str) -> int:
        table = self.repeats.get(n) or next(iter(self.repeats.values()))
        return table.get(scenario, 1)


@dataclass
class Report:
    plan: Plan
    results: list[Result] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    elapsed_s: float = 0.0

    def get(self, scenario: str, n: int | None = None) -> Result | None:
        for r in self.results:
            if r.scenario == scenario and r.n == n:
                return r
        return None

    def median(self, scenario: str, n: int | None = None) -> float | None:
        r = self.get(scenario, n)
        if r is None or not r.samples or r.error:
            return None
        return statistics.median(s.wall_s for s in r.samples)


def run_bench(plan: Plan, workdir: Path, *, log: Callable[[str], None] = lambda _m: None
              ) -> Report:
    """Run the plan in ``workdir``; every result also goes through ``log`` as it lands."""
    report = Report(plan)
    started = time.perf_counter()

    def add(result: Result) -> None:
        report.results.append(result)
        med = statistics.median(s.wall_s for s in result.samples) if result.samples else None
        shown = f"{med:.3f} s" if med is not None else "-"
        where = f" N={result.n}" if result.n is not None else ""
        peak = f", peak {max(s.peak_mb for s in result.samples):.0f} MB" if result.samples else ""
        log(f"  {result.scenario}{where}: {shown} ({len(result.samples)} runs{peak})"
            + (f"  ERROR {result.error}" if result.error else ""))

    if "startup" not in plan.skip:
        log("startup (feeds --version)")
        add(scenarios.startup(plan.startup_runs))
    for n in plan.sizes:
        log(f"N = {n}: generating articles")
        ds = scenarios.prepare(workdir, n, corpus=plan.corpus, archive=plan.archive)
        log(f"  generated in {ds.generate_s:.1f} s")
        if "baseline" not in plan.skip:
            for kind in ("feedgen", "stream"):
                add(scenarios.baseline(kind, n, workdir, plan.runs(n, "baseline"),
                                       plan.corpus))
        if "build" not in plan.skip:
            reps = {s: plan.runs(n, s) for s in BUILD_SCENARIOS}
            scenarios.build_scenarios(ds, reps, on_result=add)
            if n in plan.daemon_sizes and "daemon" not in plan.skip:
                log(f"  daemon (feeds run) at N={n}")
                for result in scenarios.daemon(ds, plan.daemon_writes):
                    add(result)
        shutil.rmtree(ds.root, ignore_errors=True)
    if "remote" not in plan.skip:
        log(f"remote: {plan.remote_feeds} feeds x {plan.remote_items} items, "
            f"{plan.remote_rounds} round(s)")
        with_reader = "reader" not in plan.skip
        if with_reader:
            log("  with the reader library as a baseline (its own virtualenv, from PyPI)")
        for result in scenarios.remote(workdir, plan.remote_feeds, plan.remote_items,
                                       plan.remote_rounds, plan.remote_concurrency,
                                       with_reader=with_reader):
            add(result)
    report.elapsed_s = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    name: str
    status: str  # "met", "MISSED", "not run"
    detail: str


def _status(ok: bool | None) -> str:
    return "not run" if ok is None else ("met" if ok else "MISSED")


def evaluate(report: Report) -> list[Target]:
    startup = report.median("startup")
    out: list[Target] = []

    def beyond(scenario: str, n: int) -> float | None:
        m = report.median(scenario, n)
        return None if m is None or startup is None else m - startup

    cold10 = report.median("cold", 10_000)
    out.append(Target("cold N=10,000 < 5 s", _status(None if cold10 is None else cold10 < 5),
                      "-" if cold10 is None else f"median {cold10:.2f} s"))
    fg10 = report.median("baseline: feedgen", 10_000)
    ratio = None if cold10 is None or not fg10 else cold10 / fg10
    out.append(Target("cold N=10,000 <= 1.5x feedgen-only",
                      _status(None if ratio is None else ratio <= 1.5),
                      "-" if ratio is None else f"{ratio:.1f}x ({cold10:.2f} s vs {fg10:.2f} s)"))
    c1, c50 = report.median("cold", 1_000), report.median("cold", 50_000)
    if c1 and c50:
        r1, r50 = 1_000 / c1, 50_000 / c50
        out.append(Target("cold linear: rate at 50,000 within 20% of 1,000",
                          _status(abs(r50 - r1) <= 0.2 * r1),
                          f"{r1:.0f}/s at 1,000, {r50:.0f}/s at 50,000"))
    else:
        out.append(Target("cold linear: rate at 50,000 within 20% of 1,000", "not run", "-"))
    noop = beyond("no-op", 10_000)
    r = report.get("no-op", 10_000)
    written = None if r is None else sum(s.written or 0 for s in r.samples)
    ok = None if noop is None else (noop < 0.3 and written == 0)
    out.append(Target("no-op N=10,000 < 0.3 s beyond start-up, nothing written", _status(ok),
                      "-" if noop is None else f"{noop:.3f} s beyond start-up, "
                      f"{written} file(s) written"))
    for scenario in ("one new", "one edit"):
        for n in (10_000, 50_000):
            b = beyond(scenario, n)
            out.append(Target(f"{scenario} N={n:,} < 50 ms beyond start-up",
                              _status(None if b is None else b < 0.05),
                              "-" if b is None else f"{b * 1000:.0f} ms beyond start-up"))
    peaks = [s.peak_mb for r in report.results if r.n == 50_000 for s in r.samples
             if not r.scenario.startswith("baseline")]
    trees = [s.tree_mb for r in report.results if r.n == 50_000 for s in r.samples
             if not r.scenario.startswith("baseline")]
    out.append(Target("peak memory N=50,000 < 300 MB", _status(max(peaks) < 300 if peaks else None),
                      f"largest process {max(peaks):.0f} MB, process tree {max(trees):.0f} MB"
                      if peaks else "-"))
    out.extend(_issue13_targets(report, beyond))
    out.extend(_daemon_targets(report))
    p1, p2 = report.median("remote 1st pass"), report.median("remote all-304")
    out.append(Target("remote all-304 pass >= 3x faster than 1st",
                      _status(None if not p1 or not p2 else p1 / p2 >= 3),
                      "-" if not p1 or not p2 else f"{p1 / p2:.1f}x ({p1:.2f} s vs {p2:.2f} s)"))
    for ours, label in (("remote 1st pass", "1st pass"), ("remote all-304", "all-304 pass")):
        mine, theirs = report.median(ours), report.median(f"baseline: reader {ours[7:]}")
        speedup = None if not mine or not theirs else theirs / mine
        out.append(Target(f"remote {label} >= 2x reader's feeds/s",
                          _status(None if speedup is None else speedup >= 2),
                          "-" if speedup is None or not mine or not theirs
                          else f"{speedup:.1f}x ({mine:.2f} s vs reader {theirs:.2f} s)"))
    return out


def _issue13_targets(report: Report,
                     beyond: Callable[[str, int], float | None]) -> list[Target]:
    """Issue 13: a cold build of 10,000 Markdown articles (an archived every-item feed
    and a newest-50 one) in 3 s and within 2x the streaming baseline; one new article
    within 0.3 s beyond start-up at 10,000 and 50,000; the process tree under 600 MB."""
    plan = report.plan
    corpus = "" if plan.corpus == "markdown" and plan.archive else \
        " (needs --corpus markdown --archive)"
    cold10 = report.median("cold", 10_000)
    out = [Target(f"issue 13: cold N=10,000 Markdown, archived <= 3 s{corpus}",
                  _status(None if cold10 is None or corpus else cold10 <= 3),
                  "-" if cold10 is None else f"median {cold10:.2f} s")]
    st10 = report.median("baseline: stream", 10_000)
    ratio = None if cold10 is None or not st10 else cold10 / st10
    out.append(Target("issue 13: cold N=10,000 <= 2x the streaming baseline",
                      _status(None if ratio is None else ratio <= 2),
                      "-" if ratio is None else f"{ratio:.1f}x ({cold10:.2f} s vs {st10:.2f} s)"))
    for n in (10_000, 50_000):
        b = beyond("one new", n)
        out.append(Target(f"issue 13: one new N={n:,} <= 0.3 s beyond start-up",
                          _status(None if b is None else b <= 0.3),
                          "-" if b is None else f"{b * 1000:.0f} ms beyond start-up"))
    trees = [s.tree_mb for r in report.results if r.n == 50_000 for s in r.samples
             if not r.scenario.startswith("baseline")]
    out.append(Target("issue 13: process tree N=50,000 < 600 MB",
                      _status(max(trees) < 600 if trees else None),
                      f"{max(trees):.0f} MB" if trees else "-"))
    return out


def _daemon_targets(report: Report) -> list[Target]:
    """Issue 13: under ``feeds run`` at N=50,000, a renamed-in file in the feeds within
    100 ms, an in-place write within 150 ms of its writer closing it."""
    out = []
    for scenario, what, limit in (("daemon", "renamed-in file", 0.1),
                                  ("daemon in-place", "in-place write (after close)", 0.15)):
        m = report.median(scenario, 50_000)
        out.append(Target(f"feeds run N=50,000: {what} in the feeds < {limit * 1000:.0f} ms",
                          _status(None if m is None else m < limit),
                          "-" if m is None else f"median {m * 1000:.0f} ms"))
    return out


def _pickup_note(r: Result) -> str:
    how = "rename" if r.scenario == "daemon" else "writer's close"
    newest = r.extra.get("newest-50") or []
    first = f"; newest-50 feed: median {statistics.median(newest) * 1000:.0f} ms" \
        if newest else ""
    return f"{how} -> every feed document renamed{first}"


# --------------------------------------------------------------------------- table


def _ratio_note(report: Report, r: Result) -> str:
    if r.scenario != "cold" or r.error:
        return ""
    cold = report.median("cold", r.n)
    parts = []
    for kind in ("feedgen", "stream"):
        base = report.median(f"baseline: {kind}", r.n)
        if cold and base:
            parts.append(f"{cold / base:.1f}x {kind}")
    return ", ".join(parts)


def format_table(report: Report) -> str:
    startup = report.median("startup")
    head = ("scenario", "N", "runs", "median s", "min-max s", "beyond start-up", "rate",
            "peak MB", "tree MB", "notes")
    rows: list[tuple[str, ...]] = [head]
    for r in report.results:
        walls = [s.wall_s for s in r.samples]
        if not walls:
            rows.append((r.scenario, _n(r.n), "0", "-", "-", "-", "-", "-", "-",
                         f"ERROR: {_short(r.error)}" if r.error else ""))
            continue
        med = statistics.median(walls)
        beyond = "-"
        if startup is not None and r.scenario in ("no-op", "one new", "one edit", "cold"):
            beyond = f"{(med - startup) * 1000:.0f} ms" if med - startup < 1 \
                else f"{med - startup:.2f} s"
        rate = "-"
        if med > 0 and (r.scenario == "cold" or r.scenario.startswith(("baseline", "remote"))):
            rate = f"{r.count / med:,.0f} {r.unit}/s"
        notes = [n for n in (_ratio_note(report, r),) if n]
        if r.scenario == "no-op":
            notes.append(f"files written: {sum(s.written or 0 for s in r.samples)}")
        if r.scenario in ("one new", "one edit"):
            notes.append(f"files written: {r.samples[-1].written}")
        if r.scenario in scenarios.PICKUPS.values():
            notes.append(_pickup_note(r))
        if r.scenario.startswith("baseline: reader"):
            notes.append("wall minus adding the URLs")
        elif r.scenario.startswith("baseline"):
            notes.append("wall minus record generation")
        notes.extend(r.notes)
        if r.error:
            notes.append(f"ERROR: {_short(r.error)}")
        rows.append((r.scenario, _n(r.n), str(len(walls)), f"{med:.3f}",
                     f"{min(walls):.3f}-{max(walls):.3f}", beyond, rate,
                     f"{max(s.peak_mb for s in r.samples):.0f}",
                     f"{max(s.tree_mb for s in r.samples):.0f}", "; ".join(notes)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = []
    for i, row in enumerate(rows):
        cells = [c.rjust(w) if 1 <= j <= 8 else c.ljust(w)
                 for j, (c, w) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join(cells) + "  " + row[-1])
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  -----")
    return "\n".join(lines)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _n(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def format_targets(targets: Sequence[Target]) -> str:
    width = max(len(t.name) for t in targets)
    return "\n".join(f"  [{t.status:^7}] {t.name:<{width}}  {t.detail}" for t in targets)


def print_report(report: Report, out: TextIO) -> None:
    print(f"\nmedians of wall-clock seconds over runs; peak MB = largest single process "
          f"(wait4 ru_maxrss), tree MB = sampled sum over the process tree; "
          f"total bench time {report.elapsed_s:.0f} s\n", file=out)
    print(format_table(report), file=out)
    print("\ntargets (medians on this machine):", file=out)
    print(format_targets(evaluate(report)), file=out)


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small N, fewer repeats (< 1 minute)")
    p.add_argument("--sizes", help="comma-separated N values (default: 1000,10000,50000)")
    p.add_argument("--repeats", type=int, help="runs per scenario, for every N (cold included)")
    p.add_argument("--skip", default="",
                   help="comma-separated: startup, baseline, build, daemon, remote, reader")
    p.add_argument("--remote-feeds", type=int, help="remote feeds served (default 500)")
    p.add_argument("--corpus", choices=data.CORPORA, default="mixed",
                   help="mixed: plain text with one Markdown post in five (default); "
                        "markdown: Markdown posts only (front matter with summary, ~4 KB)")
    p.add_argument("--archive", action="store_true",
                   help="the every-item feed archived (archive = true, pages of 100)")
    p.add_argument("--workdir", type=Path, help="where the data goes (default: a temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    return p


def plan_from_args(args: argparse.Namespace) -> Plan:
    plan = Plan.quick() if args.quick else Plan.full()
    sizes = plan.sizes
    repeats = dict(plan.repeats)
    if args.sizes:
        sizes = tuple(int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip())
    if args.repeats:
        one = dict.fromkeys((*BUILD_SCENARIOS, "baseline"), args.repeats)
        repeats = dict.fromkeys(sizes, one)
    daemon_sizes = tuple(n for n in plan.daemon_sizes if n in sizes) or sizes[:1]
    skip = frozenset(s.strip() for s in args.skip.split(",") if s.strip())
    return Plan(sizes=sizes, repeats=repeats, startup_runs=plan.startup_runs,
                remote_feeds=args.remote_feeds or plan.remote_feeds,
                remote_items=plan.remote_items, remote_rounds=plan.remote_rounds,
                remote_concurrency=plan.remote_concurrency, daemon_sizes=daemon_sizes,
                daemon_writes=plan.daemon_writes, skip=skip, corpus=args.corpus,
                archive=args.archive)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = plan_from_args(args)
    own = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-")) if own else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(f"feeds bench: sizes {', '.join(map(str, plan.sizes))}; work folder {workdir}")
    try:
        report = run_bench(plan, workdir, log=log)
    finally:
        if own and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report, sys.stdout)
    if args.json:
        args.json.write_text(json.dumps({
            "plan": {"sizes": plan.sizes, "remote_feeds": plan.remote_feeds},
            "results": [asdict(r) for r in report.results],
            "targets": [asdict(t) for t in evaluate(report)],
            "elapsed_s": report.elapsed_s,
        }, indent=2, default=str))
    return 1 if any(r.error for r in report.results) else 0
