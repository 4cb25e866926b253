"""Metadata as a site generator reads it: Jekyll and Hugo front matter, Pelican headers.

Pure: a mapping of metadata (front matter, Pelican ``Key: value`` lines, reST docinfo)
in, the fields of an ``Article`` out.  Keys are matched without regard to case, as Hugo
and Pelican do (``publishDate`` = ``publishdate``).

=====================  ================================================================
published              ``date``, ``published``, ``publishDate``, ``pubdate``: the first
                       one that reads as a date.  One that does not is passed over, never
                       a rejection: then the file name's date (``2024-1-5-x.md`` too; a
                       page bundle's ``2024-01-05-x/index.md``: its folder's), then a
                       ``YEAR/MONTH/DAY`` in the permalink as written (``url``,
                       ``permalink``, Zola's ``path``), then the file's mtime, flagged by
                       ``date_source``
updated                ``updated``, ``lastmod``, ``modified``, ``last_modified_at``
expires                ``expiryDate`` / ``unpublishdate`` (Hugo)
unpublished            ``draft: true`` ("draft", also ``draft=True``), ``published:
                       false``, Pelican ``Status: draft|hidden|skip``.  (A date to come and an
                       expiry passed are the pipeline's to judge, at each build: under
                       ``hugo`` a ``publishDate`` later than ``date`` is ``published``)
categories             ``category`` then ``categories``; Jekyll: also the folders above
                       ``_posts``; Pelican: the file's folder, else ``misc``
tags                   ``tags``, ``keywords`` (Pelican): a list, or a string split on
                       ``;`` or ``,``, and under ``jekyll`` on spaces
slug / permalink       ``slug``; ``permalink`` / ``url`` as written
summary                ``summary``, ``description``, ``excerpt``
authors                ``author`` / ``authors``: a name, ``[Name](https://url)``, a
                       mapping (``name``, ``email``, ``url``) or a list of those
=====================  ================================================================

Dates are read as written in ISO 8601 or RFC 2822, else leniently as Ruby's ``Time.parse``
reads Jekyll's (``2023-01-29 18:30:22 2023 -0800``: the date, the time, the zone), else as
a date line (``14 October 2012 10:20``, :mod:`feeds.normalize.dates`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import PurePosixPath
from typing import Any

from feeds.errors import ArticleError
from feeds.model import DateSource
from feeds.normalize.dates import parse_date_line
from feeds.normalize.fallbacks import date_from_filename
from feeds.normalize.permalink import jekyll_name
from feeds.normalize.textbits import parse_date
from feeds.text import one_line

__all__ = [
    "Dates",
    "Status",
    "categories_of",
    "lenient_date",
    "lower_keys",
    "read_dates",
    "read_status",
    "split_terms",
    "summary_of",
]

PUBLISHED_KEYS = ("date", "published", "publishdate", "pubdate")
UPDATED_KEYS = ("updated", "lastmod", "modified", "last_modified_at")
EXPIRY_KEYS = ("expirydate", "unpublishdate")
SUMMARY_KEYS = ("summary", "description", "excerpt")


def lower_keys(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping with lower-case keys (the first of two spellings wins)."""
    lowered: dict[str, Any] = {}
    for key, value in meta.items():
        lowered.setdefault(key.lower(), value)
    return lowered


# --- dates --------------------------------------------------------------------------------

_RUBY_DATE = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
)
_ZONE_AFTER = re.compile(r"\s*(?:([+-])(\d{2}):?(\d{2})|(Z|UTC|GMT))(?=\s|$)", re.IGNORECASE)


def lenient_date(text: str, tz: tzinfo) -> tuple[datetime, str] | None:
    """A date read as Ruby's ``Time.parse`` reads it: a ``YYYY-M-D`` date, an optional
    time after it and a zone (``-0800``, ``+05:30``, ``Z``, ``UTC``) right after that;
    the rest is ignored, a zone after other words too (``18:30:22 2023 -0800`` is 18:30:22
    in ``tz``, as Jekyll publishes it).  Zone-less values are read in ``tz``."""
    found = _RUBY_DATE.search(text)
    if found is None or len(text) > 100:
        return None
    year, month, day = int(found[1]), int(found[2]), int(found[3])
    hour, minute, second = int(found[4] or 0), int(found[5] or 0), int(found[6] or 0)
    zone_match = _ZONE_AFTER.match(text, found.end())
    zone: tzinfo = tz
    if zone_match is not None:
        if zone_match[4]:
            zone = UTC
        else:
            delta = timedelta(hours=int(zone_match[2]), minutes=int(zone_match[3]))
            if delta > timedelta(hours=14):
                return None
            zone = timezone(-delta if zone_match[1] == "-" else delta)
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
        value = local.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if found[4] is None:
        return value, local.date().isoformat()
    written = local if zone_match is not None else local.replace(tzinfo=None)
    return value, written.isoformat()


