"""The pipeline: the one module that knows every stage.

::

    folder.scan ─► folder.read ─► normalize.read_* ─► fallbacks ─┐
    (stat; skip files whose stat is unchanged)                    ├─► Store.ingest ─► Changes
    remote.fetch_feeds ─► normalize.entries ──────────────────────┘
                                                                   │
    Store.heads ─► select ─► (nothing changed: stop)
                          └─► per item: fragment reused from the last file, or
                              Store.items_by_id ─► render ─► verify (by chunks) ─► spool
                          ─► head + fragments + tail streamed ─► atomic write (if bytes changed)

``ingest`` brings every source into the store; ``publish`` regenerates the feeds whose
content or configuration changed; ``build`` is both, as ``feeds build`` runs them.  Bad
input is reported per file and per source; it never stops the other sources.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import Config, FeedConfig, SourceConfig
from .errors import (
    ArticleError,
    FeedsError,
    OutputError,
    PublishError,
    SourceError,
    Stopped,
    StoreError,
)
from .model import FILENAMES, Article, Channel, FileState, Item
from .normalize.fallbacks import apply_folder_fallbacks
from .publish import stream
from .publish.atomic import remove_temporaries, write_if_changed
from .publish.pages import render_index_html, render_opml
from .publish.render import fragment_key, render
from .sources import folder
from .store import (
    Changes,
    Encoded,
    FeedIndex,
    FeedState,
    FetchState,
    Identity,
    ItemHead,
    Selection,
    Store,
    StoreHandle,
    instant,
    open_store,
    stamp,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .recover import FeedFile, Match
    from .sources.remote import FeedSpec, FetchSettings

log = logging.getLogger("feeds.pipeline")

Progress = Callable[[str, int, int], None]  # (what, done, total)
Cancelled = Callable[[], bool]  # asked between steps: stop now?


def _check(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise Stopped


#: below this many files to read, a process pool costs more than it saves
PARALLEL_THRESHOLD = 400
#: articles handed to the store per transaction on a large build.  The writer stores a
#: batch while the workers read on; the last batch is stored after the last read, so a
#: smaller one shortens that tail (2,000 -> 500: about 8% off a cold 1,000-article build)
BATCH = 500
#: the batch size once fewer than BATCH files are left to read, so that what is stored
#: after the last read (with the workers idle) is small
TAIL_BATCH = 100


class _BuildPool:
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
            _warm_workers(self.model_cache, readers)
            self._pool = _process_pool(self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _process_pool(workers: int) -> Any:
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


_build_pool: contextvars.ContextVar[_BuildPool | None] = contextvars.ContextVar(
    "feeds_build_pool", default=None)


def _shared_pool(workers: int) -> _BuildPool | None:
    """The build's pool, if this runs inside :func:`_one_pool` with as many workers."""
    shared = _build_pool.get()
    return shared if shared is not None and shared.workers == workers else None


@contextlib.contextmanager
def _one_pool(workers: int, model_cache: Path | None) -> Iterator[_BuildPool]:
    """Within this block, reading and rendering share one pool of ``workers``."""
    shared = _BuildPool(workers, model_cache)
    token = _build_pool.set(shared)
    try:
        yield shared
    finally:
        _build_pool.reset(token)
        shared.close()


@dataclass
class SourceReport:
    name: str
    kind: str
    changes: Changes | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    error: str | None = None  # the source failed as a whole (why: the name is ``name``)
    read: int = 0
    skipped: int = 0  # unchanged by stat, not read
    ignored: int = 0
    not_published: list[tuple[str, str]] = field(default_factory=list)  # drafts
    unsettled: list[str] = field(default_factory=list)  # modified too recently to read yet
    duration: float = 0.0

    @property
    def rejected(self) -> int:
        return len(self.problems) + (1 if self.error else 0)


@dataclass
class FeedReport:
    name: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # files whose bytes were already right
    error: str | None = None


@dataclass
class BuildReport:
    output_dir: Path
    sources: list[SourceReport] = field(default_factory=list)
    feeds: list[FeedReport] = field(default_factory=list)
    pages_written: list[Path] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)

    @property
    def failed_feeds(self) -> int:
        return sum(1 for f in self.feeds if f.error)


# --------------------------------------------------------------------------- reading


def read_article(
    reader: str,
    data: bytes,
    *,
    source: str,
    key: str,
    tz: tzinfo,
    base_url: str | None,
) -> Article:
    """Dispatch raw bytes to the reader for their kind.  ``ArticleError`` when not an article."""
    if reader == "text":
        from .normalize.plaintext import read_plaintext

        return read_plaintext(data, source=source, key=key, tz=tz)
    if reader == "markdown":
        from .normalize.markdown import read_markdown

        return read_markdown(data, source=source, key=key, tz=tz, base_url=base_url)
    if reader == "html":
        from .normalize.htmlpage import read_html

        return read_html(data, source=source, key=key, tz=tz, base_url=base_url)
    raise ArticleError(f"no reader for {reader!r} files", path=key)


@dataclass(frozen=True)
class _ReadJob:
    found: folder.FoundFile
    source: str
    max_size: int
    tz: tzinfo
    base_url: str | None
    link_pattern: str | None
    model_cache: Path | None = None  # where the language model is kept decompressed
    encode: bool = True  # also encode the article for the store (not for ``feeds inspect``)


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


_Read = tuple[str, Article | None, FileState | None, str | None, Encoded | None]


