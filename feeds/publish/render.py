"""Render a feed in one format, and verify the result by reading it back.

The pipeline does, per channel and format::

    data = render(fmt, channel, items)     # bytes, deterministic
    verify(fmt, data, items)               # PublishError if it does not read back
    write_if_changed(path, data)           # atomic; untouched when identical

``verify`` parses XML with feedparser (from an in-memory stream: never a string it could
take for a URL or a file name) and JSON with ``json``, then checks the item count and, per
item and in order, the id, the title and the dates (whole seconds, UTC).  RSS has no
per-item "updated", so only ``pubDate`` is checked there.  feedparser trims surrounding
whitespace in titles, so titles are compared trimmed.
"""

from __future__ import annotations

import calendar
import io
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import feedparser

from feeds.errors import PublishError
from feeds.model import Channel, Item
from feeds.normalize.text import xml_legal
from feeds.publish.atom import render_atom
from feeds.publish.jsonfeed import VERSION, render_json
from feeds.publish.rss import render_rss

__all__ = ["FORMATS", "render", "verify"]

Renderer = Callable[[Channel, Sequence[Item]], bytes]
RENDERERS: dict[str, Renderer] = {"rss": render_rss, "atom": render_atom, "json": render_json}
FORMATS: tuple[str, ...] = tuple(RENDERERS)
_FEEDPARSER_VERSIONS = {"rss": "rss20", "atom": "atom10"}


def render(fmt: str, channel: Channel, items: Sequence[Item]) -> bytes:
    """``items`` (newest first, already limited) as a ``fmt`` document: rss, atom or json."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise PublishError(f"unknown feed format {fmt!r}") from None
    return renderer(channel, items)


def verify(fmt: str, data: bytes, items: Sequence[Item]) -> None:
    """Raise ``PublishError`` unless ``data`` reads back as a feed of exactly ``items``."""
    if fmt == "json":
        entries = _read_json(data)
    elif fmt in _FEEDPARSER_VERSIONS:
        entries = _read_xml(fmt, data)
    else:
        raise PublishError(f"unknown feed format {fmt!r}")
    if len(entries) != len(items):
        raise PublishError(f"{fmt}: {len(entries)} items read back, {len(items)} rendered")
    for index, (got, item) in enumerate(zip(entries, items, strict=True)):
        want = _expected(fmt, item)
        for key, value in want.items():
            if got.get(key) != value:
                raise PublishError(
                    f"{fmt}: item {index} ({item.id!r}): {key} reads back as "
                    f"{got.get(key)!r}, expected {value!r}"
                )


def _expected(fmt: str, item: Item) -> dict[str, Any]:
    want: dict[str, Any] = {
        "id": xml_legal(item.id),
        "title": xml_legal(item.article.title).strip(),
        "published": _seconds(item.published),
    }
    if fmt != "rss":
        want["updated"] = _seconds(item.updated)
    return want


def _seconds(value: datetime) -> int:
    return int(value.astimezone(UTC).replace(microsecond=0).timestamp())


def _read_xml(fmt: str, data: bytes) -> list[dict[str, Any]]:
    # Sanitizing and resolving URIs in content matter not for this check and cost ~70%.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    if parsed.get("bozo"):
        raise PublishError(f"{fmt}: not well-formed: {parsed.get('bozo_exception')}")
    if parsed.get("version") != _FEEDPARSER_VERSIONS[fmt]:
        raise PublishError(f"{fmt}: reads back as {parsed.get('version')!r}")
    return [
        {
            "id": entry.get("id"),
            "title": (entry.get("title") or "").strip(),
            "published": _timestamp(entry.get("published_parsed")),
            # dict.get: FeedParserDict.get would fall back to published_parsed, with a warning
            "updated": _timestamp(dict.get(entry, "updated_parsed")),
        }
        for entry in parsed.get("entries", [])
    ]


def _timestamp(value: time.struct_time | None) -> int | None:
    return calendar.timegm(value) if value else None


def _read_json(data: bytes) -> list[dict[str, Any]]:
    try:
        feed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(f"json: not valid JSON: {exc}") from exc
    if not isinstance(feed, dict) or feed.get("version") != VERSION:
        raise PublishError("json: not a JSON Feed 1.1 document")
    items = feed.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PublishError("json: 'items' is not a list of objects")
    return [
        {
            "id": i.get("id"),
            "title": (i.get("title") or "").strip(),
            "published": _parse_rfc3339(i.get("date_published")),
            "updated": _parse_rfc3339(i.get("date_modified")),
        }
        for i in items
    ]


def _parse_rfc3339(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.utcoffset() is None:
        return None
    return int(parsed.timestamp())
