"""Publishing one feed: select its items, stop when nothing changed, else stream its
files, rendering only the fragments no earlier build wrote (by the build's process pool
when there are many), and keep its state in the store for the next build."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice, repeat
from operator import attrgetter, ne
from pathlib import Path

from .. import __version__
from ..config import Config, FeedConfig
from ..errors import PublishError
from ..model import Channel, Item
from ..publish import FORMATS, stream
from ..publish.atomic import write_if_changed
from ..publish.render import fragment_key, render
from ..store import (
    FeedIndex,
    FeedState,
    ItemHead,
    Selection,
    Store,
    StoreHandle,
    instant,
    stamp,
)
from .reports import Cancelled, FeedReport, check
from .workers import process_pool, settle, shared_pool


def feed_items(config: Config, store: Store, feed: FeedConfig, *, now: datetime) -> list[Item]:
    """The items a feed shows: its sources, published by ``now``, filtered, newest first."""
    from ..select import select_items

    sources = config.feed_sources(feed)
    if not sources:
        return []
    filtered = bool(feed.include or feed.exclude or feed.since)
    shown = feed.shown
    fetch = None if filtered or shown is None else shown + 64
    items = store.items(sources, limit=fetch)
    visible = [i for i in items if i.published <= now]
    if fetch is not None and shown is not None and len(items) == fetch \
            and len(visible) < shown:
        visible = [i for i in store.items(sources) if i.published <= now]
    return select_items(visible, include=feed.include, exclude=feed.exclude, since=feed.since,
                        limit=shown, now=now, folders=_folders(config, sources))


def _folders(config: Config, sources: Collection[str]) -> set[str]:
    """Which of ``sources`` are folders: their items never merge as one story."""
    return {s.name for s in config.sources if s.name in sources and not s.source_kind.remote}


def feed_heads(config: Config, store: Store, feed: FeedConfig, *,
               now: datetime) -> list[ItemHead]:
    """:func:`feed_items` as :class:`ItemHead`: the same selection, without reading any
    article's JSON unless the feed filters on text (``include``/``exclude``)."""
    rows, _state = _candidates(config, store, feed, now=now)
    return _select(config, store, feed, rows, now=now)


def _candidates(config: Config, store: Store, feed: FeedConfig, *,
                now: datetime) -> tuple[list[ItemHead], Selection | None]:
    """The rows a feed selects from, newest first, and (when those rows alone decide the
    selection, as they do without text filters) what the selection depends on: a digest
    of the rows and the window of ``now`` in which the same rows are visible."""
    sources = config.feed_sources(feed)
    if not sources:
        return [], None
    if feed.include or feed.exclude:
        return store.heads(sources), None
    shown = feed.shown
    fetch = None if feed.since or shown is None else shown + 64
    heads = store.heads(sources, limit=fetch)
    now_stamp = stamp(now)
    future = _future(heads, now_stamp)
    if fetch is not None and shown is not None and len(heads) == fetch \
            and len(heads) - future < shown:
        heads = store.heads(sources)
        future = _future(heads, now_stamp)
    if feed.since:
        return heads, None  # what "since" keeps moves with every build
    rows = "\n".join(f"{h.id}\x1f{h.content_hash}\x1f{h.published}\x1f{h.updated}"
                     f"\x1f{h.title}\x1f{h.link}" for h in heads)
    # newest first: the newest visible row, and the oldest of those dated after now
    seen = heads[future].published if future < len(heads) else None
    until = heads[future - 1].published if future else None
    return heads, Selection(hashlib.blake2b(rows.encode(), digest_size=16).hexdigest(),
                            None if seen is None else instant(seen),
                            None if until is None else instant(until))


def _future(heads: Sequence[ItemHead], now_stamp: str) -> int:
    """How many of ``heads`` (newest first, as the store gives them) are dated after now:
    they come first, so the count is found without a pass over the rest."""
    future = 0
    for head in heads:
        if head.published <= now_stamp:
            break
        future += 1
    return future


