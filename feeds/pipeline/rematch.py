"""Ids survive a lost store: the published feeds are the one copy of the ids the world holds.

``feeds recover`` (wired by ``feeds.pipeline.recover``) reads the sources into a fresh
store exactly as a build does, then gives every article the id, and the dates, its
published item shows::

    published files ─► read_published ─► Entry per item ─┐
                                                         ├─► match ─► Restored per article
    sources ─► ingest (fresh store) ─► Store.identities ─┘

A published item is matched to an article by, in order:

1. its id, when an article asks for that very id (front matter ``id``);
2. its fingerprint (``"_feeds": {"fingerprint": ...}`` in the JSON Feed, the article's
   content hash): the same content gives the same fingerprint after a lost store and any
   rename;
3. its title and date, among the sources of the feeds it was published in (an article
   whose date is first seen or guessed from its file's mtime: by title alone).

Each feed is read from the first of its files that reads (a damaged one is reported): of
its configured formats (a file of a format dropped since is stale), then any other, each
in the order JSON Feed, Atom, RSS, since JSON carries the fingerprints and Atom and JSON
the ``updated`` dates.  Among articles a rule fits alike, the one whose date is the
item's wins (notes of one title, each dated by its file).  An item matched by title
and date although its fingerprint differs was edited since it was published: its
``updated`` moves to ``now``.  Items of RSS-only feeds keep the ``updated`` their content
declares, capped by the feed's ``lastBuildDate`` (the newest of them, when none reaches
it, takes that date).  What no rule matches is reported.  An article no feed showed, of
the date of a recovered one, gets a new id that sorts after it: feeds order one date's
items by id, and the new id must not push a published item out of its feed.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..config import Config
from ..errors import PublishError, StoreError
from ..publish import FORMATS, document_format
from ..publish.render import read_back
from ..store import Identity, Restored
from ..store.plan import default_id_factory
from ..text import xml_legal

__all__ = [
    "Entry",
    "FeedFile",
    "Match",
    "lost_store_problem",
    "match",
    "read_published",
]

@dataclass(frozen=True, slots=True)
class Entry:
    """One published item, as read back from the feeds it appears in."""

    id: str
    title: str  # trimmed
    published: int | None  # Unix seconds
    updated: int | None  # None: read from RSS, which has no per-item updated date
    fingerprint: str | None
    sources: frozenset[str]  # sources of the feeds it appears in
    ceiling: int | None = None  # RSS: the feed's lastBuildDate (no item is newer)


@dataclass(frozen=True, slots=True)
class FeedFile:
    """The published file one feed was read from, and its items."""

    feed: str
    path: Path
    entries: tuple[Entry, ...]
    error: str | None = None  # unreadable: named in the report, its items not recovered


def read_published(config: Config) -> list[FeedFile]:
    """Every configured feed's items, read from the first of its files that reads: of the
    formats it is configured with, then of any left from an earlier configuration (a file
    of a format dropped since stays behind, stale, while the others go on), each in the
    order JSON Feed, Atom, RSS.  A feed with no file is left out; an unreadable or damaged
    file is reported (``error``), never guessed at, and the next one read: every format
    carries the same ids.  An archived feed's archive pages of the format read are read
    too (each a :class:`FeedFile`): their items are in no subscription document."""
    found: list[FeedFile] = []
    for feed in config.feeds:
        sources = frozenset(config.feed_sources(feed))
        # the feed's formats first, each kind in the table's ``recover_rank`` order
        # (JSON Feed's fingerprints first, then Atom's ``updated`` dates, then RSS)
        for fmt in sorted(FORMATS, key=lambda f: (f not in feed.formats,
                                                  FORMATS[f].recover_rank)):
            folder = config.output_dir / feed.name
            read = _read_file(feed.name, fmt, folder / FORMATS[fmt].file_name, sources)
            if read is None:
                continue
            found.append(read)
            if read.error is None:
                found.extend(page for path in _archive_pages(folder, fmt)
                             if (page := _read_file(feed.name, fmt, path, sources)))
                break
    return found


def _archive_pages(folder: Path, fmt: str) -> list[Path]:
    """The archive pages (RFC 5005) in format ``fmt`` in a feed's folder, oldest first."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    pages = sorted((known[1], name) for name in names
                   if (known := document_format(name)) and known[0] == fmt and known[1])
    return [folder / name for _, name in pages]