def _read_one(job: _ReadJob) -> _Read:
    """Read and normalize one file: (key, article, state, problem, the article encoded for
    the store).  Runs in workers too: encoding there spares the single writer.

    Whatever a reader raises for this file that is not a bug of ours (see
    :mod:`feeds.normalize.failures`) becomes its one-line ``problem``, a plain string: no
    exception object, picklable or not, crosses back from a worker for a bad file."""
    found = job.found
    if job.model_cache is not None:
        from .cache import use_cache

        use_cache(job.model_cache)
    try:
        data, state = folder.read(found, max_size=job.max_size)
        article = read_article(found.reader, data, source=job.source, key=found.key, tz=job.tz,
                               base_url=job.base_url)
        article = apply_folder_fallbacks(article, mtime_ns=state.mtime_ns, tz=job.tz,
                                         base_url=job.base_url, link_pattern=job.link_pattern)
        encoded = Encoded.of(article) if job.encode else None
    except ArticleError as exc:
        return found.key, None, None, exc.reason, None
    except Exception as exc:  # a reader or its parser choked: that file's rejection
        from .normalize.failures import input_failure

        reason = input_failure(exc)
        if reason is None:
            raise  # a bug in our own code: the traceback says where
        return found.key, None, None, reason, None
    return found.key, article, state, None, encoded


def read_path(path: Path, *, tz: tzinfo, base_url: str | None = None, source: str = "",
              max_size: int = 5 * 1024 * 1024, key: str | None = None,
              model_cache: Path | None = None) -> Article:
    """Read one article file outside of any scan (``feeds inspect``)."""
    reader = folder.reader_for(path.name)
    if reader is None:
        raise ArticleError("not an article file (unknown extension)", path=str(path))
    try:
        st = path.stat()
    except OSError as exc:
        raise ArticleError(folder._reason(exc), path=str(path)) from None
    found = folder.FoundFile(key or path.name, str(path),
                             reader, FileState(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev))
    job = _ReadJob(found, source, max_size, tz, base_url, None, model_cache, encode=False)
    _key, article, _state, problem, _encoded = _read_one(job)
    if article is None:
        raise ArticleError(problem or "unreadable", path=str(path))
    return article


# --------------------------------------------------------------------------- ingest


def ingest_folder(
    store: Store,
    source: SourceConfig,
    config: Config,
    *,
    now: datetime,
    progress: Progress | None = None,
    workers: int | None = None,
    settle_ns: int = 0,
    model_cache: Path | None = None,
    paths: Collection[str] | None = None,
    cancelled: Cancelled | None = None,
) -> SourceReport:
    """Bring one folder into the store: read only files whose stat changed.

    With ``settle_ns`` (the daemon), a file modified less than that long ago may still be
    being written: it is left for a later pass (``report.unsettled``) rather than read.
    With ``paths`` (the daemon's watcher: keys relative to the folder that changed), only
    those are looked at, unless :func:`folder.scan_paths` says a full scan is needed;
    every other stored file is taken as it was.
    """
    assert source.path is not None
    started = time.monotonic()
    report = SourceReport(source.name, source.kind)
    partial = folder.scan_paths(source.path, paths) if paths is not None else None
    scan, gone = partial if partial is not None else (folder.scan(source.path), None)
    report.ignored = len(scan.ignored)
    report.problems.extend((p.key, p.reason) for p in scan.problems)
    present: set[str] | None  # after a full scan: every key still there
    removed: set[str] = set()  # after a partial one (present None): the keys that went away
    if gone is None:
        known = store.file_states(source.name)
        present = {f.key for f in scan.files} | {p.key for p in scan.problems}
    else:  # the rest of the folder is as the last scan left it: only these keys are loaded
        removed = set(gone) | store.keys_under(source.name, gone)
        known = store.file_states(source.name, {f.key for f in scan.files} | removed)
        present = None
    to_read: list[folder.FoundFile] = []
    newest_allowed = time.time_ns() - settle_ns
    for found in scan.files:
        old = known.get(found.key)
        if old is not None and _same_stat(old, found.state):
            report.skipped += 1
        elif settle_ns and found.state.mtime_ns > newest_allowed:
            report.unsettled.append(found.key)
        else:
            to_read.append(found)
    vanished = set(known) - present if present is not None else set(known) & removed
    # A renamed file has a new key and its old key vanishes: both must reach the store in
    # the same ingest for the id to follow the file, so new keys go in the first batch.
    to_read.sort(key=lambda f: (f.key in known, f.key))
    jobs = [_ReadJob(f, source.name, source.max_size, config.site.timezone, config.site.base_url,
                     source.link_pattern, model_cache) for f in to_read]
    batch: list[tuple[Article, FileState | None]] = []
    encoded: dict[str, Encoded] = {}
    totals = _ChangeTotals()
    first_batch_size = max(BATCH, sum(1 for f in to_read if f.key not in known)) \
        if vanished else BATCH

    late: set[str] = set()  # after a full scan: drafts found once the first batch was in

    def flush() -> None:
        if batch or not totals.calls:
            if present is not None and not totals.calls:
                # the first batch settles what went away since the last scan (renames too)
                changes = store.ingest(source.name, list(batch), now=now, present=present,
                                       encoded=encoded)
            else:  # the others load only their own keys, not every key of the source
                changes = store.ingest(source.name, list(batch), now=now,
                                       gone=removed if present is None else late,
                                       encoded=encoded)
            totals.add(changes)
            batch.clear()
            encoded.clear()
            late.clear()

    for done, (key, article, state, problem, ready) in enumerate(_read_all(jobs, workers), 1):
        _check(cancelled)  # (batches already stored stay: the next build skips them)
        if progress is not None:
            progress(source.name, done, len(jobs))
        if article is None:
            report.problems.append((key, problem or "unreadable"))
            continue
        report.read += 1
        if article.draft:  # a published article that became a draft goes away
            if present is None:
                removed.add(key)
            elif totals.calls:
                late.add(key)
            else:
                present.discard(key)
            report.not_published.append((key, "draft"))
            continue
        batch.append((_keep_guessed_date(store, article), state))
        if ready is not None:
            encoded[key] = ready  # unused if the date kept made it another article
        limit = first_batch_size if not totals.calls else BATCH
        if len(batch) >= limit or (
                len(batch) >= TAIL_BATCH and len(jobs) - done < limit
                and (totals.calls or not vanished)):
            flush()  # near the end, in smaller batches: the last one waits for nothing
    flush()
    report.changes = totals.result()
    report.duration = time.monotonic() - started
    return report


