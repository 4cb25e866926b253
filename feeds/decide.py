"""Pure decisions behind ``Store.ingest``: which id each article gets, what changed, and
what a remote feed's history keeps.

No I/O, no clock, no SQL: the store loads what it knows about one source, calls
:func:`plan_ingest`, and writes the :class:`Plan` back in one transaction.

Id resolution, for each incoming article, first rule that applies::

    1. explicit id   the article asks for an id (front matter ``id``).  It wins, unless
                     another live article holds it (then the newcomer is *rejected*).
    2. registry      the id once given to (source, key), kept even after the article
                     was removed: a file that comes back gets its id back.
    3. rename        a stored article of this source that disappears in this same ingest
                     and has the same content hash, else the same file digest, else the
                     same (device, inode): the article moved, its id moves with it.
    4. mint          a new id from the id factory.

Dates: a new article's ``updated`` is the date its content declares (``updated``, else
``published``), else ``now``.  An article whose ``content_hash()`` is unchanged keeps its
``first_seen`` and ``updated`` exactly, whatever happened to its key or file.  A changed
one keeps ``first_seen``, and its ``updated`` moves forward, never backward.

Retention (:func:`plan_prune`, after a remote feed is read): entries the feed still lists
are kept; of the others, those beyond the feed's ``max_items`` newest or older than
``max_age`` are deleted.  The registry remembers their ids within :func:`id_memory`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .model import Article, FileState, utc

Status = Literal["added", "changed", "unchanged"]

#: the longest explicit id accepted (ids end up in XML, URLs and JSON)
MAX_ID_LENGTH = 1024


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


@dataclass(frozen=True, slots=True)
class Stored:
    """A live article of the source being ingested, as the store knows it."""

    id: str
    key: str
    content_hash: str
    first_seen: datetime
    updated: datetime
    file: FileState | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    """The registry's entry for one (source, key): its id, live or not."""

    id: str
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds an id in the registry (any source); ``live`` when its article exists."""

    source: str
    key: str
    first_seen: datetime
    live: bool


@dataclass(frozen=True, slots=True)
class Write:
    """One article row to write."""

    id: str
    article: Article
    content_hash: str
    file: FileState | None
    first_seen: datetime
    updated: datetime
    status: Status
    minted: bool  # the id is new: nobody may hold it yet
    register: bool  # the registry row (source, key) -> id is new or moves here
    renamed_from: str | None = None  # the key the row had before

    @property
    def key(self) -> str:
        return self.article.key

    @property
    def published(self) -> datetime:
        """The date the item sorts by (``Item.published``)."""
        return self.article.published or self.first_seen


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``Store.ingest`` must do, in order: delete rows, then write rows."""

    writes: tuple[Write, ...]
    delete_ids: tuple[str, ...]  # article rows removed, or replaced under a new id
    changes: Changes


def content_hash(article: Article) -> str:
    """The digest ``updated`` follows (``Article.content_hash``)."""
    return article.content_hash()


def default_id_factory() -> str:
    """A fresh, globally unique id, valid as an Atom id and an RSS guid."""
    return f"urn:uuid:{uuid.uuid4()}"


def explicit_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an article's id, or None when it can."""
    if not value.strip():
        return "explicit id is empty"
    if value != value.strip():
        return "explicit id has leading or trailing white space"
    if len(value) > MAX_ID_LENGTH:
        return f"explicit id is longer than {MAX_ID_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "explicit id contains control characters"
    return None


def initial_updated(article: Article, now: datetime) -> datetime:
    """``updated`` of a new article: the latest date its content declares, else ``now``."""
    declared = [d for d in (article.updated, article.published) if d is not None]
    return utc(max(declared)) if declared else utc(now)


def moved_updated(previous: datetime, article: Article, now: datetime) -> datetime:
    """``updated`` of an edited article: ``max(now, declared)``, and always after ``previous``.

    A clock behind the stored date (or a stored date in the future) must not make a
    reader miss the edit, so the result is at least one second after ``previous``.
    """
    candidate = utc(now)
    if article.updated is not None and article.updated > candidate:
        candidate = utc(article.updated)
    if candidate <= previous:
        candidate = utc(previous) + timedelta(seconds=1)
    return candidate


