"""Hearing what other nodes changed: ``LISTEN`` on the store's channel, on a connection of
its own, in a thread, with a periodic check as a safety net (a notification is lost while
the connection is down: every reconnection and every ``every`` seconds also counts as a
change of everything).  A database that restarts or cannot be reached is retried with a
growing pause, logged once per outage, never raised."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .connection import import_psycopg, redact

__all__ = ["Listener"]

log = logging.getLogger("feeds.store")

#: longest pause between two attempts to reach the database
MAX_BACKOFF = 30.0


class Listener:
    """Calls ``on_change(source)`` for each change another node announces (``""``: maybe
    anything: after a reconnection, and every ``every`` seconds)."""

    def __init__(self, url: str, channel: str, node: str,
                 on_change: Callable[[str], None], *, every: float = 60.0) -> None:
        self.url, self.channel, self.node = url, channel, node
        self.on_change = on_change
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="feeds-listen", daemon=True)

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        psycopg = import_psycopg()
        backoff, down = 1.0, False
        while not self.stopped.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                     application_name="feeds listen") as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    if down:
                        log.warning("store %s reachable again", redact(self.url))
                    backoff, down = 1.0, False
                    self._listen(conn)
            except psycopg.Error as exc:
                if not down:
                    log.error("store %s unreachable, retrying with backoff: %s",
                              redact(self.url), " ".join(str(exc).split()))
                down = True
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _listen(self, conn: object) -> None:
        self.on_change("")  # (re)connected: anything may have changed meanwhile
        checked = time.monotonic()
        while not self.stopped.is_set():
            for note in conn.notifies(timeout=1.0, stop_after=64):  # type: ignore[attr-defined]
                node, _, source = note.payload.partition(" ")
                if node != self.node:
                    self.on_change(source)
            if time.monotonic() - checked >= self.every:
                checked = time.monotonic()
                self.on_change("")
