"""The PostgreSQL store's schema: the same named, recorded migrations as SQLite's
(:data:`feeds.store.sqlite.MIGRATIONS`), each written for PostgreSQL.

The tables and their columns are SQLite's (texts are ``COLLATE "C"``: they compare and sort
byte by byte, as SQLite's do, so keys, ids and :data:`~feeds.store.types.Stamp` texts order
alike on both; instants are the same fixed-width UTC ISO 8601 texts; articles the same
JSON), so that ``feeds store copy`` moves rows as they are.  What PostgreSQL adds: the
``claims`` table (which node fetches which remote feed, until when).

Two nodes opening a new database at once apply every migration once: each runs under a
transaction-level advisory lock and re-reads what is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...errors import StoreError

__all__ = ["LOCK_ID", "MIGRATIONS", "PgMigration", "migrate"]

#: the advisory lock migrations run under ("FEED", as SQLite's application id)
LOCK_ID = int.from_bytes(b"FEED", "big")

T = 'TEXT COLLATE "C"'


@dataclass(frozen=True, slots=True)
class PgMigration:
    """One named schema step, the same name as SQLite's step of the same number."""

    name: str
    statements: Sequence[str]


# A key is an entry's id as its feed gives it, of any length, and a B-tree entry holds at
# most 2,704 bytes: (source, key) is unique by the key's md5 (the dialect's ON CONFLICT
# names that index), looked up by a hash index (no size limit); file states follow their
# article (SQLite's foreign key, ON DELETE and ON UPDATE CASCADE) by triggers.
_FOLLOW = """CREATE FUNCTION feeds_file_states_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM file_states WHERE source = OLD.source AND key = OLD.key;
        RETURN OLD;
    END IF;
    UPDATE file_states SET source = NEW.source, key = NEW.key
        WHERE source = OLD.source AND key = OLD.key;
    RETURN NEW;
END $$"""


