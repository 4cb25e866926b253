"""The SQLite store: articles with their permanent ids, the id registry, and fetch state.

The only module that speaks SQL.  ``sqlite3`` errors a user can cause (a corrupt file, a
directory in its place, an unwritable directory, a lock held too long) become
``StoreError`` naming the database; anything else is a bug and passes through.

Tables::

    articles     id PK, (source, key) unique, content_hash, data (the Article as JSON),
                 published (what items sort by), first_seen, updated
    id_registry  (source, key) -> id, id unique; kept when an article goes away (for a
                 remote feed's pruned entries, only within ``decide.id_memory``)
    file_states  (source, key) -> size, mtime_ns, inode, device, digest  (FK -> articles)
    source_state source -> JSON (remote fetch state: etag, last-modified ...)
    feed_state   feed -> digest of its last publication
    feed_index   feed -> JSON: where each item's fragment sits in the files last written
    migrations   name, applied_at: the named migrations applied, in order

``PRAGMA user_version`` is the number of migrations applied; a store written by a newer
version of feeds is refused.  Decisions (ids, what changed) live in ``feeds.decide``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from .decide import (
    Changes,
    Held,
    Holder,
    IdMemory,
    Plan,
    Registered,
    Retention,
    Stored,
    Write,
    default_id_factory,
    id_memory,
    plan_ingest,
    plan_prune,
)
from .errors import LockedError, StoreError, os_reason
from .model import (
    Article,
    Author,
    Enclosure,
    FileState,
    Item,
    Origin,
    pickled_by_fields,
    utc,
)
from .normalize.keys import STORY_SEP, story_keys_of

__all__ = [
    "MIGRATIONS",
    "RECOVER_HINT",
    "Changes",
    "Encoded",
    "FileState",
    "Identity",
    "ItemHead",
    "Migration",
    "Restored",
    "Store",
    "article_from_json",
    "article_to_json",
]

APPLICATION_ID = int.from_bytes(b"FEED", "big")  # PRAGMA application_id: this is our file
MEMORY = ":memory:"
_CHUNK = 500  # ids per "IN (...)" query
#: the WAL file is cut back to this size once checkpointed: one large transaction (the first
#: prune of a store that grew without retention) must not leave it that large for good
WAL_SIZE_LIMIT = 64 * 1024 * 1024

# Primary result codes a user can cause; everything else (SQLITE_ERROR: a bad statement,
# SQLITE_CONSTRAINT: broken invariants, SQLITE_MISUSE ...) is a bug and passes through.
_LOCKED_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_USER_CODES = {
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_PROTOCOL,
    sqlite3.SQLITE_AUTH,
    sqlite3.SQLITE_NOLFS,
}


#: what to do about a store file that exists but holds no usable store: the published feeds
#: are the one copy of the ids the world already has
RECOVER_HINT = ("run `feeds recover --force` to rebuild the ids from the published feeds "
                "(the file is kept aside), or delete it to start afresh (every id is then "
                "minted anew)")

#: I/O that fails with "disk I/O error" (not "disk is full") when the disk is full
_GROWING = {"WRITE", "TRUNCATE", "FSYNC", "SHMSIZE", "SHMMAP"}


@contextmanager
def _translate(path: str, doing: str) -> Iterator[None]:
    """Turn the sqlite3 errors a user can cause into ``StoreError`` naming ``path``."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            raise
        primary = code & 0xFF
        if primary in _LOCKED_CODES:
            raise LockedError(
                f"{path}: cannot {doing}: the database is locked by another process ({exc})"
            ) from exc
        if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            raise StoreError(f"{path}: cannot {doing}: {exc}; if this is the feeds store, "
                             f"{RECOVER_HINT}") from exc
        if primary in _USER_CODES:
            detail = str(exc)
            name = getattr(exc, "sqlite_errorname", None)
            if primary == sqlite3.SQLITE_IOERR and name:  # say which I/O failed
                full = name.removeprefix("SQLITE_IOERR_") in _GROWING
                detail += f" ({name}{'; is the disk full?' if full else ''})"
            raise StoreError(f"{path}: cannot {doing}: {detail}") from exc
        raise


