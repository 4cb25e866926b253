"""Feed autodiscovery: an HTML page -> the feeds it announces.  Pure: bytes in, URLs out.

A page announces its feeds with ``<link rel="alternate" type="application/rss+xml"
href="...">`` (Atom, RDF and JSON Feed types too) in its ``<head>``.  Links are resolved
against ``<base href>`` and the page URL, and returned in document order: the page's
author lists the main feed first.  Parsing uses the standard library's streaming
``html.parser`` (no tree, no entities beyond HTML's, no network) and stops at ``<body>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from feeds.text import absolutize

__all__ = ["FEED_TYPES", "FeedLink", "feed_links", "looks_like_html", "looks_like_json",
           "pick_feed_url"]

FEED_TYPES: frozenset[str] = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/xml",
        "text/xml",
    }
)
_MAX_SCAN = 1 << 20  # the <head> is near the top; a megabyte is plenty


@dataclass(frozen=True, slots=True)
class FeedLink:
    url: str
    type: str
    title: str | None = None


_JSON_TYPES = ("application/feed+json", "application/json", "text/json")


def looks_like_json(body: bytes, content_type: str | None = None) -> bool:
    """True for a JSON media type, or a body whose first non-blank byte is ``{``."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """True when the body's root element is ``<html>``, or, with no root in sight, when
    the media type is HTML.  A feed served as ``text/html`` (common) is still a feed."""
    found = _ROOT.search(body[:8192].replace(b"\x00", b""))
    if found:
        return found.group(1).lower() == b"html"
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return False
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("text/html", "application/xhtml+xml")


# The first start tag that is not a declaration, comment or processing instruction.
_ROOT = re.compile(rb"<([A-Za-z][A-Za-z0-9_.-]*)(?::[A-Za-z0-9_.-]+)?[\s/>]")


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str, str | None]] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "body":
            self.done = True
        elif tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"].strip()
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            media = values.get("type", "").split(";")[0].strip().lower()
            href = values.get("href", "").strip()
            if "alternate" in rels and media in FEED_TYPES and href:
                self.links.append((href, media, values.get("title") or None))

    handle_startendtag = handle_starttag


def feed_links(page: bytes | str, page_url: str) -> list[FeedLink]:
    """Every feed a page announces, absolute, in document order, without repeats."""
    text = page if isinstance(page, str) else _decode(page[:_MAX_SCAN])
    finder = _LinkFinder()
    try:
        finder.feed(text[:_MAX_SCAN])
        finder.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    base = urljoin(page_url, finder.base) if finder.base else page_url
    out: list[FeedLink] = []
    for href, media, title in finder.links:
        url = absolutize(href, base)
        if url and all(link.url != url for link in out):
            out.append(FeedLink(url=url, type=media, title=title))
    return out


def pick_feed_url(page: bytes | str, page_url: str) -> str | None:
    """The page's main feed: its first announced RSS/Atom/RDF/JSON feed, else None.

    Generic XML types (``text/xml``) count only when nothing more specific is there.
    """
    links = feed_links(page, page_url)
    specific = [link for link in links if link.type not in ("application/xml", "text/xml")]
    chosen = specific or links
    return chosen[0].url if chosen else None


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _decode(data: bytes) -> str:
    found = _META_CHARSET.search(data[:4096])
    for encoding in (found.group(1).decode("ascii") if found else None, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding, "replace")
        except LookupError:
            continue
    return data.decode("utf-8", "replace")
