"""``feeds recover`` and its guard: the wiring around :mod:`.rematch`.

:mod:`.rematch` holds the matching (published entries to stored articles) and reads
the published files; this module holds what needs the rest of the pipeline: ingest into a
scratch store, restore the matched ids, swap the store files, and refuse a build that
would mint every published id anew.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import StoreError
from ..store import Identity, Store, open_store
from .reports import Progress, SourceReport
from .workers import model_cache_dir, one_pool

if TYPE_CHECKING:
    from .rematch import FeedFile, Match


def refuse_lost_store(config: Config) -> None:
    """``StoreError`` when the store is missing but the output holds published ids: a
    build would mint every id anew (see ``feeds recover``)."""
    from .rematch import lost_store_problem

    problem = lost_store_problem(config)
    if problem is not None:
        raise StoreError(problem)


@dataclass
class RecoverReport:
    store_path: Path
    files: list[FeedFile]
    result: Match
    sources: list[SourceReport]
    articles: int  # live articles read from the sources
    kept_aside: Path | None  # where the store it replaced went

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)


def recover(config: Config, *, now: datetime, force: bool = False,
            progress: Progress | None = None) -> RecoverReport:
    """``feeds recover``: rebuild a lost store from the sources and the published feeds.

    The sources are read into a new store beside the old one exactly as a build reads
    them; then every article whose published item is found (see :mod:`.rematch`)
    takes that item's id and dates.  Only then does the new store replace the old file,
    which (unless empty) is kept as ``<store>.replaced``: a recovery that fails leaves
    everything as it was.  A store that still holds ids is refused unless ``force``.
    """
    from ..store import is_empty_file
    from . import ingest  # the package's: read exactly as a build reads
    from .rematch import check_replaceable, match, merged_entries, read_published

    if config.shared:
        raise StoreError(f"{config.path}: store.url: `feeds recover` rebuilds a SQLite store: "
                         f"recover with store.path, then `feeds store copy` it to the database")
    path = config.store_path
    check_replaceable(path, force=force, ids=_ids_in(path))
    files = read_published(config)
    scratch = path.with_name(path.name + ".recovering")
    _remove_store_files(scratch)
    model_cache = model_cache_dir()
    try:
        with open_store(scratch) as store, one_pool(os.cpu_count() or 1, model_cache):
            sources = ingest(config, store, now=now, progress=progress,
                             model_cache=model_cache)
            identities = {s.name: _atom_titled(store, store.identities(s.name))
                          for s in config.sources}
            result = match(merged_entries(files), identities, now=now)
            for source, rows in sorted(result.restored.items()):
                store.restore_identities(source, rows)
            for source, rows in sorted(result.renewed.items()):
                store.restore_identities(source, rows)
    except BaseException:
        _remove_store_files(scratch)
        raise
    kept: Path | None = None
    if (path.exists() or path.is_symlink()) and not is_empty_file(path, settle=0):
        kept = _aside_name(path)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{path}{suffix}", f"{kept}{suffix}")
    else:
        _remove_store_files(path)
    os.replace(scratch, path)
    _remove_store_files(scratch)  # a -wal or -shm left behind, if any
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    articles = sum(len(rows) for rows in identities.values())
    return RecoverReport(path, files, result, sources, articles, kept)


def _atom_titled(store: Store, identities: list[Identity]) -> list[Identity]:
    """``identities``, each untitled one with the title Atom gives it (the start of its
    text, else its link, else its id): what an Atom-only feed shows of it."""
    from ..publish.atom import atom_title
    from ..text import xml_legal

    untitled = [a.id for a in identities if not a.title.strip()]
    if not untitled:
        return identities
    items = store.items_by_id(untitled)
    return [a._replace(atom_title=xml_legal(atom_title(items[a.id])).strip())
            if a.id in items else a for a in identities]


def _aside_name(path: Path) -> Path:
    """Where the store a recovery replaces goes: ``<store>.replaced``, or when an earlier
    ``--force`` left one there (maybe the one store that held every id), the first free
    ``<store>.replaced.<n>``: a store kept aside is never deleted."""
    kept = path.with_name(path.name + ".replaced")
    n = 1
    while any(os.path.lexists(f"{kept}{suffix}") for suffix in ("", "-wal", "-shm")):
        n += 1
        kept = path.with_name(f"{path.name}.replaced.{n}")
    return kept


def _ids_in(path: Path) -> int | None:
    """How many ids the store at ``path`` holds: 0 when missing or empty, None when it is
    not a usable store."""
    from ..store import is_empty_file

    if not (path.exists() or path.is_symlink()) or is_empty_file(path, settle=0):
        return 0
    try:
        with open_store(path, dry_run=True) as store:
            return store.id_count()
    except StoreError:
        return None


def _remove_store_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
