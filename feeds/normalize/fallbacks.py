"""Pure steps applied to a folder article after its reader: date fallbacks and links.

A date the content gives always wins.  Without one, a date in the file name
(``2024-05-01-title.md``) is next, then the file's mtime, flagged ``date_source="mtime"``
so that nobody mistakes it for a real publication date.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath

from ..model import Article

_FILENAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_SLUG_DROP = re.compile(r"[^\w\s-]")
_SLUG_JOIN = re.compile(r"[-\s_]+")


def date_from_filename(key: str, tz: tzinfo) -> datetime | None:
    """``2024-05-01-title.md`` -> 2024-05-01 00:00 in ``tz``, as UTC.  Jekyll also writes
    one-digit months and days: ``2024-1-5-title.md``."""
    match = _FILENAME_DATE.search(PurePosixPath(key).name)
    if not match:
        return None
    try:
        local = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=tz)
    except ValueError:
        return None
    return local.astimezone(UTC)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_JOIN.sub("-", _SLUG_DROP.sub("", ascii_text).strip().lower()).strip("-")


def apply_folder_fallbacks(
    article: Article,
    *,
    mtime_ns: int,
    tz: tzinfo,
    base_url: str | None = None,
    link_pattern: str | None = None,
    layout: str = "plain",
) -> Article:
    """Fill ``published`` (filename date, else mtime) and, unless the reader set one, the
    ``link`` (``feeds.normalize.permalink.link_for``: front matter, ``link_pattern``, else
    the layout's preset)."""
    changes: dict[str, object] = {}
    if article.published is None:
        from_name = date_from_filename(article.key, tz)
        if from_name is not None:
            changes.update(published=from_name, date_source="filename")
        else:
            mtime = datetime.fromtimestamp(mtime_ns / 1e9, UTC).replace(microsecond=0)
            changes.update(published=mtime, date_source="mtime")
    if article.link is None and base_url:
        from .permalink import PostFacts, link_for  # (permalink uses this module's slugify)

        published = changes.get("published", article.published)
        assert published is None or isinstance(published, datetime)
        facts = PostFacts(article.key, article.title, published, article.slug,
                          article.permalink, article.categories)
        link = link_for(facts, base_url=base_url, pattern=link_pattern, layout=layout, tz=tz)
        if link is not None:
            changes["link"] = link
    return dataclasses.replace(article, **changes) if changes else article  # type: ignore[arg-type]
