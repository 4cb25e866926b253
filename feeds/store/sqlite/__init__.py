"""The SQLite implementation of :class:`feeds.store.Store`: one file, WAL, one writer.

``schema`` (the tables and their named migrations), ``codecs`` (how model objects, dates
and state are encoded), ``connection`` (opening, transactions), and the queries by
concern: ``ingest``, ``reading``, ``state``.  The only package that speaks SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codecs import Encoded, article_from_json, article_to_json
from .connection import MEMORY, WAL_SIZE_LIMIT
from .errors import RECOVER_HINT, is_empty_file, refuse_empty_file
from .ingest import IngestQueries
from .reading import ReadQueries
from .schema import MIGRATIONS, Migration
from .state import StateQueries

__all__ = [
    "MEMORY",
    "MIGRATIONS",
    "RECOVER_HINT",
    "WAL_SIZE_LIMIT",
    "Encoded",
    "Migration",
    "SqliteHandle",
    "SqliteStore",
    "article_from_json",
    "article_to_json",
    "is_empty_file",
    "refuse_empty_file",
]


class SqliteStore(IngestQueries, ReadQueries, StateQueries):
    """The store in one SQLite file (or in memory: ``":memory:"``, or a dry run's copy)."""

    def handle(self) -> SqliteHandle | None:
        """What another process opens to read this store: None when it could not see this
        store's data (an in-memory store, a dry run's copy)."""
        return SqliteHandle(self.path) if self.shared else None


@dataclass(frozen=True, slots=True)
class SqliteHandle:
    """A store file another process (a render worker) opens for itself: picklable."""

    path: str

    def open(self) -> SqliteStore:
        return SqliteStore.open(self.path)