def _same_selection(previous: Selection | None, state: Selection | None,
                    now: datetime) -> bool:
    """Whether the rows are those of the previous build and no row's date lies between
    that build's ``now`` and this one's: then the selection is the previous one."""
    if state is None or previous is None or previous.rows != state.rows:
        return False
    return (previous.seen is None or previous.seen <= now) and (
        previous.until is None or now < previous.until)


def _select(config: Config, store: Store, feed: FeedConfig, heads: list[ItemHead], *,
            now: datetime) -> list[ItemHead]:
    """What the feed shows of ``heads`` (see :func:`feed_items`): with no text filter,
    the same steps as :func:`feeds.select.select_items`, on the stored dates (UTC ISO
    texts compare as the instants they name) and the stored story keys."""
    from ..select import folder_owner, one_per_story

    if not heads:
        return []
    if feed.include or feed.exclude:  # text filters read the articles
        by_id = {h.id: h for h in heads}
        return [by_id[i.id] for i in feed_items(config, store, feed, now=now) if i.id in by_id]
    now_stamp = stamp(now)
    oldest = stamp(now - feed.since) if feed.since is not None else ""
    visible = (h for h in heads if oldest <= h.published <= now_stamp)
    sources = config.feed_sources(feed)
    folders = _folders(config, sources)
    if len(sources) == 1 and folders == set(sources):
        # one folder: its items never drop each other as one story (one_per_story's
        # owner rule), so the selection is every visible item, up to the limit
        shown = feed.shown
        return list(visible if shown is None else islice(visible, max(shown, 0)))
    owner = folder_owner(folders)
    return one_per_story(visible, ItemHead.story_keys, limit=feed.shown, owner_of=owner)


#: items rendered (and verified, as one small document) at a time
RENDER_CHUNK = 256


def publish_feed(config: Config, store: Store, feed: FeedConfig, *, now: datetime,
                 dry_run: bool = False, workers: int = 1,
                 cancelled: Cancelled | None = None) -> FeedReport:
    """Write one feed's files, reusing every fragment an earlier build already wrote.

    Nothing is rendered when the channel, the selected items (by :func:`fragment_key`)
    and the files (size, mtime, inode, ctime) are what the last build left.  Otherwise each
    file is streamed: the head, then per item either a fragment rendered now or the
    byte range its fragment has in the current file (copied by the kernel), then the
    tail.  Every fragment rendered now is verified (by chunks, as small documents), and
    so are the head and tail; a reused range was verified when it was written, and the
    file it comes from is unchanged since (same size, mtime, inode and ctime), the same trust
    the no-op check puts in them.  The file work is :mod:`feeds.publish.stream`'s; this
    decides what to render and keeps the feed's state in the store.
    """
    if feed.archive:
        from .archive import publish_archived

        return publish_archived(config, store, feed, now=now, dry_run=dry_run,
                                workers=workers, cancelled=cancelled)
    report = FeedReport(feed.name)
    channel = config.channel(feed)
    channel_key = _channel_key(config, feed)
    paths = {fmt: config.output_dir / feed.name / FORMATS[fmt].file_name
             for fmt in feed.formats}
    previous = store.feed_state(feed.name)
    prev = previous or FeedState()
    same_files = previous is not None and prev.channel == channel_key \
        and prev.files == stream.file_stats(paths)
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
        report.kept.extend(paths.values())  # nothing to render: the files are what we wrote
        if not dry_run and state is not None and prev.selection != state:
            store.set_feed_state(feed.name, replace(prev, selection=state, count=len(heads)),
                                 keep_index=True)
        return report
    index = store.feed_index(feed.name) if previous else None
    _count_changes(report, heads, previous, index)
    summary_only = feed.content == "summary"
    if dry_run:
        items = [as_published(i, summary_only) for i in _full_items(store, heads)]
        for fmt, path in paths.items():
            data = render(fmt, channel, items)
            stream.checked(fmt, path, data, items)
            (report.written if write_if_changed(path, data, dry_run=True)
             else report.kept).append(path)
        return report
    changed, formats = _publish_formats(store, channel, paths, heads, keys, index, workers,
                                        cancelled, summary_only=summary_only)
    for fmt, path in paths.items():
        (report.written if changed[fmt] else report.kept).append(path)
    new_index = FeedIndex(tuple(h.id for h in heads), tuple(keys),
                          tuple(h.updated for h in heads), formats)
    store.set_feed_state(
        feed.name,
        FeedState(channel=channel_key, items=items_digest, count=len(heads),
                  files=stream.file_stats(paths), selection=state),
        new_index)
    return report


