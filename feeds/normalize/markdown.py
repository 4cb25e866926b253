"""Markdown file -> ``Article``: front matter, CommonMark body, sanitized HTML.

::

    bytes ─► text (UTF-8, BOM ok) ─► front matter (YAML --- / TOML +++) ─► fields
                                 └─► body ─► markdown-it (commonmark + tables, raw HTML)
                                             ─► sanitize_html ─► content_html, body text

Front matter keys (unknown keys are ignored: other tools write many):

=================  ===========================================================
``title``          string (a number is an error, not a title)
``date``           also ``published`` / ``publishDate``: ISO 8601 date or
                   date-time (zone-less read in ``tz``), or RFC 2822
``updated``        also ``lastmod`` / ``modified`` / ``last_modified_at``
``author``         string, or mapping ``name`` / ``email`` / ``url``
``authors``        list of those
``tags``           list, or comma-separated string
``summary``        plain text
``id``             -> ``explicit_id``
``link``/``image`` absolute URL, or relative to ``base_url``; else dropped
``draft``          boolean
``lang``           also ``language``; ``en-GB`` -> ``en``
=================  ===========================================================

Without a ``title`` the first block gives it: a leading ``# heading`` (removed from the
body), else the first line (removed when it is a one-line paragraph).  A leading ``#``
heading that repeats the front-matter title is removed too.

Front matter is read by :mod:`feeds.normalize.frontmatter`: YAML with a safe loader that
refuses aliases (no "billion laughs") and reads timestamps as strings (so a bad date names
its key), capped at 64 KB; the common simple form (``key: value`` lines of strings,
``tags: [a, b]``) without the parser, to the same result.

The helpers :func:`decode_utf8`, :func:`parse_date`, :func:`language_code` and
:func:`shorten` are shared with :mod:`feeds.normalize.htmlpage`.
"""

from __future__ import annotations

import email.utils
import functools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from feeds.errors import ArticleError
from feeds.model import Article, Author, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.decode import count_ascii_controls
from feeds.normalize.frontmatter import MAX_FRONT_MATTER, _kind, _split_front_matter
from feeds.normalize.language import detect_language
from feeds.normalize.sanitize import absolutize, html_to_text, sanitize_html
from feeds.text import clean_text, one_line

__all__ = [
    "MAX_FRONT_MATTER",
    "decode_utf8",
    "language_code",
    "parse_date",
    "read_markdown",
    "shorten",
]

SUMMARY_CHARS = 300
TITLE_CHARS = 200  # a title taken from the first line of a paragraph is shortened to this

_DATE_KEYS = ("date", "published", "publishDate")
_UPDATED_KEYS = ("updated", "lastmod", "modified", "last_modified_at")

# --- bytes -> text ------------------------------------------------------------------------

_NEWLINES = re.compile(r"\r\n?")


def decode_utf8(data: bytes) -> str:
    """UTF-8 (BOM dropped; a UTF-16 BOM is honoured) -> LF-only text, or ArticleError.

    Reasons: ``empty file`` (no bytes or only whitespace), ``binary data`` (a NUL byte
    without a UTF-16 BOM, or more than 1 % control characters), ``not UTF-8``.
    """
    if not data:
        raise ArticleError("empty file")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleError("not UTF-16 despite its byte-order mark") from None
        text = text.removeprefix("\ufeff")
    else:
        if b"\x00" in data:
            raise ArticleError("binary data")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if count_ascii_controls(data) * 100 > len(data):
                raise ArticleError("binary data") from None
            raise ArticleError("not UTF-8") from None
    if not text.strip():
        raise ArticleError("empty file")
    if count_ascii_controls(text.encode("utf-8", "surrogatepass")) * 100 > len(text):
        raise ArticleError("binary data")
    return _NEWLINES.sub("\n", text) if "\r" in text else text


# --- dates --------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_SPACED_ZONE = re.compile(r"(.*\d)\s*(?:([+-]\d{2}(?::?\d{2})?)|(Z|UTC|GMT))", re.IGNORECASE)


