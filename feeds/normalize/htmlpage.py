"""HTML page -> ``Article``: metadata from the head, the article from the body.

The only module that parses whole pages with lxml (no network, no entities resolved,
``huge_tree`` off: libxml2 stops descending at 256 levels, so a hostile page costs
little and loses only what is nested deeper).

Where each field comes from, first hit wins:

==============  =================================================================
title           ``og:title``; ``<h1>`` inside ``<article>``; ``<title>``; any ``<h1>``
published       ``article:published_time``; ``<time datetime>`` inside ``<article>`` or
                ``<header>``; ``<meta name="date">`` (and Dublin Core); JSON-LD
                ``datePublished``.  Unreadable values are skipped, not errors.
updated         ``article:modified_time``; ``og:updated_time``; JSON-LD ``dateModified``
authors         ``<meta name="author">``; ``<a rel="author">``; ``article:author``
                (unless a URL); JSON-LD ``author``
body            ``<article>``, else ``<main>``, else ``<body>``, without nav, header,
                footer, aside, forms, scripts and the title's own ``<h1>``; sanitized
                against the page's ``<base href>``, else ``base_url``
summary         ``description`` / ``og:description``; else the first paragraph
link / image    ``<link rel="canonical">`` then ``og:url`` / ``og:image`` (made absolute)
tags            ``article:tag`` metas, else ``keywords``
language        ``<html lang>`` (``en-GB`` -> ``en``), ``og:locale``, else detected
==============  =================================================================

The ``<title>`` loses a ``" | Site"`` suffix (separators ``|``, ``-``, ``–``, ``—``,
``·``, ``::``, ``»``) only when that is safe: the suffix equals ``og:site_name`` /
``application-name``, or what is left equals the page's ``<h1>``.  Otherwise the whole
title is kept: a wrong cut ("Spider-Man - A Review") is worse than a suffix.

Bytes: a BOM wins, then a ``<meta charset>`` (or ``http-equiv``) in the first 4 KB,
else UTF-8.  ``iso-8859-1`` and ``us-ascii`` are read as windows-1252, as browsers do.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

import lxml.html
from lxml import etree

from feeds.errors import ArticleError
from feeds.model import Article, Author, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.decode import count_ascii_controls
from feeds.normalize.language import detect_language
from feeds.normalize.permalink import PostFacts, link_for, url_base
from feeds.normalize.sanitize import absolutize, html_to_text, sanitize_html
from feeds.normalize.sitemeta import read_dates
from feeds.normalize.textbits import language_code, parse_date, shorten
from feeds.text import clean_text, one_line

__all__ = ["read_html"]

_REMOVED = (
    "nav", "header", "footer", "aside", "script", "style", "form", "noscript", "template",
    "iframe", "button", "select", "textarea", "dialog",
)  # fmt: skip
_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|·|::|»)\s+")
_MAX_JSON_LD = 1024 * 1024
_MAX_JSON_LD_NODES = 10_000

# --- bytes -> text ---------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"}


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ArticleError("empty file")
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-16"
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ArticleError(f"not {encoding[:6].upper()} despite its byte-order mark") from None
    if b"\x00" in data:
        raise ArticleError("binary data")
    declared = _META_CHARSET.search(data[:4096])
    encoding = "utf-8"
    if declared:
        encoding = _declared_encoding(declared.group(1).decode("ascii").lower())
    try:
        text = data.decode(encoding)
    except UnicodeError:
        if count_ascii_controls(data) * 100 > len(data):
            raise ArticleError("binary data") from None
        raise ArticleError("not UTF-8" if encoding == "utf-8" else f"not {encoding}") from None
    if count_ascii_controls(text.encode("utf-8", "surrogatepass")) * 100 > len(text):
        raise ArticleError("binary data")
    return text


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


@functools.lru_cache(maxsize=64)
def _declared_encoding(name: str) -> str:
    """The codec a ``<meta charset>`` label names, or UTF-8 (as without a declaration).

    Browsers honour only the labels of the WHATWG Encoding Standard; Python's registry
    knows more, some of which are not text encodings at all (``uu``, ``base64``, ``hex``,
    ``zlib``, ``bz2``, ``rot13``: ``bytes.decode`` refuses them with ``LookupError``) or
    cannot have declared themselves in ASCII (UTF-16/32 without a BOM, UTF-7, EBCDIC,
    ``idna``, ``punycode``, the escape codecs).  Those fall back like an unknown label.
    """
    name = "cp1252" if name in _WINDOWS_1252 else name
    try:
        info = codecs.lookup(name)
    except LookupError:
        return "utf-8"  # an unknown label: browsers fall back too
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_DECLARABLE:
        return "utf-8"
    try:  # the page declared its charset in ASCII: the codec must read ASCII as ASCII
        ascii_compatible = _PRINTABLE_ASCII.decode(info.name) == _PRINTABLE_ASCII.decode()
    except (UnicodeError, LookupError):
        ascii_compatible = False
    return info.name if ascii_compatible else "utf-8"


_NOT_DECLARABLE = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "utf-7"}
)


def _parse(text: str) -> Any:
    parser = lxml.html.HTMLParser(
        encoding="utf-8",
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        default_doctype=False,
    )
    try:
        return lxml.html.document_fromstring(clean_text(text).encode("utf-8"), parser=parser)
    except (etree.LxmlError, ValueError) as error:
        if "empty" in str(error).lower():
            raise ArticleError("empty document") from None
        raise ArticleError(f"not HTML: {error}") from None


# --- metadata -----------------------------------------------------------------------------


class _Page:
    """The parsed page, with the lookups every field needs."""

    def __init__(self, root: Any, base_url: str | None) -> None:
        self.root = root
        self.meta: dict[str, list[str]] = {}
        for element in root.iter("meta"):
            name = element.get("property") or element.get("name") or element.get("itemprop")
            content = element.get("content")
            if name and content and content.strip():
                self.meta.setdefault(name.strip().lower(), []).append(content.strip())
        base = root.find(".//base[@href]")
        page_base = absolutize(base.get("href"), base_url) if base is not None else None
        self.declared_base = page_base
        self.base_url = page_base or (absolutize(base_url, None) if base_url else None)
        self.json_ld = list(_json_ld(root))

    def first_meta(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name, ()):
                text = one_line(value)
                if text:
                    return text
        return None

    def json_ld_value(self, key: str) -> Any:
        for node in self.json_ld:
            if key in node:
                return node[key]
        return None


def _json_ld(root: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object found in ``application/ld+json`` scripts, breadth first."""
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = script.text or ""
        if len(raw) > _MAX_JSON_LD:
            continue
        try:
            loaded = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        queue: list[Any] = [loaded]
        seen = 0
        while queue and seen < _MAX_JSON_LD_NODES:
            node = queue.pop(0)
            seen += 1
            if isinstance(node, list):
                queue.extend(node)
            elif isinstance(node, dict):
                yield node
                queue.extend(v for v in node.values() if isinstance(v, dict | list))