@dataclass(slots=True)
class _Choice:
    id: str
    previous: Stored | None  # the row whose identity (id, first_seen, updated) lives on
    first_seen: datetime | None = None  # for an id coming back without a live row
    minted: bool = False


def plan_ingest(
    source: str,
    incoming: Sequence[tuple[Article, FileState | None]],
    *,
    stored: Mapping[str, Stored],
    registry: Mapping[str, Registered],
    holders: Mapping[str, Holder],
    present: Collection[str] | None,
    now: datetime,
    mint: Callable[[], str] = default_id_factory,
    hashes: Mapping[str, str] | None = None,
) -> Plan:
    """Decide one ingest of ``source``.

    ``stored``: the source's live articles by key; it may leave out keys that are neither
    incoming nor missing from ``present`` (they play no part).  ``registry``: the
    source's registry by key, at least for incoming keys without a live article.
    ``holders``: for each explicit id among ``incoming``, who holds it in the registry, if
    anyone.  ``present``: every key still present after a complete scan (None: a partial
    view such as a remote feed, nothing is removed).  ``hashes``: content hashes of
    incoming articles already computed, by key (the others are computed here).
    """
    now = utc(now)
    rejected: list[tuple[str, str]] = []
    entries: dict[str, tuple[Article, FileState | None, str]] = {}
    for article, file in incoming:
        if article.source != source:
            raise ValueError(f"article {article.key!r} is from {article.source!r}, not {source!r}")
        if article.key in entries:
            rejected.append((article.key, "duplicate key in the same batch"))
            continue
        if article.explicit_id is not None:
            problem = explicit_id_problem(article.explicit_id)
            if problem:
                rejected.append((article.key, problem))
                continue
        ready = hashes.get(article.key) if hashes is not None else None
        entries[article.key] = (article, file, ready or content_hash(article))

    # Stored articles that go away in this ingest, unless their id lives on under a new key.
    if present is None:
        vanishing: dict[str, Stored] = {}
    else:
        keep = {*present, *entries, *(key for key, _ in rejected)}
        vanishing = {k: row for k, row in stored.items() if k not in keep}
    consumed: set[str] = set()  # vanishing keys whose id was taken over
    taken: set[str] = set()  # ids given out in this plan
    choices: dict[str, _Choice] = {}

    # 1. Explicit ids.  Conflicts are settled in favour of the current holder, else the
    #    smallest key, so the outcome does not depend on the order files were read in.
    claims: dict[str, list[str]] = {}
    for key, (article, _, _) in entries.items():
        if article.explicit_id is not None:
            claims.setdefault(article.explicit_id, []).append(key)
    losers: set[str] = set()
    for xid in sorted(claims):
        keys = sorted(claims[xid])
        holder = holders.get(xid)
        previous: Stored | None = None
        first_seen: datetime | None = None
        if holder is not None and holder.source == source and holder.key in keys:
            winner = holder.key  # the article re-declares the id it already has
            previous = stored.get(winner)
            first_seen = holder.first_seen
        elif holder is not None and holder.live and not (
            holder.source == source and holder.key in vanishing
        ):
            where = holder.key if holder.source == source else f"{holder.source}:{holder.key}"
            rejected.extend((key, f"id {xid!r} is already used by {where}") for key in keys)
            losers.update(keys)
            continue
        else:
            winner = keys[0]
            if holder is not None and holder.source == source and holder.key in vanishing:
                previous = vanishing[holder.key]  # renamed, and the id says so
                consumed.add(holder.key)
            else:
                previous = stored.get(winner)  # possibly an existing article taking a new id
                first_seen = holder.first_seen if holder is not None else None
        for key in keys:
            if key != winner:
                rejected.append((key, f"id {xid!r} is already used by {winner}"))
                losers.add(key)
        choices[winner] = _Choice(xid, previous, first_seen)
        taken.add(xid)

    pending = sorted(key for key in entries if key not in choices and key not in losers)

    # 2. The registry: a live key keeps its row; a key that comes back gets its id back.
    unresolved: list[str] = []
    for key in pending:
        row = stored.get(key)
        known = registry.get(key)
        if row is not None and row.id not in taken:
            choices[key] = _Choice(row.id, row)
            taken.add(row.id)
        elif row is None and known is not None and known.id not in taken:
            choices[key] = _Choice(known.id, None, known.first_seen)
            taken.add(known.id)
        else:
            unresolved.append(key)

    # 3. Renames: strongest evidence first, over all newcomers; each old row used once.
    if vanishing and unresolved:
        rows = [vanishing[key] for key in sorted(vanishing)]
        news = {key: (entries[key][2], entries[key][1]) for key in unresolved}
        for signature in (_hash_signature, _digest_signature, _inode_signature):
            index: dict[object, list[Stored]] = {}
            for row in rows:
                value = signature(row.content_hash, row.file)
                if value is not None:
                    index.setdefault(value, []).append(row)
            still: list[str] = []
            for key in unresolved:
                value = signature(*news[key])
                match = _take(index.get(value, ()), consumed) if value is not None else None
                if match is None:
                    still.append(key)
                else:
                    consumed.add(match.key)
                    choices[key] = _Choice(match.id, match)
                    taken.add(match.id)
            unresolved = still

    # 4. Mint.
    # (An id already in the store is caught there: the registry insert of a minted id fails.)
    for key in unresolved:
        new_id = mint()
        if new_id in taken:
            raise ValueError(f"the id factory returned an id already in use: {new_id!r}")
        choices[key] = _Choice(new_id, None, None, minted=True)
        taken.add(new_id)

    writes: list[Write] = []
    delete_ids: list[str] = []
    added: list[str] = []
    changed: list[str] = []
    unchanged = 0
    renamed: list[tuple[str, str]] = []
    for key in sorted(choices):
        article, file, digest = entries[key]
        choice = choices[key]
        own = stored.get(key)
        if own is not None and own.id != choice.id:
            delete_ids.append(own.id)  # the key's row is replaced by a row under another id
        prev = choice.previous
        status: Status
        if prev is None:
            status = "added"
            seen = choice.first_seen or now
            updated = initial_updated(article, now)
            added.append(key)
        elif prev.content_hash == digest:
            status = "unchanged"
            seen, updated = prev.first_seen, prev.updated
            unchanged += 1
        else:
            status = "changed"
            seen = prev.first_seen
            updated = moved_updated(prev.updated, article, now)
            changed.append(key)
        if prev is not None and prev.key != key:
            renamed.append((prev.key, key))
        writes.append(Write(
            id=choice.id,
            article=article,
            content_hash=digest,
            file=file,
            first_seen=seen,
            updated=updated,
            status=status,
            minted=choice.minted,
            register=own is None or own.id != choice.id,
            renamed_from=prev.key if prev is not None and prev.key != key else None,
        ))
    removed = sorted(key for key in vanishing if key not in consumed)
    delete_ids.extend(vanishing[key].id for key in removed)
    return Plan(
        writes=tuple(writes),
        delete_ids=tuple(delete_ids),
        changes=Changes(
            added=tuple(added),
            changed=tuple(changed),
            removed=tuple(removed),
            unchanged=unchanged,
            renamed=tuple(sorted(renamed)),
            rejected=tuple(sorted(rejected)),
        ),
    )


