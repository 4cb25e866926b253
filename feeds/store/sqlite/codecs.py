"""How model objects, datetimes and state are encoded in SQLite: the one place that knows.

Datetimes are fixed-width UTC ISO 8601 texts (they sort as the instants they name); an
article is JSON with every field; a feed's state and index and a source's fetch state are
JSON objects.  Nothing outside ``feeds.store.sqlite`` sees these encodings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from ...errors import StoreError
from ...model import Article, Author, Enclosure, FetchState, Origin, pickled_by_fields, utc
from ...text import STORY_SEP, story_keys_of
from ..plan import Write
from ..types import FeedIndex, FeedState, Selection

__all__ = [
    "Encoded",
    "article_from_json",
    "article_row",
    "article_to_json",
    "feed_index_from_json",
    "feed_index_to_json",
    "feed_state_from_json",
    "feed_state_to_json",
    "fetch_state_from_json",
    "fetch_state_to_json",
    "from_iso",
    "iso",
    "opt_from_iso",
    "opt_iso",
    "story",
]


def iso(value: datetime) -> str:
    """A fixed-width UTC ISO 8601 string: it sorts as the instant it names."""
    return utc(value).isoformat(timespec="microseconds")


def from_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise StoreError(f"naive datetime in the store: {value!r}")
    return parsed.astimezone(UTC)


def opt_iso(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def opt_from_iso(value: str | None) -> datetime | None:
    return None if value is None else from_iso(value)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Encoded:
    """What storing ``article`` costs most to compute, computed ahead (by a reading worker,
    so the single writer does not): its content hash and its JSON.  Used only for that
    very object (``is``): an article replaced since (a kept date) is encoded again."""

    article: Article
    content_hash: str
    data: str

    @classmethod
    def of(cls, article: Article) -> Encoded:
        return cls(article, article.content_hash(), article_to_json(article))


def article_to_json(article: Article) -> str:
    """Every field of ``article`` as JSON: datetimes as UTC ISO 8601, tuples as lists."""
    data: dict[str, Any] = {
        "source": article.source,
        "key": article.key,
        "title": article.title,
        "content_html": article.content_html,
        "body": article.body,
        "summary": article.summary,
        "published": opt_iso(article.published),
        "published_text": article.published_text,
        "date_source": article.date_source,
        "updated": opt_iso(article.updated),
        "authors": [[a.name, a.email, a.url] for a in article.authors],
        "tags": list(article.tags),
        "link": article.link,
        "image": article.image,
        "caption": article.caption,
        "credit": article.credit,
        "dateline": article.dateline,
        "summary_bullets": list(article.summary_bullets),
        "language": article.language,
        "enclosures": [[e.url, e.type, e.length] for e in article.enclosures],
        "explicit_id": article.explicit_id,
        "origin": None if article.origin is None else [
            article.origin.feed_url, article.origin.title, article.origin.link
        ],
        "draft": article.draft,
    }
    # added later: written only when set, read with a default (older rows lack them)
    if article.categories:
        data["categories"] = list(article.categories)
    for name in ("slug", "permalink", "unpublished"):
        if getattr(article, name) is not None:
            data[name] = getattr(article, name)
    if article.expires is not None:
        data["expires"] = iso(article.expires)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def article_from_json(text: str) -> Article:
    """The inverse of :func:`article_to_json`; datetimes come back aware UTC."""
    d = json.loads(text)
    origin = d["origin"]
    return Article(
        source=d["source"],
        key=d["key"],
        title=d["title"],
        content_html=d["content_html"],
        body=d["body"],
        summary=d["summary"],
        published=opt_from_iso(d["published"]),
        published_text=d["published_text"],
        date_source=d["date_source"],
        updated=opt_from_iso(d["updated"]),
        authors=tuple(Author(name, email, url) for name, email, url in d["authors"]),
        tags=tuple(d["tags"]),
        link=d["link"],
        image=d["image"],
        caption=d["caption"],
        credit=d["credit"],
        dateline=d["dateline"],
        summary_bullets=tuple(d["summary_bullets"]),
        language=d["language"],
        enclosures=tuple(Enclosure(url, type_, length) for url, type_, length in d["enclosures"]),
        explicit_id=d["explicit_id"],
        origin=None if origin is None else Origin(*origin),
        draft=d["draft"],
        categories=tuple(d.get("categories", ())),
        slug=d.get("slug"),
        permalink=d.get("permalink"),
        expires=opt_from_iso(d.get("expires")),
        unpublished=d.get("unpublished"),
    )



def story(link: str | None, title: str, published: str) -> str:
    """The ``story`` column: :func:`story_keys_of` of a row (``published`` is stored UTC ISO)."""
    return STORY_SEP.join(story_keys_of(link, title, published[:10]))


def article_row(source: str, w: Write, ready: Mapping[str, Encoded]) -> tuple[str | None, ...]:
    published = iso(w.published)
    encoded = ready.get(w.key)
    data = encoded.data if encoded is not None and encoded.article is w.article \
        else article_to_json(w.article)
    return (
        w.id,
        source,
        w.key,
        w.content_hash,
        data,
        published,
        iso(w.first_seen),
        iso(w.updated),
        w.article.title,
        w.article.link,
        story(w.article.link, w.article.title, published),
    )


# --------------------------------------------------------------------------- feed state


def _json_object(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _stamp_or_none(value: object) -> datetime | None:
    """A stored instant; None for none, and for anything that is not one (a hand edit)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return from_iso(value)
    except (ValueError, StoreError):
        return None