def _text(element: Any) -> str:
    return one_line(element.text_content() or "")


def _title(page: _Page) -> tuple[str | None, Any]:
    """The title, and the ``<h1>`` element that repeats it (to drop from the body)."""
    article_h1 = page.root.find(".//article//h1")
    any_h1 = article_h1 if article_h1 is not None else page.root.find(".//body//h1")
    h1_text = _text(any_h1) if any_h1 is not None else ""
    candidates = [
        page.first_meta("og:title", "twitter:title"),
        _text(article_h1) if article_h1 is not None else None,
        _strip_site_name(page, h1_text),
        h1_text,
    ]
    title = next((candidate for candidate in candidates if candidate), None)
    repeated = any_h1 if title and h1_text and h1_text.casefold() == title.casefold() else None
    return title, repeated


def _strip_site_name(page: _Page, h1_text: str) -> str | None:
    found = page.root.xpath("(//title[not(ancestor::svg) and not(ancestor::math)])[1]")
    title = _text(found[0]) if found else ""  # an SVG <title> is an icon's tooltip
    separators = list(_SEPARATORS.finditer(title))
    if not separators:
        return title or None
    head = title[: separators[-1].start()].strip()
    tail = title[separators[-1].end() :].strip()
    site = page.first_meta("og:site_name", "application-name")
    if head and (
        (site and tail.casefold() == site.casefold())
        or (h1_text and head.casefold() == h1_text.casefold())
    ):
        return head
    return title