def _read_date(value: object, tz: tzinfo) -> tuple[datetime, str] | None:
    parsed = parse_date(value, tz)
    if parsed is None and isinstance(value, str):
        parsed = lenient_date(value.strip(), tz)
        if parsed is None:  # "14 October 2012", "March 3, 2012 10:20" (Pelican)
            line = parse_date_line(value, tz)
            parsed = (line.value, line.text) if line is not None else None
    return parsed


def _first_date(meta: Mapping[str, Any], keys: tuple[str, ...],
                tz: tzinfo) -> tuple[datetime, str] | None:
    for key in keys:
        value = meta.get(key)
        if value is None or value == "" or isinstance(value, bool):
            continue
        parsed = _read_date(value, tz)
        if parsed is not None:
            return parsed
    return None


@dataclass(frozen=True, slots=True)
class Dates:
    """What the metadata (and the file) say of an article's dates."""

    published: datetime | None = None
    published_text: str | None = None
    date_source: DateSource | None = None
    updated: datetime | None = None
    expires: datetime | None = None
    publish_date: datetime | None = None  # Hugo ``publishDate``: visible from then on


def read_dates(meta: Mapping[str, Any], tz: tzinfo, *, key: str = "",
               mtime_ns: int | None = None, hugo: bool = False,
               permalink: str | None = None) -> Dates:
    """The dates of lower-cased ``meta``; without a readable one the file name's date (a
    page bundle's folder name), then a date in ``permalink`` (as written), then (when
    ``mtime_ns`` is given) the file's mtime.  ``hugo``: a ``publishDate`` later than
    ``date`` is the publication date (Hugo publishes the page only from then on)."""
    published = _first_date(meta, PUBLISHED_KEYS, tz)
    updated = _first_date(meta, UPDATED_KEYS, tz)
    expires = _first_date(meta, EXPIRY_KEYS, tz)
    publish_date = _first_date(meta, ("publishdate", "pubdate"), tz)
    common = {
        "updated": updated[0] if updated else None,
        "expires": expires[0] if expires else None,
        "publish_date": publish_date[0] if publish_date else None,
    }
    if published is not None and publish_date is not None and hugo \
            and publish_date[0] > published[0]:
        published = publish_date  # Hugo shows it from then on: it is published then
    if published is not None:
        return Dates(published[0], published[1], "front-matter", **common)
    from_name = _date_of_name(key, tz) if key else None
    if from_name is not None:
        return Dates(from_name, None, "filename", **common)
    from_link = _date_of_permalink(permalink, tz) if permalink else None
    if from_link is not None:
        return Dates(from_link, None, "permalink", **common)
    if mtime_ns is not None:
        mtime = datetime.fromtimestamp(mtime_ns / 1e9, UTC).replace(microsecond=0)
        return Dates(mtime, None, "mtime", **common)
    return Dates(**common)  # type: ignore[arg-type]


#: ``2024/05/01`` as whole parts of a URL path (``/blog/2024/05/01/x/``)
_PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{1,2})/(\d{1,2})(?=/|$)")


def _date_of_name(key: str, tz: tzinfo) -> datetime | None:
    """The date in the file's name; for a page bundle's ``index`` file (Hugo, Zola), in
    its folder's name (``posts/2024-05-01-trip/index.md``)."""
    path = PurePosixPath(key)
    found = date_from_filename(path.name, tz)
    if found is None and path.stem == "index" and path.parent.name:
        found = date_from_filename(path.parent.name, tz)
    return found


