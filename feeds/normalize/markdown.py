"""Markdown file -> ``Article``: front matter, CommonMark body, sanitized HTML.

::

    bytes ─► text (UTF-8, BOM ok) ─► front matter (YAML --- / TOML +++, else Pelican's
                                 │   ``Key: value`` header lines) ─► sitemeta ─► fields
                                 └─► body ─► Liquid / shortcodes cleaned (cleanup)
                                     ─► markdown-it (CommonMark, tables, strikethrough,
                                        autolinks, footnotes, raw HTML)
                                     ─► siteread.assemble: link, sanitize against the
                                        article's URL, summary

The metadata keys (unknown keys are ignored: other tools write many) are those of
:mod:`feeds.normalize.sitemeta`, as Jekyll, Hugo and Pelican read them; also ``title``
(a string, or a number written as a title), ``id`` (``explicit_id``), ``link`` and
``image`` (absolute, or relative to the article), ``lang`` / ``language`` (``en-GB`` ->
``en``).

Without a ``title`` the first block gives it: a leading ``# heading`` (removed from the
body), else the first line (removed when it is a one-line paragraph).  A leading ``#``
heading that repeats the front-matter title is removed too.

The summary: the metadata's, else the text before ``<!--more-->`` (or the post's
``excerpt_separator``), else the first paragraph.

Front matter is read by :mod:`feeds.normalize.frontmatter`: YAML with a safe loader that
refuses aliases (no "billion laughs") and reads timestamps as strings, capped at 64 KB.

The helpers :func:`decode_utf8`, :func:`parse_date`, :func:`language_code` and
:func:`shorten` (:mod:`feeds.normalize.textbits`) are exported here too.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, tzinfo
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from feeds.errors import ArticleError
from feeds.model import Article, RawInput
from feeds.normalize import ReadContext, mdfast
from feeds.normalize.cleanup import clean_templates
from feeds.normalize.frontmatter import MAX_FRONT_MATTER, _split_front_matter, pelican_headers
from feeds.normalize.mdhtml import own_html, own_html_of
from feeds.normalize.sanitize import html_to_text, sanitize_html
from feeds.normalize.sitemeta import jekyll_title, lower_keys, summary_of
from feeds.normalize.siteread import Parsed, assemble, title_of
from feeds.normalize.textbits import (
    SUMMARY_CHARS,
    TITLE_CHARS,
    decode_utf8,
    language_code,
    parse_date,
    shorten,
)
from feeds.text import one_line

__all__ = [
    "MAX_FRONT_MATTER",
    "SUMMARY_CHARS",
    "decode_utf8",
    "language_code",
    "parse_date",
    "parse_markdown",
    "read_markdown",
    "shorten",
]

_MARKUP = re.compile(r"[*_`\[<&\\]")  # a summary that may hold Markdown
_MORE = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)


# --- body ---------------------------------------------------------------------------------


@functools.cache
def _markdown(linkify: bool = False, footnotes: bool = False,
              strikethrough: bool = False) -> MarkdownIt:
    """CommonMark with raw HTML, tables and GitHub's extensions: autolinks (``www.x.org``,
    ``https://x.org``), footnotes (``[^1]``), strikethrough (``~~x~~``).  One parser per
    set of extensions, built once: each extension's rules cost every text a little (linkify
    a third of a parse), so a text gets only those it may use (:func:`_extensions`); the
    HTML is the same as with all of them."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": linkify}).enable("table")
    if strikethrough:
        md.enable("strikethrough")
    if footnotes:
        from mdit_py_plugins.footnote import footnote_plugin

        md.use(footnote_plugin)
    if linkify:
        md.enable("linkify")
        md.linkify.set({"fuzzy_email": False})  # type: ignore[union-attr]
    return md


def _extensions(text: str) -> tuple[bool, bool, bool]:
    maybe = "://" in text or "www." in text or "WWW." in text  # before the slower regex
    bare = maybe and _has_bare_url(text)
    return bare, "[^" in text, "~~" in text


