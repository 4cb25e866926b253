"""The PostgreSQL store's connection: opening (psycopg 3), migrations, the read and write
transactions every query runs in, reconnecting after the server went away, and the one
place psycopg's errors become ``StoreError``.

The queries are the SQLite store's own (``feeds.store.sqlite``: ingest, reading, state),
run through :class:`PgDb`, which speaks their dialect to PostgreSQL: ``?`` placeholders,
``json_set``/``json_extract`` on the article's JSON text, ``IS NOT`` between values,
``INSERT OR REPLACE``, and ``ON CONFLICT (source, key)`` (unique by the key's md5 here:
see ``schema``).  One set of queries, two engines: they cannot drift apart.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit, urlunsplit

from ...errors import StoreError, UnreachableError
from ..plan import default_id_factory
from ..sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from . import schema

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgConnection", "PgDb", "is_postgres_url", "redact", "sql_for_postgres"]

SCHEMES = ("postgresql://", "postgres://")
MISSING = ("[store] url is a PostgreSQL database, and psycopg 3 is not installed: "
           "install feeds with its extra, pip install 'feeds[postgresql]'")


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def redact(url: str) -> str:
    """``url`` without its password (it is logged and shown in errors)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(MISSING) from exc
    return psycopg


# --------------------------------------------------------------------------- the dialect

_JSON_SET = re.compile(r"json_set\(data, '\$\.(\w+)', \?\)")
_JSON_EXTRACT = re.compile(r"json_extract\(data, '\$\.(\w+)'\)")
_REPLACE = "INSERT OR REPLACE INTO id_registry (source, key, id, first_seen) VALUES (?, ?, ?, ?)"


@functools.lru_cache(maxsize=512)
def sql_for_postgres(sql: str) -> str:
    """A query of the SQLite store in PostgreSQL's words (same meaning, same rows)."""
    sql = sql.replace("%", "%%")
    sql = _JSON_SET.sub(r"jsonb_set(data::jsonb, '{\1}', to_jsonb(?::text))::text", sql)
    sql = _JSON_EXTRACT.sub(r"(data::jsonb ->> '\1')", sql)
    sql = re.sub(r" IS NOT (?!NULL)", " IS DISTINCT FROM ", sql)
    sql = sql.replace("ON CONFLICT (source, key)", "ON CONFLICT (source, md5(key))")
    return sql.replace("?", "%s")


class PgDb:
    """What the SQLite store's queries call on their connection, on a psycopg one."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    @staticmethod
    def _q(sql: str) -> str:
        return sql_for_postgres(sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self._conn.execute(self._q(sql), tuple(params) or None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if sql == _REPLACE:  # SQLite's REPLACE also drops any other row holding the id
            for source, key, id_, first_seen in rows:
                self._conn.execute("DELETE FROM id_registry WHERE id = %s"
                                   " AND NOT (source = %s AND key = %s)", (id_, source, key))
                self._conn.execute(
                    "INSERT INTO id_registry (source, key, id, first_seen)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (source, md5(key)) DO UPDATE SET"
                    " id = excluded.id, first_seen = excluded.first_seen",
                    (source, key, id_, first_seen))
            return
        rows = [tuple(row) for row in rows]
        if rows:
            with self._conn.cursor() as cursor:
                cursor.executemany(self._q(sql), rows)


# --------------------------------------------------------------------------- the connection


class PgConnection:
    """One PostgreSQL database, by URL.  Open with :meth:`open`; a context manager.

    Safe to share between threads (calls are serialized by a lock).  A connection the
    server dropped (a restart, the network) is replaced at the next call: that call's
    ``StoreError`` says what happened; the one after it reconnects.
    """

    def __init__(self, url: str, conn: psycopg.Connection[Any],
                 id_factory: Callable[[], str]) -> None:
        self._url = url
        self._path = redact(url)
        self._conn: psycopg.Connection[Any] | None = conn
        self._id_factory = id_factory
        self._lock = threading.RLock()

    @classmethod
    def open(cls, url: str, *, id_factory: Callable[[], str] | None = None,
             busy_timeout: float = 10.0) -> Self:
        """Connect to ``url`` and migrate its schema (created on first use)."""
        conn = cls._connect_to(url, busy_timeout)
        try:
            with _translate(redact(url), "migrate the store"):
                schema.migrate(conn, redact(url), schema.MIGRATIONS,
                               expected=[m.name for m in SQLITE_MIGRATIONS])
        except BaseException:
            conn.close()
            raise
        return cls(url, conn, id_factory or default_id_factory)

    @staticmethod
    def _connect_to(url: str, timeout: float = 10.0) -> psycopg.Connection[Any]:
        driver = import_psycopg()
        try:
            with _translate(redact(url), "connect to the store"):
                conn: psycopg.Connection[Any] = driver.connect(
                    url, autocommit=True, connect_timeout=max(1, int(timeout)),
                    application_name="feeds")
        except StoreError as exc:
            raise UnreachableError(exc.message) from exc.__cause__
        return conn

    def _live(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            self._conn = None
            conn = self._conn = self._connect_to(self._url)
        return conn

    @property
    def path(self) -> str:
        """The store's URL, without its password."""
        return self._path

    @property
    def url(self) -> str:
        return self._url

    @property
    def shared(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # The SQLite queries are typed for sqlite3's connection; PgDb answers the same calls.
    @contextmanager
    def _read(self, doing: str) -> Iterator[Any]:
        with self._lock, _translate(self._path, doing):
            yield PgDb(self._live())

    @contextmanager
    def _write(self, doing: str) -> Iterator[Any]:
        """One write transaction: all of it, or (on any exception) none of it."""
        with self._lock, _translate(self._path, doing):
            conn = self._live()
            with conn.transaction():
                yield PgDb(conn)

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[psycopg.Connection[Any]]:
        """A write transaction in PostgreSQL's own words (claims, copies)."""
        with self._lock, _translate(self._path, doing):
            conn = self._live()
            with conn.transaction():
                yield conn

    @property
    def schema_version(self) -> int:
        return len(self.migrations())

    def migrations(self) -> list[str]:
        """Names of the migrations applied to this store, in order."""
        with self._read("read the migrations") as db:
            return [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY version")]


@contextmanager
def _translate(where: str, doing: str) -> Iterator[None]:
    """psycopg's errors a user or the network can cause (the server down, refused, gone,
    a wrong password or database name, a disk full) become ``StoreError`` naming the
    database; the others (a bad statement, a broken constraint) are bugs and pass."""
    psycopg = import_psycopg()
    try:
        yield
    except (psycopg.OperationalError, psycopg.errors.InsufficientResources,
            psycopg.errors.InsufficientPrivilege) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreError(f"{where}: cannot {doing}: {detail}") from exc
