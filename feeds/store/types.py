"""The values that cross the :class:`~feeds.store.Store` protocol, besides the model's.

Instants are aware UTC datetimes, with one exception kept for speed: :class:`ItemHead`
(read once per item of a feed at every build, 50,000 of them for a large feed) carries its
dates as :data:`Stamp` texts, fixed-width UTC ISO 8601, which compare and sort as the
instants they name.  Formatting 50,000 datetimes back into the text a fragment key hashes
would cost more than the whole no-op build; :func:`stamp` and :func:`instant` convert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from ..model import utc
from ..text import STORY_SEP

__all__ = ["FeedIndex", "FeedState", "Identity", "ItemHead", "Restored", "Selection", "Stamp",
           "instant", "stamp"]

#: an instant as fixed-width UTC ISO 8601 text ("2026-11-23T12:00:00.000000+00:00")
Stamp = str


def stamp(value: datetime) -> Stamp:
    """``value`` as a :data:`Stamp` (it sorts and compares as the instant it names)."""
    return utc(value).isoformat(timespec="microseconds")


def instant(value: Stamp) -> datetime:
    """The aware UTC datetime a :data:`Stamp` names."""
    return datetime.fromisoformat(value).astimezone(UTC)


class ItemHead(NamedTuple):
    """What selecting a feed's items needs of one, read without its article.

    Dates are :data:`Stamp` texts (``published``: the article's date, else first seen);
    ``content_hash`` is the article's; ``story``: its story keys, joined by ``STORY_SEP``.
    A named tuple: a feed of every item reads one per article per build.
    """

    id: str
    published: Stamp
    first_seen: Stamp
    updated: Stamp
    content_hash: str
    title: str
    link: str | None
    story: str = ""
    source: str = ""

    def story_keys(self) -> list[str]:
        return self.story.split(STORY_SEP) if self.story else []


class Identity(NamedTuple):
    """One live article as ``feeds recover`` sees it (:meth:`Store.identities`)."""

    key: str
    id: str
    content_hash: str
    title: str
    published: datetime  # what the item shows: the article's date, else first seen
    first_seen: datetime
    updated: datetime
    guessed: bool  # the date is a guess (the file's mtime, or first seen)
    dated: bool  # the article has a date of its own (else it shows first_seen)
    explicit: bool  # the id was asked for (front matter ``id``): it needs no recovering
    link: str | None = None  # what, with the title and day, makes it one story with another
    atom_title: str | None = None  # an untitled article's Atom title (set by feeds recover)


class Restored(NamedTuple):
    """An article's identity as its published items show it (:meth:`Store.restore_identities`)."""

    key: str
    id: str
    first_seen: datetime
    updated: datetime
    published: datetime | None = None  # a guessed date to put back


@dataclass(frozen=True, slots=True)
class Selection:
    """What a feed's selection depended on at its last publication (without text filters):
    a digest of the candidate rows, the newest date then visible (None: none was) and the
    next date to become visible (None: none)."""

    rows: str
    seen: datetime | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What a feed's last publication left (:meth:`Store.feed_state`).

    ``channel``: the key of what the channel said; ``items``: a digest of the selected
    items' fragment keys; ``count``: how many; ``files``: each format's file as the build
    left it (``publish.stream.file_stats``); ``legacy_updated``: from an older store, each
    item's ``updated`` by id, where ``items`` is None.
    """

    channel: str | None = None
    items: str | None = None
    count: int | None = None
    files: Mapping[str, list[int] | None] | None = None
    selection: Selection | None = None
    legacy_updated: Mapping[str, datetime] | None = None


@dataclass(frozen=True, slots=True)
class FeedIndex:
    """Where each item's fragment sits in the files a feed's last publication wrote.

    ``ids``, ``keys`` (fragment keys) and ``updated`` (:data:`Stamp`) run in item order;
    ``formats``: each format's entry, as ``publish.stream.assemble`` made it.
    """

    ids: tuple[str, ...]
    keys: tuple[str, ...]
    updated: tuple[Stamp, ...]
    formats: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class FolderState:
    """What the last scan of a folder source left besides its articles
    (:meth:`Store.folder_state`): how many files it skipped (left out by the source's
    layout or globs, ignored names, and files read but not published: drafts, scheduled,
    expired), and when stored articles must be read again although their files did not
    change (``due``: key -> :data:`Stamp`, an expiry date)."""

    skipped: int = 0
    not_published: int = 0
    due: Mapping[str, Stamp] = field(default_factory=dict)