def _read_file(feed: str, fmt: str, path: Path, sources: frozenset[str]) -> FeedFile | None:
    """One published file's items (None: there is no such file)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return FeedFile(feed, path, (), f"cannot read: {exc.strerror}")
    try:
        updated, items = read_back(fmt, data)
        feed_updated = None if FORMATS[fmt].item_updated else updated
        entries = tuple(_entry(item, sources, feed_updated)
                        for item in items if isinstance(item.get("id"), str) and item["id"])
    except PublishError as exc:
        return FeedFile(feed, path, (), str(exc))
    except (RecursionError, ValueError, TypeError, AttributeError) as exc:
        # hand-edited: nested too deep, a title that is not text, ...
        return FeedFile(feed, path, (), f"{fmt}: not a feed this version of feeds wrote: {exc}")
    return FeedFile(feed, path, entries)


def _entry(item: Mapping[str, object], sources: frozenset[str],
           ceiling: int | None) -> Entry:
    title, fingerprint = item["title"], item.get("fingerprint")
    if not isinstance(title, str):
        raise TypeError(f"item {item['id']!r}: title is not text")
    return Entry(id=str(item["id"]), title=title, published=_instant(item["published"]),
                 updated=_instant(item.get("updated")),
                 fingerprint=fingerprint if isinstance(fingerprint, str) else None,
                 sources=sources, ceiling=_instant(ceiling))


def _instant(value: object) -> int | None:
    """Unix seconds a datetime can hold (years 1 to 9999, a margin of a day), else None."""
    if not isinstance(value, int) or not _FIRST <= value <= _LAST:
        return None
    return value


_FIRST = int(datetime(1, 1, 2, tzinfo=UTC).timestamp())
_LAST = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp())


def merged_entries(files: Iterable[FeedFile]) -> list[Entry]:
    """One entry per published id: what every file says of it, the richest reading first
    (a fingerprint, an ``updated`` date) and the sources of every feed it appears in."""
    by_id: dict[str, Entry] = {}
    for file in files:
        for entry in file.entries:
            seen = by_id.get(entry.id)
            if seen is None:
                by_id[entry.id] = entry
                continue
            by_id[entry.id] = Entry(
                id=entry.id,
                title=seen.title or entry.title,
                published=seen.published if seen.published is not None else entry.published,
                updated=seen.updated if seen.updated is not None else entry.updated,
                fingerprint=seen.fingerprint or entry.fingerprint,
                sources=seen.sources | entry.sources,
                ceiling=_least(seen.ceiling, entry.ceiling),
            )
    return [by_id[i] for i in sorted(by_id)]


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass
class Match:
    """What :func:`match` decided: restored identities by source, and what is left over."""

    restored: dict[str, list[Restored]] = field(default_factory=dict)
    how: dict[str, int] = field(default_factory=dict)  # rule -> items matched by it
    edited: list[str] = field(default_factory=list)  # ids whose content changed since
    unmatched: list[Entry] = field(default_factory=list)  # published, no article found
    # articles no feed showed, given a new id that sorts after the ids of the published
    # articles of their date (see :func:`_behind_the_published`), by source
    renewed: dict[str, list[Restored]] = field(default_factory=dict)

    @property
    def matched(self) -> int:
        return sum(self.how.values())


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def match(entries: Sequence[Entry], articles: Mapping[str, Sequence[Identity]], *,
          now: datetime, mint: Callable[[], str] = default_id_factory) -> Match:
    """Match published ``entries`` to the live ``articles`` (by source) of a fresh store.

    Pure but for ``mint`` (new ids): the rules are in the module docstring.  Each article
    takes at most one id and each id goes to at most one article; ties go to the smallest
    (source, key).
    """
    result = Match()
    taken: set[tuple[str, str]] = set()
    chosen: list[tuple[Entry, str, Identity, str]] = []  # (entry, source, article, rule)
    everything = [(source, a) for source in sorted(articles) for a in articles[source]]
    live_ids = {a.id: (source, a) for source, a in everything}

    def take(entry: Entry, source: str, article: Identity, rule: str) -> None:
        taken.add((source, article.key))
        chosen.append((entry, source, article, rule))

    pending: list[Entry] = []
    for entry in entries:  # 1. an article that asks for this very id
        holder = live_ids.get(entry.id)
        if holder is not None and holder[1].explicit:
            take(entry, holder[0], holder[1], "id")
        else:
            pending.append(entry)

    by_hash: dict[str, list[tuple[str, Identity]]] = {}
    for source, a in everything:
        if not a.explicit:
            by_hash.setdefault(a.content_hash, []).append((source, a))
    rest: list[Entry] = []
    for entry in pending:  # 2. the fingerprint
        candidates = [(s, a) for s, a in by_hash.get(entry.fingerprint or "", ())
                      if (s, a.key) not in taken]
        if not candidates:
            rest.append(entry)
            continue
        candidates.sort(key=lambda c: (c[0] not in entry.sources,
                                       not _same_title_and_date(entry, c[1]),
                                       not _same_date(entry, c[1]), c[0], c[1].key))
        take(entry, *candidates[0], "fingerprint")

    for entry in rest:  # 3. title and date
        candidates = [(s, a) for s, a in everything
                      if s in entry.sources and (s, a.key) not in taken and not a.explicit
                      and _same_title_and_date(entry, a)]
        # a guessed date fits any date, but its own (the file was not touched) fits best
        candidates.sort(key=lambda c: not _same_date(entry, c[1]))
        if candidates:
            take(entry, *candidates[0], "title and date")
        else:
            result.unmatched.append(entry)

    rows: list[tuple[str, Entry, Restored]] = []
    for entry, source, article, rule in chosen:
        result.how[rule] = result.how.get(rule, 0) + 1
        edited = entry.fingerprint is not None and entry.fingerprint != article.content_hash
        if edited:
            result.edited.append(entry.id)
        rows.append((source, entry, _restored(entry, article, edited=edited, now=now)))
    for source, _entry, row in _reach_ceilings(rows):
        result.restored.setdefault(source, []).append(row)
    result.renewed = _behind_the_published(result.restored, articles, taken, mint)
    return result


def _behind_the_published(restored: Mapping[str, Sequence[Restored]],
                          articles: Mapping[str, Sequence[Identity]],
                          taken: set[tuple[str, str]], mint: Callable[[], str]
                          ) -> dict[str, list[Restored]]:
    """Articles no feed showed must stay out of the feeds they were kept out of.

    A feed shows one story once, the newest item (ties: the smallest id), and cuts at its
    ``limit``, the same way.  An article no feed showed lost that draw against a published
    one; in the fresh store it could win it: an undated one shows when it was first seen,
    which is now, and any gets a new random id.  So an undated one that is one story with
    a recovered article (by its link, or its title on the day it now has) takes that
    article's date, as first seen no later, and each of a date that a recovered article
    has gets a new id that sorts after the recovered ids of that date.
    """
    own = {(source, a.key): a for source, ids in articles.items() for a in ids}
    last: dict[datetime, str] = {}  # date -> the greatest id recovered at it
    stories: dict[str, tuple[datetime, str]] = {}  # story -> latest (date, id) recovered
    for source, rows in restored.items():
        for row in rows:  # ``row.published`` puts a guessed date back; else its own stays
            article = own[(source, row.key)]
            date = row.published or article.published
            last[date] = max(last.get(date, ""), row.id)
            for story in _stories(article, date):
                stories[story] = max(stories.get(story, (date, row.id)), (date, row.id))
    renewed: dict[str, list[Restored]] = {}
    for source in sorted(articles):
        for a in articles[source]:
            if (source, a.key) in taken or a.explicit:
                continue
            date, moved = a.published, False
            if not a.dated:  # first seen now, newer than the story it is one with
                found = [stories[s] for s in _stories(a, a.published) if s in stories]
                if found:
                    date, moved = max(found)[0], True
            bound = last.get(date)
            if bound is not None and a.id < bound:
                new = _id_after(bound, mint)
            else:
                new = a.id if moved else None
            if new is None:
                continue
            renewed.setdefault(source, []).append(
                Restored(a.key, new, min(a.first_seen, date) if moved else a.first_seen,
                         a.updated, date if moved else None))
    return renewed


def _stories(article: Identity, date: datetime) -> tuple[str, ...]:
    """What makes ``article``, dated ``date``, one story with another (as feeds merge
    them): its link, and its title on that day."""
    from ..text import story_keys_of

    return story_keys_of(article.link, article.title, _day(date))


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def _id_after(bound: str, mint: Callable[[], str]) -> str | None:
    """A new id that sorts after ``bound``: minted as usual when one of a few does, else a
    random ``urn:uuid:`` between ``bound`` and the last UUID; None when none can."""
    for _ in range(16):
        new = mint()
        if new > bound:
            return new
    prefix = "urn:uuid:"
    if bound.startswith(prefix):
        try:
            low = uuid.UUID(bound[len(prefix):]).int
        except ValueError:
            return None
        if low < 2**128 - 1:
            new = prefix + str(uuid.UUID(int=low + 1 + secrets.randbelow(2**128 - 1 - low)))
            if new > bound:
                return new
    return None


def _reach_ceilings(rows: list[tuple[str, Entry, Restored]]
                    ) -> list[tuple[str, Entry, Restored]]:
    """RSS shows no item's ``updated``, only the newest of them (``lastBuildDate``).  When
    no item read from RSS alone reaches it (an item edited after it was published), the
    newest such item takes it: no item's date shows anywhere else, and the feed's does."""
    groups: dict[int, list[int]] = {}
    for n, (_source, entry, _row) in enumerate(rows):
        if entry.updated is None and entry.ceiling is not None:
            groups.setdefault(entry.ceiling, []).append(n)
    out = list(rows)
    for ceiling, members in groups.items():
        if any(_seconds(rows[n][2].updated) >= ceiling for n in members):
            continue
        newest = min(members, key=lambda n: (-(rows[n][1].published or 0), rows[n][1].id))
        source, entry, row = rows[newest]
        out[newest] = (source, entry, row._replace(updated=_at(ceiling)))
    return out


def _same_date(entry: Entry, article: Identity) -> bool:
    return entry.published is not None and _seconds(article.published) == entry.published


def _same_title(entry: Entry, article: Identity) -> bool:
    """The item's title is the article's, or (Atom) the one Atom gives it untitled: the
    start of its text, its link, or the item's own id."""
    if xml_legal(article.title).strip() == entry.title:
        return True
    alias = article.atom_title
    return bool(alias) and (entry.title == alias
                            or (alias == xml_legal(article.id) and entry.title == entry.id))


