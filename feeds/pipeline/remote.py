"""Remote ingest: fetch feeds and OPML lists concurrently, read the bodies they hand over
(``RawInput``) with the readers' table, store what is new, prune what they no longer list
past the source's retention."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .. import __version__, normalize
from ..config import Config, SourceConfig
from ..errors import FeedsError, ParseError
from ..model import Article, RawInput
from ..store import Changes, FetchState, Store
from .reports import Cancelled, ChangeTotals, SourceReport
from .workers import BuildPool, map_surviving, shared_pool

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..normalize.entries import ParsedFeed
    from ..sources.remote import FeedSpec, FetchResult, FetchSettings

log = logging.getLogger("feeds.pipeline")


def fetch_settings(config: Config) -> FetchSettings:
    from ..sources.remote import FetchSettings, default_user_agent

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
    """The feeds one remote source stands for: itself, or every outline of its OPML file
    (its kind's module in ``feeds.sources.SOURCES`` says)."""
    specs: list[FeedSpec] = source.source_kind.implementation().feed_specs(
        source.name, url=source.url, path=source.path, every=source.every,
        headers=source.headers, user_agent=source.user_agent)
    return specs


def read_body(raw: RawInput) -> ParsedFeed:
    """A fetched body's entries, by the readers' table (``ParseError``: not a feed)."""
    return normalize.read_feed(raw, normalize.ReadContext())


#: feeds claimed at a time from a shared store (at least; twice the fetch concurrency)
CLAIM_BATCH = 16
#: how long a claim lasts when the configuration has no shared store to say so
DEFAULT_LEASE = timedelta(minutes=2)

#: feeds to fetch before the build's process pool reads their bodies (a pool's start and
#: the articles' trip back cost less than reading this many feeds)
PARALLEL_FEEDS = 16


def _read_job(raw: RawInput) -> ParsedFeed | ParseError:
    """In a pool worker: one body read (its ``ParseError`` returned, to be raised here)."""
    try:
        return read_body(raw)
    except ParseError as exc:
        return exc


def _killed(raw: RawInput) -> ParseError:
    return ParseError("reading this feed killed its worker process", source=raw.source,
                      url=raw.url)


class _Reading:
    """Bodies read by the build's process pool as they arrive (feedparser holds the GIL:
    one process reads one body at a time, and the fetching waits meanwhile).  Only a
    ``feeds build`` shares a pool (the daemon's threads rule out forking): elsewhere, and
    for a few feeds, the bodies are read here, after the fetch."""

    def __init__(self, pool: BuildPool) -> None:
        self.pool = pool
        self.futures: dict[int, Future[ParsedFeed | ParseError]] = {}

    @classmethod
    def start(cls, feeds: int) -> _Reading | None:
        workers = os.cpu_count() or 1
        shared = shared_pool(workers)
        if workers <= 1 or feeds < PARALLEL_FEEDS or shared is None:
            return None
        from ..normalize import entries  # noqa: F401  (workers fork with feedparser loaded)

        shared.get()  # forked now, before the event loop's threads exist
        return cls(shared)

    def submit(self, result: FetchResult) -> None:
        if result.raw is not None and result.pending is not None:
            self.futures[id(result)] = self.pool.get().submit(_read_job, result.raw)

    def results(self, fetched: list[FetchResult]) -> Iterator[FetchResult]:
        """``fetched``, settled in order; a worker's death sends the bodies not yet read
        through ``map_surviving``, which names the one that kills its worker."""
        from concurrent.futures.process import BrokenProcessPool

        from ..sources.remote import settle

        for n, result in enumerate(fetched):
            future = self.futures.get(id(result))
            if future is None:
                yield settle(result, read_body)
                continue
            try:
                got = future.result()
            except BrokenProcessPool:
                yield from self._survivors(fetched[n:])
                return
            yield settle(result, _given(got))

    def _survivors(self, rest: list[FetchResult]) -> Iterator[FetchResult]:
        from ..sources.remote import settle

        raws = [r.raw for r in rest if r.raw is not None and r.pending is not None]
        parsed = iter(map_surviving(_read_job, raws, self.pool.workers, killed=_killed))
        for result in rest:
            yield settle(result, lambda _raw: _raised(next(parsed)))


def _given(got: ParsedFeed | ParseError) -> Callable[[RawInput], ParsedFeed]:
    """A reader that returns (or raises) what a worker made of the body."""
    def read(_raw: RawInput) -> ParsedFeed:
        return _raised(got)
    return read


def _raised(got: ParsedFeed | ParseError) -> ParsedFeed:
    if isinstance(got, ParseError):
        raise got
    return got


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
        if source.source_kind.many_feeds:
            subscribed[source.name] = [spec.name for spec in specs]
    totals: dict[str, ChangeTotals] = {name: ChangeTotals() for name in reports}
    # Claimed a batch at a time: on a store nodes share, each node takes the next feeds
    # no other holds, so a round is divided between them; here, one batch of all.
    waiting = {spec.name: (source, spec) for source, spec in jobs}
    lease = config.shared.lease if config.shared else DEFAULT_LEASE
    while waiting:
        claimed = store.claim(waiting, lease=lease,
                              limit=max(CLAIM_BATCH, 2 * config.fetch.concurrency))
        if not claimed:
            break
        batch = [waiting.pop(name) for name in sorted(claimed, key=list(waiting).index)]
        try:
            _fetch_batch(config, store, batch, reports, totals, now=now, force=force,
                         cancelled=cancelled)
        finally:
            store.release(claimed)
    # Another node holds them: looked at again a lease after it was last asked (this
    # round may have outlasted a lease: a time counted from its start may be past already,
    # and a wake-up in the past is no wake-up).
    retry_at = now + timedelta(seconds=time.monotonic() - started) + lease
    for source, _spec in waiting.values():
        reports[source.name].elsewhere += 1
        reports[source.name].wake_at = retry_at
    for name, feeds in subscribed.items():  # feeds taken out of an OPML file
        gone = store.prune_unlisted_feeds(name, feeds)
        if gone:
            log.info("%s: %d entr%s of feeds no longer in its OPML file removed", name,
                     len(gone), "y" if len(gone) == 1 else "ies")
            totals[name].add(Changes(added=(), changed=(), removed=gone, unchanged=0))
    for name, report in reports.items():
        report.changes = totals[name].result()
        for key, reason in report.changes.rejected:
            report.problems.append((key, reason))
        report.duration = time.monotonic() - started
    return list(reports.values())


def _fetch_batch(config: Config, store: Store, jobs: list[tuple[SourceConfig, FeedSpec]],
                 reports: dict[str, SourceReport], totals: dict[str, ChangeTotals], *,
                 now: datetime, force: bool, cancelled: Cancelled | None) -> None:
    """Fetch the feeds of ``jobs`` (claimed by this node), store what is new, prune, and
    save their fetch states last (their states are read only now: after the claim, so
    what another node fetched before is seen)."""
    from ..sources.remote import fetch_feeds_sync, settle

    pairs = [(spec, store.source_state(spec.name)) for _source, spec in jobs]
    reading = _Reading.start(len(pairs))
    fetched = fetch_feeds_sync(pairs, fetch_settings(config), now=now, force=force,
                               cancelled=cancelled,
                               on_result=reading.submit if reading else None) if pairs else []
    # the bodies, read (each stored before the next is waited for)
    results = reading.results(fetched) if reading else (settle(r, read_body) for r in fetched)
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
            if not source.source_kind.many_feeds:
                report.error = reason
            else:
                report.problems.append((spec.name, reason))
        if result.articles:
            articles = result.articles
            if source.source_kind.many_feeds:
                articles = [dataclasses.replace(a, source=source.name,
                                                key=f"{spec.name} {a.key}") for a in articles]
            report.read += len(articles)
            totals[source.name].add(store.ingest(source.name, [(a, None) for a in articles],
                                                 now=now, present=None))
        elif result.articles is None and result.error is None:
            report.skipped += 1
        if result.articles is not None:  # the feed was read: what it lists now is known
            totals[source.name].add(_prune(store, source, spec, result.articles, now=now))
    store.set_source_states(states)


def _prune(store: Store, source: SourceConfig, spec: FeedSpec, listed: Sequence[Article], *,
           now: datetime) -> Changes:
    """Apply ``source.retention`` to the feed ``spec`` just read (its entries are keyed
    ``"<spec> <entry>"`` under an OPML source): what it deleted, as removals."""
    prefix = f"{spec.name} " if source.source_kind.many_feeds else ""
    pruned = store.prune(source.name, listed={prefix + a.key for a in listed}, now=now,
                         retention=source.retention, prefix=prefix)
    if pruned:
        log.info("%s: %d entr%s no longer listed and past the retention removed", spec.name,
                 len(pruned), "y" if len(pruned) == 1 else "ies")
    return Changes(added=(), changed=(), removed=pruned, unchanged=0)
