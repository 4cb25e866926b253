"""The SQLite store's writes of ingest: file states, articles and ids in one transaction
per call (the decisions are :mod:`feeds.store.plan`'s and :mod:`feeds.store.retention`'s),
forgetting a source, pruning a feed."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from ...model import Article, Changes, FileState, Retention, utc
from ..plan import Holder, Plan, Registered, Stored, plan_ingest
from ..retention import Held, IdMemory, id_memory, plan_prune
from .codecs import Encoded, article_row, from_iso, iso, opt_from_iso, opt_iso
from .connection import Connection

__all__ = ["IngestQueries", "chunks", "marks"]

_CHUNK = 500  # ids per "IN (...)" query


def chunks(values: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(count: int) -> str:
    return ", ".join("?" * count)


class IngestQueries(Connection):
    """What ingest reads and writes."""

    _FILE_STATES_SQL = ("SELECT key, size, mtime_ns, inode, device, digest FROM file_states"
                        " WHERE source = ?")

    def file_states(self, source: str,
                    keys: Collection[str] | None = None) -> dict[str, FileState]:
        """The source's file states by key: all of them, or those of ``keys``."""
        with self._read("read file states") as db:
            if keys is None:
                rows = db.execute(self._FILE_STATES_SQL, (source,)).fetchall()
            else:
                rows = []
                for chunk in chunks(sorted(keys)):
                    rows += db.execute(
                        f"{self._FILE_STATES_SQL} AND key IN ({marks(len(chunk))})",
                        (source, *chunk)).fetchall()
        make = FileState._make
        return {row[0]: make(row[1:]) for row in rows}

    def keys_under(self, source: str, folders: Collection[str]) -> set[str]:
        """Keys of the source's articles inside any of ``folders`` (keys of folders)."""
        found: set[str] = set()
        with self._read("read keys in folders") as db:
            for folder in folders:
                # "/" is followed by "0": the keys between are exactly those under folder/
                found.update(row[0] for row in db.execute(
                    "SELECT key FROM articles WHERE source = ? AND key >= ? AND key < ?",
                    (source, folder + "/", folder + "0")))
        return found

    def ingest(
        self,
        source: str,
        articles: Sequence[tuple[Article, FileState | None]],
        *,
        now: datetime,
        present: Collection[str] | None = None,
        gone: Collection[str] | None = None,
        encoded: Mapping[str, Encoded] | None = None,
    ) -> Changes:
        """Store freshly read ``articles`` of ``source`` in one transaction.

        ``present``: after a complete scan, every key still there (including keys not
        re-read and keys currently unreadable); other stored keys of the source are
        removed, their ids kept in the registry.  None (a remote feed): nothing is removed.
        ``gone`` (instead of ``present``, after a look at some paths only): exactly these
        keys went away; only they and the incoming keys are loaded, whatever the archive's
        size.
        ``encoded``: by key, :class:`Encoded` forms of some of ``articles`` computed ahead.
        """
        now = utc(now)
        incoming = {article.key for article, _ in articles}
        ready = {a.key: e for a, _ in articles
                 if encoded is not None and (e := encoded.get(a.key)) is not None
                 and e.article is a}
        if present is not None and gone is not None:
            raise ValueError("ingest takes present (a full scan) or gone (a partial one)")
        with self._write(f"store articles of {source!r}") as db:
            # Load only what the decision can use: the incoming keys, and the keys about
            # to vanish, which may have been renamed.
            if gone is not None:
                asked = sorted(incoming | set(gone))
                live = {row[0] for chunk in chunks(asked) for row in db.execute(
                    f"SELECT key FROM articles WHERE source = ? AND key IN"
                    f" ({marks(len(chunk))})", (source, *chunk))}
                wanted = set(live)
                present = (incoming | live) - set(gone)  # all that matters of the rest
            else:
                live = {row[0] for row in db.execute(
                    "SELECT key FROM articles WHERE source = ?", (source,))}  # index only
                wanted = incoming & live
                if present is not None:
                    wanted |= live - incoming - set(present)
            plan = plan_ingest(
                source,
                articles,
                stored=self._stored(db, source, wanted,
                                    all_of_them=gone is None and len(wanted) == len(live)),
                registry=self._registry(db, source, incoming - live),
                holders=self._holders(db, {a.explicit_id for a, _ in articles if a.explicit_id}),
                present=present,
                now=now,
                mint=self._id_factory,
                hashes={key: e.content_hash for key, e in ready.items()},
            )
            self._apply(db, source, plan, ready)
        return plan.changes

    _STORED_SQL = (
        "SELECT a.key, a.id, a.content_hash, a.first_seen, a.updated,"
        " f.size, f.mtime_ns, f.inode, f.device, f.digest"
        " FROM articles AS a LEFT JOIN file_states AS f"
        " ON f.source = a.source AND f.key = a.key WHERE a.source = ?"
    )

    @classmethod
    def _stored(
        cls, db: sqlite3.Connection, source: str, keys: set[str], *, all_of_them: bool
    ) -> dict[str, Stored]:
        if all_of_them:
            rows = db.execute(cls._STORED_SQL, (source,)).fetchall()
        else:
            rows = []
            for chunk in chunks(sorted(keys)):
                rows += db.execute(
                    f"{cls._STORED_SQL} AND a.key IN ({marks(len(chunk))})", (source, *chunk)
                ).fetchall()
        fromiso = datetime.fromisoformat  # stored values are always our own UTC ISO
        return {
            key: Stored(
                id=id_,
                key=key,
                content_hash=content_hash,
                first_seen=fromiso(first_seen),
                updated=fromiso(updated),
                file=None if size is None else FileState(size, mtime_ns, inode, device, digest),
            )
            for key, id_, content_hash, first_seen, updated, size, mtime_ns, inode, device, digest
            in rows
        }

    @staticmethod
    def _registry(db: sqlite3.Connection, source: str, keys: set[str]) -> dict[str, Registered]:
        """Registry entries of ``keys`` (keys without a live article: they may come back)."""
        rows = []
        for chunk in chunks(sorted(keys)):
            rows += db.execute(
                f"SELECT key, id, first_seen FROM id_registry"
                f" WHERE source = ? AND key IN ({marks(len(chunk))})",
                (source, *chunk),
            ).fetchall()
        return {key: Registered(id_, from_iso(seen)) for key, id_, seen in rows}

    @staticmethod
    def _holders(db: sqlite3.Connection, ids: Iterable[str]) -> dict[str, Holder]:
        holders: dict[str, Holder] = {}
        for chunk in chunks(sorted(ids)):
            rows = db.execute(
                "SELECT r.id, r.source, r.key, r.first_seen, a.id IS NOT NULL"
                " FROM id_registry AS r LEFT JOIN articles AS a ON a.id = r.id"
                f" WHERE r.id IN ({marks(len(chunk))})",
                tuple(chunk),
            )
            for id_, source, key, seen, live in rows:
                holders[id_] = Holder(source, key, from_iso(seen), bool(live))
        return holders

    @staticmethod
    def _apply(db: sqlite3.Connection, source: str, plan: Plan,
               ready: Mapping[str, Encoded]) -> None:
        db.executemany("DELETE FROM articles WHERE id = ?", ((i,) for i in plan.delete_ids))
        # An unchanged article keeps its stored row (data, dates) whole; only a rename
        # touches it.  Everything else is written in full.
        db.executemany(
            "UPDATE articles SET key = ?, data = json_set(data, '$.key', ?) WHERE id = ?",
            (
                (w.key, w.key, w.id)
                for w in plan.writes
                if w.status == "unchanged" and w.renamed_from is not None
            ),
        )
        columns = ("(id, source, key, content_hash, data, published, first_seen, updated,"
                   " title, link, story)")
        db.executemany(
            f"INSERT INTO articles {columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article_row(source, w, ready) for w in plan.writes if w.status == "added"),
        )
        db.executemany(
            f"INSERT INTO articles {columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET"
            " key = excluded.key, content_hash = excluded.content_hash, data = excluded.data,"
            " published = excluded.published, first_seen = excluded.first_seen,"
            " updated = excluded.updated, title = excluded.title, link = excluded.link,"
            " story = excluded.story",
            (article_row(source, w, ready) for w in plan.writes if w.status == "changed"),
        )
        # A minted id must be new: a plain INSERT fails loudly if the factory repeats itself.
        # A moved id replaces both the old (source, key) row and any stale holder of the id.
        db.executemany(
            "INSERT INTO id_registry (source, key, id, first_seen) VALUES (?, ?, ?, ?)",
            ((source, w.key, w.id, iso(w.first_seen)) for w in plan.writes if w.minted),
        )
        db.executemany(
            "INSERT OR REPLACE INTO id_registry (source, key, id, first_seen) VALUES (?, ?, ?, ?)",
            (
                (source, w.key, w.id, iso(w.first_seen))
                for w in plan.writes
                if w.register and not w.minted
            ),
        )
        db.executemany(
            "INSERT INTO file_states (source, key, size, mtime_ns, inode, device, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, key) DO UPDATE SET"
            " size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode,"
            " device = excluded.device, digest = excluded.digest"
            " WHERE file_states.size IS NOT excluded.size"
            " OR file_states.mtime_ns IS NOT excluded.mtime_ns"
            " OR file_states.inode IS NOT excluded.inode"
            " OR file_states.device IS NOT excluded.device"
            " OR file_states.digest IS NOT excluded.digest",
            (
                (source, w.key, w.file.size, w.file.mtime_ns, w.file.inode, w.file.device,
                 w.file.digest)
                for w in plan.writes
                if w.file is not None
            ),
        )

    def forget_source(self, source: str) -> int:
        """Remove a source's articles, file states and fetch state (it left the config).

        Its id registry is kept: if the source comes back, so do its ids.
        """
        with self._write(f"forget source {source!r}") as db:
            count: int = db.execute("DELETE FROM articles WHERE source = ?", (source,)).rowcount
            db.execute("DELETE FROM file_states WHERE source = ?", (source,))
            db.execute("DELETE FROM source_state WHERE source = ?", (source,))
            db.execute("DELETE FROM reading WHERE source = ?", (source,))
            db.execute("DELETE FROM folder_state WHERE source = ?", (source,))
        return count

    def prune(self, source: str, *, listed: Collection[str], now: datetime,
              retention: Retention, prefix: str = "") -> tuple[str, ...]:
        """Delete the entries of one remote feed that ``retention`` no longer keeps
        (:func:`plan_prune`), in one transaction; the keys deleted, sorted.

        ``listed``: every key the feed lists now (never deleted).  ``prefix``: the feed's
        keys start with it (a feed of an OPML source); empty: the whole source is one feed.
        The registry keeps the ids of entries no longer stored (so an entry that comes back
        gets its id back) within :func:`id_memory`, and forgets the others.
        """
        if retention.unlimited:
            return ()
        where = "source = ?"
        bounds: tuple[str, ...] = (source,)
        if prefix:  # the keys between prefix and its successor are exactly those under it
            where += " AND key >= ? AND key < ?"
            bounds = (source, prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1))
        fromiso = datetime.fromisoformat  # stored values are always our own UTC ISO
        memory = id_memory(retention, now)
        with self._write(f"prune articles of {source!r}") as db:
            held = [Held(key, id_, fromiso(published)) for key, id_, published in db.execute(
                f"SELECT key, id, published FROM articles WHERE {where}", bounds)]
            drop = plan_prune(held, listed=set(listed), now=now, retention=retention)
            for chunk in chunks(drop):
                db.execute(f"DELETE FROM articles WHERE {where} AND key IN"
                           f" ({marks(len(chunk))})", (*bounds, *chunk))
            self._forget_ids(db, where, bounds, len(held) - len(drop), memory)
        return drop

    def prune_unlisted_feeds(self, source: str, feeds: Collection[str]) -> tuple[str, ...]:
        """Delete the entries of an OPML source's feeds that its file no longer lists
        (keys ``"<feed> <entry>"``; ``feeds``: the feed names it lists now), in one
        transaction; the keys deleted, sorted.  Such a feed is never read again, so
        :meth:`prune` would never reach it: it goes as a source taken out of the
        configuration does.  The registry keeps its ids: subscribed again, its entries
        get them back."""
        listed = set(feeds)
        with self._write(f"prune unsubscribed feeds of {source!r}") as db:
            drop = sorted(key for (key,) in db.execute(
                "SELECT key FROM articles WHERE source = ?", (source,))
                if key.partition(" ")[0] not in listed)
            for chunk in chunks(drop):
                db.execute(f"DELETE FROM articles WHERE source = ? AND key IN"
                           f" ({marks(len(chunk))})", (source, *chunk))
            # and their fetch states: subscribed again, a 304 would bring nothing back
            gone = sorted({key.partition(" ")[0] for key in drop})
            for chunk in chunks(gone):
                db.execute(f"DELETE FROM source_state WHERE source IN ({marks(len(chunk))})",
                           chunk)
        return tuple(drop)

    @staticmethod
    def _forget_ids(db: sqlite3.Connection, where: str, bounds: tuple[str, ...], live: int,
                    memory: IdMemory) -> None:
        """Forget the registry entries of one feed's keys without a stored entry that are
        beyond ``memory`` (``live``: how many entries the feed has stored)."""
        if memory.unlimited:
            return
        # Each stored entry has its registry row: the others are the ids remembered.  A
        # look at the registry's range alone (no join) says whether any is due to go.
        count, first = db.execute(
            f"SELECT count(*), min(first_seen) FROM id_registry WHERE {where}", bounds
        ).fetchone()
        if not memory.due(count - live, opt_from_iso(first)):
            return
        oldest = opt_iso(memory.oldest)
        db.execute(  # (unqualified, source and key are the registry's: r is the only table)
            f"DELETE FROM id_registry WHERE {where} AND key IN ("
            " SELECT key FROM (SELECT r.key, r.first_seen, row_number() OVER"
            "  (ORDER BY r.first_seen DESC, r.id) AS n"
            f"  FROM id_registry AS r WHERE {where}"
            "  AND NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.id = r.id)) AS ranked"
            " WHERE n > ? OR first_seen < ?)",
            (*bounds, *bounds, 2**62 if memory.most is None else memory.most, oldest or ""))
