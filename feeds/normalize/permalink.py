"""Permalinks: the link of a folder article, and the URL its relative links resolve against.

Pure.  A reader calls :func:`link_for` once it knows the article's metadata (before it
sanitizes the body), then resolves the body's relative URLs against :func:`url_base`:
the article's own link when it has one (a page bundle's folder URL), else
``site.base_url`` plus the file's folder, never the site root for a file that sits deeper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import quote, urljoin

from .fallbacks import slugify

__all__ = ["PostFacts", "link_for", "url_base"]


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What a permalink may be made of, as the reader found it."""

    key: str  # the file's path relative to the source folder, '/'-separated
    title: str
    published: datetime | None = None  # after the date fallbacks (filename, mtime)
    slug: str | None = None  # front matter ``slug``
    permalink: str | None = None  # front matter ``url``/``permalink``, as written
    categories: tuple[str, ...] = ()


def link_for(facts: PostFacts, *, base_url: str | None, pattern: str | None,
             layout: str = "plain") -> str | None:
    """The article's absolute link, or None (no ``base_url``, or nothing to make it of)."""
    if not base_url:
        return None
    if facts.permalink:
        return urljoin(base_url, facts.permalink)
    if not pattern:
        return None
    stem = PurePosixPath(facts.key).with_suffix("").as_posix()
    slug = facts.slug or slugify(facts.title) or "article"
    return urljoin(base_url, pattern.format(stem=quote(stem), slug=quote(slug)))


def url_base(link: str | None, key: str, base_url: str | None) -> str | None:
    """What the article's relative URLs resolve against."""
    if link:
        return link
    if not base_url:
        return None
    folder = PurePosixPath(key).parent.as_posix()
    return base_url if folder in ("", ".") else urljoin(base_url, quote(folder) + "/")