#: a URL that is not the target of a link or an attribute: what linkify is needed for
_BARE_URL = re.compile(r"(?<![(<\"'=/])(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)", re.IGNORECASE)
#: where a match of _BARE_URL can end, and the characters of a scheme before "://"
_URL_MARK = re.compile(r"[:wW](?:(?<=:)//|(?<=[wW])[wW][wW]\.)")  # "://", "www." any case
# (a class first: scanned 2.5x as fast as the alternatives "://|www\." with IGNORECASE)
_SCHEME_CHAR = re.compile(r"[a-z0-9+.-]", re.IGNORECASE)


def _has_bare_url(text: str) -> bool:
    """``_BARE_URL.search(text) is not None``, without trying the pattern at every word of
    the text (a tenth of reading a post with links): a match ends with "://" or "www.", so
    it is looked for only from the start of the scheme-like run before each of them
    (lookbehind and ``\\b`` still see the characters before ``pos``)."""
    for mark in _URL_MARK.finditer(text):
        start = mark.start()
        if mark.group() == "://":
            while start > 0 and _scheme_char(text[start - 1]):
                start -= 1
            if start and text[start - 1] in _NOT_BEFORE \
                    and not _INNER_BOUNDARY.intersection(text[start:mark.start()]):
                continue  # "(https://": the only place a match could start is refused
        if _BARE_URL.search(text, start, mark.end()) is not None:
            return True
    return False


_ASCII_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_NOT_BEFORE = frozenset("(<\"'=/")  # _BARE_URL's lookbehind
_INNER_BOUNDARY = frozenset("+.-")  # (a word boundary inside a scheme follows one of these)


def _scheme_char(char: str) -> bool:
    """``_SCHEME_CHAR.match(char)``: a set for ASCII (case-insensitive ``[a-z]`` also takes
    a few other letters, such as the Kelvin sign)."""
    return char in _ASCII_SCHEME or (not char.isascii() and _SCHEME_CHAR.match(char) is not None)


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


def _excerpt(md: MarkdownIt, tokens: list[Token], env: dict[str, Any], source: str,
             separator: object) -> str | None:
    """The text before the post's ``excerpt_separator``, else before ``<!--more-->``."""
    if isinstance(separator, str) and separator.strip() and separator in source:
        prefix = source.split(separator, 1)[0]
        return html_to_text(sanitize_html(md.render(prefix))) or None
    for index, token in enumerate(tokens):
        if token.type == "html_block" and _MORE.fullmatch(token.content.strip()):
            html = md.renderer.render(tokens[:index], md.options, env)
            return html_to_text(sanitize_html(html)) or None
    return None


def _content(md: MarkdownIt, tokens: list[Token], env: dict[str, Any],
             base_url: str | None) -> str:
    """The post's sanitized HTML: written straight from the tokens when they hold nothing
    the sanitizer would change (:func:`own_html`), else markdown-it's, sanitized."""
    written = own_html(tokens, md.options, base_url)
    if written is not None:
        return written
    return sanitize_html(md.renderer.render(tokens, md.options, env), base_url=base_url)


_H1_END = "</h1>\n"


def _html_content(html: str, base_url: str | None) -> str:
    """:func:`_content` of the tokens markdown-it renders as ``html`` (from a simple text)."""
    written = own_html_of(html, base_url)
    return written if written is not None else sanitize_html(html, base_url=base_url)


def _first_html_paragraph(html: str) -> str:
    """:func:`_first_paragraph` from markdown-it's HTML of a simple text: the first ``<p>``
    outside quotes and lists."""
    depth = 0
    for match in _BLOCK_TAG.finditer(html):
        closing, name = match.groups()
        if name != "p":
            depth += -1 if closing else 1
        elif depth == 0:
            end = html.index("</p>", match.end())
            return html_to_text(sanitize_html(html[match.end():end]))
    return ""


_BLOCK_TAG = re.compile(r"<(/?)(p|blockquote|ul|ol|li)\b[^>]*>")