def _m0001() -> list[str]:
    return [
        f"""CREATE TABLE articles (
            id {T} PRIMARY KEY,
            source {T} NOT NULL,
            key {T} NOT NULL,
            content_hash {T} NOT NULL,
            published {T} NOT NULL,
            first_seen {T} NOT NULL,
            updated {T} NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX articles_source_key ON articles (source, md5(key))",
        "CREATE INDEX articles_key ON articles USING hash (key)",
        "CREATE INDEX articles_newest ON articles (published DESC, id)",
        "CREATE INDEX articles_source_newest ON articles (source, published DESC, id)",
        f"""CREATE TABLE id_registry (
            source {T} NOT NULL,
            key {T} NOT NULL,
            id {T} NOT NULL UNIQUE,
            first_seen {T} NOT NULL
        )""",
        "CREATE UNIQUE INDEX id_registry_source_key ON id_registry (source, md5(key))",
        "CREATE INDEX id_registry_key ON id_registry USING hash (key)",
        "CREATE INDEX id_registry_source ON id_registry (source, first_seen)",
        f"""CREATE TABLE file_states (
            source {T} NOT NULL,
            key {T} NOT NULL,
            size BIGINT NOT NULL,
            mtime_ns BIGINT NOT NULL,
            inode BIGINT NOT NULL,
            device BIGINT NOT NULL,
            digest TEXT
        )""",
        "CREATE UNIQUE INDEX file_states_source_key ON file_states (source, md5(key))",
        "CREATE INDEX file_states_key ON file_states USING hash (key)",
        "CREATE INDEX file_states_source ON file_states (source)",
        _FOLLOW,
        "CREATE TRIGGER articles_gone AFTER DELETE ON articles FOR EACH ROW"
        " EXECUTE FUNCTION feeds_file_states_follow()",
        "CREATE TRIGGER articles_moved AFTER UPDATE OF source, key ON articles FOR EACH ROW"
        " WHEN (OLD.source IS DISTINCT FROM NEW.source OR OLD.key IS DISTINCT FROM NEW.key)"
        " EXECUTE FUNCTION feeds_file_states_follow()",
        f"CREATE TABLE source_state (source {T} PRIMARY KEY, state TEXT NOT NULL)",
        f"CREATE TABLE feed_state (feed {T} PRIMARY KEY, digest TEXT NOT NULL)",
    ]


# 0002: titles and links as columns (SQLite also adds a covering index: a B-tree entry is
# limited in size here, and a title may be long, so the per-source index serves instead)
_M0002 = [
    f"ALTER TABLE articles ADD COLUMN title {T} NOT NULL DEFAULT ''",
    f"ALTER TABLE articles ADD COLUMN link {T}",
    f"CREATE TABLE feed_index (feed {T} PRIMARY KEY, data TEXT NOT NULL)",
]
_M0003 = [f"ALTER TABLE articles ADD COLUMN story {T} NOT NULL DEFAULT ''"]
_M0004 = [
    f"CREATE TABLE reading (source {T} PRIMARY KEY, fingerprint TEXT NOT NULL)",
    "CREATE INDEX articles_links ON articles USING hash (link)",  # no size limit
]
_M0005 = [f"CREATE TABLE folder_state (source {T} PRIMARY KEY, data TEXT NOT NULL)"]

MIGRATIONS: tuple[PgMigration, ...] = (
    PgMigration("0001_initial", _m0001()),
    PgMigration("0002_feed_heads", _M0002),
    PgMigration("0003_story", _M0003),
    PgMigration("0004_reading", _M0004),
    PgMigration("0005_folder_state", _M0005),
)

#: not a migration of the store's data (SQLite, one node, needs none): the remote feeds'
#: claims, created with the schema, recreated if missing
CLAIMS = (f"CREATE TABLE IF NOT EXISTS claims (feed {T} PRIMARY KEY, node TEXT NOT NULL,"
          " until TIMESTAMPTZ NOT NULL)")


def migrate(conn: Any, where: str, migrations: Sequence[PgMigration] = MIGRATIONS,
            expected: Sequence[str] | None = None,
            on_step: Callable[[str], None] | None = None) -> None:
    """Apply pending migrations in order, each in its own transaction, recording each.

    ``conn``: a psycopg connection in autocommit mode.  ``expected``: the names SQLite's
    migrations have (they must be these, in this order).
    """
    names = [m.name for m in migrations]
    if expected is not None and list(expected) != names:
        raise AssertionError(f"PostgreSQL migrations {names} differ from SQLite's {expected}")
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
            version = _version(conn, where, names)
            if version >= len(migrations):
                conn.execute(CLAIMS)
                return
            migration = migrations[version]
            conn.execute("CREATE TABLE IF NOT EXISTS migrations ("
                         " version INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                         " applied_at TEXT NOT NULL)")
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute("INSERT INTO migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                         (version + 1, migration.name,
                          datetime.now(UTC).isoformat(timespec="microseconds")))
            if on_step is not None:
                on_step(migration.name)


def _version(conn: Any, where: str, names: list[str]) -> int:
    """How many migrations the database records, after checking it is a feeds store."""
    tables = {row[0] for row in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
    if "migrations" not in tables:
        if tables - {"claims"}:
            raise StoreError(f"{where}: not a feeds store (the database already has other "
                             f"tables: {', '.join(sorted(tables)[:5])}): check [store] url")
        return 0
    recorded = [row[0] for row in conn.execute("SELECT name FROM migrations ORDER BY version")]
    if len(recorded) > len(names):
        raise StoreError(f"{where}: the store has schema version {len(recorded)}, newer than "
                         f"this version of feeds understands ({len(names)}); upgrade feeds")
    if recorded != names[:len(recorded)]:
        raise StoreError(f"{where}: the store's recorded migrations {recorded} do not match "
                         f"this version of feeds ({names[:len(recorded)]})")
    return len(recorded)
