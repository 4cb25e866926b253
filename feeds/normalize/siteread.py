"""One article of a site's content folder, put together from its metadata and its body.

The Markdown, reStructuredText and front-matter HTML readers each parse their own
format, then hand :func:`assemble` the metadata (lower-cased keys, :mod:`sitemeta`) and
the body rendered to HTML but not yet sanitized.  Here, in this order:

1. the dates (with the file name's and the mtime's fallbacks) and what not to publish;
2. categories, tags (categories first: the feeds publish both as categories, as
   jekyll-feed and Pelican do), slug and the permalink as written;
3. the link: a front-matter ``link`` wins, else :func:`permalink.link_for`;
4. the body (and a relative ``image``) sanitized against :func:`permalink.url_base` of
   the article's own URL (``link_for``'s, even when a ``link`` points elsewhere), so a
   page bundle's ``![](photo.png)`` points into its folder, never the site root;
5. the summary: the metadata's, else the reader's excerpt (``<!--more-->``, an
   ``excerpt_separator``), else its first paragraph, else the body's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from feeds.errors import ArticleError
from feeds.model import Article, Author
from feeds.normalize import ReadContext
from feeds.normalize.frontmatter import _kind
from feeds.normalize.language import detect_language
from feeds.normalize.permalink import PostFacts, link_for, url_base
from feeds.normalize.sanitize import absolutize, html_to_text, sanitize_html
from feeds.normalize.sitemeta import (
    categories_of,
    lower_keys,
    read_dates,
    read_status,
    split_terms,
    summary_of,
)
from feeds.normalize.textbits import language_code, shorten
from feeds.text import clean_text, one_line

__all__ = ["Parsed", "assemble", "authors_of", "title_of"]

_MARKDOWN_LINK = re.compile(r"\[([^\[\]]+)\]\(\s*<?([^()\s<>]+)>?\s*\)")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a reader made of the body."""

    title: str
    html: str  # rendered, not yet sanitized
    excerpt: str | None = None  # plain text before <!--more--> or the excerpt separator
    first_paragraph: str | None = None  # plain text
    #: the sanitized HTML for the article's base URL, when the reader makes it itself
    #: (Markdown: without the sanitizer where it can, see :mod:`feeds.normalize.mdhtml`);
    #: None: ``sanitize_html(html)``
    content: Callable[[str | None], str] | None = None


def title_of(meta: Mapping[str, Any]) -> str | None:
    """The metadata's title: a string, or a number written as one (``title: 2024``)."""
    value = meta.get("title")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ArticleError(f"title must be a string, not {_kind(value)}")
    return one_line(str(value)) or None


#: where one author of a string of linked authors ends: ",", ";", "and", "&" outside brackets
#: (tried only where a separator or a run of spaces starts: linear in the text)
_AUTHOR_SEPARATOR = re.compile(r"[,;]\s*(?:and\s+)?|(?<!\s)\s+(?:and|&)\s+")


def _linked_authors(text: str, base_url: str | None) -> list[Author]:
    """A string of authors written with Markdown links (the OpenTelemetry blog's
    ``[Ann](url) (Company), [Bob](url) and [Cy](url)``): one author per part, named by its
    text with the links' text kept (``Ann (Company)``), linked by its first link."""
    depth, outside = 0, []  # whether each character is outside brackets
    for c in text:
        depth += (c in "([") - (c in ")]")
        outside.append(depth == 0)
    parts: list[str] = []
    start = 0
    for m in _AUTHOR_SEPARATOR.finditer(text):
        if outside[m.start()]:
            parts.append(text[start:m.start()])
            start = m.end()
    parts.append(text[start:])
    found: list[Author] = []
    for part in parts:
        first = _MARKDOWN_LINK.search(part)
        name = one_line(_MARKDOWN_LINK.sub(lambda m: m.group(1), part))
        if name:
            url = absolutize(first.group(2), base_url) if first else None
            found.append(Author(name, url=url))
    return found


def _author(value: object, base_url: str | None) -> list[Author]:
    if isinstance(value, str):
        if _MARKDOWN_LINK.search(value):  # author: "[Ann Lee](https://ann.example)"
            return _linked_authors(value.strip(), base_url)
        name = one_line(value)
        return [Author(name)] if name else []
    if isinstance(value, Mapping):
        given = value.get("name")
        if not isinstance(given, str) or not one_line(given):
            raise ArticleError("author must have a name")
        email_ = value.get("email")
        url = value.get("url")
        return [Author(
            one_line(given),
            email=(one_line(email_) or None) if isinstance(email_, str) else None,
            url=absolutize(url, base_url) if isinstance(url, str) else None,
        )]
    raise ArticleError(f"author must be a string or a mapping, not {_kind(value)}")