def _keep_guessed_date(store: Store, article: Article) -> Article:
    """An edited file with no date keeps the date it was first published under."""
    if article.date_source not in ("mtime", "first-seen"):
        return article
    item_id = store.lookup_id(article.source, article.key)
    item = store.get_item(item_id) if item_id else None
    if item is None or item.article.published is None:
        return article
    return dataclasses.replace(article, published=item.article.published,
                               date_source=item.article.date_source)


def _same_stat(old: FileState, new: FileState) -> bool:
    return old[:4] == new[:4]  # size, mtime, inode, device: not the digest


def _read_all(jobs: Sequence[_ReadJob], workers: int | None) -> Iterator[_Read]:
    """``_read_one`` of every job, in order; by a process pool when there are many.

    A worker that dies (a crash in a parser's C code, the kernel's OOM killer) breaks the
    pool.  The jobs not yet answered are then read one at a time by a pool of one worker,
    so the next death names its file: that file is reported as a problem and the rest is
    read in parallel again.  One bad file never stops its folder.
    """
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
        for job in jobs:
            yield _read_one(job)
        return
    from concurrent.futures.process import BrokenProcessPool

    readers = {job.found.reader for job in jobs}
    shared = _shared_pool(workers)
    if shared is None:
        _warm_workers(jobs[0].model_cache, readers)
    pending = list(jobs)
    while pending:
        done = 0
        try:
            if shared is not None:
                results = shared.get(readers).map(_read_one, pending, chunksize=64)
                for result in results:
                    done += 1
                    yield result
            else:
                with _process_pool(workers) as pool:
                    for result in pool.map(_read_one, pending, chunksize=64):
                        done += 1
                        yield result
            return
        except BrokenProcessPool:
            pending = pending[done:]
        log.warning("a reading worker died; reading the next %d file(s) one at a time to "
                    "find the one that kills it", len(pending))
        alone = _process_pool(1)
        try:
            futures = [alone.submit(_read_one, job) for job in pending]
            for n, (job, future) in enumerate(zip(pending, futures, strict=True)):
                try:
                    result = future.result()
                except BrokenProcessPool:
                    log.error("%s: reading it killed the worker process", job.found.key)
                    yield (job.found.key, None, None,
                           "reading it killed the worker process (a crash in a parser, or "
                           "out of memory)", None)
                    pending = pending[n + 1:]
                    break
                yield result
            else:
                pending = []
        finally:
            alone.shutdown(wait=True, cancel_futures=True)


def _warm_workers(model_cache: Path | None, readers: Collection[str] = ()) -> None:
    """Import the renderers and the ``readers`` needed, and map the language model (when
    there is anything to read), once, before a pool forks: every worker then starts with
    them (~0.13 s of imports each, before its first article)."""
    from .publish import atom, jsonfeed, rss  # noqa: F401

    if not readers:
        return
    from .cache import use_cache
    from .normalize.language import detect_language

    if "text" in readers:
        from .normalize import plaintext  # noqa: F401
    if "markdown" in readers:
        from .normalize import markdown  # noqa: F401
    if "html" in readers:
        from .normalize import htmlpage  # noqa: F401
    if model_cache is not None:
        use_cache(model_cache)
    detect_language("warm")


class _ChangeTotals:
    def __init__(self) -> None:
        self.calls = 0
        self.parts: list[Changes] = []

    def add(self, changes: Changes) -> None:
        self.calls += 1
        self.parts.append(changes)

    def result(self) -> Changes:
        return Changes(
            added=tuple(x for c in self.parts for x in c.added),
            changed=tuple(x for c in self.parts for x in c.changed),
            removed=tuple(x for c in self.parts for x in c.removed),
            unchanged=sum(c.unchanged for c in self.parts),
            renamed=tuple(x for c in self.parts for x in c.renamed),
            rejected=tuple(x for c in self.parts for x in c.rejected),
        )


def ingest(config: Config, store: Store, *, now: datetime, model_cache: Path | None = None,
           progress: Progress | None = None,
           cancelled: Cancelled | None = None) -> list[SourceReport]:
    """Every source once.  One source's failure is reported, never raised (``Stopped``,
    when ``cancelled`` says so, is)."""
    reports: list[SourceReport] = []
    remote = [s for s in config.sources if s.kind in ("feed", "opml")]
    for source in config.sources:
        if source.kind != "folder":
            continue
        try:
            report = ingest_folder(store, source, config, now=now, progress=progress,
                                   model_cache=model_cache, cancelled=cancelled)
        except SourceError as exc:
            report = SourceReport(source.name, source.kind, error=exc.reason)
        for key, reason in report.changes.rejected if report.changes else ():
            report.problems.append((key, reason))
        _log_source(report)
        reports.append(report)
    if remote:
        _check(cancelled)
        for report in ingest_remote(config, store, remote, now=now, cancelled=cancelled):
            _log_source(report)
            reports.append(report)
    return reports


