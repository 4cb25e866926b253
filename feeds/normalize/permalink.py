"""Permalinks: the link of a folder article, and the URL its relative links resolve against.

Pure.  A reader calls :func:`link_for` once it knows the article's metadata (before it
sanitizes the body), then resolves the body's relative URLs against :func:`url_base`:
the article's own link when it has one (a page bundle's folder URL), else
``site.base_url`` plus the file's folder, never the site root for a file that sits deeper.

Where the link comes from, first match wins:

1. Front matter ``url``/``permalink`` (:attr:`PostFacts.permalink`): an absolute http(s)
   URL is taken as is; anything else is a path under ``site.base_url`` (a leading ``/``
   means the site's root, which is ``base_url``, as Hugo and Jekyll read it).  Jekyll's
   ``:year``, ``:month``, ``:day``, ``:title``, ``:slug``, ``:categories``... are filled in.
2. The source's ``link_pattern``, a :meth:`str.format` pattern over :data:`FIELDS`.
3. The layout's preset (:data:`PRESETS`): the generator's own default permalink.

Placeholders (every value URL-quoted; an empty one leaves no ``//`` behind):

* ``{year}``, ``{month}``, ``{day}``: the publication date in the site's zone (2 digits);
* ``{slug}``: front matter ``slug``, else the generator's: Jekyll the file name without its
  date (``2024-01-02-my-post.md`` -> ``my-post``), Hugo the file's or page bundle's
  name, otherwise the slugified title;
* ``{stem}``: the file's path without its extension (``2024/notes/a``);
* ``{path}``: the file's folder relative to the source (Hugo: relative to ``content/``;
  a page bundle's folder is the bundle itself, so its parent), ``{section}`` its first part;
* ``{category}``: the first category, slugified; ``{categories}``: every category lower-cased,
  joined by ``/`` (Jekyll's ``:categories``).

Presets: Jekyll ``/:categories/:year/:month/:day/:title:output_ext``
(``{categories}/{year}/{month}/{day}/{slug}.html``); Hugo the content path, lower-cased
(``posts/my-post/``, the bundle's folder for ``posts/my-post/index.md``; ``slug`` replaces
the last part); Zola the same shape, ``{path}/{slug}/``, its slug the name without its date
(``2024-01-02-my-post.md`` -> ``my-post``), slugified, and its front matter ``path`` the
whole path (read as the permalink); Pelican ``ARTICLE_URL = '{slug}.html'``.  ``plain`` has
none: no pattern, no link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath
from urllib.parse import quote, urljoin, urlsplit

from .fallbacks import slugify

__all__ = ["FIELDS", "PRESETS", "PostFacts", "link_for", "url_base"]

#: the placeholders a ``link_pattern`` may use (``feeds.configcheck.LINK_FIELDS`` mirrors it)
FIELDS = ("year", "month", "day", "slug", "stem", "path", "section", "category", "categories")
#: each layout's default permalink, as a ``link_pattern`` (see the module docstring)
PRESETS: dict[str, str] = {
    "jekyll": "{categories}/{year}/{month}/{day}/{slug}.html",
    "hugo": "{path}/{slug}/",
    "zola": "{path}/{slug}/",
    "pelican": "{slug}.html",
}
_DATED = ("year", "month", "day")
_JEKYLL_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}-")
#: a Zola page's dated name (``2024-01-02-x``, ``2024-01-02_x``, with a time too): Zola's own
#: ``RFC3339_DATE``; the rest is the slug
_ZOLA_DATE = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
                        r"(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))?[_-](?=.)")
_JEKYLL_TOKEN = re.compile(r":(i_month|i_day|short_year|output_ext|categories|year|month|day"
                           r"|title|slug|hour|minute|second|name)")
_SLASHES = re.compile(r"/{2,}")
_URL_SAFE = "/%:@!$&'()*+,;=?#~"


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
             layout: str = "plain", tz: tzinfo = UTC) -> str | None:
    """The article's absolute link, or None (no ``base_url``, or nothing to make it of).

    ``tz``: the site's zone, which ``{year}``/``{month}``/``{day}`` are read in."""
    if not base_url:
        return None
    if facts.permalink and facts.permalink.strip():
        written = facts.permalink.strip()
        if urlsplit(written).scheme in ("http", "https"):
            return written
        return _join(base_url, _jekyll_tokens(written, facts, layout, tz))
    pattern = pattern or PRESETS.get(layout)
    if not pattern:
        return None
    values = _values(facts, layout, tz)
    if values is None and any(f"{{{name}}}" in pattern for name in _DATED):
        return None  # no date to make the link of
    relative = pattern.format_map(values or _undated(facts, layout))
    if layout == "hugo" and pattern == PRESETS["hugo"]:
        relative = relative.lower()  # Hugo's default (disablePathToLower = false)
    return _join(base_url, relative)


