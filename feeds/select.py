"""What a published feed shows: filters and merging over stored items.  Pure.

``select_items`` keeps the input order (newest first) and applies, in turn:

1. ``since``: items published before ``now - since`` go (``Item.published`` falls back
   to the first-seen time).
2. ``include`` / ``exclude``: regular expressions, case-insensitive, searched in the
   title, the summary (else the start of the body) and each tag.  With ``include``, an
   item must match at least one; matching any ``exclude`` drops it.
3. One story, once: an item whose link (compared as ``feeds.text.canonical_key``) or whose
   normalized title and publication day were already shown is dropped; the first, so
   the newest, stays.  Never two items of the same folder source (``folders``): each of
   its files is an article of its own (two posts may share a title and a day), and their
   links are made distinct when they are read (``feeds.pipeline.links``).
4. ``limit``.

Patterns are RE2 syntax (google-re2), matched in time linear in the text: no pattern can
backtrack.  RE2 has no backreferences and no lookaround, and its ``\\w``, ``\\d``, ``\\b`` are
ASCII (``\\pL`` is any letter).  :func:`validate_pattern` also refuses patterns longer than
300 characters or that compile to more than 1,500 RE2 instructions (``.{1000}``), since a
match costs up to instructions x characters; and every searched field is cut to a fixed
length (title 500, summary 2000 characters, tags 100 each).  A match then takes at most
tens of milliseconds, usually microseconds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import re2

from feeds.errors import ConfigError
from feeds.model import Item
from feeds.text import story_keys_of

__all__ = ["MAX_FIELD", "MAX_PATTERN", "MAX_PROGRAM", "Filter", "archive_plan", "feeds_touched",
           "folder_owner",
           "one_per_story", "select_items", "story_keys", "validate_pattern"]

T = TypeVar("T")

MAX_PATTERN = 300
MAX_PROGRAM = 1500  # RE2 instructions, forwards and backwards
MAX_FIELD = {"title": 500, "summary": 2000, "tag": 100}


def validate_pattern(pattern: str) -> Filter:
    """Compile a filter pattern (RE2, case-insensitive); ConfigError says why it cannot be."""
    if len(pattern) > MAX_PATTERN:
        raise ConfigError(f"pattern longer than {MAX_PATTERN} characters")
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise ConfigError(_re2_reason(pattern, exc)) from None
    if max(compiled.programsize, compiled.reverseprogramsize) > MAX_PROGRAM:
        raise ConfigError("pattern too complex to match quickly (large counted repeats "
                          "such as .{500}, or many \\pL)")
    return Filter(pattern, compiled)


class Filter:
    """A compiled filter pattern: :meth:`search` says whether it occurs in a text."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._compiled = compiled

    def search(self, text: str) -> bool:
        # Bytes: no offset bookkeeping, and a lone surrogate (which has no UTF-8) becomes "?".
        return self._compiled.search(text.encode("utf-8", "replace")) is not None


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the reason goes into our ConfigError, not onto stderr
    options.never_capture = True  # whether it matches is all we ask
    return options


_OPTIONS = _options()


def _re2_reason(pattern: str, exc: Exception) -> str:
    raw = exc.args[0] if exc.args else "invalid pattern"
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if re.search(r"\\[1-9]|\(\?P=", pattern):
        return f"{reason}: backreferences are not supported (RE2 syntax)"
    if re.search(r"\(\?<?[=!]", pattern):
        return f"{reason}: lookahead and lookbehind are not supported (RE2 syntax)"
    if reason == "pattern too large - compile failed":
        return "pattern too complex to match quickly (large counted repeats such as .{500})"
    return f"{reason} (RE2 syntax)"


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Filter:
    return validate_pattern(pattern)


def _fields(item: Item) -> Iterable[str]:
    article = item.article
    yield article.title[: MAX_FIELD["title"]]
    summary = article.summary or article.body
    if summary:
        yield summary[: MAX_FIELD["summary"]]
    for tag in article.tags:
        yield tag[: MAX_FIELD["tag"]]


def _matches(patterns: Sequence[Filter], item: Item) -> bool:
    texts = list(_fields(item))
    return any(p.search(text) for p in patterns for text in texts)


def story_keys(item: Item) -> tuple[str, ...]:
    """What makes two items the same story: their link, their title and (UTC) day."""
    day = item.published.astimezone(UTC).date().isoformat()
    return story_keys_of(item.article.link, item.article.title, day)


