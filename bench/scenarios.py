"""The scenarios: each runs the real ``feeds`` command (or a baseline) in a subprocess.

A scenario returns a ``Result``: one ``Sample`` per repeat (wall time, peak RSS of the
process, sampled RSS of its process tree) plus what it checked (files written, HTTP
statuses).  Nothing here prints; ``bench.run`` makes the table.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import data
from bench.feedserver import FeedServer
from bench.measure import Run, clean_env, launch, launched_peak_mb, run_command

__all__ = [
    "Dataset",
    "Result",
    "Sample",
    "baseline",
    "build_scenarios",
    "daemon",
    "feeds_argv",
    "prepare",
    "remote",
    "startup",
]

BUILD_TIMEOUT = 1800.0


@dataclass(slots=True)
class Sample:
    wall_s: float
    peak_mb: float
    tree_mb: float
    written: int | None = None  # files under public/ whose (inode, mtime, size) changed


@dataclass(slots=True)
class Result:
    scenario: str
    n: int | None
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    unit: str = ""  # what ``count`` counts, for the rate column
    count: int = 0  # work items per run: articles, entries, feeds
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, run: Run, written: int | None = None) -> Sample:
        sample = Sample(run.wall_s, run.peak_mb, run.tree_mb, written)
        self.samples.append(sample)
        return sample


def feeds_argv() -> list[str]:
    """The ``feeds`` console script of this interpreter's environment (else ``-m feeds``)."""
    script = Path(sys.executable).with_name("feeds")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "feeds"]


def _fail(result: Result, what: str, run: Run) -> None:
    tail = (run.stderr.strip().splitlines() or ["(no stderr)"])[-3:]
    result.error = f"{what}: exit {run.returncode}: " + " | ".join(tail)


# --------------------------------------------------------------------------- startup


def startup(repeats: int) -> Result:
    """``feeds --version``: the interpreter + import floor."""
    result = Result("startup", None)
    for _ in range(repeats):
        run = run_command([*feeds_argv(), "--version"], env=clean_env())
        if run.returncode != 0:
            _fail(result, "feeds --version", run)
            break
        result.add(run)
    return result


# --------------------------------------------------------------------------- folder builds


@dataclass(slots=True)
class Dataset:
    n: int
    root: Path  # holds articles/, feeds.toml, state/, public/
    folder: Path
    config: Path
    records: list[data.Record]
    generate_s: float
    new_serial: int = 0
    edit_variant: int = 0

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def public(self) -> Path:
        return self.root / "public"

    def reset_store(self) -> None:
        """An empty store and no output: the cold start."""
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.public, ignore_errors=True)


