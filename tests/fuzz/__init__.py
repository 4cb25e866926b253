"""Coverage-guided fuzzing of every reader and of the config loader (atheris / libFuzzer).

Run one target for a bounded time::

    python -m tests.fuzz html --seconds 600          # plaintext markdown html feed jsonfeed config

It prints the executions, crashes and hangs, and exits 1 when there was any finding.  A
*crash* is any exception other than the project's own error for that input
(:mod:`tests.fuzz.targets` says what each target may raise); a *hang* is one call that
costs more than ``--hang`` seconds of CPU time (default 1; CPU time, not wall time, so a
busy machine does not invent hangs).  A call that never returns is stopped by libFuzzer
after ``--timeout`` seconds and counted as a hang too.  Each finding is written to
``<workdir>/findings/<target>/`` (the input, and a ``.txt`` with its traceback); the
corpus grows in ``<workdir>/corpus/<target>/`` and a later run starts from it.

The fuzzing runs in a child process (libFuzzer ends its process when the time is up);
the parent reads the child's counters from a JSON file.  This module imports neither
atheris nor ``feeds``: the child instruments ``feeds`` and the parsers as it imports them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TARGET_NAMES", "FuzzResult", "atheris_available", "run"]

TARGET_NAMES = ("plaintext", "markdown", "html", "feed", "jsonfeed", "config")
SELF_TEST = "selftest"  # a target with a planted bug: the harness must report it
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORKDIR = ROOT / ".fuzz"
MAX_LEN = 64 * 1024


@dataclass
class FuzzResult:
    target: str
    executions: int = 0
    crashes: int = 0
    hangs: int = 0
    slowest: float = 0.0  # CPU seconds of the slowest call
    findings: list[str] = field(default_factory=list)  # one line each: kind, where, file
    seconds: float = 0.0
    exit_code: int = 0

    def line(self) -> str:
        return (f"{self.target}: {self.executions} executions in {self.seconds:.0f} s, "
                f"{self.crashes} crashes, {self.hangs} hangs "
                f"(slowest call {self.slowest:.3f} s CPU)")


def atheris_available() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def prepare_corpus(target: str, workdir: Path, seed_limit: int | None = None) -> Path:
    """``<workdir>/corpus/<target>``, with the target's seeds copied in (once; the first
    ``seed_limit`` of them when given, the hand-written ones first)."""
    from tests.fuzz.targets import TARGETS

    spec = TARGETS[target]
    corpus = workdir / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = list(spec.extra_seeds) + [p.read_bytes() for p in spec.seeds()]
    seeds = seeds[:seed_limit] if seed_limit is not None else seeds
    for data in seeds:
        data = data[:MAX_LEN]
        name = corpus / f"seed-{hashlib.sha1(data).hexdigest()}"
        if not name.exists():
            name.write_bytes(data)
    return corpus


def run(target: str, seconds: int, *, workdir: Path = DEFAULT_WORKDIR, hang: float = 1.0,
        timeout: int = 10, quiet: bool = True, seed_limit: int | None = None) -> FuzzResult:
    """Fuzz ``target`` for ``seconds`` in a child process; its counters and findings."""
    if target not in (*TARGET_NAMES, SELF_TEST):
        raise ValueError(f"unknown target {target!r}: one of {', '.join(TARGET_NAMES)}")
    prepare_corpus(target, workdir, seed_limit)
    findings = workdir / "findings" / target
    findings.mkdir(parents=True, exist_ok=True)
    stats = workdir / f"stats-{target}-{os.getpid()}.json"
    stats.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.fuzz", target, "--child", "--seconds", str(seconds),
               "--workdir", str(workdir), "--hang", str(hang), "--timeout", str(timeout),
               "--stats", str(stats)]
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.run(command, cwd=ROOT, stdout=out, stderr=out, check=False)
    result = FuzzResult(target, exit_code=proc.returncode)
    if stats.exists():
        data = json.loads(stats.read_text())
        result.executions = data["executions"]
        result.crashes = data["crashes"]
        result.hangs = data["hangs"]
        result.slowest = data["slowest"]
        result.findings = data["findings"]
        result.seconds = data["seconds"]
        stats.unlink()
    if proc.returncode != 0:  # libFuzzer stopped the child: a timeout, a native crash, OOM
        artifacts = sorted(p.name for p in findings.glob("*-*") if not p.suffix)
        kind = "hang" if any(a.startswith("timeout-") for a in artifacts) else "crash"
        if kind == "hang":
            result.hangs += 1
        else:
            result.crashes += 1
        result.findings.append(f"{kind}: the fuzzing process ended with code {proc.returncode}; "
                               f"libFuzzer artifacts: {', '.join(artifacts[-3:]) or 'none'}")
    return result


def clean(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
