"""What a published feed shows: filters and merging over stored items.  Pure.

``select_items`` keeps the input order (newest first) and applies, in turn:

1. ``since``: items published before ``now - since`` go (``Item.published`` falls back
   to the first-seen time).
2. ``include`` / ``exclude``: regular expressions, case-insensitive, searched in the
   title, the summary (else the start of the body) and each tag.  With ``include``, an
   item must match at least one; matching any ``exclude`` drops it.
3. One story, once: an item whose link (compared as ``feeds.normalize.keys.canonical_key``) or whose
   normalized title and publication day were already shown is dropped; the first, so
   the newest, stays.
4. ``limit``.

Python's ``re`` has no match timeout (and ``regex`` is not a dependency), so the cost of
a match is bounded by its inputs instead: :func:`validate_pattern` refuses patterns
longer than 300 characters, with backreferences, or with a repeated group that itself
contains a repeat (``(a+)+``, ``(\\w*\\s?)*``: the shapes of catastrophic backtracking),
and every searched field is cut to a fixed length (title 500, summary 2000 characters,
tags 100 each).  Polynomial backtracking remains possible in principle but is bounded by
those lengths.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from feeds.errors import ConfigError
from feeds.model import Item
from feeds.normalize.keys import story_keys_of

__all__ = ["MAX_FIELD", "MAX_PATTERN", "one_per_story", "select_items", "story_keys",
           "validate_pattern"]

T = TypeVar("T")

MAX_PATTERN = 300
MAX_FIELD = {"title": 500, "summary": 2000, "tag": 100}


def validate_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a filter pattern, refusing the shapes that backtrack catastrophically."""
    if len(pattern) > MAX_PATTERN:
        raise ConfigError(f"pattern longer than {MAX_PATTERN} characters: {pattern[:40]!r}…")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"bad regular expression {pattern!r}: {exc}") from exc
    try:
        tree: Any = _SRE_PARSER.parse(pattern, re.IGNORECASE)
    except re.error:  # pragma: no cover - compile() already parsed it
        return compiled
    problem = _risky(tree, inside_repeat=False)
    if problem:
        raise ConfigError(f"regular expression {pattern!r} refused: {problem}")
    return compiled


# The parser ``re`` itself uses (private, typed as Any): the only way to see a pattern's
# structure without writing a second regex parser.
_SRE_PARSER: Any = importlib.import_module("re._parser")
_SRE_CONSTANTS: Any = importlib.import_module("re._constants")


def _risky(tree: Any, *, inside_repeat: bool) -> str | None:
    c = _SRE_CONSTANTS
    for op, arg in tree:
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return "backreferences are not allowed"
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            _low, high, body = arg
            repeats = high is c.MAXREPEAT or high > 1
            if repeats and inside_repeat:
                return "a repeat inside a repeat can take exponential time"
            found = _risky(body, inside_repeat=inside_repeat or repeats)
            if found:
                return found
        elif op == c.SUBPATTERN:
            found = _risky(arg[-1], inside_repeat=inside_repeat)
            if found:
                return found
        elif op == c.BRANCH:
            for branch in arg[1]:
                found = _risky(branch, inside_repeat=inside_repeat)
                if found:
                    return found
        elif op in (c.ASSERT, c.ASSERT_NOT):
            found = _risky(arg[1], inside_repeat=inside_repeat)
            if found:
                return found
        elif op == getattr(c, "ATOMIC_GROUP", None):
            found = _risky(arg, inside_repeat=inside_repeat)
            if found:
                return found
    return None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return validate_pattern(pattern)


def _fields(item: Item) -> Iterable[str]:
    article = item.article
    yield article.title[: MAX_FIELD["title"]]
    summary = article.summary or article.body
    if summary:
        yield summary[: MAX_FIELD["summary"]]
    for tag in article.tags:
        yield tag[: MAX_FIELD["tag"]]


def _matches(patterns: Sequence[re.Pattern[str]], item: Item) -> bool:
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
    return one_per_story(kept, story_keys, limit=limit)


def one_per_story(items: Iterable[T], keys_of: Callable[[T], Iterable[str]], *,
                  limit: int | None = None) -> list[T]:
    """The first (newest) item of each story, in order, at most ``limit`` of them.

    ``keys_of`` gives an item's story keys (:func:`story_keys`, or the ones the store
    keeps per article): an item sharing any key with an item already kept is dropped.
    """
    seen: set[str] = set()
    out: list[T] = []
    if limit is not None and limit <= 0:
        return out
    for item in items:
        keys = tuple(keys_of(item))
        if any(key in seen for key in keys):
            continue
        seen.update(keys)
        out.append(item)
        if limit is not None and len(out) >= limit:
            break
    return out
