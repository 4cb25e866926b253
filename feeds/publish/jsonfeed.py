"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with the standard library's ``json``.

Keys whose value is null or empty are left out; the key order is the order of the spec,
fixed by construction, so the same input always gives the same bytes (UTF-8, not ASCII
escaped, two-space indent, trailing newline).

Choices worth knowing:

* ``summary`` is plain text: the summary bullets, one per line with a bullet sign, else
  ``article.summary``.
* ``content_html`` is the same HTML as in RSS and Atom (``feeds.publish.rss.display_html``:
  a ``<figure>`` with image, caption and credit, then the article's HTML).
* An item needs ``content_html`` or ``content_text``: without HTML content the plain-text
  ``body`` is written as ``content_text``, even when empty.
* ``attachments`` are the enclosures; ``hubs`` a single WebSub hub.
* Dates are RFC 3339 in UTC, whole seconds (as in RSS and Atom).
* Characters XML forbids (controls, lone surrogates) are dropped here too: lone surrogates
  cannot be encoded as UTF-8, and the formats should agree on the text.
* Each item carries ``"_feeds": {"fingerprint": ...}``, a JSON Feed extension object
  (readers ignore keys that start with ``_``): the article's content hash, 32 hex digits
  of a digest of what a reader sees (:func:`fingerprint`).  It names no file, path or
  other internal detail; the same article content always gives the same fingerprint, on
  any machine and after any rename.  ``feeds recover`` matches published items to
  articles by it when the store is lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feeds.model import Author, Channel, Item
from feeds.publish import archive_href, feed_url
from feeds.publish.render import FormatRenderer, json_renderer, read_back_json, verify_json
from feeds.publish.rss import display_html
from feeds.text import xml_legal

__all__ = [
    "EXTENSION",
    "JSON_SEPARATOR",
    "VERSION",
    "fingerprint",
    "json_fragment",
    "json_frame",
    "json_item",
    "render_json",
    "rfc3339",
]

VERSION = "https://jsonfeed.org/version/1.1"
#: the item's extension object (JSON Feed 1.1: custom keys start with an underscore)
EXTENSION = "_feeds"


def fingerprint(item: Item) -> str | None:
    """The opaque fingerprint published with an item: ``article.content_hash()`` (the
    store's copy when the item carries it: hashing again costs ~47 µs an item).

    A digest of the normalized content only (source, key and a guessed date are left
    out), so it is the same for the same article after a lost store, a rename or a move,
    and it reveals nothing but what the item already shows.  Being the hash the fragment
    cache is keyed by, a reused fragment's fingerprint is never stale.  None for text the
    hash cannot encode (a lone surrogate: no such article ever reaches the store).
    """
    if item.content_hash is not None:
        return item.content_hash
    try:
        return item.article.content_hash()
    except UnicodeEncodeError:
        return None


def rfc3339(value: datetime) -> str:
    """``2024-05-01T12:00:00+00:00``: UTC, whole seconds."""
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime: {value!r}")
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def json_item(item: Item) -> dict[str, Any]:
    """One item object: a pure function of ``item`` (cacheable by ``(id, updated)``)."""
    article = item.article
    if article.summary_bullets:
        summary: str | None = "\n".join(f"• {_text(b)}" for b in article.summary_bullets)
    else:
        summary = _text(article.summary)
    content_html = display_html(article)
    obj: dict[str, Any] = {
        "id": _text(item.id),
        "url": _text(article.link),
        "title": _text(article.title),
        "content_html": content_html,
    }
    if not content_html:
        obj["content_text"] = _text(article.body)
    obj.update(
        {
            "summary": summary,
            "image": _text(article.image),
            "date_published": rfc3339(item.published),
            "date_modified": rfc3339(item.updated),
            "authors": _authors(article.authors),
            "tags": [_text(t) for t in article.tags if _text(t)],
            "language": _text(article.language),
            "attachments": [
                _compact(
                    {"url": _text(e.url), "mime_type": _text(e.type), "size_in_bytes": e.length}
                )
                for e in article.enclosures
            ],
            EXTENSION: _compact({"fingerprint": fingerprint(item)}),
        }
    )
    keep = {"content_text"} if not content_html else set()
    return _compact(obj, keep=keep)


def render_json(channel: Channel, items: Sequence[Item]) -> bytes:
    """The JSON Feed 1.1 document for ``channel`` with ``items`` in the order given."""
    head, tail = json_frame(channel, count=len(items))
    return head + JSON_SEPARATOR.join(json_fragment(item) for item in items) + tail


#: what goes between two item fragments
JSON_SEPARATOR = b",\n"


def json_fragment(item: Item) -> bytes:
    """One item exactly as ``json.dumps(feed, indent=2)`` lays it out inside ``items``:
    indented four spaces, without the separating comma.  (A JSON string never holds a
    raw newline, so indenting line by line is exact.)"""
    parts: list[str] = ["    "]
    _indented(json_item(item), "\n    ", parts)
    return "".join(parts).encode("utf-8")


_string = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False


def _indented(value: Any, newline: str, out: list[str]) -> None:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` at the indentation ``newline``
    ends with, appended to ``out``: the same bytes (the tests compare), without the pure
    Python encoder ``json`` falls back to whenever ``indent`` is set."""
    if isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        first = True
        for key, item in value.items():
            out.append(("{" if first else ",") + inner + _string(key) + ": ")
            first = False
            _indented(item, inner, out)
        out.append(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        for n, item in enumerate(value):
            out.append(("[" if n == 0 else ",") + inner)
            _indented(item, inner, out)
        out.append(newline + "]")
    else:  # numbers, booleans, null
        out.append(json.dumps(value))


def json_frame(channel: Channel, *, count: int) -> tuple[bytes, bytes]:
    """(head, tail) of the document around ``count`` item fragments joined by
    ``JSON_SEPARATOR``: the bytes ``json.dumps(feed, indent=2)`` gives for the whole feed.

    An archived feed's documents (RFC 5005 has no JSON binding) page with ``next_url``
    (JSON Feed's own paging: the next older page), and an archive page, which never gets
    new items, says ``"expired": true``."""
    pages = channel.archive
    feed: dict[str, Any] = _compact(
        {
            "version": VERSION,
            "title": _text(channel.title) or _text(channel.name),
            "home_page_url": _text(channel.home_url),
            "feed_url": _text(feed_url(channel, "json")),
            "description": _text(channel.description),
            "next_url": _text(archive_href(channel, "json", pages.prev))
            if pages is not None and pages.prev is not None else None,
            "language": _text(channel.language),
            "authors": _authors((channel.author,) if channel.author else ()),
            "expired": True if pages is not None and pages.page is not None else None,
            "hubs": [{"type": "WebSub", "url": _text(channel.hub)}] if channel.hub else [],
        }
    )
    feed["items"] = []  # required, even when empty; always the last key
    empty = json.dumps(feed, ensure_ascii=False, indent=2) + "\n"
    if not count:
        return empty.encode("utf-8"), b""
    cut = empty.rindex("[]")
    return (empty[:cut] + "[\n").encode("utf-8"), b"\n  ]\n}\n"


def _text(value: str | None) -> str:
    return xml_legal(value) if value else ""


def _authors(authors: Sequence[Author]) -> list[dict[str, Any]]:
    """Author objects; one with neither name nor URL is invalid in JSON Feed, so dropped."""
    objs = (_compact({"name": _text(a.name), "url": _text(a.url)}) for a in authors)
    return [obj for obj in objs if obj]


def _compact(
    obj: dict[str, Any], *, keep: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``obj`` without null or empty values (keys in ``keep`` stay whatever they hold)."""
    return {k: v for k, v in obj.items() if k in keep or v not in (None, "", [], {})}


# --------------------------------------------------------------------------- the table's hooks
# (``feeds.publish.FORMATS`` names this module for the 'json' format)


def renderer(channel: Channel) -> FormatRenderer:
    return json_renderer(channel)


def verify(data: bytes, items: Sequence[Item]) -> None:
    verify_json(data, items)


def read_back(data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    return read_back_json(data)
