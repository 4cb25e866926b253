"""The PostgreSQL implementation of :class:`feeds.store.Store`: one database shared by any
number of ``feeds run`` nodes on any number of machines.

The tables, encodings and queries are the SQLite store's (see ``connection``), so both pass
the same protocol test suite and ``feeds store copy`` moves rows between them unchanged.
What only a shared store has: :meth:`PostgresStore.claim` (remote feeds divided between
nodes with ``SELECT … FOR UPDATE SKIP LOCKED`` and a lease) and :meth:`PostgresStore.wait`
(``LISTEN``/``NOTIFY``: a node learns that another changed the store).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from ..sqlite.ingest import IngestQueries
from ..sqlite.reading import ReadQueries
from ..sqlite.state import StateQueries
from ..types import FeedIndex, FeedState
from .connection import PgConnection, is_postgres_url, redact
from .listen import Listener

__all__ = ["CHANNEL", "PostgresHandle", "PostgresStore", "is_postgres_url", "redact"]

#: the NOTIFY channel a node announces its changes on
CHANNEL = "feeds_changed"


def node_name() -> str:
    """This process, as the claims table names it: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# (ignored: PgConnection.open takes a URL where SQLite's Connection.open takes a path)
class PostgresStore(PgConnection, IngestQueries, ReadQueries, StateQueries):  # type: ignore[misc]
    """The store in a PostgreSQL database (see the module's docstring)."""

    node = ""
    #: the output folder this process publishes to (``host:path``): each node writes its
    #: own files, so what a feed's last publication left is kept per output
    output = ""

    def handle(self) -> PostgresHandle:
        return PostgresHandle(self.url, self.output)

    def _feed(self, feed: str) -> str:
        return f"{self.output}\x1f{feed}" if self.output else feed

    def feed_state(self, feed: str) -> FeedState | None:
        return super().feed_state(self._feed(feed))

    def feed_index(self, feed: str) -> FeedIndex | None:
        return super().feed_index(self._feed(feed))

    def set_feed_state(self, feed: str, state: FeedState, index: FeedIndex | None = None, *,
                       keep_index: bool = False) -> None:
        super().set_feed_state(self._feed(feed), state, index, keep_index=keep_index)

    def _node(self) -> str:
        if not self.node:
            self.node = node_name()
        return self.node

    def claim(self, feeds: Collection[str], *, lease: timedelta,
              limit: int | None = None) -> list[str]:
        """Of ``feeds``, those this node fetches now (at most ``limit``, sorted): each one
        no other node holds a live lease on, now leased to this node for ``lease`` (by the
        database's clock: the nodes' own clocks may differ).  A feed another node is
        claiming at this very moment is skipped, never waited for."""
        names = sorted(set(feeds))
        if not names or (limit is not None and limit <= 0):
            return []
        node = self._node()
        with self._transaction("claim feeds") as conn:
            conn.execute("INSERT INTO claims (feed, node, until)"
                         " SELECT unnest(%s::text[]), '', '-infinity'"
                         " ON CONFLICT (feed) DO NOTHING", (names,))
            rows = conn.execute(
                "SELECT feed FROM claims WHERE feed = ANY(%s::text[])"
                " AND (until < statement_timestamp() OR node = %s)"
                " ORDER BY feed LIMIT %s FOR UPDATE SKIP LOCKED",
                (names, node, limit if limit is not None else len(names))).fetchall()
            got = [row[0] for row in rows]
            if got:
                conn.execute("UPDATE claims SET node = %s,"
                             " until = statement_timestamp() + %s WHERE feed = ANY(%s::text[])",
                             (node, lease, got))
        return got

    def release(self, feeds: Collection[str]) -> None:
        """Give up this node's leases on ``feeds`` (their state is saved: the next due
        time now says when anyone fetches them next)."""
        names = sorted(set(feeds))
        if not names:
            return
        with self._transaction("release feeds") as conn:
            conn.execute("UPDATE claims SET until = '-infinity'"
                         " WHERE feed = ANY(%s::text[]) AND node = %s", (names, self._node()))

    def announce(self, source: str) -> None:
        """Tell every node listening that ``source``'s articles changed."""
        with self._transaction("announce a change") as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{self._node()} {source}"[:7000]))

    def listen(self, on_change: Callable[[str], None], *, every: float = 60.0) -> Listener:
        """Call ``on_change(source)`` (in a thread) for each change another node announces,
        and ``on_change("")`` on (re)connecting and every ``every`` seconds; ``stop()`` it."""
        return Listener(self.url, CHANNEL, self._node(), on_change, every=every).start()


@dataclass(frozen=True, slots=True)
class PostgresHandle:
    """The database another process (a render worker) opens for itself: picklable."""

    url: str
    output: str = ""

    def open(self) -> PostgresStore:
        store = PostgresStore.open(self.url)
        store.output = self.output
        return store
