"""The SQLite store's reads: items and their heads (newest first, along the indexes), ids,
counts, and what ``feeds recover`` matches and restores."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from ...model import Item
from ..types import Identity, ItemHead, Restored
from .codecs import article_from_json, from_iso, iso, story
from .connection import Connection
from .ingest import chunks, marks

__all__ = ["ReadQueries"]


class ReadQueries(Connection):
    """What reading and recovery ask."""

    def id_count(self) -> int:
        """How many ids the registry holds (0: a new or emptied store, safe to recover into)."""
        with self._read("count ids") as db:
            count: int = db.execute("SELECT count(*) FROM id_registry").fetchone()[0]
        return count

    def identities(self, source: str) -> list[Identity]:
        """What ``feeds recover`` matches published items against, for each live article of
        ``source``, without reading whole articles."""
        with self._read("read identities") as db:
            rows = db.execute(
                "SELECT key, id, content_hash, title, published, first_seen, updated,"
                " json_extract(data, '$.date_source') IN ('mtime', 'first-seen'),"
                " json_extract(data, '$.published') IS NOT NULL,"
                " json_extract(data, '$.explicit_id') IS NOT NULL, link"
                " FROM articles WHERE source = ? ORDER BY key", (source,)).fetchall()
        return [Identity(key, id_, content_hash, title, from_iso(published),
                         from_iso(first_seen), from_iso(updated), bool(guessed), bool(dated),
                         bool(explicit), link)
                for key, id_, content_hash, title, published, first_seen, updated, guessed,
                dated, explicit, link in rows]

    def restore_identities(self, source: str, rows: Sequence[Restored]) -> None:
        """Give articles of ``source`` the ids and dates their published items show (``feeds
        recover``), in one transaction: each row's article and registry entry take its id,
        ``first_seen`` and ``updated``; a ``published`` date (only for an article whose date
        was guessed) replaces the guessed one."""
        with self._write(f"restore ids of {source!r}") as db:
            for row in rows:
                done = db.execute(
                    "UPDATE articles SET id = ?, first_seen = ?, updated = ?"
                    " WHERE source = ? AND key = ?",
                    (row.id, iso(row.first_seen), iso(row.updated), source, row.key)).rowcount
                if not done:
                    raise ValueError(f"no article {row.key!r} in source {source!r}")
                db.execute("UPDATE id_registry SET id = ?, first_seen = ?"
                           " WHERE source = ? AND key = ?",
                           (row.id, iso(row.first_seen), source, row.key))
                if row.published is not None:
                    published = iso(row.published)
                    link, title = db.execute(
                        "SELECT link, title FROM articles WHERE id = ?", (row.id,)).fetchone()
                    db.execute(
                        "UPDATE articles SET published = ?, story = ?,"
                        " data = json_set(data, '$.published', ?) WHERE id = ?",
                        (published, story(link, title, published), published, row.id))

    # ----------------------------------------------------------------------- reading

    def items(
        self,
        sources: Collection[str] | None = None,
        *,
        limit: int | None = None,
        since: datetime | None = None,
    ) -> list[Item]:
        """Items newest first by (published desc, id).

        ``sources`` None: all sources.  ``since``: only items published at or after it.
        With a ``limit``, each source is read along its own index and the heads merged, so
        the cost follows ``limit``, not the size of the store.
        """
        names = self._names(sources)
        if names is not None and not names:
            return []
        if limit is not None and limit <= 0:
            return []
        with self._read("read items") as db:
            if names is not None and len(names) > 1 and limit is not None:
                rows = []
                for name in names:
                    sql, params = self._items_sql([name], limit, since)
                    rows.extend(db.execute(sql, params).fetchall())
                rows.sort(key=lambda row: row[1])  # id ascending, then (stable) ...
                rows.sort(key=lambda row: row[0], reverse=True)  # ... published descending
                rows = rows[:limit]
            else:
                sql, params = self._items_sql(names, limit, since)
                rows = db.execute(sql, params).fetchall()
        return [self._item(*row[1:]) for row in rows]

    def heads(
        self,
        sources: Collection[str] | None = None,
        *,
        limit: int | None = None,
        since: datetime | None = None,
    ) -> list[ItemHead]:
        """:meth:`items`, same order and arguments, as :class:`ItemHead`: read from the
        covering index ``articles_heads`` alone, so it costs no JSON parsing."""
        names = self._names(sources)
        if (names is not None and not names) or (limit is not None and limit <= 0):
            return []
        columns = "id, published, first_seen, updated, content_hash, title, link, story, source"
        with self._read("read item heads") as db:
            if names is not None and len(names) > 1 and limit is not None:
                rows = []
                for name in names:
                    sql, params = self._items_sql([name], limit, since, columns)
                    rows.extend(db.execute(sql, params).fetchall())
                rows.sort(key=lambda row: row[0])  # id ascending, then (stable) ...
                rows.sort(key=lambda row: row[1], reverse=True)  # ... published descending
                rows = rows[:limit]
            else:
                sql, params = self._items_sql(names, limit, since, columns)
                rows = db.execute(sql, params).fetchall()
        make = ItemHead._make
        return [make(row) for row in rows]

    def items_by_id(self, ids: Sequence[str]) -> dict[str, Item]:
        """The items with these ids (missing ids are left out)."""
        out: dict[str, Item] = {}
        with self._read("read items") as db:
            for chunk in chunks(list(ids)):
                rows = db.execute(
                    "SELECT id, data, first_seen, updated, content_hash FROM articles"
                    f" WHERE id IN ({marks(len(chunk))})", tuple(chunk)).fetchall()
                for row in rows:
                    out[row[0]] = self._item(*row)
        return out

    def explain_items(
        self, sources: Collection[str] | None = None, *, limit: int | None = 50
    ) -> list[str]:
        """SQLite's query plan for one query of :meth:`items` (tests and diagnostics)."""
        sql, params = self._items_sql(self._names(sources), limit, None)
        with self._read("explain a query") as db:
            return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]

    @staticmethod
    def _names(sources: Collection[str] | None) -> list[str] | None:
        if sources is None:
            return None
        if isinstance(sources, str):
            raise TypeError("sources must be a collection of names, not a string")
        return sorted(set(sources))

    @staticmethod
    def _where(names: list[str] | None) -> tuple[list[str], list[Any]]:
        if names is None:
            return [], []
        if len(names) == 1:
            return ["source = ?"], list(names)  # walks articles_source_newest in order
        return [f"source IN ({marks(len(names))})"], list(names)

    @classmethod
    def _items_sql(
        cls, names: list[str] | None, limit: int | None, since: datetime | None,
        columns: str = "published, id, data, first_seen, updated, content_hash",
    ) -> tuple[str, list[Any]]:
        where, params = cls._where(names)
        if since is not None:
            where.append("published >= ?")
            params.append(iso(since))
        sql = f"SELECT {columns} FROM articles"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY published DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    @staticmethod
    def _item(id_: str, data: str, first_seen: str, updated: str, content_hash: str) -> Item:
        return Item(
            id=id_,
            article=article_from_json(data),
            first_seen=from_iso(first_seen),
            updated=from_iso(updated),
            content_hash=content_hash,
        )

    def count(self, sources: Collection[str] | None = None) -> int:
        names = self._names(sources)
        if names is not None and not names:
            return 0
        where, params = self._where(names)
        sql = "SELECT count(*) FROM articles"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._read("count items") as db:
            count: int = db.execute(sql, params).fetchone()[0]
        return count

    def get_item(self, id: str) -> Item | None:
        with self._read("read an item") as db:
            row = db.execute(
                "SELECT id, data, first_seen, updated, content_hash FROM articles WHERE id = ?",
                (id,),
            ).fetchone()
        return None if row is None else self._item(*row)

    def lookup_id(self, source: str, key: str) -> str | None:
        """The id (source, key) has, or had before it was removed."""
        with self._read("look up an id") as db:
            row = db.execute(
                "SELECT id FROM id_registry WHERE source = ? AND key = ?", (source, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def sources(self) -> list[str]:
        """Sources that have articles, file states or fetch state."""
        with self._read("list sources") as db:
            rows = db.execute(
                "SELECT source FROM articles UNION SELECT source FROM file_states"
                " UNION SELECT source FROM source_state ORDER BY 1"
            ).fetchall()
        return [row[0] for row in rows]
