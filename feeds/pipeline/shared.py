"""What a node of a shared store (``[store] url``, PostgreSQL) does besides a lone one:
it names its output folder to the store (each node writes its own files), tells the other
nodes what it changed, and hears what they changed.

The store speaks SQL (``feeds.store.postgres``); this module only decides what a change
means: which feeds to publish again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from ..config import Config, SourceConfig
from ..errors import FeedsError
from ..store import Store
from .remote import DEFAULT_LEASE
from .reports import SourceReport

__all__ = ["announce", "claimed_folder", "feeds_of_change", "output_key", "retry_after"]

log = logging.getLogger("feeds.daemon")


def output_key(config: Config) -> str:
    """This node's output folder as a shared store keeps its publication state apart
    (``host:path``); "" for a store one node uses."""
    return f"{os.uname().nodename}:{config.output_dir}" if config.shared else ""


def claimed_folder(store: Store, config: Config, source: SourceConfig,
                   scan: Callable[[], SourceReport], *, now: datetime) -> SourceReport:
    """``scan()`` a folder source once this node holds its claim (several nodes may see
    the same folder: one scans it at a time); when another node holds it, nothing is
    scanned and the report asks to look again after a lease.  A node of a shared store
    that cannot see the folder leaves it to those that can (and says so)."""
    lease = config.shared.lease if config.shared else DEFAULT_LEASE
    if config.shared and source.path is not None and not source.path.is_dir():
        return SourceReport(source.name, source.kind, warning=(
            f"{source.path} is not a folder on this node: left to the nodes that see it"))
    if not store.claim([source.name], lease=lease):
        report = SourceReport(source.name, source.kind, elsewhere=1)
        report.wake_at = now + lease
        return report
    try:
        return scan()
    finally:
        store.release([source.name])


def announce(store: Store | None, source: str) -> None:
    """Tell the other nodes that ``source`` changed; a store that cannot be reached now
    is logged (the others' periodic check publishes it anyway), never raised."""
    if store is None:
        return
    try:
        store.announce(source)
    except FeedsError as exc:
        log.warning("could not tell the other nodes that %s changed: %s", source, exc)


def feeds_of_change(config: Config, source: str) -> set[str]:
    """The feeds to publish again when another node says ``source`` changed: those that
    show it; every feed for ``""`` (anything may have changed)."""
    return {f.name for f in config.feeds if not source or f.matches(source)}


#: longest wait before a source whose ingest found no database is tried again
MAX_RETRY = timedelta(minutes=5)


def retry_after(failures: dict[str, int], source: str) -> timedelta:
    """How long to wait before ingesting ``source`` again, its ingest having failed for
    want of the shared store: 2, 4, 8 ... seconds, at most :data:`MAX_RETRY` (one more
    failure counted in ``failures``)."""
    failures[source] = count = failures.get(source, 0) + 1
    return min(timedelta(seconds=2 ** min(count, 16)), MAX_RETRY)