def fetch_settings(config: Config) -> FetchSettings:
    from .sources.remote import FetchSettings, default_user_agent

    f = config.fetch
    return FetchSettings(
        connect_timeout=f.connect_timeout,
        timeout=f.timeout,
        max_bytes=f.max_size,
        max_redirects=f.max_redirects,
        concurrency=f.concurrency,
        per_host=f.per_host,
        user_agent=f.user_agent or default_user_agent(config.site.link, __version__),
        allow_private=f.allow_private,
        every=f.every,
    )


def remote_specs(source: SourceConfig) -> list[FeedSpec]:
    """The feeds one remote source stands for: itself, or every outline of its OPML file."""
    from .sources.opml import opml_specs
    from .sources.remote import FeedSpec

    if source.kind == "feed":
        assert source.url is not None
        return [FeedSpec(source.name, source.url, source.every, source.headers,
                         source.user_agent)]
    assert source.path is not None
    return opml_specs(source.path, source=source.name, every=source.every,
                      headers=source.headers, user_agent=source.user_agent)


def ingest_remote(config: Config, store: Store, sources: Sequence[SourceConfig], *,
                  now: datetime, force: bool = True,
                  cancelled: Cancelled | None = None) -> list[SourceReport]:
    """Fetch remote sources concurrently (conditional requests) and store what is new.

    ``force`` (the one-shot build) ignores the regular schedule, never a 410 Gone, a
    Retry-After or an error backoff.  Each feed of an OPML source keeps its own fetch
    state; its articles are stored under the OPML source with keys prefixed by the feed.
    Fetch states (ETag, Last-Modified, backoff) are saved only after the articles they
    describe are stored: a crash in between costs a refetch, never a lost article.
    ``cancelled`` (the daemon's stop flag) abandons requests in flight.  After each feed
    that was read, what it no longer lists is pruned to its source's ``retention``; what
    was pruned is reported as removed, so the feeds showing it are published again.
    """
    from .sources.remote import fetch_feeds_sync

    started = time.monotonic()
    reports: dict[str, SourceReport] = {}
    jobs: list[tuple[SourceConfig, FeedSpec]] = []
    subscribed: dict[str, list[str]] = {}  # OPML source -> the feeds its file lists now
    for source in sources:
        reports[source.name] = SourceReport(source.name, source.kind)
        try:
            specs = remote_specs(source)
        except FeedsError as exc:
            reports[source.name].error = exc.reason
            continue
        jobs.extend((source, spec) for spec in specs)
        if source.kind == "opml":
            subscribed[source.name] = [spec.name for spec in specs]
    pairs = [(spec, store.source_state(spec.name)) for _source, spec in jobs]
    results = fetch_feeds_sync(pairs, fetch_settings(config), now=now, force=force,
                               cancelled=cancelled) if pairs else []
    totals: dict[str, _ChangeTotals] = {name: _ChangeTotals() for name in reports}
    states: dict[str, FetchState] = {}
    for (source, spec), result in zip(jobs, results, strict=True):
        report = reports[source.name]
        states[spec.name] = result.state
        for warning in result.warnings:
            log.info("%s: %s", spec.name, warning)
        if result.error is not None:
            reason = result.error.reason  # the report names the source
            url = getattr(result.error, "url", None) or result.url or spec.url
            if url not in reason:
                reason = f"{reason} ({url})"
            if source.kind == "feed":
                report.error = reason
            else:
                report.problems.append((spec.name, reason))
        if result.articles:
            articles = result.articles
            if source.kind == "opml":
                articles = [dataclasses.replace(a, source=source.name,
                                                key=f"{spec.name} {a.key}") for a in articles]
            report.read += len(articles)
            totals[source.name].add(store.ingest(source.name, [(a, None) for a in articles],
                                                 now=now, present=None))
        elif result.articles is None and result.error is None:
            report.skipped += 1
        if result.articles is not None:  # the feed was read: what it lists now is known
            totals[source.name].add(_prune(store, source, spec, result.articles, now=now))
    for name, feeds in subscribed.items():  # feeds taken out of an OPML file
        gone = store.prune_unlisted_feeds(name, feeds)
        if gone:
            log.info("%s: %d entr%s of feeds no longer in its OPML file removed", name,
                     len(gone), "y" if len(gone) == 1 else "ies")
            totals[name].add(Changes(added=(), changed=(), removed=gone, unchanged=0))
    store.set_source_states(states)
    for name, report in reports.items():
        report.changes = totals[name].result()
        for key, reason in report.changes.rejected:
            report.problems.append((key, reason))
        report.duration = time.monotonic() - started
    return list(reports.values())


def _prune(store: Store, source: SourceConfig, spec: FeedSpec, listed: Sequence[Article], *,
           now: datetime) -> Changes:
    """Apply ``source.retention`` to the feed ``spec`` just read (its entries are keyed
    ``"<spec> <entry>"`` under an OPML source): what it deleted, as removals."""
    prefix = f"{spec.name} " if source.kind == "opml" else ""
    pruned = store.prune(source.name, listed={prefix + a.key for a in listed}, now=now,
                         retention=source.retention, prefix=prefix)
    if pruned:
        log.info("%s: %d entr%s no longer listed and past the retention removed", spec.name,
                 len(pruned), "y" if len(pruned) == 1 else "ies")
    return Changes(added=(), changed=(), removed=pruned, unchanged=0)


