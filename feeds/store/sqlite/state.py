"""The SQLite store's state of sources and feeds: typed in and out, JSON in the file."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import timedelta

from ...model import FetchState
from ..types import FeedIndex, FeedState, FolderState
from .codecs import (
    feed_index_from_json,
    feed_index_to_json,
    feed_state_from_json,
    feed_state_to_json,
    fetch_state_from_json,
    fetch_state_to_json,
)
from .connection import Connection

__all__ = ["StateQueries"]

_SOURCE_STATE_SQL = ("INSERT INTO source_state (source, state) VALUES (?, ?)"
                     " ON CONFLICT (source) DO UPDATE SET state = excluded.state")
_FEED_STATE_SQL = ("INSERT INTO feed_state (feed, digest) VALUES (?, ?)"
                   " ON CONFLICT (feed) DO UPDATE SET digest = excluded.digest")


class StateQueries(Connection):
    """Fetch state and reading fingerprint by source; publication state and index by
    feed; which key holds a link."""

    def reading_fingerprint(self, source: str) -> str | None:
        """What :meth:`set_reading_fingerprint` last saved for ``source`` (None: nothing)."""
        with self._read("read reading fingerprint") as db:
            row = db.execute("SELECT fingerprint FROM reading WHERE source = ? LIMIT 1",
                             (source,)).fetchone()
        return None if row is None else str(row[0])

    def set_reading_fingerprint(self, source: str, fingerprint: str) -> None:
        with self._write(f"save reading fingerprint of {source!r}") as db:
            db.execute("INSERT INTO reading (source, fingerprint) VALUES (?, ?)"
                       " ON CONFLICT (source) DO UPDATE SET fingerprint = excluded.fingerprint",
                       (source, fingerprint))

    def link_holders(self, source: str, links: Collection[str]) -> dict[str, str]:
        """The keys of ``source``'s stored articles whose link is one of ``links``, by link."""
        wanted = sorted(set(links))
        out: dict[str, str] = {}
        with self._read("read link holders") as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                for link, key in db.execute(
                        "SELECT link, key FROM articles"
                        f" WHERE source = ? AND link IN ({marks}) ORDER BY key DESC",
                        (source, *chunk)):
                    out[link] = key  # the first key in sort order, if two hold it
        return out

    def source_state(self, source: str) -> FetchState | None:
        """What the last fetch of ``source`` left (None: none yet)."""
        with self._read("read source state") as db:
            row = db.execute(
                "SELECT state FROM source_state WHERE source = ?", (source,)
            ).fetchone()
        return None if row is None else fetch_state_from_json(row[0])

    # Claims: a store only one node uses (SQLite, memory) holds none.  Every feed is this
    # node's, whatever the limit; a shared store (PostgreSQL) divides them between nodes.
    def claim(self, feeds: Collection[str], *, lease: timedelta,
              limit: int | None = None) -> list[str]:
        """Of ``feeds``, those this node fetches now, sorted: here, all of them."""
        return sorted(set(feeds))

    def release(self, feeds: Collection[str]) -> None:
        """Give up this node's claims on ``feeds``: here, there are none."""

    def announce(self, source: str) -> None:
        """Tell the other nodes that ``source``'s articles changed: here, there are none."""

    def set_source_states(self, states: Mapping[str, FetchState]) -> None:
        """Several sources' states in one transaction (a poll of many feeds)."""
        rows = [(source, fetch_state_to_json(state)) for source, state in states.items()]
        if not rows:
            return
        with self._write(f"save state of {len(rows)} sources") as db:
            db.executemany(_SOURCE_STATE_SQL, rows)

    def folder_state(self, source: str) -> FolderState | None:
        """What the last scan of folder ``source`` left (None: none yet, or unreadable)."""
        with self._read("read folder state") as db:
            row = db.execute(
                "SELECT data FROM folder_state WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[0])
            return FolderState(int(data["skipped"]), int(data["not_published"]),
                               {str(k): str(v) for k, v in data["due"].items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # only counts and a cache of due dates: the next scan rewrites it

    def set_folder_state(self, source: str, state: FolderState) -> None:
        text = json.dumps({"skipped": state.skipped, "not_published": state.not_published,
                           "due": dict(state.due)}, ensure_ascii=False, sort_keys=True)
        with self._write(f"save state of folder {source!r}") as db:
            db.execute("INSERT INTO folder_state (source, data) VALUES (?, ?)"
                       " ON CONFLICT (source) DO UPDATE SET data = excluded.data",
                       (source, text))

    def feed_state(self, feed: str) -> FeedState | None:
        """What the last publication of ``feed`` left (None: none, or none readable)."""
        with self._read("read feed state") as db:
            row = db.execute("SELECT digest FROM feed_state WHERE feed = ?", (feed,)).fetchone()
        return None if row is None else feed_state_from_json(row[0])

    def feed_index(self, feed: str) -> FeedIndex | None:
        with self._read("read feed index") as db:
            row = db.execute("SELECT data FROM feed_index WHERE feed = ?", (feed,)).fetchone()
        return None if row is None else feed_index_from_json(row[0])

    def set_feed_state(self, feed: str, state: FeedState, index: FeedIndex | None = None, *,
                       keep_index: bool = False) -> None:
        """A feed's state and index, in one transaction.  No ``index``: none is kept (so
        nothing stale can be reused), unless ``keep_index`` (the files are unchanged)."""
        text = feed_state_to_json(state)
        data = None if index is None else feed_index_to_json(index)
        with self._write(f"save state of feed {feed!r}") as db:
            db.execute(_FEED_STATE_SQL, (feed, text))
            if keep_index:
                return
            if data is None:
                db.execute("DELETE FROM feed_index WHERE feed = ?", (feed,))
            else:
                db.execute(
                    "INSERT INTO feed_index (feed, data) VALUES (?, ?)"
                    " ON CONFLICT (feed) DO UPDATE SET data = excluded.data",
                    (feed, data),
                )