def _date_of_permalink(permalink: str, tz: tzinfo) -> datetime | None:
    """``YEAR/MONTH/DAY`` in a permalink's path (``2025/06/26/Rust-1.88.0``), midnight in
    ``tz``: many blogs date their URLs, and some (the Rust blog's Zola site) keep the date
    nowhere else."""
    match = _PATH_DATE.search(permalink.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    try:
        local = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=tz)
    except ValueError:
        return None
    return local.astimezone(UTC)


# --- what not to publish ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    draft: bool = False
    unpublished: str | None = None


def _flag(meta: Mapping[str, Any], key: str) -> bool | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise ArticleError(f"{key} must be true or false, not {value!r}"[:100])


def read_status(meta: Mapping[str, Any]) -> Status:
    """Draft, and why the metadata says not to publish (the first reason found).  What
    depends on the time of the build (a date to come, an expiry passed) is not decided
    here but by the pipeline, from ``published`` and ``expires``: an article read once
    stays right as time passes."""
    draft = bool(_flag(meta, "draft"))
    if draft:
        return Status(True, "draft")
    if meta.get("published") in (False, "false", "False", "no"):  # else a date (Hugo)
        return Status(False, "published: false")
    status = meta.get("status")
    if isinstance(status, str) and status.strip().lower() in ("draft", "hidden", "skip"):
        word = status.strip().lower()
        return Status(word == "draft", f"Status: {word}")
    return Status()


# --- terms --------------------------------------------------------------------------------


def split_terms(value: object, what: str, *, spaces: bool = False) -> tuple[str, ...]:
    """A list of terms, or a string split on ``;`` or ``,`` (and ``spaces`` on whitespace);
    duplicates dropped.  ``what`` names the key in errors."""
    if value is None:
        return ()
    items: list[object]
    if isinstance(value, str):
        if ";" in value:
            items = list(value.split(";"))
        elif "," in value or not spaces:
            items = list(value.split(","))
        else:
            items = list(value.split())
    elif isinstance(value, list):
        items = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        items = [value]
    else:
        from feeds.normalize.frontmatter import _kind

        raise ArticleError(
            f"{what} must be a list or a comma-separated string, not {_kind(value)}")
    terms: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            from feeds.normalize.frontmatter import _kind

            raise ArticleError(f"{what} must be strings, not {_kind(item)}")
        term = one_line(str(item))
        if term and term not in terms:
            terms.append(term)
    return tuple(terms)


def categories_of(meta: Mapping[str, Any], *, key: str, layout: str) -> tuple[str, ...]:
    """``category`` then ``categories``; the folder categories of Jekyll and Pelican."""
    jekyll = layout == "jekyll"
    found = [*split_terms(meta.get("category"), "category", spaces=False),
             *split_terms(meta.get("categories"), "categories", spaces=jekyll)]
    folders = PurePosixPath(key).parts[:-1]
    if jekyll and "_posts" in folders:  # blog/_posts/x.md is in category "blog"
        found = [*folders[: folders.index("_posts")], *found]
    if layout == "pelican" and not found:
        if folders[:1] == ("content",):  # a source at the site's root: PATH is content/
            folders = folders[1:]
        found = [folders[-1] if folders else "misc"]  # USE_FOLDER_AS_CATEGORY, DEFAULT_CATEGORY
    unique: list[str] = []
    for category in found:
        if category not in unique:
            unique.append(category)
    return tuple(unique)


def jekyll_title(key: str) -> str | None:
    """The title Jekyll gives a post without one: its file name's slug, each word
    capitalized (``2021-04-05-untitled-post-here.md`` -> ``Untitled Post Here``)."""
    stem = PurePosixPath(key).stem
    name = jekyll_name(stem)
    if name == stem:
        return None
    words = [w[:1].upper() + w[1:].lower() for w in name.split("-") if w]
    return " ".join(words) or None


def summary_of(meta: Mapping[str, Any]) -> str | None:
    """The summary the metadata gives: ``summary``, ``description`` or ``excerpt``."""
    for key in SUMMARY_KEYS:
        value = meta.get(key)
        if value is None:
            continue
        if key == "summary" and not isinstance(value, str | int | float):
            from feeds.normalize.frontmatter import _kind

            raise ArticleError(f"summary must be a string, not {_kind(value)}")
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = one_line(str(value))
            if text:
                return text
    return None