def _published(page: _Page, tz: tzinfo) -> tuple[datetime, str] | None:
    candidates: list[object] = [*page.meta.get("article:published_time", ())]
    candidates += [
        element.get("datetime")
        for element in page.root.xpath(
            "(//article//time[@datetime] | //header//time[@datetime])[position() <= 5]"
        )
    ]
    for name in ("date", "dc.date", "dcterms.date", "dc.date.issued", "pubdate"):
        candidates += page.meta.get(name, ())
    candidates.append(page.json_ld_value("datePublished"))
    return _first_date(candidates, tz)


def _updated(page: _Page, tz: tzinfo) -> tuple[datetime, str] | None:
    candidates: list[object] = [
        *page.meta.get("article:modified_time", ()),
        *page.meta.get("og:updated_time", ()),
        page.json_ld_value("dateModified"),
    ]
    return _first_date(candidates, tz)


def _first_date(candidates: list[object], tz: tzinfo) -> tuple[datetime, str] | None:
    for candidate in candidates:
        parsed = parse_date(candidate, tz) if candidate else None
        if parsed is not None:
            return parsed
    return None


def _authors(page: _Page) -> tuple[Author, ...]:
    name = page.first_meta("author", "dc.creator")
    if name:
        return (Author(name),)
    for link in page.root.xpath(
        "//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]"
    ):
        text = _text(link)
        if text:
            return (Author(text, url=absolutize(link.get("href") or "", page.base_url)),)
    for value in page.meta.get("article:author", ()):
        if not absolutize(value, None) and one_line(value):
            return (Author(one_line(value)),)
    found = page.json_ld_value("author")
    people = found if isinstance(found, list) else [found]
    authors: list[Author] = []
    for person in people[:20]:
        given = person.get("name") if isinstance(person, dict) else person
        if isinstance(given, str) and one_line(given):
            authors.append(Author(one_line(given)))
    return tuple(authors)


def _tags(page: _Page) -> tuple[str, ...]:
    values = page.meta.get("article:tag") or [
        piece for value in page.meta.get("keywords", ()) for piece in value.split(",")
    ]
    tags: list[str] = []
    for value in values:
        tag = one_line(value)
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _language(page: _Page) -> str | None:
    declared = page.root.get("lang") or page.root.get("xml:lang")
    for value in (declared, page.first_meta("og:locale", "content-language", "language")):
        code = language_code(value) if value else None
        if code:
            return code
    return None


def _canonical(page: _Page) -> str | None:
    """``<link rel="canonical">``, else ``og:url`` (made absolute)."""
    for element in page.root.xpath("//link[@rel='canonical'][@href]"):
        url = absolutize(element.get("href") or "", page.base_url)
        if url:
            return url
    return absolutize(page.first_meta("og:url") or "", page.base_url)


def _body(page: _Page, repeated_h1: Any) -> Any:
    root = page.root
    container = root.find(".//article")
    if container is None:
        container = root.find(".//main")
    if container is None:
        container = root.find(".//body")
    if container is None:
        container = root
    if repeated_h1 is not None and _is_inside(repeated_h1, container):
        repeated_h1.drop_tree()
    for element in list(container.iter(*_REMOVED)):
        if element.getparent() is not None:
            element.drop_tree()
    return container


def _is_inside(element: Any, container: Any) -> bool:
    return any(ancestor is container for ancestor in element.iterancestors())


# --- the reader ----------------------------------------------------------------------------