def item_keys(feed: FeedConfig, heads: Sequence[ItemHead]) -> list[str]:
    """Each item's fragment key in ``feed``: a summary (``content = "summary"``) is another
    fragment than the whole item, so switching renders again."""
    mode = "" if feed.content == "full" else ":" + feed.content
    return [fragment_key(h.id, h.content_hash + mode, h.published, h.updated) for h in heads]


def keys_digest(keys: Sequence[str]) -> str:
    """One digest of a sequence of keys: the feed state compares it, not the keys."""
    return hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()


_ID = attrgetter("id")
_UPDATED = attrgetter("updated")
_MISSING = object()


def _count_changes(report: FeedReport, heads: Sequence[ItemHead],
                   previous: FeedState | None, index: FeedIndex | None) -> None:
    old: dict[str, str] = {}
    if index is not None:
        old = dict(zip(index.ids, index.updated, strict=False))
    elif previous is not None and previous.legacy_updated is not None:
        old = {k: stamp(v) for k, v in previous.legacy_updated.items()}
    # (maps, not loops: 50,000 items in half the time)
    current = dict(zip(map(_ID, heads), map(_UPDATED, heads), strict=True))
    known = sum(map(old.__contains__, current))
    report.added = len(current) - known
    report.removed = len(old) - known
    differ = sum(map(ne, map(old.get, current, repeat(_MISSING)), current.values()))
    report.changed = differ - report.added  # (every added item differs from _MISSING)
    report.unchanged = len(current) - report.added - report.changed


def _full_items(store: Store, heads: Sequence[ItemHead]) -> list[Item]:
    found = store.items_by_id([h.id for h in heads])
    missing = [h.id for h in heads if h.id not in found]
    if missing:
        raise PublishError(f"{len(missing)} item(s) went away while publishing, e.g. "
                           f"{missing[0]!r}")
    return [found[h.id] for h in heads]


