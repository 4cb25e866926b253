"""``python -m tests.fuzz TARGET --seconds N``: see :mod:`tests.fuzz`."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import time
import traceback
from pathlib import Path

from tests.fuzz import DEFAULT_WORKDIR, MAX_LEN, SELF_TEST, TARGET_NAMES, run

# Instrumented for coverage as they are imported.  Our own code everywhere; of the parsers
# only feedparser (the remote path leans on its loose parsing): instrumenting markdown-it,
# PyYAML or dateutil too makes every execution 10 to 20 times slower.
INSTRUMENTED = {"feed": ["feeds", "feedparser", "sgmllib"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz")
    parser.add_argument("target", choices=[*TARGET_NAMES, "all", SELF_TEST])
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--hang", type=float, default=1.0,
                        help="CPU seconds of one call that count as a hang (default 1)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="wall seconds after which libFuzzer kills a call (default 10)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    targets = TARGET_NAMES if args.target == "all" else (args.target,)
    findings = 0
    for target in targets:
        result = run(target, args.seconds, workdir=args.workdir, hang=args.hang,
                     timeout=args.timeout)
        print(result.line(), flush=True)
        for finding in result.findings[:20]:
            print(f"  {finding}", flush=True)
        findings += result.crashes + result.hangs
    return 1 if findings else 0


def _child(args: argparse.Namespace) -> int:
    import atheris

    with atheris.instrument_imports(include=INSTRUMENTED.get(args.target, ["feeds"])):
        from tests.fuzz.targets import TARGETS, import_everything

        import_everything()  # the readers import lazily: instrument them now

    spec = TARGETS[args.target]
    findings_dir: Path = args.workdir / "findings" / args.target
    stats_path: Path = args.stats
    started = time.monotonic()
    state = {"executions": 0, "crashes": 0, "hangs": 0, "slowest": 0.0, "findings": [],
             "seconds": 0.0}
    seen: set[str] = set()
    last_write = [0.0]

    def write_stats(force: bool = False) -> None:
        now = time.monotonic()
        if force or now - last_write[0] > 1.0:
            last_write[0] = now
            state["seconds"] = now - started
            tmp = stats_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(stats_path)

    def record(kind: str, data: bytes, detail: str, where: str) -> None:
        digest = hashlib.sha1(data).hexdigest()
        state[kind + "es" if kind == "crash" else kind + "s"] += 1  # type: ignore[operator]
        signature = f"{kind}: {where}"
        if signature not in seen:  # one line and one saved input per distinct finding
            seen.add(signature)
            (findings_dir / f"{kind}-{digest}").write_bytes(data)
            (findings_dir / f"{kind}-{digest}.txt").write_text(detail)
            state["findings"].append(f"{signature} ({findings_dir / (kind + '-' + digest)})")
        write_stats(force=True)

    def one_input(data: bytes) -> None:
        state["executions"] += 1  # type: ignore[operator]
        cpu = time.process_time()
        try:
            spec.call(data)
        except spec.allowed:
            pass
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            frame = tb[-1] if tb else None
            where = (f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno} "
                     f"({frame.name})" if frame else type(exc).__name__)
            record("crash", data, "".join(traceback.format_exception(exc)), where)
        spent = time.process_time() - cpu
        if spent > state["slowest"]:  # type: ignore[operator]
            state["slowest"] = spent
        if spent > args.hang:
            record("hang", data, f"{spent:.3f} s CPU for one call of {len(data)} bytes\n",
                   f"{len(data) // 1024} KiB input, {spent:.1f} s")
        write_stats()

    for warm in spec.extra_seeds[:1]:  # load the language model before the clock matters
        with contextlib.suppress(Exception):  # the fuzzing will find it again, and count it
            spec.call(warm)
    write_stats(force=True)
    corpus = args.workdir / "corpus" / args.target
    atheris.Setup(
        [sys.argv[0], f"-max_total_time={args.seconds}", f"-timeout={args.timeout}",
         f"-max_len={MAX_LEN}", "-rss_limit_mb=4096", f"-artifact_prefix={findings_dir}/",
         "-print_final_stats=1", str(corpus)],
        one_input,
    )
    import atexit

    atexit.register(write_stats, True)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