def url_base(link: str | None, key: str, base_url: str | None) -> str | None:
    """What the article's relative URLs resolve against: the folder of its own link
    (``/2024/01/01/x.html`` -> ``/2024/01/01/``; a bundle's ``/posts/x/`` stays), else
    ``base_url`` plus the file's folder, else None."""
    if link:
        return link[: link.rfind("/") + 1] if urlsplit(link).path else link + "/"
    if not base_url:
        return None
    folder = PurePosixPath(key).parent.as_posix()
    return base_url if folder in ("", ".") else urljoin(base_url, quote(folder) + "/")


def _join(base_url: str, relative: str) -> str:
    """``relative`` under ``base_url``: no ``//``, and a leading ``/`` is the site's root.
    What a URL may not hold (a pattern's literal ``{``, a space ...) is %-encoded; the
    ``%`` of the values' encoding and the URL's own delimiters are kept."""
    relative = quote(_SLASHES.sub("/", relative).lstrip("/"), safe=_URL_SAFE)
    return urljoin(base_url if base_url.endswith("/") else base_url + "/", relative)


def _parts(key: str, layout: str) -> tuple[list[str], str]:
    """The folders that make ``{path}`` and the name that makes the default ``{slug}``."""
    path = PurePosixPath(key)
    folders = list(path.parent.parts)
    if layout == "hugo":
        if folders[:1] == ["content"]:
            folders = folders[1:]
        folders = [_hugo_path(f) for f in folders]
        if path.stem == "index" and folders:  # a page bundle: the folder is the page
            return folders[:-1], folders[-1]
        return folders, _hugo_path(path.stem)
    if layout == "zola":  # the page's name (a bundle's folder) without its date
        if folders[:1] == ["content"]:
            folders = folders[1:]
        if path.stem == "index" and folders:
            return folders[:-1], _ZOLA_DATE.sub("", folders[-1])
        return folders, _ZOLA_DATE.sub("", path.stem)
    if layout == "jekyll":
        folders = [f for f in folders if f not in ("_posts", "_drafts")]
        return folders, jekyll_name(path.stem).replace(" ", "-")
    return folders, path.stem


_HUGO_SPACES = re.compile(r"\s+")
_HUGO_DROP = re.compile(r"[^\w./\\#+~-]")


def _hugo_path(part: str) -> str:
    """A path part as Hugo makes it a URL (``helpers.PathSpec.MakePath``): spaces become
    ``-``, and what is not a letter, digit or one of ``._-#+~`` is dropped."""
    return _HUGO_DROP.sub("", _HUGO_SPACES.sub("-", part.strip()))


def jekyll_name(stem: str) -> str:
    """A Jekyll post's file name without its date (``2024-1-5-my-post`` -> ``my-post``);
    a name without a date is returned as it is."""
    return _JEKYLL_DATE.sub("", stem)


def _undated(facts: PostFacts, layout: str) -> dict[str, str]:
    folders, name = _parts(facts.key, layout)
    if layout == "zola":  # Zola slugifies the slug and the name (``slugify.paths = "on"``)
        slug = slugify(facts.slug or name) or slugify(name) or "article"
    elif facts.slug and facts.slug.strip():
        slug = facts.slug.strip()
    elif layout in ("jekyll", "hugo"):
        slug = name
    else:
        slug = slugify(facts.title) or slugify(name) or "article"
    first = next((c for c in facts.categories if c.strip()), "")
    values = {
        "slug": slug,
        "stem": PurePosixPath(facts.key).with_suffix("").as_posix(),
        "path": "/".join(folders),
        "section": folders[0] if folders else "",
        "category": slugify(first),
        "categories": "/".join(dict.fromkeys(c.strip().lower() for c in facts.categories
                                             if c.strip())),
        "year": "", "month": "", "day": "",
    }
    return {name: _encoded(value) for name, value in values.items()}


def _encoded(value: str) -> str:
    """A placeholder's value %-encoded, its ``/`` kept, and its ``.``/``..`` parts too
    (``%2E``), so that no value climbs out of its place in the pattern."""
    return "/".join(part.replace(".", "%2E") if part in (".", "..") else quote(part, safe="")
                    for part in value.split("/"))


def _values(facts: PostFacts, layout: str, tz: tzinfo) -> dict[str, str] | None:
    if facts.published is None:
        return None
    local = facts.published.astimezone(tz)
    values = _undated(facts, layout)
    values.update(year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}")
    return values


def _jekyll_tokens(written: str, facts: PostFacts, layout: str, tz: tzinfo) -> str:
    """A front-matter permalink with Jekyll's ``:placeholders`` filled in."""
    if ":" not in written:
        return written
    values = _values(facts, layout, tz) or _undated(facts, layout)
    local = facts.published.astimezone(tz) if facts.published else None
    extra = {
        "title": values["slug"], "name": values["slug"], "output_ext": ".html",
        "i_month": str(local.month) if local else "", "i_day": str(local.day) if local else "",
        "short_year": f"{local.year % 100:02d}" if local else "",
        "hour": f"{local.hour:02d}" if local else "", "minute": f"{local.minute:02d}" if local
        else "", "second": f"{local.second:02d}" if local else "",
    }
    return _JEKYLL_TOKEN.sub(lambda m: {**values, **extra}[m[1]], written)
