"""Glue around feedparser's internals for ``entries`` (kept apart: they may move in a
later feedparser release, and each falls back to feedparser's plain behaviour then)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["as_feedparser_sees_it", "memoize_base_joins"]


def as_feedparser_sees_it(body: bytes, headers: Mapping[str, str]) -> bytes:
    """The UTF-8 bytes feedparser will hand to expat (it transcodes first)."""
    try:
        from feedparser.encodings import convert_to_utf8

        converted = convert_to_utf8(dict(headers), body, {})
    except Exception:  # internal API: if it moves, the raw screening still stands
        return body
    return converted if isinstance(converted, bytes) else body


@functools.cache
def memoize_base_joins() -> None:
    """Memoize feedparser's URL joins (pure functions of two strings).

    feedparser joins the current ``xml:base`` with the element's own at every start tag,
    almost always the same two strings: a tenth of its time on a typical feed.  Its
    module globals are looked up at each call, so a cached copy stands in; should they
    move in a later release, nothing is replaced and parsing stays as it was."""
    try:
        from feedparser import mixin, urls
    except ImportError:
        return
    for name in ("make_safe_absolute_uri", "_urljoin"):
        pure: Callable[..., Any] | None = getattr(urls, name, None)
        if getattr(mixin, name, None) is not pure or pure is None:
            continue  # moved or already replaced
        setattr(mixin, name, functools.lru_cache(maxsize=1024)(pure))