def _log_source(report: SourceReport) -> None:
    """One line per source at INFO (``-v``); problems are the caller's to print."""
    c = report.changes
    extra = {
        "source": report.name,
        "new": len(c.added) if c else 0,
        "changed": len(c.changed) if c else 0,
        "removed": len(c.removed) if c else 0,
        "rejected": report.rejected,
        "duration": f"{report.duration:.2f}s",
    }
    log.info("source %s %s", report.name, "failed" if report.error else "ingested", extra=extra)


# --------------------------------------------------------------------------- publish


def feed_items(config: Config, store: Store, feed: FeedConfig, *, now: datetime) -> list[Item]:
    """The items a feed shows: its sources, published by ``now``, filtered, newest first."""
    from .select import select_items

    sources = config.feed_sources(feed)
    if not sources:
        return []
    filtered = bool(feed.include or feed.exclude or feed.since)
    fetch = None if filtered else feed.limit + 64
    items = store.items(sources, limit=fetch)
    visible = [i for i in items if i.published <= now]
    if fetch is not None and len(items) == fetch and len(visible) < feed.limit:
        visible = [i for i in store.items(sources) if i.published <= now]
    return select_items(visible, include=feed.include, exclude=feed.exclude, since=feed.since,
                        limit=feed.limit, now=now)


def publish(config: Config, store: Store, *, now: datetime, dry_run: bool = False,
            only: set[str] | None = None, workers: int = 1,
            cancelled: Cancelled | None = None) -> tuple[list[FeedReport], list[Path]]:
    """Regenerate feeds (all, or those named in ``only``) and the index pages.

    ``workers`` > 1: many fragments to render are rendered by a process pool of that size
    (``feeds build`` does; a process with threads of its own should not fork).  First,
    the temporary files a killed process left in the output folders are removed.
    """
    reports = []
    if not dry_run:  # what a killed build left: spools, temporary files
        remove_temporaries([config.output_dir, *(config.output_dir / f.name for f in config.feeds)])
    for feed in config.feeds:
        if only is not None and feed.name not in only:
            continue
        _check(cancelled)
        try:
            reports.append(publish_feed(config, store, feed, now=now, dry_run=dry_run,
                                        workers=workers, cancelled=cancelled))
        except OutputError:
            raise  # the output directory cannot be written: no other feed can be either
        except FeedsError as exc:
            log.error("feed %s not published: %s", feed.name, exc)
            reports.append(FeedReport(feed.name, error=str(exc)))
    channels = [config.channel(f) for f in config.feeds]
    pages = []
    for name, data in (("index.html", render_index_html(config.site.title, channels)),
                       ("feeds.opml", render_opml(config.site.title, channels))):
        path = config.output_dir / name
        if write_if_changed(path, data, dry_run=dry_run):
            pages.append(path)
    return reports, pages


def feed_heads(config: Config, store: Store, feed: FeedConfig, *,
               now: datetime) -> list[ItemHead]:
    """:func:`feed_items` as :class:`ItemHead`: the same selection, without reading any
    article's JSON unless the feed filters on text (``include``/``exclude``)."""
    rows, _state = _candidates(config, store, feed, now=now)
    return _select(config, store, feed, rows, now=now)


def _candidates(config: Config, store: Store, feed: FeedConfig, *,
                now: datetime) -> tuple[list[ItemHead], Selection | None]:
    """The rows a feed selects from, newest first, and (when those rows alone decide the
    selection, as they do without text filters) what the selection depends on: a digest
    of the rows and the window of ``now`` in which the same rows are visible."""
    sources = config.feed_sources(feed)
    if not sources:
        return [], None
    if feed.include or feed.exclude:
        return store.heads(sources), None
    fetch = None if feed.since else feed.limit + 64
    heads = store.heads(sources, limit=fetch)
    now_stamp = stamp(now)
    visible = sum(1 for h in heads if h.published <= now_stamp)
    if fetch is not None and len(heads) == fetch and visible < feed.limit:
        heads = store.heads(sources)
    if feed.since:
        return heads, None  # what "since" keeps moves with every build
    rows = "\n".join(f"{h.id}\x1f{h.content_hash}\x1f{h.published}\x1f{h.updated}"
                     f"\x1f{h.title}\x1f{h.link}" for h in heads)
    seen = max((h.published for h in heads if h.published <= now_stamp), default=None)
    until = min((h.published for h in heads if h.published > now_stamp), default=None)
    return heads, Selection(hashlib.blake2b(rows.encode(), digest_size=16).hexdigest(),
                            None if seen is None else instant(seen),
                            None if until is None else instant(until))


def _same_selection(previous: Selection | None, state: Selection | None,
                    now: datetime) -> bool:
    """Whether the rows are those of the previous build and no row's date lies between
    that build's ``now`` and this one's: then the selection is the previous one."""
    if state is None or previous is None or previous.rows != state.rows:
        return False
    return (previous.seen is None or previous.seen <= now) and (
        previous.until is None or now < previous.until)