def select_items(
    items: Sequence[Item],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    since: timedelta | None = None,
    limit: int | None = None,
    now: datetime,
    folders: Collection[str] = (),
) -> list[Item]:
    """Filter, de-duplicate and cut ``items`` (newest first); see the module docstring.

    Raises ConfigError for a pattern :func:`validate_pattern` refuses.
    """
    includes = [_compiled(p) for p in include]
    excludes = [_compiled(p) for p in exclude]
    oldest = now - since if since is not None else None
    kept = (
        item for item in items
        if (oldest is None or item.published >= oldest)
        and (not includes or _matches(includes, item))
        and not (excludes and _matches(excludes, item))
    )
    folder_set = frozenset(folders)
    return one_per_story(kept, story_keys, limit=limit,
                         owner_of=lambda item: _owner(item.article.source, folder_set))


def _owner(source: str, folders: frozenset[str]) -> str | None:
    return source if source in folders else None


def folder_owner(folders: Collection[str]) -> Callable[[Any], str | None]:
    """``owner_of`` for :func:`one_per_story` over items with a ``source``: the source's
    name when it is one of ``folders``, else None."""
    folder_set = frozenset(folders)
    return lambda item: _owner(item.source, folder_set)


def one_per_story(items: Iterable[T], keys_of: Callable[[T], Iterable[str]], *,
                  limit: int | None = None,
                  owner_of: Callable[[T], str | None] | None = None) -> list[T]:
    """The first (newest) item of each story, in order, at most ``limit`` of them.

    ``keys_of`` gives an item's story keys (:func:`story_keys`, or the ones the store
    keeps per article): an item sharing any key with an item already kept is dropped,
    unless ``owner_of`` names the same owner (a folder source) for both: items of one
    owner never drop each other.
    """
    seen: dict[str, set[str | None]] = {}
    out: list[T] = []
    if limit is not None and limit <= 0:
        return out
    for item in items:
        keys = tuple(keys_of(item))
        owner = owner_of(item) if owner_of is not None else None
        if any(key in seen and (owner is None or seen[key] - {owner}) for key in keys):
            continue
        for key in keys:
            seen.setdefault(key, set()).add(owner)
        out.append(item)
        if limit is not None and len(out) >= limit:
            break
    return out


class FeedOfSources(Protocol):
    """A feed as :func:`feeds_touched` sees it (``feeds.config.FeedConfig`` is one)."""

    @property
    def name(self) -> str: ...

    def matches(self, source: str) -> bool: ...


class IngestChanges(Protocol):
    """What an ingest changed, as :func:`feeds_touched` sees it (``feeds.model.Changes``)."""

    @property
    def empty(self) -> bool: ...


def feeds_touched(feeds: Iterable[FeedOfSources], source: str,
                  changes: IngestChanges | None) -> set[str]:
    """The feeds to publish again after ``source`` was ingested: every feed that shows
    ``source``, when a published item appeared, changed or went away; none otherwise (a
    failed ingest, one that changed nothing or only rejected input)."""
    if changes is None or changes.empty:
        return set()
    return {feed.name for feed in feeds if feed.matches(source)}


def archive_plan(ids: Sequence[str], pages: dict[int, Collection[str]], size: int
                 ) -> tuple[dict[int, list[int]], list[int]]:
    """How an archived feed (RFC 5005 section 4) lays out its items: per archive page
    number, the positions in ``ids`` (the feed's items, newest first) on it, and the
    positions in the subscription document.

    An item stays on the page it was on (``pages``: each page's ids, as last published),
    whatever its date: archive pages are stable.  The others go to the subscription
    document; whenever it would hold ``2 * size`` or more, its oldest ``size`` items make a
    new page, numbered after the newest page still holding items.  So the subscription
    document holds ``size`` to ``2 * size - 1`` items once the feed has that many (never
    only a few, just after a page was made), one new item adds at most one page, and a
    first publication numbers its pages from the oldest items.  A page whose items all
    went has no positions and is left out.
    """
    page_of = {i: n for n, members in pages.items() for i in members}
    laid: dict[int, list[int]] = {}
    current: list[int] = []
    for position, item_id in enumerate(ids):
        page = page_of.get(item_id)
        (current if page is None else laid.setdefault(page, [])).append(position)
    number = max(laid, default=0) + 1
    while len(current) >= 2 * size:
        laid[number], current = current[-size:], current[:-size]
        number += 1
    return dict(sorted(laid.items())), current