def _same_title_and_date(entry: Entry, article: Identity) -> bool:
    if not _same_title(entry, article):
        return False
    if not article.dated or article.guessed:
        return True  # a date first seen (the store lost it) or guessed (a touched file)
    return entry.published is not None and _seconds(article.published) == entry.published


def _restored(entry: Entry, article: Identity, *, edited: bool, now: datetime) -> Restored:
    """The identity ``article`` takes from ``entry``: its id, and the dates its item shows."""
    published = _at(entry.published) if entry.published is not None else article.published
    if entry.updated is not None:
        updated = _at(entry.updated)
    else:  # RSS: the date the content declares (fresh store), never past the feed's date
        updated = article.updated
        if entry.ceiling is not None and _seconds(updated) > entry.ceiling:
            updated = _at(entry.ceiling)
    if edited:  # as an edit found by a build: later than now and than the published date
        updated = max(now.astimezone(UTC), updated + timedelta(seconds=1))
    first_seen = published if not article.dated else min(article.first_seen, published)
    # a date of the item's own, or a guessed one (file mtime) the item shows otherwise
    put_back = not article.dated or (article.guessed and _seconds(article.published)
                                     != _seconds(published))
    return Restored(article.key, entry.id, first_seen, updated,
                    published if put_back else None)


def lost_store_problem(config: Config) -> str | None:
    """Why a build must not start: the store is missing, yet published feeds hold ids a
    fresh store would mint anew.  None when the store exists or nothing was published."""
    if config.shared or config.store_path.exists() or config.store_path.is_symlink():
        return None  # (a shared store: its nodes start with an empty output folder)
    files = read_published(config)
    count = len({e.id for f in files for e in f.entries})
    if not count:
        return None
    where = ", ".join(str(f.path) for f in files if f.entries)
    return (f"{config.store_path}: the store is missing, but {count} published item(s) "
            f"({where}) hold ids a new store would mint anew; run `feeds recover` to rebuild "
            f"them from the published feeds, or delete the published feeds to start afresh")


def check_replaceable(store_path: Path, *, force: bool, ids: int | None) -> None:
    """Refuse to recover over a store that still holds ids (``ids``: how many; None: the
    file is not a usable store), unless ``force``."""
    if force or ids == 0:
        return
    what = "is not a usable feeds store" if ids is None else f"holds {ids} id(s)"
    raise StoreError(f"{store_path}: the store {what}; `feeds recover` rebuilds a lost "
                     f"store only (--force replaces it, keeping the old file aside)")
