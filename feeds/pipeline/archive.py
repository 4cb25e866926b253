"""Publishing an archived feed (RFC 5005 section 4, ``archive = true``).

The feed keeps every item it selects.  Its subscription document (``rss.xml``, ...) holds
the newest; the others sit on archive pages beside it (``rss-1.xml``, ``rss-2.xml``, ...,
numbered from the oldest), laid out by :func:`feeds.select.archive_plan`: an item stays on
its page, and a page is made of the subscription document's oldest ``archive_size`` items
when it reaches twice that many.  Each document is streamed like a feed without archives
(:func:`.feeds.publish_documents`: fragments reused by byte range, only new ones
rendered), and only the documents whose items or links changed are written at all:

* adding an item writes the subscription documents, plus one new page per format when
  a page is made (its fragments copied from the old subscription document);
* editing an archived item writes its page (and the subscription documents only when
  they hold it);
* a page left without items is deleted, and its neighbours' links are written anew.

Links: the subscription document links its newest page (``prev-archive``; JSON Feed
``next_url``); a page links the subscription document (``current``), the next older page
(``prev-archive``; JSON ``next_url``) and the next newer one (``next-archive``).  The
newest page's ``next-archive`` names the page that will be made next (its number is
known: one more), so making that page never rewrites the one before it; until then the
link is not found, and RFC 5005 readers walk ``prev-archive`` from the subscription
document, which always is.

State: the feed's :class:`FeedState` covers every file (page files as ``fmt@page``), so
a build with nothing to do stats the files and reads nothing more; each page has a
state and an index of its own in the store, under ``<feed>/archive/<page>`` (a feed's
name holds no ``/``): its ids are what keeps an item on its page.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain
from pathlib import Path

from ..config import Config, FeedConfig
from ..model import ArchiveLinks, Channel
from ..publish import FORMATS, document_name, stream
from ..publish.atomic import write_if_changed
from ..publish.render import render
from ..store import FeedIndex, FeedState, ItemHead, Store
from .feeds import (
    Document,
    _candidates,
    _channel_key,
    _count_changes,
    _full_items,
    _same_selection,
    _select,
    as_published,
    item_keys,
    keys_digest,
    publish_documents,
)
from .reports import Cancelled, FeedReport

__all__ = ["archive_pages", "page_key", "publish_archived"]


def page_key(feed: str, page: int) -> str:
    """Where the store keeps the state of archive page ``page`` of ``feed``."""
    return f"{feed}/archive/{page}"


def archive_pages(files: Mapping[str, object] | None) -> list[int]:
    """The archive pages a feed's state lists (its ``files`` keys ``fmt@page``)."""
    pages = {int(page) for key in files or () if key.partition("@")[2].isdigit()
             for page in (key.partition("@")[2],)}
    return sorted(pages)


def _paths(folder: Path, formats: Sequence[str], page: int | None) -> dict[str, Path]:
    return {fmt: folder / document_name(fmt, page) for fmt in formats}


def _all_paths(folder: Path, formats: Sequence[str], pages: Sequence[int]) -> dict[str, Path]:
    """The subscription documents by format, and the pages' files as ``fmt@page``."""
    paths = _paths(folder, formats, None)
    for page in pages:
        paths.update({f"{fmt}@{page}": path
                      for fmt, path in _paths(folder, formats, page).items()})
    return paths




@dataclass
class _Plan:
    """One archived feed's documents this build, and what each was last time."""

    base: Channel
    channel_key: str
    folder: Path
    formats: tuple[str, ...]
    heads: list[ItemHead]
    keys: list[str]
    pages: dict[int, list[int]]  # page -> positions
    current: list[int]  # the subscription document's positions
    before: list[int]  # the pages the last build left
    states: dict[int, FeedState | None]
    indexes: dict[int, FeedIndex | None]
    main: FeedIndex | None  # the subscription document's, as last published
    same_channel: bool  # the channel is what it was at the last build
    #: the files' stats at the start of the build (keys as :func:`_all_paths`'), so that a
    #: build stats each file once, not once per question
    stats: dict[str, list[int] | None] = field(default_factory=dict)

    def file_stats(self, page: int | None) -> dict[str, list[int] | None]:
        """:func:`stream.file_stats` of ``page``'s files, as they were at the start."""
        keys = {fmt: fmt if page is None else f"{fmt}@{page}" for fmt in self.formats}
        if all(key in self.stats for key in keys.values()):
            return {fmt: self.stats[key] for fmt, key in keys.items()}
        return stream.file_stats(_paths(self.folder, self.formats, page))

    def links(self, page: int | None) -> ArchiveLinks:
        numbers = list(self.pages)
        if page is None:
            return ArchiveLinks(None, numbers[-1] if numbers else None, None)
        at = numbers.index(page)
        return ArchiveLinks(page, numbers[at - 1] if at else None,
                            numbers[at + 1] if at + 1 < len(numbers) else page + 1)

    def frame_key(self, page: int | None) -> str:
        return keys_digest((self.channel_key, repr(self.links(page))))

    def page_state(self, page: int) -> FeedState:
        positions = self.pages[page]
        return FeedState(channel=self.frame_key(page),
                         items=keys_digest([self.keys[n] for n in positions]),
                         count=len(positions))

    def document(self, page: int | None) -> Document:
        """The document of ``page`` (None: the subscription document); a new page reuses
        the fragments of the subscription document it is made from."""
        positions = self.current if page is None else self.pages[page]
        channel = replace(self.base, archive=self.links(page))
        paths = _paths(self.folder, self.formats, page)
        if page is None:
            return Document(channel, paths, positions, self.main)
        index = self.indexes.get(page)
        if index is None:
            return Document(channel, paths, positions, self.main,
                            _paths(self.folder, self.formats, None))
        return Document(channel, paths, positions, index)


