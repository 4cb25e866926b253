"""``feeds run``: the long-running service.  A thin loop over ``pipeline``.

Threads feed one queue; only the main thread touches the store and the output::

    APScheduler jobs (one per source: every / cron, jitter) ─┐
    watchfiles (folder sources: instant pickup)             ─┼─► queue ─► main loop ─► ingest
    signals (HUP reload, TERM/INT stop)                      ─┘                │
                                                             debounced publish of the feeds
                                                             whose sources changed

The main loop also pings the systemd watchdog and speaks the notify protocol (READY after
the first publish, RELOADING/READY around a reload, STOPPING on the way out).
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from .config import Config, SourceConfig, load
from .errors import FeedsError
from .pipeline import SourceReport, ingest_folder, ingest_remote, publish
from .store import Store
from .systemd import Notifier

log = logging.getLogger("feeds.daemon")

PUBLISH_DEBOUNCE = 0.25  # seconds: a burst of changes gives one rewrite
SETTLE = 0.5  # seconds a file must be left alone before it is read
WATCHDOG_FALLBACK = 5.0


@dataclass(frozen=True)
class Work:
    kind: str  # "ingest", "reload", "stop"
    source: str | None = None


class Daemon:
    def __init__(self, config_path: Path, config: Config, *, notifier: Notifier,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config_path = config_path
        self.config = config
        self.notifier = notifier
        self.clock = clock
        self.queue: queue.Queue[Work] = queue.Queue()
        self.pending: set[str] = set()
        self.pending_lock = threading.Lock()
        self.scheduler: Any = None
        self.watcher: _Watcher | None = None
        self.server: Any = None
        self.store: Store | None = None
        self.dirty: set[str] = set()
        self.publish_at: float | None = None
        self.retry_timers: list[threading.Timer] = []

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        self._install_signals()
        self.store = Store.open(self.config.store_path)
        try:
            self.notifier.status("first build")
            for source in self.config.sources:
                self._ingest(source)
            self._publish(None)
            self._start_services()
            self.notifier.ready()
            self.notifier.status(f"watching {len(self.config.sources)} sources")
            log.info("ready: %d sources, %d feeds, output in %s", len(self.config.sources),
                     len(self.config.feeds), self.config.output_dir)
            self._loop()
        finally:
            self.notifier.stopping()
            self._stop_services()
            if self.store is not None:
                self.store.close()
            log.info("stopped")
        return 0

    def _loop(self) -> None:
        ping = self.notifier.watchdog_interval() or WATCHDOG_FALLBACK
        while True:
            timeout = ping
            if self.publish_at is not None:
                timeout = max(0.0, min(timeout, self.publish_at - time.monotonic()))
            try:
                work: Work | None = self.queue.get(timeout=timeout)
            except queue.Empty:
                work = None
            self.notifier.watchdog()
            if work is not None:
                if work.kind == "stop":
                    if self.dirty:
                        self._publish(self.dirty)
                    return
                if work.kind == "reload":
                    self._reload()
                elif work.kind == "ingest" and work.source:
                    with self.pending_lock:
                        self.pending.discard(work.source)
                    try:
                        source = self.config.source(work.source)
                    except KeyError:
                        continue  # removed by a reload
                    self._ingest(source)
            if self.publish_at is not None and time.monotonic() >= self.publish_at:
                self._publish(self.dirty)

    def request(self, source: str) -> None:
        """Ask for one source to be ingested soon (thread-safe, collapses duplicates)."""
        with self.pending_lock:
            if source in self.pending:
                return
            self.pending.add(source)
        self.queue.put(Work("ingest", source))

    # ------------------------------------------------------------------ work

    def _ingest(self, source: SourceConfig) -> None:
        assert self.store is not None
        started = time.monotonic()
        try:
            if source.kind == "folder":
                report = ingest_folder(self.store, source, self.config, now=self.clock(),
                                       settle_ns=int(SETTLE * 1e9))
            else:
                report = ingest_remote(self.config, self.store, [source], now=self.clock(),
                                       force=False)[0]
        except FeedsError as exc:
            report = SourceReport(source.name, source.kind, error=str(exc))
        except Exception:  # a bug in one source must not kill the service
            log.exception("source %s: unexpected error", source.name)
            return
        report.duration = time.monotonic() - started
        _log(report)
        if report.unsettled:
            timer = threading.Timer(SETTLE, self.request, args=(source.name,))
            timer.daemon = True
            timer.start()
            self.retry_timers = [t for t in self.retry_timers if t.is_alive()] + [timer]
        changes = report.changes
        if changes and (changes.added or changes.changed or changes.removed):
            self.dirty.update(f.name for f in self.config.feeds if f.matches(source.name))
            if self.publish_at is None:
                self.publish_at = time.monotonic() + PUBLISH_DEBOUNCE

    def _publish(self, only: set[str] | None) -> None:
        assert self.store is not None
        started = time.monotonic()
        names = set(only) if only is not None else None
        try:
            reports, _pages = publish(self.config, self.store, now=self.clock(), only=names)
        except FeedsError as exc:
            log.error("publish failed: %s", exc)
            reports = []
        self.dirty.clear()
        self.publish_at = None
        changed = [r for r in reports if r.written]
        for r in reports:
            if r.error:
                log.error("feed %s: %s", r.name, r.error)
            elif r.written:
                log.info("feed %s published: %d added, %d changed, %d removed (%.2fs)", r.name,
                         r.added, r.changed, r.removed, time.monotonic() - started)
        if changed and self.config.site.hub:
            from .websub import announce

            urls = [u for r in changed for f in self.config.feeds if f.name == r.name
                    for fmt in f.formats if (u := self.config.channel(f).url_for(fmt))]
            announce(self.config.site.hub, urls)

    def _reload(self) -> None:
        self.notifier.reloading()
        log.info("reloading %s", self.config_path)
        try:
            new = load(self.config_path)
        except FeedsError as exc:
            log.error("new configuration rejected, keeping the old one: %s", exc)
            self.notifier.ready()
            self.notifier.status("reload failed: keeping the previous configuration")
            return
        old = self.config
        self.config = new
        if new.store_path != old.store_path:
            log.warning("store.path changed: the new path takes effect on restart")
            self.config = _replace_store(new, old.store_path)
        self._stop_services(server=new.server != old.server)
        self._start_services(server=new.server != old.server or self.server is None)
        for source in new.sources:
            if source not in old.sources:
                log.info("source %s: new or changed, ingesting now", source.name)
                self.request(source.name)
        self._publish(None)
        self.notifier.ready()
        self.notifier.status(f"reloaded: {len(new.sources)} sources")

    # ------------------------------------------------------------------ services

    def _start_services(self, *, server: bool = True) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        for source in self.config.sources:
            self.scheduler.add_job(self.request, _trigger(source, self.config), args=[source.name],
                                   id=source.name, name=f"ingest {source.name}")
        self.scheduler.start()
        folders = {s.path: s.name for s in self.config.sources if s.kind == "folder" and s.path}
        if folders:
            self.watcher = _Watcher(folders, self.request)
            self.watcher.start()
        if server and self.config.server.enabled and self.server is None:
            from .server import FeedServer

            srv = self.config.server
            self.server = FeedServer(self.config.output_dir, max_age=srv.max_age)
            self.server.start(srv.host, srv.port)
            log.info("serving %s on http://%s:%d/", self.config.output_dir, srv.host,
                     self.server.port)

    def _stop_services(self, *, server: bool = True) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        for timer in self.retry_timers:
            timer.cancel()
        if server and self.server is not None:
            self.server.stop()
            self.server = None

    def _install_signals(self) -> None:
        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.queue.put(Work("reload"))

        def on_term(signum: int, frame: FrameType | None) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            self.queue.put(Work("stop"))

        signal.signal(signal.SIGHUP, on_hup)
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)


def _trigger(source: SourceConfig, config: Config) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if source.cron:
        return CronTrigger.from_crontab(source.cron, timezone="UTC")
    every = source.every or (config.folder_every if source.kind == "folder"
                             else config.fetch.every)
    jitter = int(min(every.total_seconds() * 0.1, 300))
    return IntervalTrigger(seconds=int(every.total_seconds()), jitter=jitter or None,
                           timezone="UTC")


def _replace_store(config: Config, store_path: Path) -> Config:
    import dataclasses

    return dataclasses.replace(config, store_path=store_path)


def _log(report: SourceReport) -> None:
    c = report.changes
    log.info(
        "source %s: %s", report.name, report.error or "ok",
        extra={"source": report.name,
               "new": len(c.added) if c else 0, "changed": len(c.changed) if c else 0,
               "removed": len(c.removed) if c else 0, "rejected": report.rejected,
               "duration": f"{report.duration:.3f}s"},
    )
    for key, reason in report.problems:
        log.warning("%s: %s: %s", report.name, key, reason)


class _Watcher:
    """watchfiles in a thread: a change under a folder asks for that source's ingest."""

    def __init__(self, folders: dict[Path, str], request: Callable[[str], None]) -> None:
        self.folders = folders
        self.request = request
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="feeds-watch", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch

        from .sources.folder import is_ignored_name

        def interesting(_change: object, path: str) -> bool:
            return not any(is_ignored_name(part) for part in Path(path).parts[-3:])

        try:
            for changes in watch(*self.folders, watch_filter=interesting, debounce=800, step=50,
                                 stop_event=self.stop_event, raise_interrupt=False,
                                 rust_timeout=1000, yield_on_timeout=False):
                touched = {Path(p) for _c, p in changes}
                for root, name in self.folders.items():
                    if any(p == root or p.is_relative_to(root) for p in touched):
                        self.request(name)
        except Exception:
            log.exception("folder watcher stopped; the schedule still picks up changes")


def run(config_path: Path, *, lock_wait: float | None = 0) -> int:
    """Entry point for ``feeds run``: lock the state directory, then loop until stopped."""
    from .lock import lock_state_dir

    config = load(config_path)
    notifier = Notifier.from_env()
    with lock_state_dir(config.store_path, wait=lock_wait):
        return Daemon(config_path, config, notifier=notifier).run()
