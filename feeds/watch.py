"""Folder watching for ``feeds run``: a thread reporting changed paths.

On Linux, inotify (:mod:`feeds.inotify`): a file renamed into a folder, or closed by its
writer, is reported as complete at once, to be read without waiting for it to settle; a
file still being written is not reported until its writer closes it.  Elsewhere (or when
inotify cannot be had), watchfiles, whose events say nothing about writers: every path is
reported as unsettled, read once it was left alone for the settle time.

What a changed path means (which source, which key) is the pipeline's to say
(:func:`feeds.pipeline.changed_keys`); this only watches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .inotify import Tree

log = logging.getLogger("feeds.daemon")  # the service's journal, as before the split

#: ``on_changes(complete, unsettled)``: paths to read now, and paths to read once settled
OnChanges = Callable[[list[str], list[str]], None]


class Watcher:
    """A thread watching ``folders``: every batch of changed paths goes to ``on_changes``.

    ``start()`` returns once the watches are in place (or after ``timeout``), so a file
    dropped after READY is seen; the first thing the thread does then is call
    ``on_ready``, for whatever changed between the daemon's last scan and the watches.
    ``last_event`` is when the watcher last saw anything happen (``time.monotonic()``; a
    file being written counts): the daemon publishes once things are quiet.
    """

    def __init__(self, folders: Iterable[Path], *, on_ready: Callable[[], None],
                 on_changes: OnChanges, use_inotify: bool = True) -> None:
        self.folders = list(folders)
        self.on_ready = on_ready
        self.on_changes = on_changes
        self.use_inotify = use_inotify
        self.stop_event = threading.Event()
        self.watching = threading.Event()
        self.last_event = 0.0
        self.instant = False  # whether complete files are told apart (inotify)
        self._inotify: object | None = None
        self.thread = threading.Thread(target=self._run, name="feeds-watch", daemon=True)

    def start(self, timeout: float = 5.0) -> None:
        self.thread.start()
        if not self.watching.wait(timeout):
            log.warning("folder watches not in place after %gs; continuing", timeout)

    def stop(self) -> None:
        self.stop_event.set()
        from .inotify import Inotify

        if isinstance(self._inotify, Inotify):
            self._inotify.wake()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        try:
            if not (self.use_inotify and self._run_inotify()):
                self._run_watchfiles()
        except Exception:
            log.exception("folder watcher stopped; the schedule still picks up changes")
        finally:
            self.watching.set()  # never leave start() waiting on a dead watcher

    def _ready(self) -> None:
        self.watching.set()
        self.on_ready()

    def _run_inotify(self) -> bool:
        """Watch with inotify until stopped; False when inotify cannot be had."""
        from .inotify import Inotify, Tree

        try:
            inotify = Inotify()
        except OSError as exc:
            log.debug("inotify not available (%s): watching with watchfiles", exc)
            return False
        with inotify:
            self._inotify = inotify
            tree = Tree(inotify, self.folders)
            for folder in self.folders:
                tree.add(folder)
            _log_failed(tree)
            self.instant = True
            if self.stop_event.is_set():
                return True
            self._ready()
            while not self.stop_event.is_set():
                events = inotify.read()
                if not events:
                    continue
                self.last_event = time.monotonic()
                changes = tree.changes(events)
                _log_failed(tree)
                if changes.complete or changes.unsettled:
                    self.on_changes(changes.complete, changes.unsettled)
        return True

    def _run_watchfiles(self) -> None:
        from watchfiles import watch

        # rust_timeout: an empty yield at most every 0.2 s while idle; the first one
        # tells that the watches are in place.
        for changes in watch(*self.folders, watch_filter=None, debounce=800, step=50,
                             stop_event=self.stop_event, raise_interrupt=False,
                             rust_timeout=200, yield_on_timeout=True):
            if not self.watching.is_set():
                self._ready()
            if changes:
                self.last_event = time.monotonic()
                self.on_changes([], [path for _change, path in changes])


def _log_failed(tree: Tree) -> None:
    for folder, error in tree.failed:
        log.warning("folder %s not watched (%s): its changes are picked up at the scheduled "
                    "scans", folder, error)
    tree.failed.clear()