def publish_archived(config: Config, store: Store, feed: FeedConfig, *, now: datetime,
                     dry_run: bool = False, workers: int = 1,
                     cancelled: Cancelled | None = None) -> FeedReport:
    """:func:`.feeds.publish_feed` for an archived feed (see the module docstring)."""
    report = FeedReport(feed.name)
    channel_key = _channel_key(config, feed)
    folder = config.output_dir / feed.name
    previous = store.feed_state(feed.name)
    prev = previous or FeedState()
    before = archive_pages(prev.files)
    paths = _all_paths(folder, feed.formats, before)
    stats = stream.file_stats(paths)
    same_files = previous is not None and prev.channel == channel_key and prev.files == stats
    rows, state = _candidates(config, store, feed, now=now)
    if same_files and prev.count is not None and _same_selection(prev.selection, state, now):
        report.unchanged = prev.count
        report.kept.extend(paths.values())  # nothing to select or render
        return report
    heads = _select(config, store, feed, rows, now=now)
    keys = item_keys(feed, heads)
    items_digest = keys_digest(keys)
    if same_files and prev.items == items_digest:
        report.unchanged = len(heads)
        report.kept.extend(paths.values())
        if not dry_run and state is not None and prev.selection != state:
            store.set_feed_state(feed.name, replace(prev, selection=state, count=len(heads)),
                                 keep_index=True)
        return report
    found = {} if before else _pages_on_disk(folder, feed.formats)
    plan = _plan(config, store, feed, heads, keys, sorted(set(before) | set(found)),
                 channel_key, store.feed_index(feed.name) if previous else None, found)
    plan.same_channel = prev.channel == channel_key
    plan.stats = stats
    known = [index for index in (plan.main, *plan.indexes.values()) if index]
    old_ids = tuple(chain.from_iterable(index.ids for index in known))
    old_updated = tuple(chain.from_iterable(index.updated for index in known))
    _count_changes(report, heads, previous,
                   FeedIndex(old_ids, (), old_updated, {}) if previous else None)
    todo: list[int | None] = [page for page in plan.pages if _stale(plan, page)]
    if _stale(plan, None, prev.files):
        todo.append(None)  # last: new pages copy from the subscription document
    summary_only = feed.content == "summary"
    main: FeedIndex | None = None
    if dry_run:
        _dry_run(store, plan, todo, report, summary_only=summary_only)
    else:
        main = _write(store, feed, plan, todo, report, workers, cancelled,
                      summary_only=summary_only)
        _drop_pages(store, feed, plan, report)
    done = _all_paths(folder, feed.formats, list(plan.pages))
    report.kept.extend(p for p in done.values() if p not in report.written)
    if not dry_run:
        store.set_feed_state(
            feed.name,
            FeedState(channel=channel_key, items=items_digest, count=len(heads),
                      files=_stats_after(done, stats, todo, feed.formats), selection=state),
            main, keep_index=main is None)
    return report


def _stats_after(done: dict[str, Path], before: dict[str, list[int] | None],
                 todo: Sequence[int | None], formats: Sequence[str]
                 ) -> dict[str, list[int] | None]:
    """:func:`stream.file_stats` of ``done``: the documents of ``todo`` (written, or
    deleted) and any file not seen at the start are stat'ed again, the others are as they
    were at the start of the build (this build did not touch them)."""
    again = {fmt if page is None else f"{fmt}@{page}" for page in todo for fmt in formats}
    fresh = stream.file_stats({key: path for key, path in done.items()
                               if key in again or key not in before})
    return {key: fresh[key] if key in fresh else before[key] for key in done}


