"""``python -m bench profile SCENARIO --n N``: one scenario in-process under cProfile.

The data set is prepared (and, for no-op / one new / one edit, built once) outside the
profile; then ``feeds.cli.main(["build", ...])`` runs under cProfile with the process pool
switched off (``PARALLEL_THRESHOLD`` raised) so the reading shows up in the profile too.
Prints the top functions by cumulative time and writes the ``.prof`` file for snakeviz /
pstats.  ``startup`` profiles the imports of ``feeds --version`` (``-X importtime`` is the
better tool for that, see the README).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import data, scenarios

__all__ = ["main", "profile_scenario"]

SCENARIOS = ("cold", "no-op", "one new", "one edit")


def profile_scenario(scenario: str, n: int, workdir: Path, *, serial: bool = True,
                     corpus: str = "mixed", archive: bool = False
                     ) -> tuple[cProfile.Profile, float]:
    import feeds.pipeline.folder
    from feeds.cli import main as feeds_main

    if serial:
        feeds.pipeline.folder.PARALLEL_THRESHOLD = 1 << 62
    ds = scenarios.prepare(workdir, n, corpus=corpus, archive=archive)
    argv = ["build", "-q", "--config", str(ds.config)]
    if scenario != "cold":
        feeds_main(argv)
    if scenario == "one new":
        data.write_article(ds.folder, data.new_record(1), mtime=time.time() - 5)
    elif scenario == "one edit":
        data.edit_article(ds.folder, ds.records[0], 1)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    code = feeds_main(argv)
    profiler.disable()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"feeds build exited {code}")
    return profiler, elapsed


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench profile")
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime)")
    p.add_argument("--out", type=Path, help="write the .prof file here")
    p.add_argument("--parallel", action="store_true",
                   help="keep the process pool (workers are then not profiled)")
    p.add_argument("--corpus", choices=data.CORPORA, default="mixed")
    p.add_argument("--archive", action="store_true", help="the every-item feed archived")
    args = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="feeds-profile-"))
    try:
        profiler, elapsed = profile_scenario(args.scenario, args.n, workdir,
                                             serial=not args.parallel, corpus=args.corpus,
                                             archive=args.archive)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = args.out or Path(f"bench-{args.scenario.replace(' ', '-')}-{args.n}.prof")
    profiler.dump_stats(str(out))
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(f"{args.scenario} N={args.n}: {elapsed:.2f} s under the profiler; stats in {out}")
    print(buf.getvalue())
    return 0
