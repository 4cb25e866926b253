"""What SQLite errors mean to a user: ``sqlite3`` errors a user can cause (a corrupt file, a
directory in its place, an unwritable directory, a lock held too long, a full disk) become
``StoreError`` naming the database; anything else is a bug and passes through.  Also the
refusal of an empty store file (a lost store SQLite would silently start afresh)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...errors import LockedError, StoreError

__all__ = ["RECOVER_HINT", "is_empty_file", "refuse_empty_file", "translate"]

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
def translate(path: str, doing: str) -> Iterator[None]:
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