def authors_of(meta: Mapping[str, Any], base_url: str | None) -> tuple[Author, ...]:
    """``author`` then ``authors`` (a list, or Pelican's ``A, B`` / ``A; B``)."""
    found: list[Author] = []
    if meta.get("author") is not None:
        found.extend(_author(meta["author"], base_url))
    listed = meta.get("authors")
    if listed is not None:
        if isinstance(listed, str):
            listed = list(split_terms(listed, "authors")) if not _MARKDOWN_LINK.search(
                listed) else [listed]
        elif isinstance(listed, Mapping):
            listed = [listed]
        if not isinstance(listed, list):
            raise ArticleError(f"authors must be a list, not {_kind(listed)}")
        for value in listed:
            for author in _author(value, base_url):
                if author.name not in {known.name for known in found}:
                    found.append(author)
    return tuple(found)


def _optional_text(meta: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = clean_text(str(value)).strip()
            if text:
                return text
    return None


def _explicit_id(meta: Mapping[str, Any]) -> str | None:
    value = meta.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | None):
        raise ArticleError(f"id must be a string, not {_kind(value)}")
    return clean_text(str(value)).strip() or None if value is not None else None


def _language(meta: Mapping[str, Any], title: str, body: str) -> str | None:
    for key in ("lang", "language"):
        declared = meta.get(key)
        if isinstance(declared, str) and (code := language_code(declared)):
            return code
    return detect_language(f"{title}\n{body}")


def assemble(meta: Mapping[str, Any], parsed: Parsed, *, source: str, key: str,
             ctx: ReadContext, mtime_ns: int | None = None) -> Article:
    """The article of lower-cased ``meta`` and ``parsed`` (see the module docstring)."""
    base_url = ctx.base_url
    permalink = _optional_text(meta, "permalink", "url")
    if ctx.layout == "zola" and (path := _optional_text(meta, "path")):
        permalink = "/" + path.strip("/") + "/"  # Zola's page path: from the site's root
    dates = read_dates(meta, ctx.tz, key=key, mtime_ns=mtime_ns, hugo=ctx.layout == "hugo",
                       permalink=permalink)
    status = read_status(meta)
    taxonomies = meta.get("taxonomies")
    if isinstance(taxonomies, Mapping):  # Zola: [taxonomies] tags = [...], categories = [...]
        meta = {**{k: v for k, v in lower_keys(taxonomies).items()
                   if k in ("tags", "categories")}, **meta}
    categories = categories_of(meta, key=key, layout=ctx.layout)
    tags = split_terms(meta.get("tags"), "tags", spaces=ctx.layout == "jekyll")
    if not tags and ctx.layout == "pelican":
        tags = split_terms(meta.get("keywords"), "keywords")
    slug = _optional_text(meta, "slug")
    own = link_for(PostFacts(key, parsed.title, dates.published, slug, permalink, categories),
                   base_url=base_url, pattern=ctx.link_pattern, layout=ctx.layout, tz=ctx.tz)
    written_link = meta.get("link")  # wins as the link, may point elsewhere (a link post)
    link = absolutize(written_link, base_url) if isinstance(written_link, str) else None
    link = link or own
    base = url_base(own, key, base_url)  # where the article itself is published
    content_html = parsed.content(base) if parsed.content is not None \
        else sanitize_html(parsed.html, base_url=base)
    body = html_to_text(content_html)
    summary = summary_of(meta) or parsed.excerpt or parsed.first_paragraph
    image = meta.get("image")
    return Article(
        source=source,
        key=key,
        title=parsed.title,
        content_html=content_html,
        body=body,
        summary=shorten(summary or body.partition("\n\n")[0]) or None,
        published=dates.published,
        published_text=dates.published_text,
        date_source=dates.date_source,
        updated=dates.updated,
        authors=authors_of(meta, base_url),
        tags=tuple(dict.fromkeys((*categories, *tags))),
        link=link,
        image=absolutize(image, base) if isinstance(image, str) else None,
        language=_language(meta, parsed.title, body),
        explicit_id=_explicit_id(meta),
        draft=status.draft,
        categories=categories,
        slug=slug,
        permalink=permalink,
        expires=dates.expires,
        unpublished=status.unpublished,
    )