def parse_date(value: object, tz: tzinfo = UTC) -> tuple[datetime, str] | None:
    """Read a date from front matter or metadata: ``(aware UTC datetime, text)`` or None.

    Accepts ``date``/``datetime`` objects and strings in ISO 8601 (date, or date-time
    with or without a zone; ``T`` or a space; ``Z``, ``UTC``, ``GMT`` or an offset, also
    after a space) or RFC 2822.  Zone-less values are read in ``tz``.  ``text`` is the
    value in ISO 8601 at its written precision: ``2024-05-01``, ``2024-05-01T10:30:00``
    (no zone written) or ``2024-05-01T10:30:00+02:00``.
    """
    try:
        if isinstance(value, datetime):
            return _from_datetime(value, tz)
        if isinstance(value, date):
            text = value.isoformat()
            return datetime(value.year, value.month, value.day, tzinfo=tz).astimezone(UTC), text
        if isinstance(value, str):
            return _from_string(value.strip(), tz)
    except (ValueError, OverflowError):
        return None
    return None


def _from_datetime(value: datetime, tz: tzinfo) -> tuple[datetime, str]:
    text = value.isoformat(timespec="seconds")
    if value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC), text


def _from_string(text: str, tz: tzinfo) -> tuple[datetime, str] | None:
    if not text or len(text) > 64:
        return None
    if _DATE_ONLY.fullmatch(text):
        return parse_date(date.fromisoformat(text), tz)
    iso = text
    spaced = _SPACED_ZONE.fullmatch(text)
    if spaced and ("-" in spaced.group(1)[:10]):
        iso = spaced.group(1) + (spaced.group(2) or "+00:00")
    try:
        return _from_datetime(datetime.fromisoformat(iso), tz)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _from_datetime(parsed, tz)


# --- small text helpers -------------------------------------------------------------------

_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")