def read_html(
    data: bytes,
    *,
    source: str,
    key: str,
    tz: tzinfo = UTC,
    base_url: str | None = None,
    context: ReadContext | None = None,
    mtime_ns: int | None = None,
) -> Article:
    """Read one HTML page.  Raises ``ArticleError(reason)`` when it is not an article.

    ``context`` (else ``tz`` and ``base_url``) gives the link pattern and layout: without a
    canonical link, :func:`permalink.link_for` gives the link.  Relative URLs resolve
    against the page's ``<base href>``, else the article's own URL (``url_base``)."""
    ctx = context or ReadContext(tz, base_url)
    tz, base_url = ctx.tz, ctx.base_url
    page = _Page(_parse(_decode(data)), base_url)

    title, repeated_h1 = _title(page)
    if not title:
        raise ArticleError("no title")

    # Read every piece of metadata before the body is cut out of the tree.
    published = _published(page, tz)
    updated = _updated(page, tz)
    authors = _authors(page)
    language = _language(page)
    link = _canonical(page)
    dates = None
    if published is None:  # the file name's date, else the mtime: for the link too
        dates = read_dates({}, tz, key=key, mtime_ns=mtime_ns)
    own = link_for(PostFacts(key, title, published[0] if published else dates.published
                             if dates else None),
                   base_url=base_url, pattern=ctx.link_pattern, layout=ctx.layout, tz=tz)
    link = link or own
    if page.declared_base is None:
        page.base_url = url_base(own, key, page.base_url)
    image_value = page.first_meta("og:image", "og:image:url", "twitter:image")
    image = absolutize(image_value, page.base_url) if image_value else None
    description = page.first_meta("description", "og:description")

    container = _body(page, repeated_h1)
    content_html = sanitize_html(
        lxml.html.tostring(container, encoding="unicode"), base_url=page.base_url
    )
    body = html_to_text(content_html)
    summary = shorten(description) if description else None
    if not summary:
        summary = shorten(body.partition("\n\n")[0]) or None

    return Article(
        source=source,
        key=key,
        title=title,
        content_html=content_html,
        body=body,
        summary=summary,
        published=published[0] if published else dates.published if dates else None,
        published_text=published[1] if published else None,
        date_source="content" if published else dates.date_source if dates else None,
        updated=updated[0] if updated else None,
        authors=authors,
        tags=_tags(page),
        link=link,
        image=image,
        language=language or detect_language(f"{title}\n{body}"),
    )


# --- an HTML file with front matter (Jekyll, Hugo): read like a Markdown one ---------------

_FIRST_H1 = re.compile(r"\A\s*<h1\b[^>]*>(.*?)</h1\s*>", re.DOTALL | re.IGNORECASE)
_MORE = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)


def read_fragment(text: str, *, source: str, key: str, ctx: ReadContext,
                  mtime_ns: int | None = None) -> Article:
    """An HTML file that starts with front matter: its metadata as in a Markdown file, its
    body an HTML fragment (a leading ``<h1>`` gives the title when there is none)."""
    from feeds.normalize.cleanup import clean_templates
    from feeds.normalize.frontmatter import _split_front_matter
    from feeds.normalize.sitemeta import jekyll_title, lower_keys
    from feeds.normalize.siteread import Parsed, assemble, title_of

    meta, body = _split_front_matter(text)
    meta = lower_keys(meta)
    body = clean_templates(body, as_html=True)
    title = title_of(meta)
    if title is None and ctx.layout == "jekyll":
        title = jekyll_title(key)
    heading = _FIRST_H1.match(body)
    if heading is not None:
        heading_text = one_line(html_to_text(sanitize_html(heading.group(1))))
        if title is None or heading_text.casefold() == title.casefold():
            title = title or heading_text or None
            body = body[heading.end() :]
    if not title:
        raise ArticleError("no title")
    separator = meta.get("excerpt_separator")
    marker = separator if isinstance(separator, str) and separator.strip() else _MORE
    before = (body.split(marker, 1) if isinstance(marker, str) else marker.split(body, 1))
    excerpt = html_to_text(sanitize_html(before[0])) if len(before) == 2 else None
    parsed = Parsed(title=title, html=body, excerpt=excerpt or None)
    return assemble(meta, parsed, source=source, key=key, ctx=ctx, mtime_ns=mtime_ns)


def read(raw: RawInput, ctx: ReadContext) -> Article:
    """``feeds.normalize.READERS``' entry point for the 'html' kind."""
    head = raw.data[:8].lstrip(b"\xef\xbb\xbf")
    if head.startswith((b"---\n", b"---\r\n", b"+++\n", b"+++\r\n")):
        text = _decode(raw.data).removeprefix("\ufeff").replace("\r\n", "\n")
        mtime_ns = raw.file.mtime_ns if raw.file is not None else None
        return read_fragment(text, source=raw.source, key=raw.key, ctx=ctx, mtime_ns=mtime_ns)
    mtime_ns = raw.file.mtime_ns if raw.file is not None else None
    return read_html(raw.data, source=raw.source, key=raw.key, context=ctx, mtime_ns=mtime_ns)