def _hash_signature(content_hash: str, file: FileState | None) -> object:
    return content_hash


def _digest_signature(content_hash: str, file: FileState | None) -> object:
    return file.digest if file is not None else None


def _inode_signature(content_hash: str, file: FileState | None) -> object:
    if file is None or file.inode == 0:  # 0: the file system has no inode numbers
        return None
    return (file.device, file.inode)


def _take(candidates: Sequence[Stored], consumed: set[str]) -> Stored | None:
    for row in candidates:
        if row.key not in consumed:
            return row
    return None


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history of a remote feed the store keeps (``None``: that limit is off).

    Every entry the feed still lists is kept.  Of the others, an entry is kept while it is
    among the feed's ``max_items`` newest entries (listed ones count) *and* no older than
    ``max_age``: both limits apply, so the store holds at most ``max_items`` entries per
    feed beyond those the feed itself lists.
    """

    max_age: timedelta | None = timedelta(days=90)
    max_items: int | None = 500

    def __post_init__(self) -> None:
        if self.max_items is not None and self.max_items < 0:
            raise ValueError(f"max_items must be 0 or more, got {self.max_items}")
        if self.max_age is not None and self.max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive, got {self.max_age}")

    @property
    def unlimited(self) -> bool:
        return self.max_age is None and self.max_items is None


#: the ids of pruned entries are remembered this many times as long, and as many, as the
#: entries themselves (at least :data:`ID_MEMORY_MIN_AGE` and :data:`ID_MEMORY_MIN_ITEMS`)
ID_MEMORY = 10
ID_MEMORY_MIN_AGE = timedelta(days=365)
ID_MEMORY_MIN_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class Held:
    """An entry of a remote feed as pruning sees it: ``published`` is the date it sorts
    by (its own, else when it was first seen), ties broken by ``id`` as feeds order them."""

    key: str
    id: str
    published: datetime


def _before(now: datetime, span: timedelta | None) -> datetime | None:
    """``now - span``; None for no ``span``, or one reaching before year one (nothing is
    that old: an age of centuries is no limit at all, not an error)."""
    if span is None:
        return None
    try:
        return utc(now) - span
    except OverflowError:
        return None


def plan_prune(held: Sequence[Held], *, listed: Collection[str], now: datetime,
               retention: Retention) -> tuple[str, ...]:
    """The keys of ``held`` (one feed's stored entries) to delete, sorted.

    ``listed``: the keys the feed listed when it was last read; they are never deleted.
    """
    if retention.unlimited:
        return ()
    oldest = _before(now, retention.max_age)
    most = retention.max_items
    dated = sorted(((utc(h.published), h) for h in held), key=lambda dh: dh[1].id)
    dated.sort(key=lambda dh: dh[0], reverse=True)  # newest first, ties by id
    drop = [
        h.key for rank, (published, h) in enumerate(dated)
        if h.key not in listed and (
            (most is not None and rank >= most) or (oldest is not None and published < oldest))
    ]
    return tuple(sorted(drop))


@dataclass(frozen=True, slots=True)
class IdMemory:
    """How long the registry remembers the ids of a feed's entries no longer stored:
    the ``most`` newest (by when the id was first given; ties by id), first given no
    earlier than ``oldest``.  ``None``: no such limit.

    Forgetting is :meth:`due` only once the memory overflows by a tenth (:data:`ID_SLACK`),
    so that a feed in its steady state does not forget a few ids on every read: the
    registry then holds up to 10% more than the memory, and never grows beyond that.
    """

    oldest: datetime | None
    most: int | None
    slack: timedelta = timedelta(0)  # of ``oldest``; ``most`` gets its tenth

    @property
    def unlimited(self) -> bool:
        return self.oldest is None and self.most is None

    def due(self, remembered: int, first_given: datetime | None) -> bool:
        """Whether ids are to be forgotten: ``remembered`` ids, the oldest given at
        ``first_given``."""
        too_many = self.most is not None and remembered > self.most + self.most // ID_SLACK
        too_old = self.oldest is not None and first_given is not None and \
            utc(first_given) < self.oldest - self.slack
        return too_many or too_old


#: forgetting ids waits until the memory overflows by 1/ID_SLACK
ID_SLACK = 10


def id_memory(retention: Retention, now: datetime) -> IdMemory:
    """Ids of pruned entries are remembered :data:`ID_MEMORY` times as long and as many as
    entries are kept (at least a year and 1,000 of them per feed): an entry that comes
    back within that memory gets its old id back, and the registry of a feed with fresh
    guids on every fetch stays bounded."""
    if retention.max_age is None:
        oldest, slack = None, timedelta(0)
    else:
        try:
            horizon = max(ID_MEMORY * retention.max_age, ID_MEMORY_MIN_AGE)
        except OverflowError:  # beyond what a timedelta holds: no limit either
            horizon = timedelta.max
        oldest, slack = _before(now, horizon), horizon / ID_SLACK
    most = (max(ID_MEMORY * retention.max_items, ID_MEMORY_MIN_ITEMS)
            if retention.max_items is not None else None)
    return IdMemory(oldest, most, slack)