def language_code(value: str) -> str | None:
    """``en-GB`` / ``en_US`` / ``EN`` -> ``en``; None for anything that is not a tag."""
    found = _LANGUAGE.fullmatch(value.strip())
    return found.group(1).lower() if found else None


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` on one line, cut at a word boundary near ``limit`` with an ellipsis."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def _string(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArticleError(f"{key} must be a string, not {_kind(value)}")
    return value


def _first_date(
    meta: Mapping[str, Any], keys: Sequence[str], tz: tzinfo
) -> tuple[datetime, str] | None:
    for key in keys:
        value = meta.get(key)
        if value is None or value == "":
            continue
        parsed = parse_date(value, tz)
        if parsed is None:
            shown = repr(value) if isinstance(value, str) else str(value)
            raise ArticleError(f"front matter {key!r} is not a date: {shown[:80]}")
        return parsed
    return None


def _author(value: object, base_url: str | None) -> Author | None:
    if isinstance(value, str):
        name = one_line(value)
        return Author(name) if name else None
    if isinstance(value, Mapping):
        given = value.get("name")
        if not isinstance(given, str) or not one_line(given):
            raise ArticleError("author must have a name")
        email_ = value.get("email")
        return Author(
            one_line(given),
            email=(one_line(email_) or None) if isinstance(email_, str) else None,
            url=_url(value.get("url"), base_url),
        )
    raise ArticleError(f"author must be a string or a mapping, not {_kind(value)}")


def _authors(meta: Mapping[str, Any], base_url: str | None) -> tuple[Author, ...]:
    found: list[Author] = []
    if meta.get("author") is not None:
        author = _author(meta["author"], base_url)
        if author:
            found.append(author)
    listed = meta.get("authors")
    if listed is not None:
        if isinstance(listed, str | Mapping):
            listed = [listed]
        if not isinstance(listed, list):
            raise ArticleError(f"authors must be a list, not {_kind(listed)}")
        for value in listed:
            author = _author(value, base_url)
            if author and author.name not in {known.name for known in found}:
                found.append(author)
    return tuple(found)


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items: list[object]
    if isinstance(value, str):
        items = list(value.split(","))
    elif isinstance(value, list):
        items = value
    else:
        raise ArticleError(f"tags must be a list or a comma-separated string, not {_kind(value)}")
    tags: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ArticleError(f"tags must be strings, not {_kind(item)}")
        tag = one_line(str(item))
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _draft(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise ArticleError(f"draft must be true or false, not {value!r}"[:100])


def _explicit_id(value: str | int | None) -> str | None:
    if value is None:
        return None
    return clean_text(str(value)).strip() or None


def _url(value: object, base_url: str | None) -> str | None:
    return absolutize(value, base_url) if isinstance(value, str) else None


# --- body ---------------------------------------------------------------------------------


@functools.cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def _inline_text(md: MarkdownIt, token: Token) -> str:
    html = md.renderer.render(token.children or [], md.options, {})
    return html_to_text(sanitize_html(html))


def _title_from_body(
    md: MarkdownIt, tokens: list[Token], source: str, title: str | None
) -> tuple[str | None, list[Token]]:
    """Take the title from the first block when there is none; drop a repeated heading."""
    if len(tokens) < 3:
        return title, tokens
    first, inline = tokens[0], tokens[1]
    if first.type == "heading_open" and first.tag == "h1":
        heading = one_line(_inline_text(md, inline))
        if title is None and heading:
            return heading, tokens[3:]
        if title is not None and heading.casefold() == title.casefold():
            return title, tokens[3:]
        return title, tokens
    if title is not None or first.map is None:
        return title, tokens
    if first.type == "paragraph_open" and first.map[1] - first.map[0] == 1:
        return shorten(_inline_text(md, inline), TITLE_CHARS) or None, tokens[3:]
    source_lines = source.split("\n")
    line = source_lines[first.map[0]] if first.map[0] < len(source_lines) else ""
    text = html_to_text(sanitize_html(md.renderInline(line.strip())))
    return shorten(text, TITLE_CHARS) or None, tokens


def _first_paragraph(md: MarkdownIt, tokens: list[Token]) -> str:
    for index, token in enumerate(tokens[:-1]):
        if token.type == "paragraph_open" and token.level == 0:
            return _inline_text(md, tokens[index + 1])
    return ""


# --- the reader ---------------------------------------------------------------------------


def read_markdown(
    data: bytes,
    *,
    source: str,
    key: str,
    tz: tzinfo = UTC,
    base_url: str | None = None,
) -> Article:
    """Read one Markdown file.  Raises ``ArticleError(reason)`` when it is not an article."""
    text = decode_utf8(data)
    meta, body_text = _split_front_matter(text)

    title_value = _string(meta, "title")
    title = one_line(title_value) if title_value is not None else None
    title = title or None

    md = _markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(body_text, env)
    title, tokens = _title_from_body(md, tokens, body_text, title)
    if not title:
        raise ArticleError("no title")

    content_html = sanitize_html(md.renderer.render(tokens, md.options, env), base_url=base_url)
    body = html_to_text(content_html)

    summary_value = _string(meta, "summary")
    summary = shorten(summary_value) if summary_value else None
    if not summary:
        summary = shorten(_first_paragraph(md, tokens) or body.partition("\n\n")[0]) or None

    published = _first_date(meta, _DATE_KEYS, tz)
    updated = _first_date(meta, _UPDATED_KEYS, tz)

    language: str | None = None
    for language_key in ("lang", "language"):
        declared = meta.get(language_key)
        if isinstance(declared, str) and (language := language_code(declared)):
            break
    if language is None:
        language = detect_language(f"{title}\n{body}")

    explicit_id = meta.get("id")
    if isinstance(explicit_id, bool) or not isinstance(explicit_id, str | int | None):
        raise ArticleError(f"id must be a string, not {_kind(explicit_id)}")

    return Article(
        source=source,
        key=key,
        title=title,
        content_html=content_html,
        body=body,
        summary=summary,
        published=published[0] if published else None,
        published_text=published[1] if published else None,
        date_source="front-matter" if published else None,
        updated=updated[0] if updated else None,
        authors=_authors(meta, base_url),
        tags=_tags(meta.get("tags")),
        link=_url(meta.get("link"), base_url),
        image=_url(meta.get("image"), base_url),
        language=language,
        explicit_id=_explicit_id(explicit_id),
        draft=_draft(meta.get("draft")),
    )


def read(raw: RawInput, ctx: ReadContext) -> Article:
    """``feeds.normalize.READERS``' entry point for the 'markdown' kind."""
    return read_markdown(raw.data, source=raw.source, key=raw.key, tz=ctx.tz,
                         base_url=ctx.base_url)
