"""Process pools: one per build, shared by reading and rendering, started warm.

Every worker dies with the process that started it (see :func:`process_pool`); a pool a
crashed worker broke is replaced on its next use; :func:`map_surviving` runs jobs through
a pool and names the one job that kills its worker.  The functions run here are given by
the caller (``folder._read_one``, ``feeds._render_job``): module-level, so they pickle.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

log = logging.getLogger("feeds.pipeline")

J = TypeVar("J")
R = TypeVar("R")


class BuildPool:
    """One process pool for a whole ``feeds build``, reading and then rendering.

    Started on first use, after the readers and the renderers are imported and the
    language model is mapped, so every worker starts warm; rendering then reuses the
    reading workers instead of forking new ones, and even a thousand-article build
    renders on every core.  A pool a crashed worker broke is replaced on the next use.
    """

    def __init__(self, workers: int, model_cache: Path | None) -> None:
        self.workers = workers
        self.model_cache = model_cache
        self._pool: Any = None  # a concurrent.futures.ProcessPoolExecutor, once started

    @property
    def started(self) -> bool:
        return self._pool is not None and not getattr(self._pool, "_broken", False)

    def get(self, readers: Collection[str] = ()) -> Any:
        """The pool, started now if need be, warm for ``readers`` (the kinds of files it
        will read, if any)."""
        if not self.started:
            self.close()
            warm_workers(self.model_cache, readers)
            self._pool = process_pool(self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def process_pool(workers: int) -> Any:
    """A ``ProcessPoolExecutor`` whose workers die with this process (see ``_worker_start``)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, initializer=_worker_start,
                               initargs=(os.getpid(),))


def _worker_start(parent: int) -> None:
    """In a new pool worker: die with the parent, and on SIGTERM, at once.

    A worker waits for work on a pipe it shares with its parent, so it never notices the
    parent being killed (SIGKILL, or SIGTERM before it could shut its pool down): it
    would wait forever.  On Linux the kernel sends it SIGKILL when the parent dies
    (``PR_SET_PDEATHSIG``; strictly, when the thread that forked it ends: pools are used by
    the thread that starts them, the main thread of ``feeds build`` and the daemon's
    writer); elsewhere the parent's own clean-up is all there is.  SIGTERM
    goes back to its default (the parent's handler, inherited by the fork, would turn it
    into an exception inside whatever job the worker runs).
    """
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


_build_pool: contextvars.ContextVar[BuildPool | None] = contextvars.ContextVar(
    "feeds_build_pool", default=None)


def shared_pool(workers: int) -> BuildPool | None:
    """The build's pool, if this runs inside :func:`one_pool` with as many workers."""
    shared = _build_pool.get()
    return shared if shared is not None and shared.workers == workers else None


@contextlib.contextmanager
def one_pool(workers: int, model_cache: Path | None) -> Iterator[BuildPool]:
    """Within this block, reading and rendering share one pool of ``workers``."""
    shared = BuildPool(workers, model_cache)
    token = _build_pool.set(shared)
    try:
        yield shared
    finally:
        _build_pool.reset(token)
        shared.close()


def model_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the language-detection model is kept decompressed: one copy per user.

    systemd's ``CacheDirectory=`` (``$CACHE_DIRECTORY``), else ``$XDG_CACHE_HOME/feeds``,
    else ``~/.cache/feeds``.
    """
    env = os.environ if environ is None else environ
    if env.get("CACHE_DIRECTORY"):
        return Path(env["CACHE_DIRECTORY"].split(":")[0])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "feeds"


def map_surviving(fn: Callable[[J], R], jobs: Sequence[J], workers: int, *,
                  killed: Callable[[J], R], readers: Collection[str] = (),
                  model_cache: Path | None = None) -> Iterator[R]:
    """``fn`` of every job, in order, by a process pool of ``workers`` (the build's, see
    :func:`one_pool`, when one is shared; else one of its own, warmed for ``readers``).

    A worker that dies (a crash in a parser's C code, the kernel's OOM killer) breaks the
    pool.  The jobs not yet answered are then run one at a time by a pool of one worker,
    so the next death names its job: ``killed(job)`` stands for its result and the rest
    run in parallel again.  One bad job never stops the others.
    """
    from concurrent.futures.process import BrokenProcessPool

    shared = shared_pool(workers)
    if shared is None:
        warm_workers(model_cache, readers)
    pending = list(jobs)
    while pending:
        done = 0
        try:
            if shared is not None:
                results = shared.get(readers).map(fn, pending, chunksize=64)
                for result in results:
                    done += 1
                    yield result
            else:
                with process_pool(workers) as pool:
                    for result in pool.map(fn, pending, chunksize=64):
                        done += 1
                        yield result
            return
        except BrokenProcessPool:
            pending = pending[done:]
        log.warning("a reading worker died; reading the next %d file(s) one at a time to "
                    "find the one that kills it", len(pending))
        alone = process_pool(1)
        try:
            futures = [alone.submit(fn, job) for job in pending]
            for n, (job, future) in enumerate(zip(pending, futures, strict=True)):
                try:
                    result = future.result()
                except BrokenProcessPool:
                    yield killed(job)
                    pending = pending[n + 1:]
                    break
                yield result
            else:
                pending = []
        finally:
            alone.shutdown(wait=True, cancel_futures=True)


def warm_workers(model_cache: Path | None, readers: Collection[str] = ()) -> None:
    """Import the renderers and the ``readers`` needed, and map the language model (when
    there is anything to read), once, before a pool forks: every worker then starts with
    them (~0.13 s of imports each, before its first article)."""
    from .. import normalize
    from ..publish import FORMATS

    for fmt in FORMATS.values():  # the formats' table
        fmt.implementation()
    if not readers:
        return
    from ..cache import use_cache
    from ..normalize.language import detect_language

    normalize.warm(readers)  # the readers' table
    if model_cache is not None:
        use_cache(model_cache)
    detect_language("warm")


def settle(futures: Sequence[Future[Any]]) -> None:
    """Cancel the jobs not started and wait for those running."""
    from concurrent.futures import wait

    for future in futures:
        future.cancel()
    wait(futures)

