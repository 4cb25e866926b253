"""A fetched feed body -> ``list[Article]``.  The only module that reads feedparser's dict.

Flow::

    bytes ──check_xml_safety──► feedparser.parse(BytesIO, response_headers)
          ──bozo triage──► entries ──_article──► Article (sanitized, aware UTC, absolute URLs)

* feedparser only ever gets a ``BytesIO``: given ``bytes`` or ``str`` it may open a file
  of that name, and given a URL it fetches it.  The feed URL reaches it as the
  ``Content-Location`` header, which is what it resolves relative URLs and ``xml:base``
  against.
* Bozo triage (after lemon24/reader): ``CharacterEncodingOverride`` and
  ``NonXMLContentType`` are warnings.  A document that is not well-formed is read by
  feedparser's lenient parser: with entries, that is a warning; with none, or when no
  feed root was recognized at all, it is a :class:`~feeds.errors.ParseError`.
* Entity declarations are screened before parsing (:func:`check_xml_safety`), because
  feedparser's lenient fallback expands the entities it keeps without a limit.
* An entry's ``key`` is :func:`canonical_key` of its id, else its link, else a hash of
  its title and date: ``http://`` vs ``https://`` and a trailing slash give one key.
"""

from __future__ import annotations

import calendar
import functools
import html
import io
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feeds.errors import ParseError
from feeds.model import Article, Author, Enclosure, Origin
from feeds.normalize.feedbits import feed_ttl, prepare_body, sniff
from feeds.normalize.keys import hash_key
from feeds.normalize.sanitize import absolutize, html_to_text, sanitize_html
from feeds.text import canonical_key, clean_text, legal_fields, one_line

__all__ = [
    "ParsedFeed",
    "canonical_key",
    "check_xml_safety",
    "feed_ttl",
    "hash_key",
    "parse_feed",
    "plain_text",
]

