"""``feeds store copy --from A --to B``: a whole store moved to a new one, SQLite to
PostgreSQL (a deployment outgrowing one machine) or back, with every id, the id registry,
validators and politeness state kept (``feeds.store.copy``).  A shell: it parses nothing
itself and prints one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import StoreError

__all__ = ["cmd_store", "store_copy"]


def cmd_store(args: argparse.Namespace) -> int:
    counts = store_copy(args.source, args.destination)
    if not args.quiet:
        print(f"copied {args.source} to {args.destination}: {counts['articles']} articles, "
              f"{counts['id_registry']} ids, {counts['source_state']} fetch states, "
              f"{counts['feed_state']} feed states", file=sys.stdout)
    return 0


def store_copy(source: str, destination: str) -> dict[str, int]:
    """Copy the store at ``source`` into the new (or empty) store at ``destination``;
    the rows copied by table.  ``StoreError`` naming the store for a missing source, a
    destination that is the source or already holds a store's data."""
    from .store import is_postgres_url, open_store
    from .store.copy import copy_store

    if not is_postgres_url(source) and not Path(source).is_file():
        raise StoreError(f"{source}: no store there to copy (a SQLite file or a "
                         f"postgresql:// URL)")
    if source == destination or (not is_postgres_url(source) and not is_postgres_url(
            destination) and Path(source).resolve() == Path(destination).resolve()):
        raise StoreError(f"{destination}: cannot copy a store into itself")
    with open_store(source) as old, open_store(destination) as new:
        return copy_store(old, new)