def _plan(config: Config, store: Store, feed: FeedConfig, heads: list[ItemHead],
          keys: list[str], before: list[int], channel_key: str,
          main: FeedIndex | None, found: Mapping[int, Sequence[str]]) -> _Plan:
    from ..select import archive_plan

    indexes = {page: store.feed_index(page_key(feed.name, page)) for page in before}
    members = {page: index.ids for page, index in indexes.items() if index is not None}
    members.update({page: tuple(ids) for page, ids in found.items() if page not in members})
    pages, current = archive_plan([h.id for h in heads], dict(members), feed.archive_size)
    states = {page: store.feed_state(page_key(feed.name, page)) for page in before}
    return _Plan(config.channel(feed), channel_key, config.output_dir / feed.name,
                 feed.formats, heads, keys, pages, current, before, states, indexes, main,
                 False)


def _pages_on_disk(folder: Path, formats: Sequence[str]) -> dict[int, list[str]]:
    """The ids on each archive page found in ``folder`` (in the first format that has
    pages), read when the feed's state lists no pages: what keeps items on their pages
    when the store lost that state (a new store, ``feeds recover``).  A page that does not
    read is left to be written anew."""
    from ..errors import PublishError
    from ..publish import document_format
    from ..publish.render import read_back

    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    for fmt in formats:
        pages: dict[int, list[str]] = {}
        for name in names:
            known = document_format(name)
            if known is None or known[0] != fmt or known[1] is None:
                continue
            with contextlib.suppress(OSError, PublishError, ValueError, TypeError):
                _, entries = read_back(fmt, (folder / name).read_bytes())
                pages[known[1]] = [str(e["id"]) for e in entries if e.get("id")]
        if pages:
            return pages
    return {}


def _stale(plan: _Plan, page: int | None,
           files: Mapping[str, list[int] | None] | None = None) -> bool:
    """Whether a document must be written: its items, its links or its files are not
    what the last build left."""
    if page is None:
        keys = tuple(plan.keys[n] for n in plan.current)
        newest = plan.before[-1] if plan.before else None
        links = plan.links(None)
        return not plan.same_channel or plan.main is None or plan.main.keys != keys \
            or links.prev != newest \
            or any((files or {}).get(fmt) != stat
                   for fmt, stat in plan.file_stats(None).items())
    old = plan.states.get(page)
    want = plan.page_state(page)
    return old is None or (old.channel, old.items) != (want.channel, want.items) \
        or old.files != plan.file_stats(page) or plan.indexes.get(page) is None


def _write(store: Store, feed: FeedConfig, plan: _Plan, todo: list[int | None],
           report: FeedReport, workers: int, cancelled: Cancelled | None, *,
           summary_only: bool) -> FeedIndex | None:
    """Stream the documents of ``todo`` and keep each page's state; the subscription
    document's new index (None: it was not written)."""
    if not todo:
        return None
    docs = [plan.document(page) for page in todo]
    results = publish_documents(store, docs, plan.heads, plan.keys, workers, cancelled,
                                summary_only=summary_only)
    main = None
    for page, doc, (changed, formats) in zip(todo, docs, results, strict=True):
        report.written.extend(path for fmt, path in doc.paths.items() if changed[fmt])
        index = FeedIndex(tuple(plan.heads[n].id for n in doc.positions),
                          tuple(plan.keys[n] for n in doc.positions),
                          tuple(plan.heads[n].updated for n in doc.positions), formats)
        if page is None:
            main = index
        else:
            store.set_feed_state(page_key(feed.name, page),
                                 replace(plan.page_state(page),
                                         files=stream.file_stats(doc.paths)), index)
    return main


def _dry_run(store: Store, plan: _Plan, todo: list[int | None], report: FeedReport, *,
             summary_only: bool) -> None:
    """What :func:`_write` would write, rendered whole in memory and written nowhere."""
    for page in todo:
        doc = plan.document(page)
        heads = [plan.heads[n] for n in doc.positions]
        items = [as_published(i, summary_only) for i in _full_items(store, heads)]
        for fmt, path in doc.paths.items():
            data = render(fmt, doc.channel, items)
            stream.checked(fmt, path, data, items)
            if write_if_changed(path, data, dry_run=True):
                report.written.append(path)
    for page in plan.before:
        if page not in plan.pages:
            report.deleted.extend(_paths(plan.folder, plan.formats, page).values())


def _drop_pages(store: Store, feed: FeedConfig, plan: _Plan, report: FeedReport) -> None:
    """Delete the pages left without items (in every format), and forget their state."""
    for page in plan.before:
        if page in plan.pages:
            continue
        for path in _paths(plan.folder, tuple(FORMATS), page).values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                report.deleted.append(path)
        store.set_feed_state(page_key(feed.name, page), FeedState())
