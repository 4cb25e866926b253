"""``feeds run``: the long-running service.  A thin loop over ``pipeline.Service``.

Threads feed one queue; only the main thread touches the store and the output::

    APScheduler jobs (one per source: every / cron, jitter) ─┐
    folder watcher (inotify, else watchfiles)               ─┼─► queue ─► main loop ─► ingest
    signals (HUP reload, TERM/INT stop)                      ─┘                │
                                                             publish of the feeds whose
                                                             sources changed, once quiet

Instant pickup: a file the watcher reports complete (renamed into the folder, or closed by
its writer: inotify) is read at once; any other change is read once the file was left
alone for ``SETTLE`` (the fallback, and watchfiles' only way).  What changed is published
as soon as nothing else is pending and the watcher saw nothing for ``QUIET`` (a burst of
files gives one rewrite), and at the latest ``PUBLISH_DEBOUNCE`` after the first change.

The main loop also pings the systemd watchdog and speaks the notify protocol (READY after
the first publish, RELOADING/READY around a reload, STOPPING on the way out).  What to
ingest, which feeds a change touches, publishing and its log lines are the pipeline's
(:class:`feeds.pipeline.Service`); this keeps the threads, the queue and the timers.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .config import Config, SourceConfig, load
from .errors import ConfigError, FeedsError
from .monitor import Monitor
from .pipeline import (
    Service,
    changed_keys,
    feeds_of_change,
    refuse_lost_store,
    schedule_every,
    sources_changed,
    watched_folders,
)
from .systemd import Notifier
from .watch import Watcher

if TYPE_CHECKING:
    from .server import FeedServer

log = logging.getLogger("feeds.daemon")

PUBLISH_DEBOUNCE = 0.25  # seconds: the longest a change waits for a burst to end
QUIET = 0.03  # seconds without a watcher event before what changed is published
SETTLE = 0.5  # seconds a file must be left alone before it is read
PUBLISH_RETRY = 2.0  # seconds before a publication that failed as a whole is tried again
PUBLISH_RETRY_MAX = 60.0  # ... doubling at each failure in a row, up to this
IDLE_WAKEUP = 5.0  # seconds between loop wake-ups when there is no watchdog to ping
START_EXTENSION = 60.0  # seconds asked of systemd at a time while a long first build runs


@dataclass(frozen=True)
class Work:
    kind: str  # "ingest", "reload", "stop", "changed" (by another node: the source or "")
    source: str | None = None  # the source to ingest; for "stop", the signal's name


class Daemon:
    def __init__(self, config_path: Path, config: Config, *, notifier: Notifier,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config_path = config_path
        self.config = config
        self.notifier = notifier
        self.clock = clock
        # SimpleQueue: its put() is reentrant, so signal handlers may call it (queue.Queue's
        # may deadlock when the signal lands while the main thread holds the queue's lock).
        self.queue: queue.SimpleQueue[Work] = queue.SimpleQueue()
        # source -> the changed keys to look at once settled (None: the whole folder)
        self.pending: dict[str, set[str] | None] = {}
        # source -> keys the watcher reported complete: read at once, without settling
        self.complete: dict[str, set[str]] = {}
        self.queued: set[str] = set()  # sources with an "ingest" work in the queue
        self.pending_lock = threading.Lock()
        self.stop_requested = False  # set by SIGTERM/SIGINT (a plain store: signal-safe)
        self.ready = False
        self.scheduler: Any = None
        self.watcher: Watcher | None = None
        self.server: FeedServer | None = None
        self.unlisten: Callable[[], None] | None = None  # stops hearing the other nodes
        self.service = Service(config, clock=clock)
        self.monitor = Monitor(config, queue_depth=lambda: self.queue.qsize(),
                               scheduler_running=lambda: bool(self.scheduler
                                                              and self.scheduler.running))
        self.publish_not_before = 0.0  # monotonic: a failed publication waits to retry
        self.publish_retry = PUBLISH_RETRY
        self.dirty: set[str] = set()
        self.publish_at: float | None = None
        self.retry_timers: dict[str, threading.Timer] = {}  # by source
        self.retry_keys: dict[str, set[str]] = {}  # by source: what the timer will look at
        self.wakes: dict[str, datetime] = {}  # by source: a scheduled post or expiry is due
        self.watchdog_every = notifier.watchdog_interval()
        self.last_ping = 0.0
        self.last_extend = 0.0
        # A process pool forks; forking once the scheduler, watcher and server threads run
        # risks a child inheriting a lock held by one of them.  The first build has the
        # process to itself; later ingests (small, as a rule) read in the main process.
        self.parallel = True

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        self._install_signals()
        self.last_extend = time.monotonic()
        self.service.open(cancelled=lambda: self.stop_requested)
        self.monitor.reset(self.service)
        try:
            self.notifier.status("first build")
            for source in self.config.sources:
                if self.stop_requested:
                    break
                self._ingest(source.name)
            if not self.stop_requested:
                self._publish(None)
                self._start_services(startup=True)
                self.ready = True
                self.notifier.ready(self._status("ready"))
                log.info("ready: %d sources, %d feeds, output in %s", len(self.config.sources),
                         len(self.config.feeds), self.config.output_dir)
                self._loop()
        finally:
            self.notifier.stopping("stopping")
            self._stop_services(timers=True)
            self.service.close()
            log.info("stopped")
            self.notifier.close()
        return 0

    def _loop(self) -> None:
        while not self.stop_requested:
            timeout = self.watchdog_every or IDLE_WAKEUP
            due = self._publish_due()
            if due is not None:
                timeout = max(0.0, min(timeout, due - time.monotonic()))
            try:
                work: Work | None = self.queue.get(timeout=timeout)
            except queue.Empty:
                work = None
            self._ping()
            if work is None:
                pass
            elif work.kind == "stop":
                log.info("received %s, stopping", work.source or "a stop request")
                break
            elif work.kind == "reload":
                self._reload()
            elif work.kind == "ingest" and work.source:
                self._ingest_requested(work.source)
            elif work.kind == "changed":
                self._mark(feeds_of_change(self.config, work.source or ""))
            due = self._publish_due()
            if due is not None and time.monotonic() >= due:
                self._publish(self.dirty)
        if self.dirty:  # changes already in the store reach the feeds before we go
            self._publish(self.dirty)

    def _publish_due(self) -> float | None:
        """When to publish what changed (None: nothing did): once nothing else is pending
        and the watcher has been quiet for ``QUIET``, at the latest at ``publish_at``."""
        if self.publish_at is None:
            return None
        if not self.queue.empty() or self.pending or self.complete:
            return self.publish_at
        quiet = self.watcher.last_event + QUIET if self.watcher is not None else 0.0
        return max(min(self.publish_at, quiet), self.publish_not_before)

    def request(self, source: str, paths: Iterable[str] | None = None, *,
                complete: bool = False) -> None:
        """Ask for one source to be ingested soon (thread-safe, collapses duplicates).

        ``paths``: only these keys of a folder changed (the watcher knows); None: look at
        everything.  Requests waiting together merge; one for everything wins.
        ``complete``: the watcher saw these files complete (closed by their writer,
        renamed in): they are read without waiting for them to settle.
        """
        with self.pending_lock:
            if complete and paths is not None:
                self.complete.setdefault(source, set()).update(paths)
            elif source in self.pending:
                waiting = self.pending[source]
                if waiting is not None:
                    if paths is None:
                        self.pending[source] = None
                    else:
                        waiting.update(paths)
            else:
                self.pending[source] = None if paths is None else set(paths)
            if source in self.queued:
                return
            self.queued.add(source)
        self.queue.put(Work("ingest", source))

    def _ingest_requested(self, name: str) -> None:
        """Ingest what was asked of ``name``: the complete files first, at once, then the
        rest once settled.  (Nothing, if a reload removed the source.)"""
        with self.pending_lock:
            self.queued.discard(name)
            complete = self.complete.pop(name, None)
            asked = name in self.pending
            paths = self.pending.pop(name, None)
        if complete:
            self._ingest(name, complete, settle=0.0)
        if asked:
            self._ingest(name, paths)

    # ------------------------------------------------------------------ work

    def _ingest(self, name: str, paths: set[str] | None = None, *,
                settle: float | None = None) -> None:
        """Ingest ``name`` (only ``paths``, when given); files changed within ``settle``
        seconds (default ``SETTLE``) are left for a retry."""
        report = self.service.ingest(
            name, paths, settle=SETTLE if settle is None else settle, parallel=self.parallel,
            progress=lambda _what, _done, _total: self._ping(),  # progress, not a hang
            cancelled=lambda: self.stop_requested)
        if report is None:
            return
        self.monitor.ingested(self.service, report)
        if report.unsettled:
            self._retry_later(name, report.unsettled)
        if report.wake_at is not None:
            self._wake(name, report.wake_at)
        self._mark(self.service.touched(report))

    def _mark(self, touched: set[str]) -> None:
        """Publish the feeds ``touched`` soon."""
        if touched:
            self.dirty.update(touched)
            if self.publish_at is None:
                self.publish_at = time.monotonic() + PUBLISH_DEBOUNCE

    def _changed(self, folders: dict[Path, str], paths: list[str],
                 unsettled: list[str] | None = None) -> None:
        """The watcher saw ``paths`` complete (closed, renamed in, gone) and ``unsettled``
        change otherwise: ask for the sources they touch."""
        for keys, complete in ((changed_keys(folders, paths), True),
                               (changed_keys(folders, unsettled or []), False)):
            for name in sorted(keys):
                self.request(name, keys[name], complete=complete)

    def _retry_later(self, name: str, keys: Iterable[str]) -> None:
        """Look at ``keys`` of ``name`` again once they had time to settle (one timer per
        source at a time; keys found unsettled meanwhile join the waiting retry)."""
        with self.pending_lock:
            self.retry_keys.setdefault(name, set()).update(keys)
            if name in self.retry_timers:
                return
            timer = threading.Timer(SETTLE, self._retry, args=(name,))
            timer.daemon = True
            self.retry_timers[name] = timer
        timer.start()

    def _retry(self, name: str) -> None:
        with self.pending_lock:
            keys = self.retry_keys.pop(name, set())
            self.retry_timers.pop(name, None)
        self.request(name, keys)

    def _wake(self, name: str, at: datetime) -> None:
        """Ingest ``name`` again at ``at`` (a post scheduled then, an article expiring then),
        not only at its next scheduled scan; an earlier wake-up still ahead is kept."""
        now = self.clock()
        earlier = self.wakes.get(name)
        if at <= now or (earlier is not None and now < earlier < at):
            return  # (a time passed: this very ingest read what was due)
        self.wakes[name] = at
        self._add_wake(name, at)

    def _add_wake(self, name: str, at: datetime) -> None:
        if self.scheduler is not None:  # (during the first build: once services start)
            self.scheduler.add_job(self.request, "date", run_date=at, args=[name],
                                   id=f"wake {name}", name=f"wake {name}",
                                   replace_existing=True)

    def _publish(self, only: set[str] | None) -> None:
        names = set(only) if only is not None else None
        self.dirty.clear()
        self.publish_at = None
        started = time.monotonic()
        reports = self.service.publish(names)
        self.monitor.published(self.service, reports, time.monotonic() - started)
        if reports is None:  # (an unwritable output folder...): try again, less and less often
            self.dirty.update(names if names is not None else {f.name for f in self.config.feeds})
            self.publish_at = time.monotonic()
            self.publish_not_before = self.publish_at + self.publish_retry
            self.publish_retry = min(self.publish_retry * 2, PUBLISH_RETRY_MAX)
        else:
            self.publish_retry = PUBLISH_RETRY

    def _reload(self) -> None:
        self.notifier.reloading("reloading the configuration")
        log.info("reloading %s", self.config_path)
        try:
            new = load(self.config_path)
        except FeedsError as exc:
            log.error("reload: new configuration rejected, keeping the previous one: %s", exc)
            self.notifier.ready("reload failed, running on the previous configuration: "
                                + str(exc).splitlines()[0])
            return
        old = self.config
        if new.store != old.store:
            log.warning("the store's path or url changed: the new one takes effect on restart")
            new = dataclasses.replace(new, store_path=old.store_path, shared=old.shared)
        self.config = self.service.config = new
        self.monitor.reset(self.service)
        restart_server = (new.server, new.output_dir) != (old.server, old.output_dir)
        self._stop_services(server=restart_server)
        self._start_services(server=restart_server)
        changed, gone = sources_changed(old, new)
        for name in changed:
            log.info("source %s: new or changed, ingesting now", name)
            self.request(name)
        if gone:
            log.info("sources removed: %s", ", ".join(gone))
        self._publish(None)
        self.notifier.ready(self._status("reloaded"))

    # ------------------------------------------------------------------ services

    def _start_services(self, *, server: bool = True, startup: bool = False) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.parallel = False
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        for source in self.config.sources:
            self.scheduler.add_job(self.request, _trigger(source, self.config), args=[source.name],
                                   id=source.name, name=f"ingest {source.name}")
        now = self.clock()
        for name, at in self.wakes.items():
            if at > now:
                self._add_wake(name, at)
        self.scheduler.start()
        self.unlisten = self.service.listen(lambda name: self.queue.put(Work("changed", name)))
        folders = watched_folders(self.config)
        if folders:
            self.watcher = Watcher(  # once watching: one full scan of every folder
                folders, on_ready=lambda: self._changed(folders, [], [str(f) for f in folders]),
                on_changes=lambda complete, unsettled: self._changed(folders, complete,
                                                                     unsettled))
            self.watcher.start()
        if server and self.config.server.enabled and self.server is None:
            from .server import FeedServer

            srv = self.config.server
            candidate = FeedServer(self.config.output_dir, max_age=srv.max_age,
                                   routes=self.monitor.respond)
            try:
                candidate.start(srv.host, srv.port)
            except OSError as exc:  # ListenError: port in use, no right to it, unknown host
                # At start-up that ends the daemon (exit 2; systemd's Restart= tries again).
                # On a reload the daemon keeps running, without the server, until the next.
                if startup:
                    raise ConfigError(str(exc), key="server") from None
                log.error("server not started: %s; fix [server] and reload", exc)
                return
            self.server = candidate
            log.info("serving %s on %s", self.config.output_dir, candidate.url,
                     extra={"url": candidate.url})

    def _stop_services(self, *, server: bool = True, timers: bool = False) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.unlisten is not None:
            self.unlisten()
            self.unlisten = None
        if timers:  # a reload keeps them: a file waiting to settle is still read soon
            for timer in self.retry_timers.values():
                timer.cancel()
            self.retry_timers.clear()
        if server and self.server is not None:
            self.server.stop()
            self.server = None

    def _status(self, state: str) -> str:
        text = f"{state}: {len(self.config.sources)} sources, {len(self.config.feeds)} feeds"
        if self.server is not None:
            text += f"; serving {self.server.url}"
        return text

    def _ping(self) -> None:
        """WATCHDOG=1 every half interval (only when systemd asked for it)."""
        now = time.monotonic()
        if self.watchdog_every is not None and now - self.last_ping >= self.watchdog_every / 2:
            self.last_ping = now
            self.notifier.watchdog()
        if not self.ready and now - self.last_extend >= START_EXTENSION / 2:
            self.last_extend = now  # a long first build asks for more time, bit by bit
            self.notifier.extend_timeout(START_EXTENSION)

    def _install_signals(self) -> None:
        # Handlers only store a flag and put() on a SimpleQueue: both are signal-safe.
        # The main loop does the logging and the work.
        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.queue.put(Work("reload"))

        def on_term(signum: int, frame: FrameType | None) -> None:
            self.stop_requested = True
            self.queue.put(Work("stop", signal.Signals(signum).name))

        signal.signal(signal.SIGHUP, on_hup)
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)


def _trigger(source: SourceConfig, config: Config) -> Any:
    from .schedule import cron_trigger, interval_trigger

    if source.cron:  # config.load has built this very trigger once
        return cron_trigger(source.cron)
    return interval_trigger(schedule_every(config, source))


def run(config_path: Path, *, lock_wait: float | None = 0) -> int:
    """Entry point for ``feeds run``: lock the state directory, then loop until stopped."""
    from contextlib import nullcontext

    from .lock import lock_state_dir

    config = load(config_path)
    notifier = Notifier.from_env()
    # (nodes of a shared store run side by side: the database serializes them)
    with nullcontext() if config.shared else lock_state_dir(config.store_path, wait=lock_wait):
        refuse_lost_store(config)  # a new store would mint every published id anew
        return Daemon(config_path, config, notifier=notifier).run()
