"""The SQLite store's schema: named migrations, applied in order and recorded.

Tables::

    articles     id PK, (source, key) unique, content_hash, data (the Article as JSON),
                 published (what items sort by), first_seen, updated, title, link, story
    id_registry  (source, key) -> id, id unique; kept when an article goes away (for a
                 remote feed's pruned entries, only within ``store.retention.id_memory``)
    file_states  (source, key) -> size, mtime_ns, inode, device, digest  (FK -> articles)
    source_state source -> JSON (remote fetch state: etag, last-modified ...)
    folder_state source -> JSON (a folder's last scan: skip counts, due re-reads)
    feed_state   feed -> JSON: the digest of its last publication
    feed_index   feed -> JSON: where each item's fragment sits in the files last written
    reading      source -> the fingerprint of the config its files were last read with
    migrations   name, applied_at: the named migrations applied, in order

``PRAGMA user_version`` is the number of migrations applied; a store written by a newer
version of feeds is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ...errors import StoreError
from .codecs import iso, story
from .errors import RECOVER_HINT

__all__ = ["APPLICATION_ID", "MIGRATIONS", "Migration", "migrate"]

APPLICATION_ID = int.from_bytes(b"FEED", "big")  # PRAGMA application_id: this is our file

@dataclass(frozen=True, slots=True)
class Migration:
    """One named schema step.  Never edit or reorder a released one: append a new one."""

    name: str
    apply: Callable[[sqlite3.Connection], None]


def _m0001_initial(db: sqlite3.Connection) -> None:
    for statement in (
        f"PRAGMA application_id = {APPLICATION_ID}",
        """CREATE TABLE articles (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            published TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            updated TEXT NOT NULL,
            data TEXT NOT NULL,  -- last: reading the other columns never walks its overflow
            UNIQUE (source, key)
        )""",
        "CREATE INDEX articles_newest ON articles (published DESC, id)",
        "CREATE INDEX articles_source_newest ON articles (source, published DESC, id)",
        """CREATE TABLE id_registry (
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            id TEXT NOT NULL UNIQUE,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (source, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE file_states (
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            device INTEGER NOT NULL,
            digest TEXT,
            PRIMARY KEY (source, key),
            FOREIGN KEY (source, key) REFERENCES articles (source, key)
                ON DELETE CASCADE ON UPDATE CASCADE
        ) WITHOUT ROWID""",
        """CREATE TABLE source_state (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE feed_state (
            feed TEXT PRIMARY KEY,
            digest TEXT NOT NULL
        ) WITHOUT ROWID""",
    ):
        db.execute(statement)


def _m0002_feed_heads(db: sqlite3.Connection) -> None:
    """Title and link as columns, and an index that covers what selecting a feed's items
    reads (no article JSON is parsed to decide what a feed shows); the feed index."""
    for statement in (
        "ALTER TABLE articles ADD COLUMN title TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE articles ADD COLUMN link TEXT",
        "UPDATE articles SET title = json_extract(data, '$.title'),"
        " link = json_extract(data, '$.link')",
        "CREATE INDEX articles_heads ON articles"
        " (source, published DESC, id, content_hash, first_seen, updated, title, link)",
        """CREATE TABLE feed_index (
            feed TEXT PRIMARY KEY,
            data TEXT NOT NULL
        )""",
    ):
        db.execute(statement)


def _m0003_story(db: sqlite3.Connection) -> None:
    """Each article's story keys (what merging compares: link, title and day) as a column
    in the covering index, so that selecting a feed computes none of them."""
    db.create_function("feeds_story", 3, story, deterministic=True)
    for statement in (
        "ALTER TABLE articles ADD COLUMN story TEXT NOT NULL DEFAULT ''",
        "UPDATE articles SET story = feeds_story(link, title, published)",
        "DROP INDEX articles_heads",
        "CREATE INDEX articles_heads ON articles"
        " (source, published DESC, id, content_hash, first_seen, updated, title, link, story)",
    ):
        db.execute(statement)


def _m0004_reading(db: sqlite3.Connection) -> None:
    """What each folder source was last read with (its reading fingerprint: when the
    config that reading depends on changes, every file is read again), and the links of
    a source's articles indexed (a new link is checked against the stored ones)."""
    for statement in (
        """CREATE TABLE reading (
            source TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX articles_links ON articles (source, link)",
    ):
        db.execute(statement)


def _m0005_folder_state(db: sqlite3.Connection) -> None:
    """What a folder source's last scan left besides its articles (skip counts, due
    re-reads): ``feeds status`` shows it, the next scan reads what expired."""
    db.execute("""CREATE TABLE folder_state (
        source TEXT PRIMARY KEY,
        data TEXT NOT NULL
    )""")


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _m0001_initial),
    Migration("0002_feed_heads", _m0002_feed_heads),
    Migration("0003_story", _m0003_story),
    Migration("0004_reading", _m0004_reading),
    Migration("0005_folder_state", _m0005_folder_state),
)


def migrate(db: sqlite3.Connection, path: str, migrations: Sequence[Migration]) -> None:
    """Apply pending migrations in order, each in its own transaction, recording each.

    The version is re-read inside each write transaction, so two processes opening a new
    store at once apply every migration exactly once.
    """
    names = [m.name for m in migrations]
    if _version(db, path, names) >= len(names):
        return  # the usual case: no write lock taken, so opening never waits for a writer
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = _version(db, path, names)
            if version >= len(migrations):
                db.execute("COMMIT")
                return
            migration = migrations[version]
            db.execute(
                "CREATE TABLE IF NOT EXISTS migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                " applied_at TEXT NOT NULL)"
            )
            migration.apply(db)
            db.execute(
                "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version + 1, migration.name, iso(datetime.now(UTC))),
            )
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def _version(db: sqlite3.Connection, path: str, names: list[str]) -> int:
    """The store's schema version, after checking the store is ours and not from the future."""
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError(f"{path}: not a feeds store (it already has other tables): check "
                             f"store.path; if this was the feeds store, {RECOVER_HINT}")
    else:
        _check_recorded(db, path, version, names)
    return version


def _check_recorded(db: sqlite3.Connection, path: str, version: int, names: list[str]) -> None:
    if version > len(names):
        raise StoreError(
            f"{path}: the store has schema version {version}, newer than this version of "
            f"feeds understands ({len(names)}); upgrade feeds or use another state directory"
        )
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise StoreError(f"{path}: not a feeds store (application id {app_id:#x}): check "
                         f"store.path; if this was the feeds store, {RECOVER_HINT}")
    recorded = [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY version")]
    if recorded != names[:version]:
        raise StoreError(
            f"{path}: the store's recorded migrations {recorded} do not match this version "
            f"of feeds ({names[:version]})"
        )