def _select(config: Config, store: Store, feed: FeedConfig, heads: list[ItemHead], *,
            now: datetime) -> list[ItemHead]:
    """What the feed shows of ``heads`` (see :func:`feed_items`): with no text filter,
    the same steps as :func:`feeds.select.select_items`, on the stored dates (UTC ISO
    texts compare as the instants they name) and the stored story keys."""
    from .select import one_per_story

    if not heads:
        return []
    if feed.include or feed.exclude:  # text filters read the articles
        by_id = {h.id: h for h in heads}
        return [by_id[i.id] for i in feed_items(config, store, feed, now=now) if i.id in by_id]
    now_stamp = stamp(now)
    oldest = stamp(now - feed.since) if feed.since is not None else ""
    visible = (h for h in heads if oldest <= h.published <= now_stamp)
    return one_per_story(visible, ItemHead.story_keys, limit=feed.limit)


#: items rendered (and verified, as one small document) at a time
RENDER_CHUNK = 256


def publish_feed(config: Config, store: Store, feed: FeedConfig, *, now: datetime,
                 dry_run: bool = False, workers: int = 1,
                 cancelled: Cancelled | None = None) -> FeedReport:
    """Write one feed's files, reusing every fragment an earlier build already wrote.

    Nothing is rendered when the channel, the selected items (by :func:`fragment_key`)
    and the files (size, mtime, inode, ctime) are what the last build left.  Otherwise each
    file is streamed: the head, then per item either a fragment rendered now or the
    byte range its fragment has in the current file (copied by the kernel), then the
    tail.  Every fragment rendered now is verified (by chunks, as small documents), and
    so are the head and tail; a reused range was verified when it was written, and the
    file it comes from is unchanged since (same size, mtime, inode and ctime), the same trust
    the no-op check puts in them.  The file work is :mod:`feeds.publish.stream`'s; this
    decides what to render and keeps the feed's state in the store.
    """
    report = FeedReport(feed.name)
    channel = config.channel(feed)
    channel_key = _channel_key(config, feed)
    paths = {fmt: config.output_dir / feed.name / FILENAMES[fmt] for fmt in feed.formats}
    previous = store.feed_state(feed.name)
    prev = previous or FeedState()
    same_files = previous is not None and prev.channel == channel_key \
        and prev.files == stream.file_stats(paths)
    rows, state = _candidates(config, store, feed, now=now)
    if same_files and prev.count is not None and _same_selection(prev.selection, state, now):
        report.unchanged = prev.count
        report.kept.extend(paths.values())  # nothing to select or render
        return report
    heads = _select(config, store, feed, rows, now=now)
    keys = [fragment_key(h.id, h.content_hash, h.published, h.updated) for h in heads]
    items_digest = hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()
    if same_files and prev.items == items_digest:
        report.unchanged = len(heads)
        report.kept.extend(paths.values())  # nothing to render: the files are what we wrote
        if not dry_run and state is not None and prev.selection != state:
            store.set_feed_state(feed.name, dataclasses.replace(
                prev, selection=state, count=len(heads)), keep_index=True)
        return report
    index = store.feed_index(feed.name) if previous else None
    _count_changes(report, heads, previous, index)
    if dry_run:
        items = _full_items(store, heads)
        for fmt, path in paths.items():
            data = render(fmt, channel, items)
            stream.checked(fmt, path, data, items)
            (report.written if write_if_changed(path, data, dry_run=True)
             else report.kept).append(path)
        return report
    changed, formats = _publish_formats(store, channel, paths, heads, keys, index, workers,
                                        cancelled)
    for fmt, path in paths.items():
        (report.written if changed[fmt] else report.kept).append(path)
    new_index = FeedIndex(tuple(h.id for h in heads), tuple(keys),
                          tuple(h.updated for h in heads), formats)
    store.set_feed_state(
        feed.name,
        FeedState(channel=channel_key, items=items_digest, count=len(heads),
                  files=stream.file_stats(paths), selection=state),
        new_index)
    return report


def _count_changes(report: FeedReport, heads: Sequence[ItemHead],
                   previous: FeedState | None, index: FeedIndex | None) -> None:
    old: dict[str, str] = {}
    if index is not None:
        old = dict(zip(index.ids, index.updated, strict=False))
    elif previous is not None and previous.legacy_updated is not None:
        old = {k: stamp(v) for k, v in previous.legacy_updated.items()}
    current = {h.id: h.updated for h in heads}
    report.added = sum(1 for i in current if i not in old)
    report.removed = sum(1 for i in old if i not in current)
    report.changed = sum(1 for i, u in current.items() if i in old and old[i] != u)
    report.unchanged = len(current) - report.added - report.changed


def _full_items(store: Store, heads: Sequence[ItemHead]) -> list[Item]:
    found = store.items_by_id([h.id for h in heads])
    missing = [h.id for h in heads if h.id not in found]
    if missing:
        raise PublishError(f"{len(missing)} item(s) went away while publishing, e.g. "
                           f"{missing[0]!r}")
    return [found[h.id] for h in heads]


#: below this many items to render, a process pool costs more than it saves
PARALLEL_RENDER_THRESHOLD = 1500


