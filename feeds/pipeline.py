"""The pipeline: the one module that knows every stage.

::

    folder.scan ─► folder.read ─► normalize.read_* ─► fallbacks ─┐
    (stat; skip files whose stat is unchanged)                    ├─► Store.ingest ─► Changes
    remote.fetch_feeds ─► normalize.entries ──────────────────────┘
                                                                   │
    Store.items ─► select ─► publish.render ─► publish.verify ─► atomic write (if bytes changed)

``ingest`` brings every source into the store; ``publish`` regenerates the feeds whose
content or configuration changed; ``build`` is both, as ``feeds build`` runs them.  Bad
input is reported per file and per source; it never stops the other sources.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Config, FeedConfig, SourceConfig
from .errors import ArticleError, FeedsError, PublishError, SourceError
from .model import FILENAMES, Article, FileState, Item
from .normalize.fallbacks import apply_folder_fallbacks
from .publish.atomic import write_if_changed
from .publish.pages import render_index_html, render_opml
from .publish.render import render, verify
from .sources import folder
from .store import Changes, Store

if TYPE_CHECKING:
    from .sources.remote import FeedSpec, FetchSettings

log = logging.getLogger("feeds.pipeline")

Progress = Callable[[str, int, int], None]  # (what, done, total)

#: below this many files to read, a process pool costs more than it saves
PARALLEL_THRESHOLD = 400
#: articles handed to the store per transaction on a large build
BATCH = 2000


@dataclass
class SourceReport:
    name: str
    kind: str
    changes: Changes | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    error: str | None = None  # the source failed as a whole
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


def _read_one(job: _ReadJob) -> tuple[str, Article | None, FileState | None, str | None]:
    """Read and normalize one file: (key, article, state, problem).  Runs in workers too."""
    found = job.found
    try:
        data, state = folder.read(found, max_size=job.max_size)
        article = read_article(found.reader, data, source=job.source, key=found.key, tz=job.tz,
                               base_url=job.base_url)
        article = apply_folder_fallbacks(article, mtime_ns=state.mtime_ns, tz=job.tz,
                                         base_url=job.base_url, link_pattern=job.link_pattern)
    except ArticleError as exc:
        return found.key, None, None, exc.reason
    return found.key, article, state, None


def read_path(path: Path, *, tz: tzinfo, base_url: str | None = None, source: str = "",
              max_size: int = 5 * 1024 * 1024, key: str | None = None) -> Article:
    """Read one article file outside of any scan (``feeds inspect``)."""
    reader = folder.reader_for(path.name)
    if reader is None:
        raise ArticleError("not an article file (unknown extension)", path=str(path))
    try:
        st = path.stat()
    except OSError as exc:
        raise ArticleError(folder._reason(exc), path=str(path)) from None
    found = folder.FoundFile(key or path.name, path,
                             reader, FileState(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev))
    job = _ReadJob(found, source, max_size, tz, base_url, None)
    _key, article, _state, problem = _read_one(job)
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
) -> SourceReport:
    """Bring one folder into the store: read only files whose stat changed.

    With ``settle_ns`` (the daemon), a file modified less than that long ago may still be
    being written: it is left for a later pass (``report.unsettled``) rather than read.
    """
    assert source.path is not None
    started = time.monotonic()
    report = SourceReport(source.name, source.kind)
    scan = folder.scan(source.path)
    report.ignored = len(scan.ignored)
    report.problems.extend((p.key, p.reason) for p in scan.problems)
    known = store.file_states(source.name)
    present = {f.key for f in scan.files} | {p.key for p in scan.problems}
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
    vanished = set(known) - present
    # A renamed file has a new key and its old key vanishes: both must reach the store in
    # the same ingest for the id to follow the file, so new keys go in the first batch.
    to_read.sort(key=lambda f: (f.key in known, f.key))
    jobs = [_ReadJob(f, source.name, source.max_size, config.site.timezone, config.site.base_url,
                     source.link_pattern) for f in to_read]
    batch: list[tuple[Article, FileState | None]] = []
    totals = _ChangeTotals()
    first_batch_size = max(BATCH, sum(1 for f in to_read if f.key not in known)) \
        if vanished else BATCH

    def flush() -> None:
        if batch or not totals.calls:
            totals.add(store.ingest(source.name, list(batch), now=now, present=present))
            batch.clear()

    for done, (key, article, state, problem) in enumerate(_read_all(jobs, workers), 1):
        if progress is not None:
            progress(source.name, done, len(jobs))
        if article is None:
            report.problems.append((key, problem or "unreadable"))
            continue
        report.read += 1
        if article.draft:
            present.discard(key)
            report.not_published.append((key, "draft"))
            continue
        batch.append((_keep_guessed_date(store, article), state))
        if len(batch) >= (first_batch_size if not totals.calls else BATCH):
            flush()
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
    return (old.size, old.mtime_ns, old.inode, old.device) == (
        new.size, new.mtime_ns, new.inode, new.device)


def _read_all(jobs: Sequence[_ReadJob], workers: int | None):  # type: ignore[no-untyped-def]
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
        for job in jobs:
            yield _read_one(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_read_one, jobs, chunksize=64)


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


def ingest(config: Config, store: Store, *, now: datetime,
           progress: Progress | None = None) -> list[SourceReport]:
    """Every source once.  One source's failure is reported, never raised."""
    reports: list[SourceReport] = []
    remote = [s for s in config.sources if s.kind in ("feed", "opml")]
    for source in config.sources:
        if source.kind != "folder":
            continue
        try:
            report = ingest_folder(store, source, config, now=now, progress=progress)
        except SourceError as exc:
            report = SourceReport(source.name, source.kind, error=exc.message)
        for key, reason in report.changes.rejected if report.changes else ():
            report.problems.append((key, reason))
        _log_source(report)
        reports.append(report)
    if remote:
        for report in ingest_remote(config, store, remote, now=now):
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
                  now: datetime, force: bool = True) -> list[SourceReport]:
    """Fetch remote sources concurrently (conditional requests) and store what is new.

    ``force`` (the one-shot build) ignores the regular schedule, never a 410 Gone, a
    Retry-After or an error backoff.  Each feed of an OPML source keeps its own fetch
    state; its articles are stored under the OPML source with keys prefixed by the feed.
    """
    from .sources.politeness import FetchState
    from .sources.remote import fetch_feeds_sync

    started = time.monotonic()
    reports: dict[str, SourceReport] = {}
    jobs: list[tuple[SourceConfig, FeedSpec]] = []
    for source in sources:
        reports[source.name] = SourceReport(source.name, source.kind)
        try:
            jobs.extend((source, spec) for spec in remote_specs(source))
        except FeedsError as exc:
            reports[source.name].error = str(exc)
    pairs = []
    for _source, spec in jobs:
        raw = store.source_state(spec.name)
        pairs.append((spec, FetchState.from_dict(raw) if raw else None))
    results = fetch_feeds_sync(pairs, fetch_settings(config), now=now, force=force) if pairs \
        else []
    totals: dict[str, _ChangeTotals] = {name: _ChangeTotals() for name in reports}
    for (source, spec), result in zip(jobs, results, strict=True):
        report = reports[source.name]
        store.set_source_state(spec.name, result.state.to_dict())
        for warning in result.warnings:
            log.info("%s: %s", spec.name, warning)
        if result.error is not None:
            reason = result.error.message
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
    for name, report in reports.items():
        report.changes = totals[name].result()
        for key, reason in report.changes.rejected:
            report.problems.append((key, reason))
        report.duration = time.monotonic() - started
    return list(reports.values())


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
            only: set[str] | None = None) -> tuple[list[FeedReport], list[Path]]:
    """Regenerate feeds (all, or those named in ``only``) and the index pages."""
    reports = []
    for feed in config.feeds:
        if only is not None and feed.name not in only:
            continue
        try:
            reports.append(publish_feed(config, store, feed, now=now, dry_run=dry_run))
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