#: below this many items to render, a process pool costs more than it saves
PARALLEL_RENDER_THRESHOLD = 1500


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a feed to stream, in each of its formats: the feed's (subscription)
    document, or one archive page of an archived feed.  ``positions``: its items, as
    positions in the feed's heads; ``index``: what it may reuse fragments from, in the
    files ``sources`` (default: ``paths``, the files it replaces)."""

    channel: Channel
    paths: dict[str, Path]
    positions: Sequence[int]
    index: FeedIndex | None
    sources: dict[str, Path] | None = None


def _publish_formats(store: Store, channel: Channel, paths: dict[str, Path],
                     heads: Sequence[ItemHead], keys: Sequence[str],
                     index: FeedIndex | None, workers: int = 1,
                     cancelled: Cancelled | None = None, *, summary_only: bool = False
                     ) -> tuple[dict[str, bool], dict[str, object]]:
    """:func:`publish_documents` of one document holding every item."""
    [result] = publish_documents(store, [Document(channel, paths, range(len(heads)), index)],
                                 heads, keys, workers, cancelled, summary_only=summary_only)
    return result


def publish_documents(store: Store, docs: Sequence[Document], heads: Sequence[ItemHead],
                      keys: Sequence[str], workers: int = 1,
                      cancelled: Cancelled | None = None, *, summary_only: bool = False
                      ) -> list[tuple[dict[str, bool], dict[str, object]]]:
    """Stream every file of ``docs`` (see :func:`publish_feed`): per document, whether each
    file changed, and each one's index entry for the next build.  Items to render are
    read once, in chunks, for all formats and documents; with ``workers`` > 1 and many of
    them, the chunks are rendered by a process pool (each worker reads its items from the
    store itself and spools its fragments to files the kernel then copies from).  Every
    old file is opened before any is replaced, so a document may reuse another's."""
    fmts = tuple(docs[0].paths) if docs else ()
    prefix = f".spool.{os.getpid()}.{secrets.token_hex(4)}."  # this publication's spools
    with contextlib.ExitStack() as stack:
        outputs = [_outputs(doc, stack) for doc in docs]
        stack.callback(stream.remove_spools,
                       {out.path.parent for outs in outputs for out in outs}, prefix)
        where: dict[int, tuple[int, int]] = {}  # feed position -> (document, its position)
        needed: dict[int, tuple[bool, ...]] = {}
        for d, doc in enumerate(docs):
            for local, n in enumerate(doc.positions):
                where[n] = (d, local)
                need = tuple(keys[n] not in out.reusable for out in outputs[d])
                if any(need):
                    needed[n] = need
        misses = sorted(needed)
        handle = store.handle()  # None: no other process sees this store
        jobs = [
            _RenderJob(handle, prefix, docs[0].channel, fmts,
                       tuple(str(docs[0].paths[fmt]) for fmt in fmts), chunk,
                       tuple(heads[n].id for n in chunk), tuple(needed[n] for n in chunk),
                       summary_only)
            for chunk in (tuple(misses[i:i + RENDER_CHUNK])
                          for i in range(0, len(misses), RENDER_CHUNK))
        ]
        for spooled in _unbroken(_rendered(store, jobs, workers, len(misses), stack)):
            check(cancelled)  # the old files stay; spools are removed on the way out
            for f, (spool, entries) in enumerate(spooled):
                if not entries:
                    os.unlink(spool)
                    continue
                fd = os.open(spool, os.O_RDONLY)
                stack.callback(os.close, fd)
                os.unlink(spool)  # the open descriptor is all we need
                for n, offset, length, flag in entries:
                    d, local = where[n]
                    outputs[d][f].rendered[local] = (fd, offset, length, flag)
        return _assemble(docs, outputs, heads, keys)


def _outputs(doc: Document, stack: contextlib.ExitStack) -> list[stream.Output]:
    """The files of ``doc``, their old versions open: what each can reuse."""
    old: dict[str, object] | None = None if doc.index is None else {
        "keys": list(doc.index.keys), "formats": dict(doc.index.formats)}  # as streamed
    position = stream.positions(old)
    sources = doc.sources or doc.paths
    outputs = [stream.Output(fmt, doc.channel, path, old, position, sources[fmt])
               for fmt, path in doc.paths.items()]
    for out in outputs:
        out.open_old(stack, len(doc.positions))
    return outputs


def _rendered(store: Store, jobs: list[_RenderJob], workers: int, misses: int,
              stack: contextlib.ExitStack) -> Iterator[_Spooled]:
    """The jobs' results: by the build's pool, a pool of this feed's own, or here."""
    shared = shared_pool(workers)
    handle = jobs[0].store if jobs else None
    if workers > 1 and handle is not None and (
            misses >= PARALLEL_RENDER_THRESHOLD
            or (shared is not None and shared.started and len(jobs) > 1)):
        if shared is not None:  # the build's pool, warm from reading
            warm = shared.get()
            futures = [warm.submit(_render_job, job) for job in jobs]
            # the pool outlives this feed: on a failure, let the other jobs end (or
            # never start) before their spool files are looked for and removed
            stack.callback(settle, futures)
            return (future.result() for future in futures)
        pool = stack.enter_context(process_pool(workers))  # a process pool of this feed's own
        mapped: Iterator[_Spooled] = pool.map(_render_job, jobs)
        return mapped
    return (_render_job(job, store) for job in jobs)


#: files written at once: the copying and the fsync happen in the kernel, GIL released
WRITERS = 8


