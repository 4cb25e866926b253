"""The pipeline: the one package that knows every stage.

::

    folder.scan ─► folder.read ─► RawInput ─► normalize.read ─► fallbacks ──┐
    (stat; skip files whose stat is unchanged)                              ├─► Store.ingest
    remote.fetch_feeds ─► RawInput ─► normalize.read_feed ─► remote.settle ─┘     │ Changes
                                                                                  ▼
    Store.heads ─► select ─► (nothing changed: stop)
                          └─► per item: fragment reused from the last file, or
                              Store.items_by_id ─► render ─► verify (by chunks) ─► spool
                          ─► head + fragments + tail streamed ─► atomic write (if bytes changed)

``ingest`` brings every source into the store; ``publish`` regenerates the feeds whose
content or configuration changed; ``build`` is both, as ``feeds build`` runs them.  Bad
input is reported per file and per source; it never stops the other sources.

One module per job: :mod:`.folder` (folder ingest, reading jobs), :mod:`.remote` (remote
ingest, pruning), :mod:`.feeds` (publishing one feed), :mod:`.workers` (process pools),
:mod:`.reports` (what a run reports), :mod:`.recovery` (``feeds recover``),
:mod:`.service` (what ``feeds run`` drives), :mod:`.commands` (``status``, ``inspect``, ``add``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import datetime
from pathlib import Path

from ..config import Config
from ..errors import FeedsError, OutputError, SourceError
from ..publish.atomic import remove_temporaries, write_if_changed
from ..publish.pages import render_index_html, render_opml
from ..store import FeedState, Store, open_store
from .archive import archive_pages
from .commands import Status, discover_feed, explain_path, locate, lookup_id, status
from .feedpages import write_feed_pages
from .feeds import feed_heads, feed_items, publish_feed
from .folder import ingest_folder, read_path
from .recovery import RecoverReport, recover, refuse_lost_store
from .remote import fetch_settings, ingest_remote, read_body, remote_specs
from .reports import (
    BuildReport,
    Cancelled,
    FeedReport,
    Progress,
    SourceReport,
    check,
    log_source,
)
from .service import Service, changed_keys, schedule_every, sources_changed, watched_folders
from .shared import feeds_of_change, output_key
from .workers import model_cache_dir, one_pool

__all__ = [
    "BuildReport", "Cancelled", "FeedReport", "Progress", "RecoverReport", "Service",
    "SourceReport", "Status", "abandon", "build", "changed_keys", "discover_feed", "explain_path",
    "feed_heads", "feed_items", "feeds_of_change", "fetch_settings", "ingest", "ingest_folder",
    "ingest_remote", "locate", "lookup_id", "model_cache_dir", "publish", "publish_feed",
    "read_body", "read_path", "recover", "refuse_lost_store", "remote_specs", "schedule_every",
    "sources_changed", "status", "watched_folders",
]

log = logging.getLogger("feeds.pipeline")


def ingest(config: Config, store: Store, *, now: datetime, model_cache: Path | None = None,
           progress: Progress | None = None,
           cancelled: Cancelled | None = None) -> list[SourceReport]:
    """Every source once.  One source's failure is reported, never raised (``Stopped``,
    when ``cancelled`` says so, is)."""
    reports: list[SourceReport] = []
    remote = [s for s in config.sources if s.remote]
    for source in config.sources:
        if source.remote:
            continue
        try:
            report = ingest_folder(store, source, config, now=now, progress=progress,
                                   model_cache=model_cache, cancelled=cancelled)
        except SourceError as exc:
            report = SourceReport(source.name, source.kind, error=exc.reason)
        for key, reason in report.changes.rejected if report.changes else ():
            report.problems.append((key, reason))
        log_source(report)
        reports.append(report)
    if remote:
        check(cancelled)
        for report in ingest_remote(config, store, remote, now=now, cancelled=cancelled):
            log_source(report)
            reports.append(report)
    return reports


def publish(config: Config, store: Store, *, now: datetime, dry_run: bool = False,
            only: set[str] | None = None, workers: int = 1,
            cancelled: Cancelled | None = None) -> tuple[list[FeedReport], list[Path]]:
    """Regenerate feeds (all, or those named in ``only``) and the index pages.

    ``workers`` > 1: many fragments to render are rendered by a process pool of that size
    (``feeds build`` does; a process with threads of its own should not fork).  First,
    the temporary files a killed process left in the output folders are removed.
    """
    reports = []
    if not dry_run:  # what a killed build left: spools, temporary files
        remove_temporaries([config.output_dir, *(config.output_dir / f.name for f in config.feeds)])
    for feed in config.feeds:
        if only is not None and feed.name not in only:
            continue
        check(cancelled)
        try:
            reports.append(publish_feed(config, store, feed, now=now, dry_run=dry_run,
                                        workers=workers, cancelled=cancelled))
        except OutputError:
            raise  # the output directory cannot be written: no other feed can be either
        except FeedsError as exc:
            log.error("feed %s not published: %s", feed.name, exc)
            reports.append(FeedReport(feed.name, error=str(exc)))
    channels = [config.channel(f) for f in config.feeds]
    archives = {f.name: archive_pages((store.feed_state(f.name) or FeedState()).files)
                for f in config.feeds if f.archive}
    pages = write_feed_pages(config, reports, dry_run=dry_run)
    for name, data in (("index.html", render_index_html(config.site.title, channels,
                                                        archives)),
                       ("feeds.opml", render_opml(config.site.title, channels)),
                       *_status_page(config, store, now)):
        path = config.output_dir / name
        if write_if_changed(path, data, dry_run=dry_run):
            pages.append(path)
    return reports, pages


def _status_page(config: Config, store: Store, now: datetime) -> list[tuple[str, bytes]]:
    """``status.html``, when ``[output] status_page`` asks for it (it shows source URLs)."""
    if not config.status_page:
        return []
    from .overview import as_html, gather

    return [("status.html", as_html(gather(config, now=now, store=store)))]


# --------------------------------------------------------------------------- build


def abandon(config: Config) -> None:
    """For a process about to exit without unwinding (a stop that could not wait): remove
    its temporary files (spools, half-written replacements) and kill its pool workers.
    The store needs nothing: SQLite drops the transaction that was not committed, and the
    kernel the lock."""
    import multiprocessing
    import tempfile

    folders = [config.output_dir, *(config.output_dir / f.name for f in config.feeds)]
    remove_temporaries([*folders, Path(tempfile.gettempdir())], own=True)
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError, ValueError):
            child.kill()


def build(config: Config, *, now: datetime, dry_run: bool = False,
          progress: Progress | None = None,
          cancelled: Cancelled | None = None) -> BuildReport:
    """``feeds build``: ingest every source once, then publish every feed.

    With ``dry_run`` the work happens on an in-memory copy of the store and no file is
    written, so the report says exactly what a real build would do.  ``cancelled`` is
    asked between steps (each file read, each chunk rendered, each feed); when it says
    yes, ``Stopped`` is raised: what the store committed is kept, no file is half
    written, and the next build carries on.
    """
    refuse_lost_store(config)
    report = BuildReport(config.output_dir, dry_run=dry_run)
    model_cache = None if dry_run else model_cache_dir()
    workers = os.cpu_count() or 1
    with open_store(config.store, dry_run=dry_run,
                                           output=output_key(config)) as store, \
            one_pool(workers, model_cache):
        report.sources = ingest(config, store, now=now, progress=progress,
                                model_cache=model_cache, cancelled=cancelled)
        report.feeds, report.pages_written = publish(config, store, now=now, dry_run=dry_run,
                                                     workers=workers, cancelled=cancelled)
    return report

