"""The data types every stage shares: frozen dataclasses, no I/O.

Flow of types::

    RawInput     ──reader──► Article ──store──► Item ──publish──► files
                             (no id)            (id, updated)

* ``RawInput`` is one input as a source hands it over: bytes, key, kind and metadata.
* ``Article`` is what a reader (plain text, Markdown, HTML, a remote entry) makes of one
  input, already normalized: plain-text title, sanitized HTML, aware UTC datetimes, NFC text.
  It carries no id: ids are minted by the store, once, and never change.
* ``Item`` is an ``Article`` as stored: its permanent ``id``, the instant it was first seen and
  the instant its normalized content last changed (``updated``).
* ``Channel`` is what a published feed says about itself.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple, TypeVar

_T = TypeVar("_T")


def pickled_by_fields(cls: type[_T]) -> type[_T]:
    """Pickle a frozen slots dataclass as a call of its constructor with its field values.

    Python 3.11's own pickling of such a class walks ``dataclasses.fields()`` for every
    object; reading workers send every article they read to the writer, and this takes
    pickling an article from ~36 to ~15 us.  (The constructor's checks run again on load.)
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if len(names) < 2:  # attrgetter of one name gives the value, not a tuple
        raise TypeError(f"{cls.__name__}: pickled_by_fields wants two fields or more")
    getter = operator.attrgetter(*names)

    def __reduce__(self: _T) -> tuple[type[_T], tuple[Any, ...]]:
        return cls, getter(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


#: "relative": "2 hours ago" in the content, resolved against the file's mtime
DateSource = Literal["content", "front-matter", "feed", "filename", "permalink", "mtime",
                     "first-seen", "relative"]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str | None = None
    url: str | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    type: str = "application/octet-stream"
    length: int | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Origin:
    """Where a republished entry came from (RSS ``<source url>``, Atom ``<source>``)."""

    feed_url: str
    title: str | None = None
    link: str | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Article:
    """One normalized article from any source.  No id: the store mints it.

    ``key`` identifies the article inside its source: the relative path for a folder
    source, the entry id (or link) for a remote feed.  Keys may change (a rename); ids never.
    """

    source: str
    key: str
    title: str
    content_html: str = ""
    body: str = ""  # normalized plain text (LF, NFC)
    summary: str | None = None  # plain text
    published: datetime | None = None  # aware UTC; None until a fallback is applied
    published_text: str | None = None  # the date as written, ISO 8601 at its precision
    date_source: DateSource | None = None
    updated: datetime | None = None  # an "updated" date the content itself declares
    authors: tuple[Author, ...] = ()
    tags: tuple[str, ...] = ()
    link: str | None = None
    image: str | None = None
    caption: str | None = None
    credit: str | None = None
    dateline: str | None = None
    summary_bullets: tuple[str, ...] = ()
    language: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    explicit_id: str | None = None  # an id the input itself asks for (front matter ``id``)
    origin: Origin | None = None
    draft: bool = False
    # What a site generator's metadata says (front matter, Pelican headers, reST fields).
    # Fields added after the store held articles are hashed only when set (see
    # ``_LATE_HASHED``), so an upgrade moves no item's ``updated``.
    categories: tuple[str, ...] = ()  # Jekyll/Hugo ``categories``, Pelican ``Category``
    slug: str | None = None  # front-matter ``slug``: the ``{slug}`` of a permalink
    permalink: str | None = None  # front-matter ``url``/``permalink`` as written
    expires: datetime | None = None  # Hugo ``expiryDate``: not published from then on
    unpublished: str | None = None  # why the author's metadata says not to publish it
    #                                ("draft", "published: false", "Status: hidden" ...)

    def __post_init__(self) -> None:
        for name in ("published", "updated", "expires"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"Article.{name} must be timezone-aware, got {value!r}")

    @property
    def author(self) -> str | None:
        return self.authors[0].name if self.authors else None

    def content_hash(self) -> str:
        """A digest of everything a reader sees.  ``updated`` moves only when this changes.

        Source, key (a rename is not an edit) and the date's provenance are left out.
        """
        data: dict[str, Any] = {name: getattr(self, name) for name in _HASHED}
        for name in _LATE_HASHED:
            if getattr(self, name):
                data[name] = getattr(self, name)
        data["authors"] = [{n: getattr(a, n) for n in _AUTHOR} for a in self.authors]
        data["enclosures"] = [{n: getattr(e, n) for n in _ENCLOSURE} for e in self.enclosures]
        origin = self.origin
        data["origin"] = None if origin is None else {n: getattr(origin, n) for n in _ORIGIN}
        if self.date_source in ("mtime", "first-seen", "relative"):
            del data["published"]  # a guessed date is not content: touching a file is no edit
        return hashlib.blake2b(_ENCODER.encode(data).encode("utf-8"), digest_size=16).hexdigest()


class FileState(NamedTuple):
    """What ``stat`` says of a source file: unchanged state means the file need not be read.

    A named tuple, not a dataclass: a scan makes one per file (tens of thousands in a big
    archive) and a tuple costs a third of a frozen dataclass to build."""

    size: int
    mtime_ns: int
    inode: int
    device: int
    digest: str | None = None  # hash of the file's bytes, when read


@dataclass(frozen=True, slots=True)
class RawInput:
    """One input as a source hands it over, before any reading: every source yields these,
    every reader (``feeds.normalize.READERS``) takes one.

    ``kind`` names the reader; ``key`` is the input's key in its source (a path relative
    to a folder, a feed's name); ``url`` and ``headers`` are a fetched body's final URL and
    HTTP response headers; ``file`` is what ``stat`` said of a file (with its digest)."""

    data: bytes
    key: str
    kind: str
    source: str
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    file: FileState | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """An article as stored and published."""

    id: str
    article: Article
    first_seen: datetime
    updated: datetime  # moves only when ``article.content_hash()`` changes
    #: ``article.content_hash()`` when the store already knows it (saves hashing again)
    content_hash: str | None = field(default=None, compare=False, repr=False)

    @property
    def published(self) -> datetime:
        return self.article.published or self.first_seen


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """Where one document of an archived feed (RFC 5005 section 4) sits among the others.

    ``page``: this archive page's number (pages are numbered from the oldest), None for
    the subscription document; ``prev``: the next older page (None: none); ``next``: the
    next newer page (the newest page names the number the next one will get).
    """

    page: int | None = None
    prev: int | None = None
    next: int | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """What one published feed says about itself (``archive``: its place among the
    documents of an archived feed; None: a feed without archives)."""

    name: str
    title: str
    description: str = ""
    home_url: str | None = None  # the site's home page (site.link)
    base_url: str | None = None  # where the output directory is served
    language: str | None = None
    author: Author | None = None
    hub: str | None = None  # WebSub hub
    formats: tuple[str, ...] | None = None  # None: every format (``feeds.publish.FORMATS``)
    archive: ArchiveLinks | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def url_of(self, file_name: str) -> str | None:
        """Absolute URL of this feed's file ``file_name`` (one per format: see
        ``feeds.publish.FORMATS``), or None without ``base_url``."""
        if not self.base_url:
            return None
        return f"{self.base_url.rstrip('/')}/{self.name}/{file_name}"


_UNHASHED = ("source", "key", "date_source", "published_text",
             # what decides the link or whether it is published, not what a reader sees
             "slug", "permalink", "expires", "unpublished")
#: hashed only when set: added after stores held articles hashed without them
_LATE_HASHED = ("categories",)
_HASHED = tuple(f.name for f in fields(Article)
                if f.name not in _UNHASHED and f.name not in _LATE_HASHED)
_AUTHOR = tuple(f.name for f in fields(Author))
_ENCLOSURE = tuple(f.name for f in fields(Enclosure))
_ORIGIN = tuple(f.name for f in fields(Origin))


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"not serializable: {type(value).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, default=_json_default, ensure_ascii=False,
                            check_circular=False)


def utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is a bug and raises."""
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime: {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class FetchState:
    """What we remember about one remote source between fetches (JSON-serializable).

    ``config_url`` is the URL the configuration gave when this state was recorded; when
    the configuration changes it, :func:`reconcile` starts afresh.  ``url`` is the URL in
    use when it differs (an adopted permanent redirect, a discovered feed link).
    """

    config_url: str | None = None
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_fetch: datetime | None = None  # last attempt that reached a decision
    last_success: datetime | None = None
    last_status: int | None = None
    items: int | None = None  # entries in the last parsed document
    next_due: datetime | None = None
    retry_after: datetime | None = None  # a server's Retry-After: not even --force goes sooner
    errors: int = 0  # consecutive
    last_error: str | None = None
    gone: bool = False
    redirect_to: str | None = None  # a permanent redirect seen but not yet adopted
    redirect_seen: int = 0
    redirect_since: datetime | None = None
    moves: tuple[str, ...] = ()  # "2026-11-23T12:00:00Z http://a -> https://b (301)", last 10

    def effective_url(self, config_url: str) -> str:
        if self.config_url == config_url and self.url:
            return self.url
        return config_url


@dataclass(frozen=True, slots=True)
class Changes:
    """What one ingest did.  Keys are sorted; ``renamed`` pairs are (old key, new key)."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    renamed: tuple[tuple[str, str], ...] = ()  # (old key, new key) pairs whose id was kept
    rejected: tuple[tuple[str, str], ...] = ()  # (key, reason), e.g. a duplicate explicit id

    @property
    def empty(self) -> bool:
        """True when no published item appeared, changed or went away."""
        return not (self.added or self.changed or self.removed)


_NINETY_DAYS = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history of a remote feed the store keeps (``None``: that limit is off).

    Every entry the feed still lists is kept.  Of the others, an entry is kept while it is
    among the feed's ``max_items`` newest entries (listed ones count) *and* no older than
    ``max_age``: both limits apply, so the store holds at most ``max_items`` entries per
    feed beyond those the feed itself lists.
    """

    max_age: timedelta | None = _NINETY_DAYS
    max_items: int | None = 500

    def __post_init__(self) -> None:
        if self.max_items is not None and self.max_items < 0:
            raise ValueError(f"max_items must be 0 or more, got {self.max_items}")
        if self.max_age is not None and self.max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive, got {self.max_age}")

    @property
    def unlimited(self) -> bool:
        return self.max_age is None and self.max_items is None
