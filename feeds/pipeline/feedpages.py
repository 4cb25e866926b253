"""The page of each feed (``<feed>/index.html``, :mod:`feeds.publish.feedpage`): written
after the feeds, for those whose files a publication wrote and for those without a page
yet (a feed left alone keeps its page).  Its items are read back from the subscription
document just written (:mod:`feeds.publish.pageitems`), not from the store."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..config import Config, FeedConfig
from ..publish import FORMATS
from ..publish.atomic import write_if_changed
from ..publish.feedpage import PAGE_ITEMS, render_feed_page
from ..publish.pageitems import PageEntry, page_entries
from .reports import FeedReport

log = logging.getLogger("feeds.pipeline")

PAGE_NAME = "index.html"


def write_feed_pages(config: Config, reports: Sequence[FeedReport], *,
                     dry_run: bool = False) -> list[Path]:
    """Write the pages that may have changed; return those whose bytes did."""
    published = {r.name for r in reports if r.written and not r.error}
    failed = {r.name for r in reports if r.error}
    written = []
    for feed in config.feeds:
        path = config.output_dir / feed.name / PAGE_NAME
        if feed.name in failed or (feed.name not in published and path.exists()):
            continue
        data = render_feed_page(config.channel(feed), _entries(config, feed, dry_run),
                                site_title=config.site.title)
        if write_if_changed(path, data, dry_run=dry_run):
            written.append(path)
    return written


def _entries(config: Config, feed: FeedConfig, dry_run: bool) -> list[PageEntry]:
    """The feed's newest items from its document on disk, Atom or RSS read only as far as
    those items (none on a dry run: the documents were not written; none when it cannot be
    read: the page says so)."""
    if dry_run:
        return []
    for fmt in ("atom", "rss", "json"):  # streamed first: JSON is read whole
        if fmt in feed.formats:
            path = config.output_dir / feed.name / FORMATS[fmt].file_name
            try:
                with path.open("rb") as stream:
                    return page_entries(fmt, stream, PAGE_ITEMS)
            except (OSError, ValueError) as exc:
                log.warning("feed %s: its page lists no items: %s unreadable (%s)",
                            feed.name, path, exc)
                return []
    return []
