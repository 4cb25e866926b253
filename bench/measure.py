"""Run one command in a subprocess: wall time, peak RSS of the process, and of its tree.

* ``peak_mb``: ``ru_maxrss`` of the command, the larger of its own peak and that of any
  descendant it reaped (a process-pool worker): "the biggest single process doing the work".
  The command is started by a small launcher process that reports it, because on Linux a
  process exec'd straight from the bench would inherit the bench's own high-water mark
  (hundreds of MB once it holds 50,000 generated articles) in ``ru_maxrss``.
* ``tree_mb``: the largest *sum* of RSS over the child and its live descendants, sampled
  from ``/proc`` every ``SAMPLE_S`` (approximate: a short peak between samples is missed).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Run", "clean_env", "run_command", "tree_rss_kb"]

SAMPLE_S = 0.05
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


@dataclass(frozen=True, slots=True)
class Run:
    wall_s: float
    peak_mb: float
    tree_mb: float
    returncode: int
    stdout: str
    stderr: str


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: no proxies (127.0.0.1 must be reached directly), no
    FEEDS_CONFIG, unbuffered output."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and k != "FEEDS_CONFIG"}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        out.extend(int(x) for x in text.split())
    return out


def tree_rss_kb(pid: int) -> int:
    """RSS of ``pid`` plus every live descendant, in KiB (0 when /proc is not there)."""
    total = 0
    stack = [pid]
    seen: set[int] = set()
    while stack and len(seen) < 4096:  # bounded
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            fields = Path(f"/proc/{p}/statm").read_text().split()
            total += int(fields[1]) * _PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(_children(p))
    return total


# Runs the command as its own child and writes that child's ru_maxrss (KiB) to argv[1].
# Its own ru_maxrss carries the bench's high-water mark; a process it forks starts afresh.
# SIGTERM/SIGINT are passed on, so a long-running command (``feeds run``) can be stopped.
_LAUNCHER = (
    "import os, signal, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "for sig in (signal.SIGTERM, signal.SIGINT):\n"
    "    signal.signal(sig, lambda signum, _frame: child.send_signal(signum))\n"
    "_pid, status, usage = os.wait4(child.pid, 0)\n"
    "with open(sys.argv[1], 'w') as report:\n"
    "    report.write(str(usage.ru_maxrss))\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)


def launch(argv: Sequence[str], report: str, **popen: Any) -> subprocess.Popen[Any]:
    """Start ``argv`` under the launcher, which writes its peak RSS (KiB) to ``report``
    when it ends; signals sent to the returned process reach the command."""
    import sys

    return subprocess.Popen([sys.executable, "-c", _LAUNCHER, report, *argv], **popen)


def launched_peak_mb(report: str) -> float | None:
    """The peak RSS the launcher wrote to ``report`` (removed), in MB; None if none."""
    try:
        return int(Path(report).read_text() or 0) / 1024
    except (OSError, ValueError):
        return None
    finally:
        Path(report).unlink(missing_ok=True)


def run_command(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                cwd: Path | None = None, timeout: float = 1800.0) -> Run:
    """Run ``argv`` to completion (killed after ``timeout``); never raises on a bad exit."""
    import signal
    import sys
    import tempfile

    started = time.perf_counter()
    fd, report = tempfile.mkstemp(prefix="feeds-bench-rss-")
    os.close(fd)
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, report, *argv],
                            env=dict(env) if env is not None else clean_env(),
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    tree_peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not done.is_set():
            tree_peak = max(tree_peak, tree_rss_kb(proc.pid))
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_parts: list[bytes] = []
    err_parts: list[bytes] = []

    def drain(stream: object, parts: list[bytes]) -> None:
        assert hasattr(stream, "read")
        while chunk := stream.read(65536):
            parts.append(chunk)

    readers = [threading.Thread(target=drain, args=(proc.stdout, out_parts), daemon=True),
               threading.Thread(target=drain, args=(proc.stderr, err_parts), daemon=True)]
    for t in readers:
        t.start()
    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
        done.set()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join(timeout=10)
    sampler.join(timeout=5)
    try:
        peak_kb = int(Path(report).read_text() or 0)  # KiB on Linux
    except (OSError, ValueError):
        peak_kb = usage.ru_maxrss  # the launcher died: an upper bound
    finally:
        Path(report).unlink(missing_ok=True)
    return Run(
        wall_s=wall,
        peak_mb=peak_kb / 1024,
        tree_mb=max(tree_peak, peak_kb) / 1024,
        returncode=proc.returncode,
        stdout=b"".join(out_parts).decode("utf-8", "replace"),
        stderr=b"".join(err_parts).decode("utf-8", "replace"),
    )