def _selection_of(d: Mapping[str, Any]) -> Selection | None:
    rows, seen, until = d.get("rows"), d.get("seen"), d.get("until")
    if not isinstance(rows, str) or not isinstance(seen, str):
        return None
    selection = Selection(rows, _stamp_or_none(seen), _stamp_or_none(until))
    if (seen and selection.seen is None) or (until is not None and selection.until is None):
        return None  # not a date we wrote: the selection is taken again
    return selection


def feed_state_from_json(raw: str | None) -> FeedState | None:
    """The inverse of :func:`feed_state_to_json`; None for no state or an unreadable one."""
    d = _json_object(raw)
    if d is None:
        return None
    channel, items, count, files = d.get("channel"), d.get("items"), d.get("count"), \
        d.get("files")
    legacy = None
    if isinstance(items, dict):  # before the items digest: each item's updated, by id
        legacy = {k: u for k, v in items.items() if (u := _stamp_or_none(v)) is not None}
    return FeedState(
        channel=channel if isinstance(channel, str) else None,
        items=items if isinstance(items, str) else None,
        count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        files=files if isinstance(files, dict) else None,
        selection=_selection_of(d),
        legacy_updated=legacy,
    )


def feed_state_to_json(state: FeedState) -> str:
    """One JSON object, keys sorted: ``seen`` is "" when no row was visible."""
    d: dict[str, Any] = {}
    if state.channel is not None:
        d["channel"] = state.channel
    if state.items is not None:
        d["items"] = state.items
    elif state.legacy_updated is not None:
        d["items"] = {k: iso(v) for k, v in state.legacy_updated.items()}
    if state.count is not None:
        d["count"] = state.count
    if state.files is not None:
        d["files"] = state.files
    if state.selection is not None:
        sel = state.selection
        d["rows"] = sel.rows
        d["seen"] = "" if sel.seen is None else iso(sel.seen)
        d["until"] = None if sel.until is None else iso(sel.until)
    return json.dumps(d, sort_keys=True)


def feed_index_from_json(raw: str | None) -> FeedIndex | None:
    """The inverse of :func:`feed_index_to_json`; None for none or an unreadable one."""
    d = _json_object(raw)
    if d is None:
        return None
    ids, keys, updated, formats = d.get("ids"), d.get("keys"), d.get("updated"), \
        d.get("formats")
    return FeedIndex(
        ids=tuple(ids) if isinstance(ids, list) else (),
        keys=tuple(keys) if isinstance(keys, list) else (),
        updated=tuple(updated) if isinstance(updated, list) else (),
        formats=formats if isinstance(formats, dict) else {},
    )


def feed_index_to_json(index: FeedIndex) -> str:
    return json.dumps({"ids": list(index.ids), "keys": list(index.keys),
                       "updated": list(index.updated), "formats": index.formats},
                      separators=(",", ":"))


# --------------------------------------------------------------------------- source state


def fetch_state_to_json(state: FetchState) -> str:
    """Fields that differ from their defaults; datetimes as ISO ``Z``, tuples as lists."""
    out: dict[str, Any] = {}
    for f in fields(state):
        value = getattr(state, f.name)
        if value is None or value == f.default:
            continue
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return json.dumps(out, ensure_ascii=False, sort_keys=True)  # TypeError: a bug


def fetch_state_from_json(raw: str | None) -> FetchState | None:
    """Inverse of :func:`fetch_state_to_json`; unknown keys are ignored, bad values
    dropped; None for no state (or an empty one)."""
    data = _json_object(raw)
    if not data:
        return None
    kwargs: dict[str, Any] = {}
    for f in fields(FetchState):
        if f.name not in data or data[f.name] is None:
            continue
        value = _field_value(str(f.type), data[f.name])
        if value is not None:
            kwargs[f.name] = value
    return FetchState(**kwargs)


def _field_value(kind: str, value: Any) -> Any:
    try:
        if "datetime" in kind:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return None if parsed.utcoffset() is None else parsed.astimezone(UTC)
        if "tuple" in kind:
            return tuple(str(v) for v in value)
        if kind == "bool":
            return bool(value)
        if kind.startswith("int"):
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        return None