def _publish_formats(store: Store, channel: Channel, paths: dict[str, Path],
                     heads: Sequence[ItemHead], keys: Sequence[str],
                     index: FeedIndex | None, workers: int = 1,
                     cancelled: Cancelled | None = None
                     ) -> tuple[dict[str, bool], dict[str, object]]:
    """Stream every file of one feed (see :func:`publish_feed`): whether each changed,
    and each one's index entry for the next build.  Items to render are read once, in
    chunks, for all formats; with ``workers`` > 1 and many of them, the chunks are
    rendered by a process pool (each worker reads its items from the store itself and
    spools its fragments to files the kernel then copies from)."""
    old: dict[str, object] | None = None if index is None else {
        "keys": list(index.keys), "formats": dict(index.formats)}  # as the stream reads it
    position = stream.positions(old)
    outputs = [stream.Output(fmt, channel, path, old, position) for fmt, path in paths.items()]
    changed: dict[str, bool] = {}
    formats: dict[str, object] = {}
    prefix = f".spool.{os.getpid()}.{secrets.token_hex(4)}."  # this publication's spools
    with contextlib.ExitStack() as stack:
        stack.callback(stream.remove_spools, {out.path.parent for out in outputs}, prefix)
        for out in outputs:
            out.open_old(stack, len(keys))
        # every file reuses by the same positions, or (not the file we wrote) by none
        everywhere = position if all(len(out.reusable) for out in outputs) else {}
        misses = [n for n, key in enumerate(keys) if key not in everywhere]
        handle = store.handle()  # None: no other process sees this store
        jobs = [
            _RenderJob(
                handle, prefix, channel, tuple(out.fmt for out in outputs),
                tuple(str(out.path) for out in outputs), chunk,
                tuple(heads[n].id for n in chunk),
                tuple(tuple(keys[n] not in out.reusable for out in outputs) for n in chunk))
            for chunk in (tuple(misses[i:i + RENDER_CHUNK])
                          for i in range(0, len(misses), RENDER_CHUNK))
        ]
        shared = _shared_pool(workers)
        results: Iterator[_Spooled]
        if workers > 1 and handle is not None and (
                len(misses) >= PARALLEL_RENDER_THRESHOLD
                or (shared is not None and shared.started and len(jobs) > 1)):
            if shared is not None:  # the build's pool, warm from reading
                warm = shared.get()
                futures = [warm.submit(_render_job, job) for job in jobs]
                # the pool outlives this feed: on a failure, let the other jobs end (or
                # never start) before their spool files are looked for and removed
                stack.callback(_settle, futures)
                results = (future.result() for future in futures)
            else:  # a process pool of this feed's own
                pool = stack.enter_context(_process_pool(workers))
                results = pool.map(_render_job, jobs)
        else:
            results = (_render_job(job, store) for job in jobs)
        for spooled in _unbroken(results):
            _check(cancelled)  # the old files stay; spools are removed on the way out
            for out, (spool, entries) in zip(outputs, spooled, strict=True):
                if not entries:
                    os.unlink(spool)
                    continue
                fd = os.open(spool, os.O_RDONLY)
                stack.callback(os.close, fd)
                os.unlink(spool)  # the open descriptor is all we need
                for n, offset, length, flag in entries:
                    out.rendered[n] = (fd, offset, length, flag)
        # stored dates are fixed-width UTC ISO: the greatest text is the newest
        newest = (max(h.updated for h in heads), max(h.published for h in heads)) \
            if heads else None
        # a thread per file: the copying and the fsync happen in the kernel, GIL released
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, len(outputs))) as writers:
            assembled = list(writers.map(
                lambda out: stream.assemble(out, len(heads), newest, keys), outputs))
        for out, (was_changed, entry) in zip(outputs, assembled, strict=True):
            changed[out.fmt], formats[out.fmt] = was_changed, entry
    return changed, formats


@dataclass(frozen=True, slots=True)
class _RenderJob:
    store: StoreHandle | None  # what a worker opens to read the items
    prefix: str  # of the spool files' names
    channel: Channel
    fmts: tuple[str, ...]
    paths: tuple[str, ...]
    positions: tuple[int, ...]
    ids: tuple[str, ...]
    needed: tuple[tuple[bool, ...], ...]  # per position, per format: render it?


_Spooled = list[stream.Spooled]  # one chunk: a spool per format