def _parse_simple(text: str, title: str, separator: object, summary: bool
                  ) -> Parsed | None:
    """:func:`parse_markdown` by the compiled parser for a text it reads as markdown-it-py
    does (:mod:`feeds.normalize.mdfast`), to the same bytes; None for any other text."""
    if summary and isinstance(separator, str) and separator.strip() and separator in text:
        return None  # (an excerpt: markdown-it-py's tokens give it)
    if any(_extensions(text)):
        return None
    html = mdfast.render(text)
    if html is None:
        return None
    if html.startswith("<h1>"):  # a first heading repeating the title goes
        end = html.index(_H1_END)
        heading = one_line(html_to_text(sanitize_html(html[4:end])))
        if heading.casefold() == title.casefold():
            html = html[end + len(_H1_END):]
    return Parsed(
        title=title,
        html="",
        content=functools.partial(_html_content, html),
        excerpt=None,
        first_paragraph=(_first_html_paragraph(html) or None) if summary else None,
    )


def parse_markdown(text: str, title: str | None, *, separator: object = None,
                   summary: bool = True) -> Parsed:
    """The body of a Markdown file (after its metadata), parsed once: its title (``title``,
    else its first block), its HTML (``content``: sanitized for a base URL), excerpt and
    first paragraph (not with ``summary`` false: the metadata gives the summary, so neither
    would be used).  A simple text with a title is parsed by the compiled parser."""
    text = clean_templates(text)
    if title and (simple := _parse_simple(text, title, separator, summary)) is not None:
        return simple
    md = _markdown(*_extensions(text))
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    title, tokens = _title_from_body(md, tokens, text, title)
    if not title:
        raise ArticleError("no title")
    return Parsed(
        title=title,
        html="",  # (made by content, for the article's URL)
        content=functools.partial(_content, md, tokens, env),
        excerpt=_excerpt(md, tokens, env, text, separator)
        if summary and ("<!--" in text or separator) else None,
        first_paragraph=(_first_paragraph(md, tokens) or None) if summary else None,
    )


def read_markdown(
    data: bytes,
    *,
    source: str,
    key: str,
    tz: tzinfo = UTC,
    base_url: str | None = None,
    context: ReadContext | None = None,
    mtime_ns: int | None = None,
) -> Article:
    """Read one Markdown file.  Raises ``ArticleError(reason)`` when it is not an article.

    ``context`` (else one of ``tz`` and ``base_url``) gives the layout, link pattern and
    time of the build; ``mtime_ns`` the file's mtime, the last fallback for its date."""
    ctx = context or ReadContext(tz, base_url)
    text = decode_utf8(data)
    meta, body_text = _split_front_matter(text)
    if not meta and body_text is text:
        meta, body_text = pelican_headers(text, strict=ctx.layout != "pelican")
    meta = lower_keys(meta)
    for summary_key in ("summary", "description", "excerpt"):  # written in Markdown too
        written = meta.get(summary_key)
        if isinstance(written, str) and _MARKUP.search(written):
            markup = _markdown(*_extensions(written)).renderInline(written)
            meta[summary_key] = html_to_text(sanitize_html(markup))
    title = title_of(meta)
    if title is None and ctx.layout == "jekyll":
        title = jekyll_title(key)  # Jekyll titles a post by its file name, not its text
    try:  # a summary in the metadata wins over the excerpt and the first paragraph
        summary = summary_of(meta) is None
    except ArticleError:
        summary = True  # (assemble names the bad value)
    parsed = parse_markdown(body_text, title, separator=meta.get("excerpt_separator"),
                            summary=summary)
    return assemble(meta, parsed, source=source, key=key, ctx=ctx, mtime_ns=mtime_ns)


def read(raw: RawInput, ctx: ReadContext) -> Article:
    """``feeds.normalize.READERS``' entry point for the 'markdown' kind."""
    mtime_ns = raw.file.mtime_ns if raw.file is not None else None
    return read_markdown(raw.data, source=raw.source, key=raw.key, context=ctx,
                         mtime_ns=mtime_ns)