# --------------------------------------------------------------------------- migrations


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
    db.create_function("feeds_story", 3, _story, deterministic=True)
    for statement in (
        "ALTER TABLE articles ADD COLUMN story TEXT NOT NULL DEFAULT ''",
        "UPDATE articles SET story = feeds_story(link, title, published)",
        "DROP INDEX articles_heads",
        "CREATE INDEX articles_heads ON articles"
        " (source, published DESC, id, content_hash, first_seen, updated, title, link, story)",
    ):
        db.execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _m0001_initial),
    Migration("0002_feed_heads", _m0002_feed_heads),
    Migration("0003_story", _m0003_story),
)


def _migrate(db: sqlite3.Connection, path: str, migrations: Sequence[Migration]) -> None:
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
                (version + 1, migration.name, _iso(datetime.now(UTC))),
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


def is_empty_file(path: str | Path, *, settle: float = 1.0) -> bool:
    """Whether ``path`` is an existing regular file of zero bytes (a lost store).

    SQLite writes a new store's header within milliseconds of creating its file, so a
    zero-length file only a moment old may be another process creating the store: it is
    watched for up to ``settle`` seconds before it counts as empty.
    """
    deadline = time.monotonic() + settle
    while True:
        try:
            st = os.stat(path)
        except OSError:
            return False  # missing (a first run), or SQLite's own error will name it
        if st.st_size or not Path(path).is_file():
            return False
        if time.time() - st.st_mtime > 5 or time.monotonic() >= deadline:
            return True
        time.sleep(0.02)


def refuse_empty_file(name: str) -> None:
    """A zero-length store file is refused: SQLite would silently make a fresh store of it,
    and every id would be minted anew.  A missing file is a first run, and fine."""
    if is_empty_file(name):
        raise StoreError(f"{name}: the store file is empty (0 bytes): its ids are lost; run "
                         f"`feeds recover` to rebuild them from the published feeds, or delete "
                         f"the file to start afresh (every id is then minted anew)")


# --------------------------------------------------------------------------- JSON


def _iso(value: datetime) -> str:
    """A fixed-width UTC ISO 8601 string: it sorts as the instant it names."""
    return utc(value).isoformat(timespec="microseconds")


def _from_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise StoreError(f"naive datetime in the store: {value!r}")
    return parsed.astimezone(UTC)


def _opt_iso(value: datetime | None) -> str | None:
    return None if value is None else _iso(value)


def _opt_from_iso(value: str | None) -> datetime | None:
    return None if value is None else _from_iso(value)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Encoded:
    """What storing ``article`` costs most to compute, computed ahead (by a reading worker,
    so the single writer does not): its content hash and its JSON.  Used only for that
    very object (``is``): an article replaced since (a kept date) is encoded again."""

    article: Article
    content_hash: str
    data: str

    @classmethod
    def of(cls, article: Article) -> Encoded:
        return cls(article, article.content_hash(), article_to_json(article))


