"""Moving a whole store to another one (``feeds store copy``): SQLite to PostgreSQL when
a deployment outgrows one machine, and back.

Both engines hold the same tables with the same encodings (``feeds.store.postgres``), so
the rows move as they are: every id, the id registry (the ids of removed articles too),
file states, each source's fetch state (validators, backoff, Retry-After, 410), folder
state, reading fingerprints, and what each feed's last publication left.  A rebuild from
the copy publishes the same bytes.  The copy is one transaction on the destination, which
must be empty.
"""

from __future__ import annotations

from typing import Any

from ..errors import StoreError

__all__ = ["TABLES", "copy_store"]

#: each table and its columns, parents first (file states refer to articles)
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("articles", ("id", "source", "key", "content_hash", "published", "first_seen",
                  "updated", "data", "title", "link", "story")),
    ("id_registry", ("source", "key", "id", "first_seen")),
    ("file_states", ("source", "key", "size", "mtime_ns", "inode", "device", "digest")),
    ("source_state", ("source", "state")),
    ("folder_state", ("source", "data")),
    ("feed_state", ("feed", "digest")),
    ("feed_index", ("feed", "data")),
    ("reading", ("source", "fingerprint")),
)

_BATCH = 1000


def copy_store(source: Any, destination: Any) -> dict[str, int]:
    """Copy every row of ``source`` into the empty ``destination`` (each a SQLite or a
    PostgreSQL store); the rows copied, by table.  ``StoreError`` when the destination
    already holds ids (a copy never merges two stores' ids)."""
    counts: dict[str, int] = {}
    with destination._write("copy a store into it") as out:
        held = out.execute("SELECT count(*) FROM id_registry").fetchone()[0]
        held += out.execute("SELECT count(*) FROM articles").fetchone()[0]
        if held:
            raise StoreError(f"{destination.path}: cannot copy a store into it: it is not "
                             f"empty ({held} ids and articles); copy into a new database")
        for table, columns in TABLES:
            marks = ", ".join("?" * len(columns))
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            counts[table] = 0
            with source._read(f"read {table} to copy") as db:
                cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table}"
                                    f" ORDER BY {columns[0]}, {columns[1]}")
                while rows := cursor.fetchmany(_BATCH):
                    out.executemany(insert, rows)
                    counts[table] += len(rows)
    return counts