def prepare(workdir: Path, n: int) -> Dataset:
    """Generate ``n`` articles (timed: reported, not benchmarked) and their config."""
    root = workdir / f"n{n}"
    started = time.perf_counter()
    folder = root / "articles"
    recs = data.write_folder(folder, n)
    config = data.write_build_config(root, folder, n)
    return Dataset(n, root, folder, config, recs, time.perf_counter() - started)


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under ``folder``: (inode, mtime_ns, size)."""
    out: dict[str, tuple[int, int, int]] = {}
    if not folder.is_dir():
        return out
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[os.path.relpath(path, folder)] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


def changed_files(before: dict[str, tuple[int, int, int]],
                  after: dict[str, tuple[int, int, int]]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _build(ds: Dataset, result: Result) -> Sample | None:
    before = snapshot(ds.public)
    run = run_command([*feeds_argv(), "build", "-q", "--config", str(ds.config)],
                      env=clean_env(), timeout=BUILD_TIMEOUT)
    if run.returncode != 0:
        _fail(result, "feeds build", run)
        return None
    written = changed_files(before, snapshot(ds.public))
    return result.add(run, len(written))


def build_scenarios(ds: Dataset, repeats: dict[str, int],
                    on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """cold, no-op, one new, one edit on ``ds``, in that order (each needs the one before)."""
    results: list[Result] = []

    def done(result: Result) -> Result:
        results.append(result)
        if on_result is not None:
            on_result(result)
        return result

    cold = Result("cold", ds.n, unit="articles", count=ds.n)
    for _ in range(max(1, repeats.get("cold", 1))):
        ds.reset_store()
        if _build(ds, cold) is None:
            break
    expected = {f"{feed}/{name}" for feed in ("all", "everything")
                for name in ("rss.xml", "atom.xml", "feed.json")}
    missing = sorted(expected - set(snapshot(ds.public)))
    if missing and cold.error is None:
        cold.error = f"missing output: {', '.join(missing)}"
    done(cold)
    if cold.error:
        return results

    noop = Result("no-op", ds.n, unit="articles", count=ds.n)
    store_before = snapshot(ds.state)
    for _ in range(max(1, repeats.get("no-op", 1))):
        sample = _build(ds, noop)
        if sample is None:
            break
        if sample.written:
            noop.error = f"a no-op build wrote {sample.written} file(s)"
    store_changed = [f for f in changed_files(store_before, snapshot(ds.state))
                     if f != ".feeds.lock"]
    if store_changed:
        noop.notes.append(f"state files changed: {', '.join(store_changed)}")
    noop.extra["files_written"] = sum(s.written or 0 for s in noop.samples)
    done(noop)

    new = Result("one new", ds.n, unit="articles", count=1)
    for _ in range(max(1, repeats.get("one new", 1))):
        ds.new_serial += 1
        rec = data.new_record(ds.new_serial)
        data.write_article(ds.folder, rec, mtime=time.time() - 5)  # settled, as after a copy
        if _build(ds, new) is None:
            break
    done(new)

    edit = Result("one edit", ds.n, unit="articles", count=1)
    for i in range(max(1, repeats.get("one edit", 1))):
        ds.edit_variant += 1
        target = ds.records[i % min(len(ds.records), 10)]  # among the newest: both feeds move
        ds.records[i % min(len(ds.records), 10)] = data.edit_article(ds.folder, target,
                                                                     ds.edit_variant)
        if _build(ds, edit) is None:
            break
    done(edit)
    return results


# --------------------------------------------------------------------------- baselines


def baseline(kind: str, n: int, workdir: Path, repeats: int) -> Result:
    """``python -m bench.baselines KIND N OUT``; the wall time minus record generation."""
    result = Result(f"baseline: {kind}", n, unit="articles", count=n)
    out = workdir / f"baseline-{kind}-{n}"
    for _ in range(max(1, repeats)):
        shutil.rmtree(out, ignore_errors=True)
        run = run_command([sys.executable, "-m", "bench.baselines", kind, str(n), str(out)],
                          env=clean_env({"PYTHONPATH": str(Path(__file__).parent.parent)}),
                          timeout=BUILD_TIMEOUT)
        if run.returncode != 0:
            _fail(result, f"baseline {kind}", run)
            break
        gen = float(json.loads(run.stdout.strip().splitlines()[-1])["gen_s"])
        result.add(Run(max(0.0, run.wall_s - gen), run.peak_mb, run.tree_mb, 0, "", ""))
    shutil.rmtree(out, ignore_errors=True)
    return result


# --------------------------------------------------------------------------- remote


def remote(workdir: Path, feeds: int, items: int, rounds: int,
           concurrency: int = 20) -> tuple[Result, Result]:
    """First pass (empty store: all 200) and second pass (all 304), ``rounds`` times."""
    first = Result("remote 1st pass", None, unit="feeds", count=feeds)
    second = Result("remote all-304", None, unit="feeds", count=feeds)
    root = workdir / "remote"
    with FeedServer(feeds, items) as server:
        config = data.write_remote_config(root, server.urls(), concurrency=concurrency)
        argv = [*feeds_argv(), "build", "-q", "--config", str(config)]
        for _ in range(max(1, rounds)):
            shutil.rmtree(root / "state", ignore_errors=True)
            shutil.rmtree(root / "public", ignore_errors=True)
            server.statuses()
            for result, want in ((first, 200), (second, 304)):
                run = run_command(argv, env=clean_env(), timeout=BUILD_TIMEOUT)
                statuses = server.statuses()
                result.extra.setdefault("statuses", []).append(statuses)
                if run.returncode != 0:
                    _fail(result, "feeds build", run)
                    return first, second
                if statuses.get(want, 0) != feeds:
                    result.error = f"expected {feeds} x HTTP {want}, server saw {statuses}"
                    return first, second
                result.add(run)
    return first, second


# --------------------------------------------------------------------------- daemon


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _wait_changes(paths: list[Path], old: dict[Path, tuple[int, int] | None], timeout: float,
                  poll: float = 0.002) -> dict[Path, float]:
    """perf_counter() when each of ``paths`` first differed from ``old`` (inode, mtime);
    those that did not change within ``timeout`` are left out."""
    seen: dict[Path, float] = {}
    deadline = time.perf_counter() + timeout
    while len(seen) < len(paths) and time.perf_counter() < deadline:
        for path in paths:
            if path not in seen:
                key = _stat_key(path)
                if key is not None and key != old[path]:
                    seen[path] = time.perf_counter()
        time.sleep(poll)
    return seen


#: the documents a new article reaches: the newest-50 feed's and the every-item feed's
_DOCS = ("rss.xml", "atom.xml", "feed.json")
PICKUPS = {"renamed": "daemon", "in-place": "daemon in-place"}


def _write_renamed(ds: Dataset, rec: data.Record) -> float:
    """Write the article to a hidden name and rename it into place (what editors do):
    perf_counter() right after the rename."""
    data.write_article(ds.folder, rec)
    return time.perf_counter()


def _write_in_place(ds: Dataset, rec: data.Record) -> float:
    """Write the article under its own name, in two pieces: perf_counter() after close."""
    body = data.render_article(rec)
    with open(ds.folder / rec.name, "wb") as out:
        out.write(body[: len(body) // 2])
        out.flush()
        out.write(body[len(body) // 2:])
    return time.perf_counter()


def _pickups(ds: Dataset, writes: int, results: dict[str, Result], timeout: float) -> None:
    """Alternate the two ways of writing an article; each sample is the time from the
    write's end (rename, close) until every feed document changed; ``extra["newest-50"]``
    the time until ``all/`` did.  Each write waits for the whole publish."""
    newest = [ds.public / "all" / name for name in _DOCS]
    docs = newest + [ds.public / "everything" / name for name in _DOCS]
    writers = {"renamed": _write_renamed, "in-place": _write_in_place}
    for _ in range(max(1, writes)):
        for kind, write in writers.items():
            result = results[kind]
            ds.new_serial += 1
            rec = data.new_record(ds.new_serial)
            old = {path: _stat_key(path) for path in docs}
            done = write(ds, rec)
            seen = _wait_changes(docs, old, timeout)
            if any(path not in seen for path in newest):
                result.error = f"all/ not updated within {timeout:.0f} s ({kind} write)"
                return
            if len(seen) < len(docs):
                result.notes.append("not every everything/ document changed after a write")
            result.samples.append(Sample(max(seen.values()) - done, 0.0, 0.0, None))
            result.extra.setdefault("newest-50", []).append(
                max(seen[path] for path in newest) - done)
            time.sleep(0.3)


def daemon(ds: Dataset, writes: int, *, ready_timeout: float = 600.0,
           change_timeout: float = 600.0) -> list[Result]:
    """``feeds run``: time from an article renamed into the folder (``daemon``) or written
    in place and closed (``daemon in-place``) until the feeds it belongs to are renamed
    into place (see :func:`_pickups`)."""
    results = {kind: Result(name, ds.n, unit="articles", count=1)
               for kind, name in PICKUPS.items()}
    result = results["renamed"]
    argv = [*feeds_argv(), "run", "-v", "--config", str(ds.config)]
    # under the launcher: a process started straight from the bench would report the
    # bench's own high-water mark (ru_maxrss survives exec)
    fd, report = tempfile.mkstemp(prefix="feeds-bench-rss-")
    os.close(fd)
    proc = launch(argv, report, env=clean_env(), stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    tail: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
            tail.append(line.rstrip())
            del tail[:-20]

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    usage = None
    try:
        if not _wait_line(lines, "ready", ready_timeout, proc):
            result.error = "feeds run never said it was ready: " + " | ".join(tail[-3:])
            return list(results.values())
        # once watching, the daemon scans every folder again (what changed during the first
        # build): at N=50,000 that is most of a second, and a write meanwhile waits for it
        _wait_line(lines, "ingested", ready_timeout, proc)
        time.sleep(0.3)
        _pickups(ds, writes, results, change_timeout)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _pid, status, usage = _wait4(proc.pid, 60.0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        except TimeoutError:
            proc.kill()
            proc.wait(timeout=10)
            result.notes.append("feeds run did not stop within 60 s of SIGTERM: killed")
        reader.join(timeout=5)
    peak = launched_peak_mb(report)
    if peak is None and usage is not None:
        peak = usage.ru_maxrss / 1024  # the launcher died: an upper bound
    for each in results.values():
        for sample in each.samples if peak is not None else ():
            sample.peak_mb = sample.tree_mb = peak or 0.0
    if proc.returncode not in (0, None) and result.error is None:
        result.notes.append(f"feeds run exited {proc.returncode}")
    return list(results.values())


def _wait_line(lines: queue.Queue[str], needle: str, timeout: float,
               proc: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                return False
            continue
        if needle in line:
            return True
    return False


def _wait4(pid: int, timeout: float) -> tuple[int, int, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got_pid, status, usage = os.wait4(pid, os.WNOHANG)
        if got_pid == pid:
            return got_pid, status, usage
        time.sleep(0.05)
    raise TimeoutError(pid)


def all_ok(results: Iterable[Result]) -> bool:
    return all(r.error is None for r in results)