MAX_ENTITY_DECLARATIONS = 64
MAX_ENTITY_EXPANSION = 1 << 20  # bytes that declared entities may add to a document
MAX_TITLE_FALLBACK = 80


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document, read: its articles, what it says of itself, and what was odd."""

    articles: list[Article]
    title: str | None = None
    link: str | None = None
    version: str = ""  # feedparser's ("rss20", "atom10" ...) or "json1.1"
    ttl: timedelta | None = None  # <ttl>, sy:updatePeriod / sy:updateFrequency
    warnings: tuple[str, ...] = ()


# --- keys -----------------------------------------------------------------------------

# --- XML safety -----------------------------------------------------------------------

_ENTITY_DECL = re.compile(
    rb"<!ENTITY\s+(%\s+)?([^\s\"'>]+)\s+(?:(SYSTEM|PUBLIC)\b|\"([^\"]*)\"|'([^']*)')",
    re.IGNORECASE,
)
_CHAR_REF = re.compile(rb"&#(?:[0-9]+|x[0-9A-Fa-f]+);")


def check_xml_safety(body: bytes) -> None:
    """Reject documents whose entity declarations could expand without bound.

    feedparser keeps simple internal entities and, when the strict (expat) parse fails,
    expands them itself with no limit: one 100 kB entity referenced 20,000 times is a
    2 GB string.  So, over the whole document (NUL bytes dropped, so UTF-16/32 is
    screened too; :func:`parse_feed` screens feedparser's UTF-8 conversion as well,
    which catches UTF-7 and other ASCII-hiding encodings):

    * more than 64 declarations, an internal parameter entity (``<!ENTITY % x "...">``),
      or an entity whose value refers to another entity (the "billion laughs") is
      rejected;
    * the expansion of the remaining internal entities, counted exactly as
      ``references x length``, must stay under 1 MiB (the "quadratic blowup").

    External entities (``SYSTEM`` / ``PUBLIC``) are left alone: neither expat (external
    general entities are switched off) nor feedparser ever fetches them.  The whole
    document is scanned rather than its prolog, because a ``<`` inside a quoted entity
    value or a comment would end a naive prolog early; the price is that a CDATA section
    quoting a billion-laughs declaration gets its feed refused.
    """
    if b"<!ENTITY" not in body.upper() and b"<\x00!\x00" not in body and b"\x00<\x00!" not in body:
        return
    document = body.replace(b"\x00", b"")
    declarations = list(_ENTITY_DECL.finditer(document))
    if len(declarations) > MAX_ENTITY_DECLARATIONS:
        raise ParseError(f"document declares {len(declarations)} entities (limit 64)")
    expansion = 0
    for decl in declarations:
        parameter, name, external = decl.group(1), decl.group(2), decl.group(3)
        if external:
            continue
        value = decl.group(4) if decl.group(4) is not None else decl.group(5) or b""
        if parameter:
            raise ParseError("document declares an internal parameter entity: refused")
        if b"&" in _CHAR_REF.sub(b"", value) or b"%" in value:
            raise ParseError(
                f"entity {name.decode('ascii', 'replace')!r} refers to other entities "
                "(a possible entity-expansion bomb): refused"
            )
        expansion += document.count(b"&" + name + b";") * len(value)
        if expansion > MAX_ENTITY_EXPANSION:
            raise ParseError("declared entities would expand the document past 1 MiB: refused")


def _as_feedparser_sees_it(body: bytes, headers: Mapping[str, str]) -> bytes:
    """The UTF-8 bytes feedparser will hand to expat (it transcodes first)."""
    try:
        from feedparser.encodings import convert_to_utf8

        converted = convert_to_utf8(dict(headers), body, {})
    except Exception:  # internal API: if it moves, the raw screening still stands
        return body
    return converted if isinstance(converted, bytes) else body


# --- feedparser -----------------------------------------------------------------------


def parse_feed(
    body: bytes,
    *,
    source: str,
    feed_url: str,
    headers: Mapping[str, str] | None = None,
) -> ParsedFeed:
    """Read an RSS / Atom / RDF / CDF document (any version feedparser reads).

    ``headers`` are the HTTP response headers (Content-Type gives the charset).  Raises
    :class:`~feeds.errors.ParseError` (naming ``source`` and ``feed_url``) when the body
    is not a feed we can read.
    """
    try:
        return _parse_feed(body, source=source, feed_url=feed_url, headers=headers)
    except ParseError as exc:
        if exc.source:
            raise
        raise ParseError(exc.message, source=source, url=feed_url) from exc.__cause__


def _parse_feed(
    body: bytes,
    *,
    source: str,
    feed_url: str,
    headers: Mapping[str, str] | None,
) -> ParsedFeed:
    import feedparser  # imported here: the package must not pay for it when unused

    _memoize_base_joins()
    check_xml_safety(body)
    body = prepare_body(body)
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers["content-location"] = feed_url
    response_headers.pop("content-encoding", None)  # the body is already decoded
    converted = _as_feedparser_sees_it(body, response_headers)
    if converted is not body:
        check_xml_safety(converted)
    try:
        # ``sanitize_html`` (nh3, allowlist) and its base URL do both jobs after this
        d = feedparser.parse(io.BytesIO(body), response_headers=response_headers,
                             resolve_relative_uris=False)
    except Exception as exc:  # feedparser's own bugs, on input it should have flagged
        raise ParseError(f"feedparser failed: {type(exc).__name__}: {exc}") from exc

    warnings: list[str] = []
    entries: list[Any] = list(d.get("entries") or [])
    version = str(d.get("version") or "")
    if d.get("bozo"):
        bozo = d.get("bozo_exception")
        survivable = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
        if isinstance(bozo, survivable):
            warnings.append(f"{type(bozo).__name__}: {bozo}")
        elif entries:
            warnings.append(f"not well-formed XML, read leniently: {bozo}")
        else:
            reason = f"not well-formed XML: {bozo}" if bozo else "not a feed"
            raise ParseError(reason) from (bozo if isinstance(bozo, Exception) else None)
    if not version and not entries:
        raise ParseError(f"not a feed (no RSS, Atom or RDF root): {sniff(body)}")

    feed = d.get("feed") or {}
    is_atom = version.startswith("atom")
    title = _text_of(feed, "title") or None
    link = _absolute(feed.get("link"), feed_url)
    origin = Origin(feed_url=feed_url, title=title, link=link)
    feed_language = _language(feed.get("language")) or _language(
        response_headers.get("content-language")
    )
    feed_authors = _authors(feed.get("authors")) if is_atom else ()

    articles: list[Article] = []
    for entry in entries:
        try:
            articles.append(legal_fields(
                _article(entry, source, feed_url, origin, feed_language, feed_authors)))
        except ValueError as exc:  # a value feedparser let through that we cannot use
            warnings.append(f"entry skipped: {exc}")
    keys = [a.key for a in articles]
    duplicates = len(keys) - len(set(keys))
    if duplicates:
        warnings.append(f"{duplicates} entries repeat another entry's id")
    return ParsedFeed(
        articles=articles,
        title=title,
        link=link,
        version=version,
        ttl=feed_ttl(feed),
        warnings=tuple(warnings),
    )


@functools.cache
def _memoize_base_joins() -> None:
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


def _article(
    entry: Mapping[str, Any],
    source: str,
    feed_url: str,
    origin: Origin,
    feed_language: str | None,
    feed_authors: tuple[Author, ...],
) -> Article:
    base = _entry_base(entry) or feed_url
    link = _absolute(entry.get("link"), base)
    published = _date(entry, "published_parsed")
    updated = _date(entry, "updated_parsed")
    if published is None and updated is not None:
        published = updated

    content_html = ""
    content_base = base
    contents = [c for c in entry.get("content") or [] if str(c.get("value") or "").strip()]
    chosen = next((c for c in contents if "html" in str(c.get("type") or "")), None)
    chosen = chosen or (contents[0] if contents else None)
    summary_value = str(entry.get("summary") or "")
    summary_type = str((entry.get("summary_detail") or {}).get("type") or "text/html")
    if chosen is not None:
        content_base = str(chosen.get("base") or base)
        content_html = _as_html(str(chosen.get("value") or ""), str(chosen.get("type") or ""))
    elif summary_value.strip():
        content_base = str((entry.get("summary_detail") or {}).get("base") or base)
        content_html = _as_html(summary_value, summary_type)
    content_html = sanitize_html(content_html, base_url=content_base) if content_html else ""
    body = html_to_text(content_html) if content_html else ""

    summary = None
    # feedparser copies an Atom entry's content into ``summary`` when it has none.
    if chosen is not None and summary_value.strip() and summary_value != chosen.get("value"):
        text = plain_text(summary_value, summary_type)
        summary = text or None

    title = _text_of(entry, "title")
    if not title:
        excerpt = one_line(summary or body)
        title = (
            excerpt
            if len(excerpt) <= MAX_TITLE_FALLBACK
            else (excerpt[: MAX_TITLE_FALLBACK - 1].rstrip() + "…")
        )

    raw_id = str(entry.get("id") or "").strip()
    if raw_id:
        key = canonical_key(raw_id)
    elif link:
        key = canonical_key(link)
    else:
        stamp = published.isoformat() if published else None
        key = hash_key(title, stamp, None if (title or stamp) else body)

    enclosures = tuple(_enclosures(entry, base))
    language = _language(_detail_language(entry)) or feed_language
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
        authors=_authors(entry.get("authors")) or feed_authors,
        tags=_tags(entry.get("tags")),
        link=link,
        image=_image(entry, base, enclosures),
        language=language,
        enclosures=enclosures,
        origin=origin,
    )


def plain_text(value: str, content_type: str = "text/html") -> str:
    """A title-like one-line string from feed text, markup stripped when it is HTML."""
    if "html" in content_type:
        return one_line(html_to_text(_escaped_once(value)))
    return one_line(value)


# HTML whose text is itself one HTML element, as ``&lt;p&gt;Text&lt;/p&gt;`` typed as HTML:
# the markup was escaped twice.  Read as it is, the text would show "<p>Text</p>" (and the
# W3C Feed Validator warns of HTML in a title); the feed meant the element.
_ESCAPED_ELEMENT = re.compile(
    r"\s*<(p|div|span|b|i|em|strong|a|h[1-6]|ul|ol|li|blockquote|pre|code|table)\b[^<>]*>"
    r".*</\1\s*>\s*", re.IGNORECASE | re.DOTALL)


def _escaped_once(html_value: str) -> str:
    """``html_value``, or the HTML its text spells when it was escaped twice."""
    if "&lt;" not in html_value:
        return html_value
    text = html_to_text(html_value)
    return text if _ESCAPED_ELEMENT.fullmatch(text) else html_value


def _text_of(thing: Mapping[str, Any], name: str) -> str:
    value = str(thing.get(name) or "")
    detail = thing.get(f"{name}_detail") or {}
    return plain_text(value, str(detail.get("type") or "text/plain"))


def _as_html(value: str, content_type: str) -> str:
    if "html" in content_type:
        return _escaped_once(value)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", clean_text(value)) if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _entry_base(entry: Mapping[str, Any]) -> str | None:
    for name in ("title_detail", "summary_detail"):
        base = (entry.get(name) or {}).get("base")
        if base:
            return str(base)
    for content in entry.get("content") or []:
        if content.get("base"):
            return str(content["base"])
    return None


def _detail_language(entry: Mapping[str, Any]) -> str | None:
    for content in entry.get("content") or []:
        if content.get("language"):
            return str(content["language"])
    for name in ("title_detail", "summary_detail"):
        lang = (entry.get(name) or {}).get("language")
        if lang:
            return str(lang)
    return None


_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def _language(value: object) -> str | None:
    """The primary subtag of a language tag (``en-US`` -> ``en``), lower case."""
    if not isinstance(value, str):
        return None
    found = _LANGUAGE.match(value.strip())
    return found.group(1).lower() if found else None


def _date(entry: Mapping[str, Any], name: str) -> datetime | None:
    # ``in`` first: FeedParserDict.get("updated_parsed") falls back to published.
    value = entry[name] if name in entry else None  # noqa: SIM401
    if not isinstance(value, time.struct_time | tuple) or len(value) < 6:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(tuple(value)), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _absolute(url: object, base: str | None) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    return absolutize(url, base)


def _authors(raw: object) -> tuple[Author, ...]:
    out: list[Author] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        name = one_line(str(item.get("name") or ""))
        email = str(item.get("email") or "").strip() or None
        url = _absolute(item.get("href"), None)
        if name or email:
            author = Author(name=name or str(email), email=email, url=url)
            if author not in out:
                out.append(author)
    return tuple(out)


def _tags(raw: object) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        text = one_line(str(item.get("label") or item.get("term") or ""))
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def _enclosures(entry: Mapping[str, Any], base: str) -> Iterable[Enclosure]:
    seen: set[str] = set()
    for item in entry.get("enclosures") or []:
        url = _absolute(item.get("href") or item.get("url"), base)
        if not url or url in seen:
            continue
        seen.add(url)
        length_text = str(item.get("length") or "").strip()
        length = int(length_text) if length_text.isdigit() else None
        mime = str(item.get("type") or "").strip() or "application/octet-stream"
        yield Enclosure(url=url, type=mime, length=length if length else None)


def _image(entry: Mapping[str, Any], base: str, enclosures: tuple[Enclosure, ...]) -> str | None:
    for thumb in entry.get("media_thumbnail") or []:
        url = _absolute(thumb.get("url"), base)
        if url:
            return url
    image = entry.get("image")
    if isinstance(image, Mapping):
        url = _absolute(image.get("href") or image.get("url"), base)
        if url:
            return url
    for media in entry.get("media_content") or []:
        if str(media.get("medium") or media.get("type") or "").startswith("image"):
            url = _absolute(media.get("url"), base)
            if url:
                return url
    return next((e.url for e in enclosures if e.type.startswith("image/")), None)