def article_to_json(article: Article) -> str:
    """Every field of ``article`` as JSON: datetimes as UTC ISO 8601, tuples as lists."""
    data: dict[str, Any] = {
        "source": article.source,
        "key": article.key,
        "title": article.title,
        "content_html": article.content_html,
        "body": article.body,
        "summary": article.summary,
        "published": _opt_iso(article.published),
        "published_text": article.published_text,
        "date_source": article.date_source,
        "updated": _opt_iso(article.updated),
        "authors": [[a.name, a.email, a.url] for a in article.authors],
        "tags": list(article.tags),
        "link": article.link,
        "image": article.image,
        "caption": article.caption,
        "credit": article.credit,
        "dateline": article.dateline,
        "summary_bullets": list(article.summary_bullets),
        "language": article.language,
        "enclosures": [[e.url, e.type, e.length] for e in article.enclosures],
        "explicit_id": article.explicit_id,
        "origin": None if article.origin is None else [
            article.origin.feed_url, article.origin.title, article.origin.link
        ],
        "draft": article.draft,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def article_from_json(text: str) -> Article:
    """The inverse of :func:`article_to_json`; datetimes come back aware UTC."""
    d = json.loads(text)
    origin = d["origin"]
    return Article(
        source=d["source"],
        key=d["key"],
        title=d["title"],
        content_html=d["content_html"],
        body=d["body"],
        summary=d["summary"],
        published=_opt_from_iso(d["published"]),
        published_text=d["published_text"],
        date_source=d["date_source"],
        updated=_opt_from_iso(d["updated"]),
        authors=tuple(Author(name, email, url) for name, email, url in d["authors"]),
        tags=tuple(d["tags"]),
        link=d["link"],
        image=d["image"],
        caption=d["caption"],
        credit=d["credit"],
        dateline=d["dateline"],
        summary_bullets=tuple(d["summary_bullets"]),
        language=d["language"],
        enclosures=tuple(Enclosure(url, type_, length) for url, type_, length in d["enclosures"]),
        explicit_id=d["explicit_id"],
        origin=None if origin is None else Origin(*origin),
        draft=d["draft"],
    )


def _chunks(values: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _story(link: str | None, title: str, published: str) -> str:
    """The ``story`` column: :func:`story_keys_of` of a row (``published`` is stored UTC ISO)."""
    return STORY_SEP.join(story_keys_of(link, title, published[:10]))


def _article_row(source: str, w: Write, ready: Mapping[str, Encoded]) -> tuple[str | None, ...]:
    published = _iso(w.published)
    encoded = ready.get(w.key)
    data = encoded.data if encoded is not None and encoded.article is w.article \
        else article_to_json(w.article)
    return (
        w.id,
        source,
        w.key,
        w.content_hash,
        data,
        published,
        _iso(w.first_seen),
        _iso(w.updated),
        w.article.title,
        w.article.link,
        _story(w.article.link, w.article.title, published),
    )


class ItemHead(NamedTuple):
    """What selecting a feed's items needs of one, read without its article JSON.

    Dates are the stored UTC ISO texts (``published``: the article's date, else first
    seen); ``content_hash`` is the article's; ``story``: its story keys, joined by
    ``STORY_SEP``.  A named tuple: a feed of every item reads one per article per build.
    """

    id: str
    published: str
    first_seen: str
    updated: str
    content_hash: str
    title: str
    link: str | None
    story: str = ""

    def story_keys(self) -> list[str]:
        return self.story.split(STORY_SEP) if self.story else []


class Identity(NamedTuple):
    """One live article as ``feeds recover`` sees it (:meth:`Store.identities`)."""

    key: str
    id: str
    content_hash: str
    title: str
    published: datetime  # what the item shows: the article's date, else first seen
    first_seen: datetime
    updated: datetime
    guessed: bool  # the date is a guess (the file's mtime, or first seen)
    dated: bool  # the article has a date of its own (else it shows first_seen)
    explicit: bool  # the id was asked for (front matter ``id``): it needs no recovering
    link: str | None = None  # what, with the title and day, makes it one story with another
    atom_title: str | None = None  # an untitled article's Atom title (set by feeds recover)


class Restored(NamedTuple):
    """An article's identity as its published items show it (:meth:`Store.restore_identities`)."""

    key: str
    id: str
    first_seen: datetime
    updated: datetime
    published: datetime | None = None  # a guessed date to put back


# --------------------------------------------------------------------------- the store


class Store:
    """One SQLite database.  Open with :meth:`open`; use as a context manager.

    Safe to share between threads (calls are serialized by a lock); several processes
    may open the same file (WAL; a writer waits up to ``busy_timeout`` for another).
    """

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
    ) -> Store:
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
    ) -> Store:
        """An in-memory copy of the store at ``path`` (empty if there is none): a dry run.

        The file is only read; nothing written to the copy ever reaches it.
        """
        name = str(path)
        if name != MEMORY:
            refuse_empty_file(name)
        db = cls._connect(MEMORY, busy_timeout)
        if name != MEMORY and Path(path).exists():
            try:
                with _translate(name, "copy the store"):
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
        with _translate(name, "open the store"):
            return sqlite3.connect(
                name, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )

    @classmethod
    def _setup(
        cls, db: sqlite3.Connection, name: str, id_factory: Callable[[], str] | None
    ) -> Store:
        try:
            with _translate(name, "open the store"):
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("PRAGMA journal_mode = WAL")  # "memory" for an in-memory store
                db.execute("PRAGMA synchronous = NORMAL")
                db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
                _migrate(db, name, MIGRATIONS)
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
                with _translate(self._path, "close the store"):
                    self._db.execute("PRAGMA optimize")
            except StoreError:
                pass  # the data is committed; a missed optimization is no failure
            except sqlite3.ProgrammingError:
                pass  # already closed
            self._db.close()

    def __enter__(self) -> Store:
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
        with self._lock, _translate(self._path, doing):
            yield self._db

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it, or (on any exception) none of it."""
        with self._lock, _translate(self._path, doing):
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

    # ----------------------------------------------------------------------- ingest

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
                for chunk in _chunks(sorted(keys)):
                    rows += db.execute(
                        f"{self._FILE_STATES_SQL} AND key IN ({_marks(len(chunk))})",
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
                live = {row[0] for chunk in _chunks(asked) for row in db.execute(
                    f"SELECT key FROM articles WHERE source = ? AND key IN"
                    f" ({_marks(len(chunk))})", (source, *chunk))}
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
            for chunk in _chunks(sorted(keys)):
                rows += db.execute(
                    f"{cls._STORED_SQL} AND a.key IN ({_marks(len(chunk))})", (source, *chunk)
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
        for chunk in _chunks(sorted(keys)):
            rows += db.execute(
                f"SELECT key, id, first_seen FROM id_registry"
                f" WHERE source = ? AND key IN ({_marks(len(chunk))})",
                (source, *chunk),
            ).fetchall()
        return {key: Registered(id_, _from_iso(seen)) for key, id_, seen in rows}

    @staticmethod
    def _holders(db: sqlite3.Connection, ids: Iterable[str]) -> dict[str, Holder]:
        holders: dict[str, Holder] = {}
        for chunk in _chunks(sorted(ids)):
            rows = db.execute(
                "SELECT r.id, r.source, r.key, r.first_seen, a.id IS NOT NULL"
                " FROM id_registry AS r LEFT JOIN articles AS a ON a.id = r.id"
                f" WHERE r.id IN ({_marks(len(chunk))})",
                tuple(chunk),
            )
            for id_, source, key, seen, live in rows:
                holders[id_] = Holder(source, key, _from_iso(seen), bool(live))
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
            (_article_row(source, w, ready) for w in plan.writes if w.status == "added"),
        )
        db.executemany(
            f"INSERT INTO articles {columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET"
            " key = excluded.key, content_hash = excluded.content_hash, data = excluded.data,"
            " published = excluded.published, first_seen = excluded.first_seen,"
            " updated = excluded.updated, title = excluded.title, link = excluded.link,"
            " story = excluded.story",
            (_article_row(source, w, ready) for w in plan.writes if w.status == "changed"),
        )
        # A minted id must be new: a plain INSERT fails loudly if the factory repeats itself.
        # A moved id replaces both the old (source, key) row and any stale holder of the id.
        db.executemany(
            "INSERT INTO id_registry (source, key, id, first_seen) VALUES (?, ?, ?, ?)",
            ((source, w.key, w.id, _iso(w.first_seen)) for w in plan.writes if w.minted),
        )
        db.executemany(
            "INSERT OR REPLACE INTO id_registry (source, key, id, first_seen) VALUES (?, ?, ?, ?)",
            (
                (source, w.key, w.id, _iso(w.first_seen))
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
            for chunk in _chunks(drop):
                db.execute(f"DELETE FROM articles WHERE {where} AND key IN"
                           f" ({_marks(len(chunk))})", (*bounds, *chunk))
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
            for chunk in _chunks(drop):
                db.execute(f"DELETE FROM articles WHERE source = ? AND key IN"
                           f" ({_marks(len(chunk))})", (source, *chunk))
            # and their fetch states: subscribed again, a 304 would bring nothing back
            gone = sorted({key.partition(" ")[0] for key in drop})
            for chunk in _chunks(gone):
                db.execute(f"DELETE FROM source_state WHERE source IN ({_marks(len(chunk))})",
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
        if not memory.due(count - live, _opt_from_iso(first)):
            return
        oldest = _opt_iso(memory.oldest)
        db.execute(  # (unqualified, source and key are the registry's: r is the only table)
            f"DELETE FROM id_registry WHERE {where} AND key IN ("
            " SELECT key FROM (SELECT r.key, r.first_seen, row_number() OVER"
            "  (ORDER BY r.first_seen DESC, r.id) AS n"
            f"  FROM id_registry AS r WHERE {where}"
            "  AND NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.id = r.id))"
            " WHERE n > ? OR first_seen < ?)",
            (*bounds, *bounds, 2**62 if memory.most is None else memory.most, oldest or ""))

    # ----------------------------------------------------------------------- recovery

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
        return [Identity(key, id_, content_hash, title, _from_iso(published),
                         _from_iso(first_seen), _from_iso(updated), bool(guessed), bool(dated),
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
                    (row.id, _iso(row.first_seen), _iso(row.updated), source, row.key)).rowcount
                if not done:
                    raise ValueError(f"no article {row.key!r} in source {source!r}")
                db.execute("UPDATE id_registry SET id = ?, first_seen = ?"
                           " WHERE source = ? AND key = ?",
                           (row.id, _iso(row.first_seen), source, row.key))
                if row.published is not None:
                    published = _iso(row.published)
                    link, title = db.execute(
                        "SELECT link, title FROM articles WHERE id = ?", (row.id,)).fetchone()
                    db.execute(
                        "UPDATE articles SET published = ?, story = ?,"
                        " data = json_set(data, '$.published', ?) WHERE id = ?",
                        (published, _story(link, title, published), published, row.id))

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
        columns = "id, published, first_seen, updated, content_hash, title, link, story"
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
            for chunk in _chunks(list(ids)):
                rows = db.execute(
                    "SELECT id, data, first_seen, updated FROM articles"
                    f" WHERE id IN ({_marks(len(chunk))})", tuple(chunk)).fetchall()
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
        return [f"source IN ({_marks(len(names))})"], list(names)

    @classmethod
    def _items_sql(
        cls, names: list[str] | None, limit: int | None, since: datetime | None,
        columns: str = "published, id, data, first_seen, updated",
    ) -> tuple[str, list[Any]]:
        where, params = cls._where(names)
        if since is not None:
            where.append("published >= ?")
            params.append(_iso(since))
        sql = f"SELECT {columns} FROM articles"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY published DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    @staticmethod
    def _item(id_: str, data: str, first_seen: str, updated: str) -> Item:
        return Item(
            id=id_,
            article=article_from_json(data),
            first_seen=_from_iso(first_seen),
            updated=_from_iso(updated),
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
                "SELECT id, data, first_seen, updated FROM articles WHERE id = ?", (id,)
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

    # ----------------------------------------------------------------------- state

    def source_state(self, source: str) -> dict[str, Any]:
        with self._read("read source state") as db:
            row = db.execute(
                "SELECT state FROM source_state WHERE source = ?", (source,)
            ).fetchone()
        if row is None:
            return {}
        state: dict[str, Any] = json.loads(row[0])
        return state

    def set_source_state(self, source: str, state: dict[str, Any]) -> None:
        text = json.dumps(state, ensure_ascii=False, sort_keys=True)  # TypeError: a bug
        with self._write(f"save state of source {source!r}") as db:
            db.execute(
                "INSERT INTO source_state (source, state) VALUES (?, ?)"
                " ON CONFLICT (source) DO UPDATE SET state = excluded.state",
                (source, text),
            )

    def set_source_states(self, states: dict[str, dict[str, Any]]) -> None:
        """Several sources' states in one transaction (a poll of many feeds)."""
        rows = [(source, json.dumps(state, ensure_ascii=False, sort_keys=True))
                for source, state in states.items()]
        if not rows:
            return
        with self._write(f"save state of {len(rows)} sources") as db:
            db.executemany(
                "INSERT INTO source_state (source, state) VALUES (?, ?)"
                " ON CONFLICT (source) DO UPDATE SET state = excluded.state",
                rows,
            )

    def feed_digest(self, feed: str) -> str | None:
        with self._read("read feed state") as db:
            row = db.execute("SELECT digest FROM feed_state WHERE feed = ?", (feed,)).fetchone()
        return None if row is None else str(row[0])

    def set_feed_digest(self, feed: str, digest: str) -> None:
        with self._write(f"save state of feed {feed!r}") as db:
            db.execute(
                "INSERT INTO feed_state (feed, digest) VALUES (?, ?)"
                " ON CONFLICT (feed) DO UPDATE SET digest = excluded.digest",
                (feed, digest),
            )

    def feed_index(self, feed: str) -> str | None:
        with self._read("read feed index") as db:
            row = db.execute("SELECT data FROM feed_index WHERE feed = ?", (feed,)).fetchone()
        return None if row is None else str(row[0])

    def set_feed_state(self, feed: str, digest: str, index: str | None) -> None:
        """The digest and the index of a feed's publication, in one transaction (no index:
        none is kept, so nothing stale can be reused)."""
        with self._write(f"save state of feed {feed!r}") as db:
            db.execute(
                "INSERT INTO feed_state (feed, digest) VALUES (?, ?)"
                " ON CONFLICT (feed) DO UPDATE SET digest = excluded.digest",
                (feed, digest),
            )
            if index is None:
                db.execute("DELETE FROM feed_index WHERE feed = ?", (feed,))
            else:
                db.execute(
                    "INSERT INTO feed_index (feed, data) VALUES (?, ?)"
                    " ON CONFLICT (feed) DO UPDATE SET data = excluded.data",
                    (feed, index),
                )
