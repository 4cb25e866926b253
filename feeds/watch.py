"""Folder watching for ``feeds run``: watchfiles in a thread, reporting changed paths.

What a changed path means (which source, which key) is the pipeline's to say
(:func:`feeds.pipeline.changed_keys`); this only watches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("feeds.daemon")  # the service's journal, as before the split


class Watcher:
    """watchfiles in a thread: every batch of changed paths under ``folders`` goes to
    ``on_changes``.

    ``start()`` returns once the watches are in place (or after ``timeout``), so a file
    dropped after READY is seen; the first thing the thread does then is call
    ``on_ready``, for whatever changed between the daemon's last scan and the watches.
    """

    def __init__(self, folders: Iterable[Path], *, on_ready: Callable[[], None],
                 on_changes: Callable[[list[str]], None]) -> None:
        self.folders = list(folders)
        self.on_ready = on_ready
        self.on_changes = on_changes
        self.stop_event = threading.Event()
        self.watching = threading.Event()
        self.thread = threading.Thread(target=self._run, name="feeds-watch", daemon=True)

    def start(self, timeout: float = 5.0) -> None:
        self.thread.start()
        if not self.watching.wait(timeout):
            log.warning("folder watches not in place after %gs; continuing", timeout)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch

        try:
            # rust_timeout: an empty yield at most every 0.2 s while idle; the first one
            # tells that the watches are in place.
            for changes in watch(*self.folders, watch_filter=None, debounce=800, step=50,
                                 stop_event=self.stop_event, raise_interrupt=False,
                                 rust_timeout=200, yield_on_timeout=True):
                if not self.watching.is_set():
                    self.watching.set()
                    self.on_ready()
                self.on_changes([path for _change, path in changes])
        except Exception:
            log.exception("folder watcher stopped; the schedule still picks up changes")
        finally:
            self.watching.set()  # never leave start() waiting on a dead watcher
