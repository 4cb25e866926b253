"""The store: articles with their permanent ids, the id registry, file and fetch state, and
what each feed's last publication left, behind one typed protocol.

Everything crossing :class:`Store` is a model object or a value of :mod:`feeds.store.types`,
with aware UTC datetimes (item heads carry sortable :data:`~feeds.store.types.Stamp` texts,
for speed: see there); no SQL, no JSON, no file path.  Implementations:

* :mod:`feeds.store.sqlite`: the one the program uses (schema and migrations, codecs,
  queries); :func:`open_store` opens it.
* :mod:`feeds.store.postgres`: one PostgreSQL database shared by several nodes (psycopg 3,
  the ``postgresql`` extra); :func:`open_store` opens it for a ``postgresql://`` URL.
* :mod:`feeds.store.memory`: dicts, for pure tests.

All pass the same protocol test suite (``tests/test_store_protocol.py``).  The decisions
(ids, what changed, what retention drops) are pure functions of :mod:`feeds.store.plan`
and :mod:`feeds.store.retention`, shared by both.  Shaped
after lemon24/reader's ``StorageType`` protocol and APScheduler 3's ``BaseJobStore`` (with
its ``MemoryJobStore`` beside the SQL one).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from ..model import Article, Changes, FetchState, FileState, Item, Retention
from .memory import MemoryStore
from .postgres.connection import is_postgres_url
from .sqlite import (
    MIGRATIONS,
    RECOVER_HINT,
    Encoded,
    Migration,
    SqliteStore,
    article_from_json,
    article_to_json,
    is_empty_file,
)
from .types import (
    FeedIndex,
    FeedState,
    FolderState,
    Identity,
    ItemHead,
    Restored,
    Selection,
    Stamp,
    instant,
    stamp,
)

if TYPE_CHECKING:
    from .postgres import PostgresStore

__all__ = [
    "MIGRATIONS",
    "RECOVER_HINT",
    "Changes",
    "Encoded",
    "FeedIndex",
    "FeedState",
    "FetchState",
    "FileState",
    "FolderState",
    "Identity",
    "ItemHead",
    "MemoryStore",
    "Migration",
    "Restored",
    "Selection",
    "SqliteStore",
    "Stamp",
    "Store",
    "StoreHandle",
    "article_from_json",
    "article_to_json",
    "instant",
    "is_empty_file",
    "is_postgres_url",
    "open_store",
    "stamp",
]


class StoreHandle(Protocol):
    """A store another process can open for itself (pickled to a render worker)."""

    def open(self) -> Store: ...


class Store(Protocol):
    """What the pipeline, ``feeds recover`` and the shells ask of a store.

    Every write is one transaction: all of it, or (on any exception) none of it.
    """

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def handle(self) -> StoreHandle | None:
        """What a worker process opens to read this store (None: no other process can
        see this store's data; render in this process)."""

    # ingest
    def file_states(self, source: str,
                    keys: Collection[str] | None = None) -> dict[str, FileState]:
        """The source's file states by key: all of them, or those of ``keys``."""

    def keys_under(self, source: str, folders: Collection[str]) -> set[str]:
        """Keys of the source's articles inside any of ``folders`` (keys of folders)."""

    def ingest(self, source: str, articles: Sequence[tuple[Article, FileState | None]], *,
               now: datetime, present: Collection[str] | None = None,
               gone: Collection[str] | None = None,
               encoded: Mapping[str, Encoded] | None = None) -> Changes:
        """Store freshly read ``articles`` of ``source`` (see ``SqliteStore.ingest``)."""

    def forget_source(self, source: str) -> int:
        """Remove a source's articles, file states, fetch state and reading fingerprint;
        keep its ids."""

    def link_holders(self, source: str, links: Collection[str]) -> dict[str, str]:
        """The key of ``source``'s stored article holding each of ``links`` (those held)."""

    def reading_fingerprint(self, source: str) -> str | None:
        """What the source's files were last read with (see ``set_reading_fingerprint``)."""

    def set_reading_fingerprint(self, source: str, fingerprint: str) -> None:
        """Record what ``source``'s stored articles were all read with: a digest of the
        configuration reading depends on.  When it differs, every file is read again."""

    def prune(self, source: str, *, listed: Collection[str], now: datetime,
              retention: Retention, prefix: str = "") -> tuple[str, ...]:
        """Delete the entries of one remote feed ``retention`` no longer keeps."""

    def prune_unlisted_feeds(self, source: str, feeds: Collection[str]) -> tuple[str, ...]:
        """Delete the entries (and fetch states) of an OPML source's feeds its file no
        longer lists; keep their ids."""

    # recovery
    def id_count(self) -> int: ...

    def identities(self, source: str) -> list[Identity]: ...

    def restore_identities(self, source: str, rows: Sequence[Restored]) -> None: ...

    # reading
    def items(self, sources: Collection[str] | None = None, *, limit: int | None = None,
              since: datetime | None = None) -> list[Item]:
        """Items newest first by (published desc, id)."""

    def heads(self, sources: Collection[str] | None = None, *, limit: int | None = None,
              since: datetime | None = None) -> list[ItemHead]:
        """:meth:`items`, same order and arguments, as :class:`ItemHead`."""

    def items_by_id(self, ids: Sequence[str]) -> dict[str, Item]: ...

    def count(self, sources: Collection[str] | None = None) -> int: ...

    def get_item(self, id: str) -> Item | None: ...

    def lookup_id(self, source: str, key: str) -> str | None:
        """The id (source, key) has, or had before it was removed."""

    def sources(self) -> list[str]:
        """Sources that have articles, file states or fetch state."""

    # state
    def source_state(self, source: str) -> FetchState | None: ...

    def set_source_states(self, states: Mapping[str, FetchState]) -> None: ...

    # claims: which node fetches which remote feed (or scans which folder) now
    def claim(self, feeds: Collection[str], *, lease: timedelta,
              limit: int | None = None) -> list[str]:
        """Of ``feeds`` (fetch state names, or folder sources), those this node fetches
        now, sorted, each leased to it for ``lease`` unless released sooner: on a
        shared store, at most ``limit``, and none another node holds a live lease on; on a
        store one node uses, every one."""

    def release(self, feeds: Collection[str]) -> None:
        """Give up this node's leases on ``feeds`` (their state is saved)."""

    def announce(self, source: str) -> None:
        """Tell the other nodes sharing this store that ``source``'s articles changed
        (they publish the feeds showing it again)."""

    def folder_state(self, source: str) -> FolderState | None:
        """What the last scan of folder ``source`` left (None: none yet)."""

    def set_folder_state(self, source: str, state: FolderState) -> None: ...

    def feed_state(self, feed: str) -> FeedState | None: ...

    def feed_index(self, feed: str) -> FeedIndex | None: ...

    def set_feed_state(self, feed: str, state: FeedState, index: FeedIndex | None = None, *,
                       keep_index: bool = False) -> None: ...


def open_store(path: str | Path, *, dry_run: bool = False,
               id_factory: Callable[[], str] | None = None,
               busy_timeout: float = 10.0, output: str = "") -> Store:
    """The SQLite store at ``path`` (created if missing).  ``dry_run``: an in-memory copy of
    it (empty if there is none): the file is only read, nothing written reaches it.

    A ``postgresql://`` URL opens that database (its schema created or migrated); a dry
    run of one works on an in-memory SQLite copy of it.  ``output``: the output folder
    this process publishes to (several nodes share that store, each its own folder)."""
    if is_postgres_url(path):
        from .postgres import PostgresStore

        assert isinstance(path, str)
        store = PostgresStore.open(path, id_factory=id_factory, busy_timeout=busy_timeout)
        store.output = output
        if not dry_run:
            return store
        from .copy import copy_store

        with store:
            scratch = SqliteStore.open(":memory:", id_factory=id_factory)
            copy_store(store, scratch)
        scratch._copy = True
        return scratch
    opener = SqliteStore.open_copy if dry_run else SqliteStore.open
    return opener(path, id_factory=id_factory, busy_timeout=busy_timeout)


def _conforms(sqlite: SqliteStore, memory: MemoryStore,
              postgres: PostgresStore) -> tuple[Store, Store, Store]:
    """Every implementation is a store (checked by mypy)."""
    return sqlite, memory, postgres
