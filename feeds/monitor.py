"""What ``feeds run`` shows of itself over HTTP, beside the output files: ``/metrics``
(Prometheus text format, by ``prometheus_client``), ``/healthz``, ``/status`` (an HTML page)
and ``/status.json`` (the document of ``feeds status --json``).

The daemon tells the :class:`Monitor` what happened (:meth:`Monitor.observe_ingest` after
each ingest, :meth:`Monitor.observe_publish` after each publish) with the rows
:func:`feeds.pipeline.overview.gather` read from its store; the server thread asks it for
replies (:meth:`Monitor.respond`), which it builds from what it was told, never touching the
store.  Each monitor has its own registry (not ``prometheus_client``'s global one), so two
daemons in one process, or two tests, do not see each other's counters.

Label cardinality is bounded: series with a ``source`` label exist only for the first
``server.metrics_sources`` configured sources (an OPML source's outlines count as their
source); the totals cover every source.  ``kind``, ``outcome`` and ``change`` take a few
fixed values.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .config import Config
from .pipeline import FeedReport, Service, SourceReport
from .pipeline.overview import (
    FeedRow,
    Overview,
    SourceRow,
    as_html,
    as_json_document,
    feed_rows,
)
from .server import Reply

__all__ = ["Monitor", "fetch_outcome"]

log = logging.getLogger("feeds.daemon")

_DURATIONS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def fetch_outcome(row: SourceRow, before: datetime | None, failed: bool) -> str | None:
    """What one ingest of ``row`` did: ``ok``, ``not_modified``, ``error`` or ``gone``;
    None when a remote feed was not fetched (not due yet: its ``last_fetch`` is still
    ``before``).  ``failed``: the source failed as a whole."""
    if failed:
        return "error"
    state = row.fetch
    if row.url is None:
        return "ok"
    if state is None or state.last_fetch is None or state.last_fetch == before:
        return None
    if state.gone:
        return "gone"
    if state.last_success != state.last_fetch:
        return "error"
    return "not_modified" if state.last_status == 304 else "ok"


class Monitor:
    """Metrics, health and status of one daemon (see the module docstring)."""

    def __init__(self, config: Config, *, queue_depth: Callable[[], int],
                 scheduler_running: Callable[[], bool]) -> None:
        self.config = config
        self.scheduler_running = scheduler_running
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.fetches = Counter("feeds_fetches", "Fetches (remote) and scans (folders) by outcome",
                               ["kind", "outcome"], registry=r)
        self.source_fetches = Counter(
            "feeds_source_fetches", "Fetches by source and outcome (first sources only: "
            "server.metrics_sources)", ["source", "outcome"], registry=r)
        self.last_success = Gauge(
            "feeds_source_last_success_timestamp_seconds",
            "When each source was last fetched or scanned successfully (Unix time)",
            ["source"], registry=r)
        self.fetch_seconds = Histogram("feeds_fetch_duration_seconds",
                                       "Time to ingest one source", ["kind"],
                                       buckets=_DURATIONS, registry=r)
        self.publish_seconds = Histogram("feeds_publish_duration_seconds",
                                         "Time to publish the feeds a change touched",
                                         buckets=_DURATIONS, registry=r)
        self.publishes = Counter("feeds_publishes", "Publications by outcome", ["outcome"],
                                 registry=r)
        self.items_ingested = Counter("feeds_items_ingested", "Articles stored by change",
                                ["change"], registry=r)
        self.items_published = Counter("feeds_items_published",
                                 "Items written into feed files (added or changed)", registry=r)
        self.rejected = Counter("feeds_rejected_inputs",
                                "Inputs rejected (files, entries, whole sources)", registry=r)
        self.feed_items = Gauge("feeds_feed_items", "Items each feed shows", ["feed"], registry=r)
        Gauge("feeds_queue_depth", "Work waiting in the daemon's queue",
              registry=r).set_function(lambda: float(queue_depth()))
        if config.shared is None:  # a shared PostgreSQL store is the database's to measure
            Gauge("feeds_store_bytes", "Size of the SQLite store on disk (with its "
                  "write-ahead log)", registry=r).set_function(self._store_bytes)
        self.last_seen: dict[str, float] = {}  # source -> its gauge's value
        self.rows: dict[str, SourceRow] = {}
        self.feeds: list[FeedRow] = []
        self.publish_error: str | None = None
        self.generated: datetime | None = None

    # ------------------------------------------------------------------ told by the daemon

    def reset(self, service: Service) -> None:
        """At start and after a reload: take what the service's store says as known."""
        self._safely(lambda: self.refresh(service.overview()))

    def ingested(self, service: Service, report: SourceReport) -> None:
        """After one ingest: count it, with the fetch states the store now holds."""
        self._safely(lambda: self.observe_ingest(
            report, service.overview(report.name).sources, service.clock()))

    def published(self, service: Service, reports: Sequence[FeedReport] | None,
                  seconds: float) -> None:
        """After one publication (``reports`` None: it failed, for ``service.publish_error``)."""
        self._safely(lambda: self.observe_publish(
            reports, seconds, service.publish_error, feed_rows(service.config, service.store),
            service.clock()))

    @staticmethod
    def _safely(observe: Callable[[], None]) -> None:
        """Monitoring never stops the service: a failure is logged, the work goes on."""
        try:
            observe()
        except Exception:
            log.exception("monitor: could not record what happened")

    def refresh(self, overview: Overview) -> None:
        """Take a whole gathering (at start, after a reload) as what is known, counting
        nothing."""
        self.config = overview.config
        self.rows = {row.name: row for row in overview.sources}
        self.feeds = overview.feeds
        self.generated = overview.now
        for row in overview.sources:
            self._set_last(row.source, row.fetch.last_success if row.fetch else None)

    def observe_ingest(self, report: SourceReport, rows: Sequence[SourceRow],
                       now: datetime) -> None:
        """One source was ingested: ``report`` says what changed, ``rows`` (read from the
        store after it) what each of its feeds' fetch state now is."""
        failed = report.error is not None
        counted = False
        for row in rows:
            old = self.rows.get(row.name)
            before = old.fetch.last_fetch if old is not None and old.fetch is not None else None
            outcome = fetch_outcome(row, before, failed and row.url is None)
            self.rows[row.name] = row
            if outcome is not None:
                counted = True
                self._count_fetch(row.kind, row.source, outcome)
            if row.url is None and outcome == "ok":
                self._set_last(row.source, now)
            else:
                self._set_last(row.source, row.fetch.last_success if row.fetch else None)
        if failed and not counted:  # e.g. an OPML file that cannot be read
            self._count_fetch(report.kind, report.name, "error")
        self.fetch_seconds.labels(report.kind).observe(report.duration)
        if report.changes is not None:
            for change, keys in (("added", report.changes.added),
                                 ("changed", report.changes.changed),
                                 ("removed", report.changes.removed)):
                self.items_ingested.labels(change).inc(len(keys))
        self.rejected.inc(report.rejected)
        self.generated = now

    def observe_publish(self, reports: Iterable[FeedReport] | None, seconds: float,
                        error: str | None, feeds: Sequence[FeedRow], now: datetime) -> None:
        """A publication ran: ``reports`` (None: it failed as a whole, for ``error``)."""
        self.publish_seconds.observe(seconds)
        failed = [r for r in reports or () if r.error]
        if reports is None:
            self.publish_error = error or "publishing failed"
        elif failed:
            self.publish_error = "; ".join(f"feed {r.name}: {r.error}" for r in failed)
        else:
            self.publish_error = None
        self.publishes.labels("error" if self.publish_error else "ok").inc()
        self.items_published.inc(sum(r.added + r.changed for r in reports or () if r.written))
        self.feeds = list(feeds)
        allowed = self._allowed([f.name for f in self.config.feeds])
        for row in feeds:
            if row.name in allowed and row.items is not None:
                self.feed_items.labels(row.name).set(row.items)
        self.generated = now

    # ------------------------------------------------------------------ asked by the server

    def health(self) -> tuple[bool, str]:
        """(healthy, why): the scheduler runs and the last publication succeeded."""
        if not self.scheduler_running():
            return False, "the scheduler is not running"
        if self.publish_error is not None:
            return False, f"the last publication failed: {self.publish_error}"
        return True, "ok"

    def overview(self) -> Overview:
        """What is known now, as ``feeds status`` would gather it."""
        now = self.generated or datetime.now(UTC)
        return Overview(now, self.config, list(self.rows.values()), list(self.feeds))

    def respond(self, method: str, path: bytes, headers: Mapping[str, str]) -> Reply | None:
        """The reply to ``/metrics``, ``/healthz``, ``/status`` or ``/status.json``; None
        for any other path (the files)."""
        if path not in (b"/metrics", b"/healthz", b"/status", b"/status.json"):
            return None
        if method not in ("GET", "HEAD"):
            return _reply(405, "text/plain; charset=utf-8", b"Method Not Allowed\n",
                          [("Allow", "GET, HEAD")])
        if path == b"/metrics":
            return _reply(200, CONTENT_TYPE_LATEST, generate_latest(self.registry))
        if path == b"/healthz":
            ok, why = self.health()
            return _reply(200 if ok else 503, "text/plain; charset=utf-8",
                          (why + "\n").encode("utf-8"))
        if path == b"/status.json":
            document = as_json_document(self.overview())
            return _reply(200, "application/json",
                          json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"))
        return _reply(200, "text/html; charset=utf-8",
                      as_html(self.overview(), health=self.health()[1]))

    # ------------------------------------------------------------------ helpers

    def _count_fetch(self, kind: str, source: str, outcome: str) -> None:
        self.fetches.labels(kind, outcome).inc()
        if source in self._allowed([s.name for s in self.config.sources]):
            self.source_fetches.labels(source, outcome).inc()

    def _allowed(self, names: list[str]) -> set[str]:
        return set(names[:self.config.server.metrics_sources])

    def _set_last(self, source: str, moment: datetime | None) -> None:
        """The newest success of ``source`` (of any of an OPML source's outlines)."""
        if moment is None or source not in self._allowed([s.name for s in self.config.sources]):
            return
        stamp = moment.timestamp()
        if stamp > self.last_seen.get(source, 0.0):
            self.last_seen[source] = stamp
            self.last_success.labels(source).set(stamp)

    def _store_bytes(self) -> float:
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += os.stat(str(self.config.store_path) + suffix).st_size
        return float(total)


def _reply(status: int, content_type: str, body: bytes,
           extra: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                          ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff"),
                          *(extra or [])], body)
