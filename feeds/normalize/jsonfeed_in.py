"""JSON Feed 1.0 / 1.1 -> ``list[Article]`` (feedparser 6 does not read JSON Feed).

Lenient like a reader should be: a field of the wrong type is ignored, an item that is
not an object is skipped with a warning, an unknown ``version`` is a warning.  A body
that is not JSON, or JSON that is not an object with an ``items`` array, is a
:class:`~feeds.errors.ParseError`.  Keys, dates, HTML and URLs follow the same rules as
:mod:`feeds.normalize.entries`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from feeds.errors import ParseError
from feeds.model import Article, Author, Enclosure, Origin, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.entries import (
    MAX_TITLE_FALLBACK,
    ParsedFeed,
    canonical_key,
    hash_key,
    plain_text,
)
from feeds.normalize.sanitize import absolutize, html_to_text, sanitize_html
from feeds.text import clean_text, legal_fields, one_line

__all__ = ["parse_json_feed", "read_feed"]

_VERSION = re.compile(r"^https?://jsonfeed\.org/version/(1(?:\.\d+)?)/?$")
def parse_json_feed(body: bytes, *, source: str, feed_url: str) -> ParsedFeed:
    """Read a JSON Feed document.  Raises ParseError naming ``source`` and ``feed_url``."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"not valid JSON: {exc}", source=source, url=feed_url) from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ParseError(
            "not a JSON Feed (no top-level object with an 'items' array)",
            source=source,
            url=feed_url,
        )
    warnings: list[str] = []
    version_text = data.get("version")
    found = _VERSION.match(version_text) if isinstance(version_text, str) else None
    if found:
        version = "json" + found.group(1)
    else:
        version = "json"
        warnings.append(f"unknown JSON Feed version {version_text!r}, read as 1.1")

    title = _string(data.get("title"))
    title = one_line(title) if title else None
    home = absolutize(_string(data.get("home_page_url")) or "", feed_url) or None
    origin = Origin(feed_url=feed_url, title=title, link=home)
    feed_language = _language(data.get("language"))
    feed_authors = _authors(data)

    articles: list[Article] = []
    for index, item in enumerate(data["items"]):
        if not isinstance(item, dict):
            warnings.append(f"item {index} is not an object: skipped")
            continue
        articles.append(legal_fields(
            _article(item, source, feed_url, origin, feed_language, feed_authors)))
    keys = [a.key for a in articles]
    if len(keys) != len(set(keys)):
        warnings.append(f"{len(keys) - len(set(keys))} items repeat another item's id")
    return ParsedFeed(
        articles=articles, title=title, link=home, version=version, warnings=tuple(warnings)
    )


def _article(
    item: Mapping[str, Any],
    source: str,
    feed_url: str,
    origin: Origin,
    feed_language: str | None,
    feed_authors: tuple[Author, ...],
) -> Article:
    link = absolutize(_string(item.get("url")) or "", feed_url) or None
    if link is None:
        link = absolutize(_string(item.get("external_url")) or "", feed_url) or None
    base = link or feed_url
    content = _string(item.get("content_html"))
    if not content and _string(item.get("content_text")):
        paragraphs = re.split(r"\n\s*\n", clean_text(_string(item.get("content_text")) or ""))
        content = "".join(f"<p>{html.escape(p.strip())}</p>" for p in paragraphs if p.strip())
    content_html = sanitize_html(content, base_url=base) if content else ""
    body = html_to_text(content_html) if content_html else ""
    summary_text = _string(item.get("summary"))
    summary = plain_text(summary_text, "text/plain") if summary_text else None

    title = plain_text(_string(item.get("title")) or "", "text/plain")
    if not title:
        excerpt = one_line(summary or body)
        if len(excerpt) > MAX_TITLE_FALLBACK:
            excerpt = excerpt[: MAX_TITLE_FALLBACK - 1].rstrip() + "…"
        title = excerpt

    published = _date(item.get("date_published"))
    updated = _date(item.get("date_modified"))
    if published is None:
        published = updated

    key = _key(item.get("id"), link, title, published, body)
    image = absolutize(_string(item.get("image")) or "", base) or absolutize(
        _string(item.get("banner_image")) or "", base
    )
    return Article(
        source=source,
        key=key,
        title=title,
        content_html=content_html,
        body=body,
        summary=summary,
        published=published,
        published_text=_iso(published) if published else None,
        date_source="feed" if published else "first-seen",
        updated=updated,
        authors=_authors(item) or feed_authors,
        tags=_tags(item.get("tags")),
        link=link,
        image=image or None,
        language=_language(item.get("language")) or feed_language,
        enclosures=_enclosures(item.get("attachments"), base),
        origin=origin,
    )


def _key(
    raw_id: object, link: str | None, title: str, published: datetime | None, body: str
) -> str:
    """The item's key: its id, else its link, else a hash of what it says."""
    id_text = str(raw_id).strip() if isinstance(raw_id, str | int | float) else ""
    if id_text:
        return canonical_key(id_text)
    if link:
        return canonical_key(link)
    stamp = published.isoformat() if published else None
    return hash_key(title, stamp, None if (title or stamp) else body)


def _tags(raw_tags: object) -> tuple[str, ...]:
    tags: dict[str, None] = {}
    for tag in raw_tags if isinstance(raw_tags, list) else []:
        if isinstance(tag, str) and one_line(tag):
            tags.setdefault(one_line(tag), None)
    return tuple(tags)


def _enclosures(attachments: object, base: str) -> tuple[Enclosure, ...]:
    enclosures: list[Enclosure] = []
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        url = absolutize(_string(attachment.get("url")) or "", base)
        if not url or any(e.url == url for e in enclosures):
            continue
        size = attachment.get("size_in_bytes")
        length = int(size) if isinstance(size, int | float) and size > 0 else None
        mime = _string(attachment.get("mime_type")) or "application/octet-stream"
        enclosures.append(Enclosure(url=url, type=mime.strip(), length=length))
    return tuple(enclosures)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _authors(thing: Mapping[str, Any]) -> tuple[Author, ...]:
    raw = thing.get("authors")
    candidates = raw if isinstance(raw, list) else []
    if not candidates and isinstance(thing.get("author"), dict):  # JSON Feed 1.0
        candidates = [thing["author"]]
    out: list[Author] = []
    for entry in candidates:
        if not isinstance(entry, dict):
            continue
        name = one_line(_string(entry.get("name")) or "")
        url = _string(entry.get("url"))
        email = None
        if url and url.lower().startswith("mailto:"):
            email, url = url[len("mailto:") :], None
        url = absolutize(url, None) if url else None
        if name or email or url:
            author = Author(name=name or email or url or "", email=email, url=url)
            if author not in out:
                out.append(author)
    return tuple(out)


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)  # RFC 3339 requires an offset; assume UTC
    return parsed.astimezone(UTC)


_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def _language(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    found = _LANGUAGE.match(value.strip())
    return found.group(1).lower() if found else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read_feed(raw: RawInput, ctx: ReadContext) -> ParsedFeed:
    """``feeds.normalize.READERS``' entry point for the ``jsonfeed`` kind."""
    return parse_json_feed(raw.data, source=raw.source, feed_url=raw.url or "")