def _assemble(docs: Sequence[Document], outputs: list[list[stream.Output]],
              heads: Sequence[ItemHead], keys: Sequence[str]
              ) -> list[tuple[dict[str, bool], dict[str, object]]]:
    """Write every file of ``docs``, each by a thread (an archived feed's many pages at
    once: a cold build is then not one fsync after the other)."""
    from concurrent.futures import ThreadPoolExecutor

    count = sum(len(outs) for outs in outputs)
    with ThreadPoolExecutor(max_workers=max(1, min(count, WRITERS))) as writers:
        futures = []
        for doc, outs in zip(docs, outputs, strict=True):
            mine = [heads[n] for n in doc.positions]
            # stored dates are fixed-width UTC ISO: the greatest text is the newest
            newest = (max(h.updated for h in mine), max(h.published for h in mine)) \
                if mine else None
            doc_keys = [keys[n] for n in doc.positions]
            futures.append([writers.submit(stream.assemble, out, len(mine), newest, doc_keys)
                            for out in outs])
        results: list[tuple[dict[str, bool], dict[str, object]]] = []
        for outs, done in zip(outputs, futures, strict=True):
            assembled = [future.result() for future in done]
            results.append(({out.fmt: c for out, (c, _) in zip(outs, assembled, strict=True)},
                            {out.fmt: e for out, (_, e) in zip(outs, assembled, strict=True)}))
    return results


@dataclass(frozen=True, slots=True)
class _RenderJob:
    store: StoreHandle | None  # what a worker opens to read the items
    prefix: str  # of the spool files' names
    channel: Channel
    fmts: tuple[str, ...]
    paths: tuple[str, ...]
    positions: tuple[int, ...]
    ids: tuple[str, ...]
    needed: tuple[tuple[bool, ...], ...]  # per position, per format: render it?
    summary_only: bool = False  # the feed's ``content = "summary"``


_Spooled = list[stream.Spooled]  # one chunk: a spool per format


def _unbroken(results: Iterator[_Spooled]) -> Iterator[_Spooled]:
    """``results``; a rendering worker that died fails this feed (PublishError), not the
    build: the other feeds are published (the build's pool is replaced on its next use)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield from results
    except BrokenProcessPool as exc:
        raise PublishError(f"a rendering worker process died ({exc}); old files kept") \
            from exc


def _render_job(job: _RenderJob, store: Store | None = None) -> _Spooled:
    """Render, verify and spool one chunk of items in every format (see
    :func:`stream.spool`).  Runs in workers too, where it opens the store itself."""
    if store is None:
        assert job.store is not None, "a worker needs a store it can open"
        with job.store.open() as own:
            return _render_job(job, own)
    found = store.items_by_id(job.ids)
    missing = [i for i in job.ids if i not in found]
    if missing:
        raise PublishError(f"{len(missing)} item(s) went away while publishing, e.g. "
                           f"{missing[0]!r}")
    return [
        stream.spool(fmt, job.channel, Path(path), job.prefix,
                     [(n, as_published(found[i], job.summary_only))
                      for n, i, need in zip(job.positions, job.ids, job.needed, strict=True)
                      if need[f]])
        for f, (fmt, path) in enumerate(zip(job.fmts, job.paths, strict=True))
    ]


def as_published(item: Item, summary_only: bool) -> Item:
    """``item`` as a feed with ``content = "summary"`` shows it: its summary (or bullets)
    and no text of its own (readers follow the link for the rest).  Its fingerprint stays
    the stored article's (``Item.content_hash``)."""
    if not summary_only:
        return item
    from ..normalize.textbits import shorten

    article = item.article
    summary = article.summary
    if not summary and not article.summary_bullets and article.body:
        summary = shorten(article.body.partition("\n\n")[0])
    return replace(item, article=replace(article, content_html="", body="", summary=summary),
                   content_hash=item.content_hash or article.content_hash())


def _channel_key(config: Config, feed: FeedConfig) -> str:
    from ..publish.render import RENDER_VERSION

    blob = repr((__version__, RENDER_VERSION, config.channel(feed), feed))
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()
