"""The newest items of a feed as its page shows them, read back from the subscription
document the build just wrote (JSON Feed when the feed has one, else Atom, else RSS).

The page then shows exactly what a subscriber gets, and a publication reads no article from
the store for it (the store reads articles only to render feed fragments; see
``tests/test_perf_invariants.py``).  The documents are ours, parsed without entities or
network, and only as far as the page's items (Atom and RSS are streamed): an every-item
feed's page does not read its whole document.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO

from lxml import etree, html

__all__ = ["PageEntry", "page_entries"]

_ATOM = "{http://www.w3.org/2005/Atom}"
_DC = "{http://purl.org/dc/elements/1.1/}"


@dataclass(frozen=True, slots=True)
class PageEntry:
    """One item as a feed's page shows it (texts are plain, not yet escaped)."""

    title: str
    link: str | None
    published: datetime | None
    authors: str
    summary: str


def page_entries(fmt: str, data: bytes | BinaryIO, limit: int) -> list[PageEntry]:
    """The first ``limit`` items of the document ``data`` (its bytes, or a binary file) in
    format ``fmt``; ``ValueError`` when it cannot be read.  Atom and RSS are read as a
    stream that stops after ``limit`` items: an every-item feed of 50,000 items costs what
    its first items cost.  JSON has no such parser here: it is read whole."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        return _entries(fmt, stream, limit)
    except (etree.LxmlError, AttributeError, TypeError, ValueError) as exc:
        raise ValueError(f"not a readable {fmt} document: {exc}") from None


def _entries(fmt: str, stream: BinaryIO, limit: int) -> list[PageEntry]:
    if fmt == "json":
        items = json.loads(stream.read()).get("items", [])
        return [_json_entry(item) for item in items[:limit]]
    tag = f"{_ATOM}entry" if fmt == "atom" else "item"
    read = _atom_entry if fmt == "atom" else _rss_entry
    entries: list[PageEntry] = []
    if limit <= 0:
        return entries
    for _event, element in etree.iterparse(stream, events=("end",), tag=tag,
                                           resolve_entities=False, no_network=True,
                                           huge_tree=True):
        entries.append(read(element))
        if len(entries) >= limit:
            break
        element.clear(keep_tail=True)
    return entries


def _json_entry(item: dict[str, Any]) -> PageEntry:
    authors = ", ".join(a.get("name", "") for a in item.get("authors", []) if a.get("name"))
    summary = item.get("summary") or item.get("content_text") or _text_of(
        item.get("content_html") or "")
    return PageEntry(item.get("title") or "", item.get("url"),
                     _iso(item.get("date_published")), authors, summary)


def _atom_entry(entry: Any) -> PageEntry:
    link = next((ln.get("href") for ln in entry.iterchildren(f"{_ATOM}link")
                 if ln.get("rel", "alternate") == "alternate"), None)
    authors = ", ".join(a.findtext(f"{_ATOM}name") or "" for a in
                        entry.iterchildren(f"{_ATOM}author"))
    summary = _construct(entry.find(f"{_ATOM}summary")) or _construct(
        entry.find(f"{_ATOM}content"))
    published = entry.findtext(f"{_ATOM}published") or entry.findtext(f"{_ATOM}updated")
    return PageEntry(entry.findtext(f"{_ATOM}title") or "", link, _iso(published),
                     authors, summary)


def _rss_entry(item: Any) -> PageEntry:
    creators = [c.text or "" for c in item.iterchildren(f"{_DC}creator")]
    author = item.findtext("author") or ""
    if not creators and author:  # "address (Name)"
        creators = [author.partition("(")[2].rstrip(")") or author]
    try:
        published = parsedate_to_datetime(item.findtext("pubDate") or "")
    except (TypeError, ValueError):
        published = None
    return PageEntry(item.findtext("title") or "", item.findtext("link"), published,
                     ", ".join(creators), _text_of(item.findtext("description") or ""))


def _construct(element: Any) -> str:
    """An Atom text construct as plain text."""
    if element is None:
        return ""
    if element.get("type") == "html":
        return _text_of(element.text or "")
    return "".join(element.itertext())


def _text_of(fragment: str) -> str:
    """The text of an HTML fragment, whitespace collapsed."""
    if not fragment.strip():
        return ""
    try:
        text = html.fragment_fromstring(fragment, create_parent="div").text_content()
    except (etree.ParserError, ValueError):
        return ""
    return " ".join(text.split())


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None