def _unbroken(results: Iterator[_Spooled]) -> Iterator[_Spooled]:
    """``results``; a rendering worker that died fails this feed (PublishError), not the
    build: the other feeds are published (the build's pool is replaced on its next use)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield from results
    except BrokenProcessPool as exc:
        raise PublishError(f"a rendering worker process died ({exc}); old files kept") \
            from exc


def _settle(futures: Sequence[Future[_Spooled]]) -> None:
    """Cancel the jobs not started and wait for those running."""
    from concurrent.futures import wait

    for future in futures:
        future.cancel()
    wait(futures)


def _render_job(job: _RenderJob, store: Store | None = None) -> _Spooled:
    """Render, verify and spool one chunk of items in every format (see
    :func:`stream.spool`).  Runs in workers too, where it opens the store itself."""
    if store is None:
        assert job.store is not None, "a worker needs a store it can open"
        with job.store.open() as own:
            return _render_job(job, own)
    found = store.items_by_id(job.ids)
    missing = [i for i in job.ids if i not in found]
    if missing:
        raise PublishError(f"{len(missing)} item(s) went away while publishing, e.g. "
                           f"{missing[0]!r}")
    return [
        stream.spool(fmt, job.channel, Path(path), job.prefix,
                     [(n, found[i]) for n, i, need in zip(job.positions, job.ids, job.needed,
                                                          strict=True) if need[f]])
        for f, (fmt, path) in enumerate(zip(job.fmts, job.paths, strict=True))
    ]


def _channel_key(config: Config, feed: FeedConfig) -> str:
    from .publish.render import RENDER_VERSION

    blob = repr((__version__, RENDER_VERSION, config.channel(feed), feed))
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()


# --------------------------------------------------------------------------- build


def abandon(config: Config) -> None:
    """For a process about to exit without unwinding (a stop that could not wait): remove
    its temporary files (spools, half-written replacements) and kill its pool workers.
    The store needs nothing: SQLite drops the transaction that was not committed, and the
    kernel the lock."""
    import multiprocessing
    import tempfile

    folders = [config.output_dir, *(config.output_dir / f.name for f in config.feeds)]
    remove_temporaries([*folders, Path(tempfile.gettempdir())], own=True)
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError, ValueError):
            child.kill()


def build(config: Config, *, now: datetime, dry_run: bool = False,
          progress: Progress | None = None,
          cancelled: Cancelled | None = None) -> BuildReport:
    """``feeds build``: ingest every source once, then publish every feed.

    With ``dry_run`` the work happens on an in-memory copy of the store and no file is
    written, so the report says exactly what a real build would do.  ``cancelled`` is
    asked between steps (each file read, each chunk rendered, each feed); when it says
    yes, ``Stopped`` is raised: what the store committed is kept, no file is half
    written, and the next build carries on.
    """
    refuse_lost_store(config)
    report = BuildReport(config.output_dir, dry_run=dry_run)
    model_cache = None if dry_run else model_cache_dir()
    workers = os.cpu_count() or 1
    with open_store(config.store_path, dry_run=dry_run) as store, \
            _one_pool(workers, model_cache):
        report.sources = ingest(config, store, now=now, progress=progress,
                                model_cache=model_cache, cancelled=cancelled)
        report.feeds, report.pages_written = publish(config, store, now=now, dry_run=dry_run,
                                                     workers=workers, cancelled=cancelled)
    return report


# --------------------------------------------------------------------------- recover


def refuse_lost_store(config: Config) -> None:
    """``StoreError`` when the store is missing but the output holds published ids: a
    build would mint every id anew (see ``feeds recover``)."""
    from .recover import lost_store_problem

    problem = lost_store_problem(config)
    if problem is not None:
        raise StoreError(problem)


@dataclass
class RecoverReport:
    store_path: Path
    files: list[FeedFile]
    result: Match
    sources: list[SourceReport]
    articles: int  # live articles read from the sources
    kept_aside: Path | None  # where the store it replaced went

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)


def recover(config: Config, *, now: datetime, force: bool = False,
            progress: Progress | None = None) -> RecoverReport:
    """``feeds recover``: rebuild a lost store from the sources and the published feeds.

    The sources are read into a new store beside the old one exactly as a build reads
    them; then every article whose published item is found (see :mod:`feeds.recover`)
    takes that item's id and dates.  Only then does the new store replace the old file,
    which (unless empty) is kept as ``<store>.replaced``: a recovery that fails leaves
    everything as it was.  A store that still holds ids is refused unless ``force``.
    """
    from .recover import check_replaceable, match, merged_entries, read_published
    from .store import is_empty_file

    path = config.store_path
    check_replaceable(path, force=force, ids=_ids_in(path))
    files = read_published(config)
    scratch = path.with_name(path.name + ".recovering")
    _remove_store_files(scratch)
    model_cache = model_cache_dir()
    try:
        with open_store(scratch) as store, _one_pool(os.cpu_count() or 1, model_cache):
            sources = ingest(config, store, now=now, progress=progress,
                             model_cache=model_cache)
            identities = {s.name: _atom_titled(store, store.identities(s.name))
                          for s in config.sources}
            result = match(merged_entries(files), identities, now=now)
            for source, rows in sorted(result.restored.items()):
                store.restore_identities(source, rows)
            for source, rows in sorted(result.renewed.items()):
                store.restore_identities(source, rows)
    except BaseException:
        _remove_store_files(scratch)
        raise
    kept: Path | None = None
    if (path.exists() or path.is_symlink()) and not is_empty_file(path, settle=0):
        kept = _aside_name(path)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{path}{suffix}", f"{kept}{suffix}")
    else:
        _remove_store_files(path)
    os.replace(scratch, path)
    _remove_store_files(scratch)  # a -wal or -shm left behind, if any
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    articles = sum(len(rows) for rows in identities.values())
    return RecoverReport(path, files, result, sources, articles, kept)


def _atom_titled(store: Store, identities: list[Identity]) -> list[Identity]:
    """``identities``, each untitled one with the title Atom gives it (the start of its
    text, else its link, else its id): what an Atom-only feed shows of it."""
    from .publish.atom import atom_title
    from .text import xml_legal

    untitled = [a.id for a in identities if not a.title.strip()]
    if not untitled:
        return identities
    items = store.items_by_id(untitled)
    return [a._replace(atom_title=xml_legal(atom_title(items[a.id])).strip())
            if a.id in items else a for a in identities]


def _aside_name(path: Path) -> Path:
    """Where the store a recovery replaces goes: ``<store>.replaced``, or when an earlier
    ``--force`` left one there (maybe the one store that held every id), the first free
    ``<store>.replaced.<n>``: a store kept aside is never deleted."""
    kept = path.with_name(path.name + ".replaced")
    n = 1
    while any(os.path.lexists(f"{kept}{suffix}") for suffix in ("", "-wal", "-shm")):
        n += 1
        kept = path.with_name(f"{path.name}.replaced.{n}")
    return kept


def _ids_in(path: Path) -> int | None:
    """How many ids the store at ``path`` holds: 0 when missing or empty, None when it is
    not a usable store."""
    from .store import is_empty_file

    if not (path.exists() or path.is_symlink()) or is_empty_file(path, settle=0):
        return 0
    try:
        with open_store(path, dry_run=True) as store:
            return store.id_count()
    except StoreError:
        return None


def _remove_store_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
