"""The service ``feeds run`` drives: one store open for its life, one source ingested at a
time (all of it, or the paths a watcher saw change), then the feeds that change touched.

The daemon is a shell over this (the scheduler, the folder watcher, signals and systemd
notify); every decision about sources, stores and feeds is taken here or below.  What it
logs is the service's journal, under the ``feeds.daemon`` logger as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from ..config import Config, SourceConfig
from ..errors import FeedsError, Stopped, StoreError, UnreachableError
from ..select import feeds_touched
from ..sources.folder import is_ignored_name
from ..store import Store, open_store
from .folder import ingest_folder
from .overview import Overview, gather
from .remote import ingest_remote
from .reports import Cancelled, FeedReport, Progress, SourceReport
from .shared import announce, claimed_folder, output_key, retry_after
from .workers import model_cache_dir

log = logging.getLogger("feeds.daemon")


class Service:
    """Open with :meth:`open`, then :meth:`ingest` sources and :meth:`publish` feeds as the
    daemon asks; :meth:`close` at the end.  ``config`` may be replaced (a reload); the
    store stays the one opened."""

    def __init__(self, config: Config, *, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self.store: Store | None = None
        self.publish_error: str | None = None  # why the last publication failed as a whole
        self.failures: dict[str, int] = {}  # by source: ingests failed in a row (no store)

    def open(self, cancelled: Cancelled | None = None) -> None:
        """Open the store.  A shared store's database that cannot be reached is waited
        for (1, 2, 4 ... 60 s between tries, each logged) until it can, or ``cancelled``:
        a node started before its database, or during its restart, does not exit (and
        is not restarted in a loop by systemd)."""
        pause = 1.0
        while True:
            try:
                self.store = open_store(self.config.store, output=output_key(self.config))
                return
            except UnreachableError as exc:
                log.error("%s; trying again in %.0f s", exc, pause, extra={"status": "error"})
            deadline = time.monotonic() + pause
            while time.monotonic() < deadline:
                if cancelled is not None and cancelled():
                    raise Stopped("stopped while waiting for the store")
                time.sleep(0.1)
            pause = min(pause * 2, 60.0)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def ingest(self, name: str, paths: set[str] | None = None, *, settle: float = 0.0,
               parallel: bool = False, progress: Progress | None = None,
               cancelled: Cancelled | None = None) -> SourceReport | None:
        """Ingest the source ``name`` (only ``paths`` of a folder, when given) and log the
        outcome.  None when there is nothing to report: no such source (a reload removed
        it), a stop interrupted it, or a bug (logged with its traceback: one source's bug
        never stops the service)."""
        try:
            source = self.config.source(name)
        except KeyError:
            return None
        if self.config.shared and not self.config.shared.fetches:
            return None  # a publish-only node: the others fetch
        started = time.monotonic()
        try:
            report = self._ingest(source, paths, settle=settle, parallel=parallel,
                                  progress=progress, cancelled=cancelled)
        except Stopped:
            log.info("source %s: ingest interrupted by the stop; committed batches are kept, "
                     "the rest is read on the next start", source.name,
                     extra={"source": source.name, "status": "interrupted"})
            return None
        except FeedsError as exc:
            if cancelled is not None and cancelled():  # a fetch abandoned as we stop
                log.info("source %s: fetch abandoned by the stop", source.name,
                         extra={"source": source.name, "status": "interrupted"})
                return None
            report = SourceReport(source.name, source.kind, error=str(exc))
            if isinstance(exc, StoreError) and self.config.shared:  # the database is away
                report.wake_at = self.clock() + retry_after(self.failures, source.name)
        except Exception:  # a bug in one source must not kill the service
            log.exception("source %s: unexpected error", source.name,
                          extra={"source": source.name, "status": "error"})
            return None
        report.duration = time.monotonic() - started
        if report.wake_at is None or not report.error:
            self.failures.pop(source.name, None)
        log_ingest(report)
        if self.config.shared and self.touched(report):
            announce(self.store, name)
        return report

    def _ingest(self, source: SourceConfig, paths: set[str] | None, *, settle: float,
                parallel: bool, progress: Progress | None,
                cancelled: Cancelled | None) -> SourceReport:
        store = self.store
        assert store is not None
        if not source.remote:
            def scan() -> SourceReport:
                return ingest_folder(store, source, self.config, now=self.clock(),
                                     settle_ns=int(settle * 1e9), progress=progress,
                                     workers=None if parallel else 1,
                                     model_cache=model_cache_dir(), paths=paths,
                                     cancelled=cancelled)
            return claimed_folder(store, self.config, source, scan, now=self.clock())
        return ingest_remote(self.config, store, [source], now=self.clock(), force=False,
                             cancelled=cancelled)[0]

    def listen(self, on_change: Callable[[str], None]) -> Callable[[], None] | None:
        """On a shared store, call ``on_change(source)`` (from a thread) when another node
        changed ``source`` (``""``: maybe anything: on connecting, then at least once a
        lease); the function that stops listening.  None: nothing to hear (a lone store,
        a fetch-only node)."""
        from ..store.postgres import PostgresStore

        shared = self.config.shared
        if shared is None or not shared.publishes or not isinstance(self.store, PostgresStore):
            return None
        every = min(60.0, shared.lease.total_seconds())
        return self.store.listen(on_change, every=every).stop

    def touched(self, report: SourceReport) -> set[str]:
        """The feeds to publish again after ``report``'s ingest."""
        return feeds_touched(self.config.feeds, report.name, report.changes)

    def publish(self, only: set[str] | None = None) -> list[FeedReport] | None:
        """Publish the feeds named in ``only`` (all: None), log each one written or failed,
        and announce the changed ones to the WebSub hub.  None when publishing failed as a
        whole (logged; the next change tries again)."""
        from . import publish

        assert self.store is not None
        if self.config.shared and not self.config.shared.publishes:
            return []  # a fetch-only node: the others publish
        started = time.monotonic()
        try:
            reports, _pages = publish(self.config, self.store, now=self.clock(), only=only)
        except FeedsError as exc:
            log.error("publish failed: %s", exc, extra={"status": "error"})
            self.publish_error = str(exc)
            return None
        except Exception as exc:  # a bug must not kill the service; the next change tries again
            log.exception("publish failed", extra={"status": "error"})
            self.publish_error = f"unexpected error: {exc!r}"
            return None
        self.publish_error = None
        log_published(reports, f"{time.monotonic() - started:.3f}s")
        self._announce([r for r in reports if r.written])
        return reports

    def overview(self, only: str | None = None) -> Overview:
        """What ``feeds status`` shows, read from the open store (``only``: one source)."""
        return gather(self.config, now=self.clock(), store=self.store, only=only)

    def _announce(self, changed: list[FeedReport]) -> None:
        if not changed or not self.config.site.hub:
            return
        from ..websub import announce

        urls = [u for r in changed for f in self.config.feeds if f.name == r.name
                for u in self.config.feed_urls(f)]
        if urls:
            announce(self.config.site.hub, urls)  # a daemon thread: never blocks us