def publish_feed(config: Config, store: Store, feed: FeedConfig, *, now: datetime,
                 dry_run: bool = False) -> FeedReport:
    report = FeedReport(feed.name)
    channel = config.channel(feed)
    items = feed_items(config, store, feed, now=now)
    previous = _load_digest(store.feed_digest(feed.name))
    current_items = {i.id: i.updated.isoformat() for i in items}
    channel_key = _channel_key(config, feed)
    paths = {fmt: config.output_dir / feed.name / FILENAMES[fmt] for fmt in feed.formats}
    raw_items = previous.get("items") if previous else None
    old_items: dict[str, str] = raw_items if isinstance(raw_items, dict) else {}
    report.added = sum(1 for i in current_items if i not in old_items)
    report.removed = sum(1 for i in old_items if i not in current_items)
    report.changed = sum(1 for i, u in current_items.items()
                         if i in old_items and old_items[i] != u)
    report.unchanged = len(current_items) - report.added - report.changed
    if previous and previous.get("channel") == channel_key and old_items == current_items \
            and previous.get("files") == _file_stats(paths):
        report.kept.extend(paths.values())  # nothing to render: the files are what we wrote
        return report
    for fmt, path in paths.items():
        data = render(fmt, channel, items)
        try:
            verify(fmt, data, items)
        except PublishError as exc:
            raise PublishError(f"{fmt} output failed its check, old file kept: {exc.message}",
                               path=str(path)) from exc
        if write_if_changed(path, data, dry_run=dry_run):
            report.written.append(path)
        else:
            report.kept.append(path)
    if not dry_run:
        store.set_feed_digest(feed.name, json.dumps(
            {"channel": channel_key, "items": current_items, "files": _file_stats(paths)},
            sort_keys=True))
    return report


def _channel_key(config: Config, feed: FeedConfig) -> str:
    blob = repr((__version__, config.channel(feed), feed))
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()


def _file_stats(paths: dict[str, Path]) -> dict[str, list[int] | None]:
    stats: dict[str, list[int] | None] = {}
    for fmt, path in paths.items():
        try:
            st = path.stat()
            stats[fmt] = [st.st_size, st.st_mtime_ns, st.st_ino]
        except OSError:
            stats[fmt] = None
    return stats


def _load_digest(raw: str | None) -> dict[str, object] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- build


def build(config: Config, *, now: datetime, dry_run: bool = False,
          progress: Progress | None = None) -> BuildReport:
    """``feeds build``: ingest every source once, then publish every feed.

    With ``dry_run`` the work happens on an in-memory copy of the store and no file is
    written, so the report says exactly what a real build would do.
    """
    report = BuildReport(config.output_dir, dry_run=dry_run)
    opener = Store.open_copy if dry_run else Store.open
    with opener(config.store_path) as store:
        report.sources = ingest(config, store, now=now, progress=progress)
        report.feeds, report.pages_written = publish(config, store, now=now, dry_run=dry_run)
    return report
