"""The SQLite store's connection: opening (or copying) the file, its pragmas and
migrations, and the read and write transactions every query runs in.

Safe to share between threads (calls are serialized by a lock); several processes may open
the same file (WAL; a writer waits up to ``busy_timeout`` for another).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Self

from ...errors import StoreError, os_reason
from ..plan import default_id_factory
from . import schema
from .errors import refuse_empty_file, translate

__all__ = ["MEMORY", "WAL_SIZE_LIMIT", "Connection"]

MEMORY = ":memory:"
#: the WAL file is cut back to this size once checkpointed: one large transaction (the first
#: prune of a store that grew without retention) must not leave it that large for good
WAL_SIZE_LIMIT = 64 * 1024 * 1024


class Connection:
    """One SQLite database.  Open with :meth:`open`; use as a context manager."""

    def __init__(
        self, db: sqlite3.Connection, path: str, id_factory: Callable[[], str]
    ) -> None:
        self._db = db
        self._path = path
        self._id_factory = id_factory
        self._lock = threading.RLock()
        self._copy = False

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        id_factory: Callable[[], str] | None = None,
        busy_timeout: float = 10.0,
    ) -> Self:
        """Open (creating it and its directory if needed) and migrate the store at ``path``.

        ``":memory:"`` opens a private in-memory store.
        """
        name = str(path)
        if name != MEMORY:
            refuse_empty_file(name)
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{name}: cannot create its directory: {os_reason(exc)}") \
                    from exc
        db = cls._connect(name, busy_timeout)
        return cls._setup(db, name, id_factory)

    @classmethod
    def open_copy(
        cls,
        path: str | Path,
        *,
        id_factory: Callable[[], str] | None = None,
        busy_timeout: float = 10.0,
    ) -> Self:
        """An in-memory copy of the store at ``path`` (empty if there is none): a dry run.

        The file is only read; nothing written to the copy ever reaches it.
        """
        name = str(path)
        if name != MEMORY:
            refuse_empty_file(name)
        db = cls._connect(MEMORY, busy_timeout)
        if name != MEMORY and Path(path).exists():
            try:
                with translate(name, "copy the store"):
                    source = sqlite3.connect(
                        f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout
                    )
                    try:
                        source.backup(db)
                    finally:
                        source.close()
            except BaseException:
                db.close()
                raise
        store = cls._setup(db, name, id_factory)
        store._copy = True
        return store

    @staticmethod
    def _connect(name: str, busy_timeout: float) -> sqlite3.Connection:
        with translate(name, "open the store"):
            return sqlite3.connect(
                name, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )

    @classmethod
    def _setup(
        cls, db: sqlite3.Connection, name: str, id_factory: Callable[[], str] | None
    ) -> Self:
        try:
            with translate(name, "open the store"):
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("PRAGMA journal_mode = WAL")  # "memory" for an in-memory store
                db.execute("PRAGMA synchronous = NORMAL")
                db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
                schema.migrate(db, name, schema.MIGRATIONS)
        except BaseException:
            db.close()
            raise
        return cls(db, name, id_factory or default_id_factory)

    @property
    def path(self) -> str:
        return self._path

    @property
    def shared(self) -> bool:
        """Whether another process opening :attr:`path` sees this store's data (not an
        in-memory store or copy)."""
        return not self._copy and self._path != MEMORY

    def close(self) -> None:
        with self._lock:
            try:
                with translate(self._path, "close the store"):
                    self._db.execute("PRAGMA optimize")
            except StoreError:
                pass  # the data is committed; a missed optimization is no failure
            except sqlite3.ProgrammingError:
                pass  # already closed
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _read(self, doing: str) -> Iterator[sqlite3.Connection]:
        with self._lock, translate(self._path, doing):
            yield self._db

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it, or (on any exception) none of it."""
        with self._lock, translate(self._path, doing):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):  # SQLite may have rolled back already
                        self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._read("read the schema version") as db:
            version: int = db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def migrations(self) -> list[str]:
        """Names of the migrations applied to this store, in order."""
        with self._read("read the migrations") as db:
            return [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY version")]