def schedule_every(config: Config, source: SourceConfig) -> timedelta:
    """How often ``source`` is ingested when it has no cron schedule of its own."""
    return source.every or (config.fetch.every if source.remote else config.folder_every)


def sources_changed(old: Config, new: Config) -> tuple[list[str], list[str]]:
    """After a reload from ``old`` to ``new``: the sources to ingest now (new, changed in
    any setting, or folders whose reading depends on a site setting that changed, such as
    ``site.base_url``), in the new configuration's order; and those removed, sorted."""
    from .links import reading_fingerprint

    before = {s.name: s for s in old.sources}
    changed = [s.name for s in new.sources if before.get(s.name) != s or (
        not s.remote and reading_fingerprint(old, s) != reading_fingerprint(new, s))]
    return changed, sorted(set(before) - {s.name for s in new.sources})


def watched_folders(config: Config) -> dict[Path, str]:
    """The folders to watch for changes, each with its source's name."""
    return {s.path: s.name for s in config.sources if not s.remote and s.path}


def changed_keys(folders: Mapping[Path, str], paths: Iterable[str]) -> dict[str, set[str] | None]:
    """Which sources changed ``paths`` touch, and the keys to look at in each (None: the
    folder itself changed, look at everything).  A path under no folder, or that an
    ignored name leads to, touches nothing.  Pure: compares paths, reads no disk."""
    keys: dict[str, set[str] | None] = {}
    for path in paths:
        found = _source_of(folders, path)
        if found is None:
            continue
        name, key = found
        wanted = keys.setdefault(name, set())
        if key is None:
            keys[name] = None  # the folder itself: look at everything
        elif wanted is not None:
            wanted.add(key)
    return keys


def _source_of(folders: Mapping[Path, str], path: str) -> tuple[str, str | None] | None:
    """(source, key) of a changed ``path``: the key relative to the source's folder, None
    for the folder itself; None unless a folder holds it, or when an ignored name leads
    to it."""
    candidate = Path(path)
    for root, name in folders.items():
        if candidate == root:
            return name, None
        if candidate.is_relative_to(root):
            parts = candidate.relative_to(root).parts  # never the folder's own path
            if any(is_ignored_name(part) for part in parts):
                return None
            return name, "/".join(parts)
    return None


def log_ingest(report: SourceReport) -> None:
    """One line per ingest: source, status, new, changed, removed, rejected, duration."""
    c = report.changes
    status = "error" if report.error else "ok"
    log.log(
        logging.ERROR if report.error else logging.INFO,
        "source %s %s", report.name, f"failed: {report.error}" if report.error else "ingested",
        extra={"source": report.name, "status": status,
               "new": len(c.added) if c else 0, "changed": len(c.changed) if c else 0,
               "removed": len(c.removed) if c else 0, "rejected": report.rejected,
               "waiting": len(report.unsettled), "duration": f"{report.duration:.3f}s"},
    )
    for key, reason in report.problems + report.collisions:
        log.warning("%s: %s: %s", report.name, key, reason)
    if report.warning:
        log.warning("source %s: %s", report.name, report.warning)
    for key, reason in report.skips:  # (at every scan: only when asked for, -vv)
        log.debug("%s: %s: skipped: %s", report.name, key, reason)
    for key, reason in report.not_published:
        log.debug("%s: %s: not published: %s", report.name, key, reason)


def log_published(reports: Iterable[FeedReport], duration: str) -> None:
    """One line per feed written or failed."""
    for r in reports:
        if r.error:
            log.error("feed %s not published: %s", r.name, r.error,
                      extra={"feed": r.name, "status": "error", "duration": duration})
        elif r.written:
            log.info("feed %s published", r.name, extra={
                "feed": r.name, "status": "written", "added": r.added, "changed": r.changed,
                "removed": r.removed, "files": ",".join(p.name for p in r.written),
                "duration": duration})
