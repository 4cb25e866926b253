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

Retention (:func:`plan_prune`, after a remote feed is read) is decided in
:mod:`feeds.store.retention`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from ..model import Article, Changes, FileState, utc

Status = Literal["added", "changed", "unchanged"]

#: the longest explicit id accepted (ids end up in XML, URLs and JSON)
MAX_ID_LENGTH = 1024




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


_Entry = tuple[Article, FileState | None, str]  # the article, its file, its content hash


@dataclass(slots=True)
class _Planning:
    """One ingest being planned: what each step of :func:`plan_ingest` reads and settles."""

    source: str
    stored: Mapping[str, Stored]
    entries: dict[str, _Entry]
    rejected: list[tuple[str, str]]
    vanishing: dict[str, Stored]  # stored articles going away, unless their id lives on
    consumed: set[str] = field(default_factory=set)  # vanishing keys whose id was taken over
    taken: set[str] = field(default_factory=set)  # ids given out in this plan
    choices: dict[str, _Choice] = field(default_factory=dict)

    def choose(self, key: str, choice: _Choice) -> None:
        self.choices[key] = choice
        self.taken.add(choice.id)


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
    entries, rejected = _accept(source, incoming, hashes)
    if present is None:
        vanishing: dict[str, Stored] = {}
    else:
        keep = {*present, *entries, *(key for key, _ in rejected)}
        vanishing = {k: row for k, row in stored.items() if k not in keep}
    planning = _Planning(source, stored, entries, rejected, vanishing)
    losers = _explicit_ids(planning, holders)
    pending = sorted(key for key in entries if key not in planning.choices and key not in losers)
    unresolved = _renames(planning, _registered(planning, registry, pending))
    _mint(planning, unresolved, mint)
    return _plan(planning, now)


def _accept(
    source: str, incoming: Sequence[tuple[Article, FileState | None]],
    hashes: Mapping[str, str] | None,
) -> tuple[dict[str, _Entry], list[tuple[str, str]]]:
    """The incoming articles by key with their content hashes, and those rejected outright
    (a duplicate key, an unusable explicit id)."""
    rejected: list[tuple[str, str]] = []
    entries: dict[str, _Entry] = {}
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
    return entries, rejected


def _explicit_ids(p: _Planning, holders: Mapping[str, Holder]) -> set[str]:
    """Rule 1, explicit ids; returns the keys rejected for an id held by another.  Conflicts
    are settled in favour of the current holder, else the smallest key, so the outcome does
    not depend on the order files were read in."""
    claims: dict[str, list[str]] = {}
    for key, (article, _, _) in p.entries.items():
        if article.explicit_id is not None:
            claims.setdefault(article.explicit_id, []).append(key)
    losers: set[str] = set()
    for xid in sorted(claims):
        keys = sorted(claims[xid])
        holder = holders.get(xid)
        previous: Stored | None = None
        first_seen: datetime | None = None
        if holder is not None and holder.source == p.source and holder.key in keys:
            winner = holder.key  # the article re-declares the id it already has
            previous = p.stored.get(winner)
            first_seen = holder.first_seen
        elif holder is not None and holder.live and not (
            holder.source == p.source and holder.key in p.vanishing
        ):
            where = holder.key if holder.source == p.source else f"{holder.source}:{holder.key}"
            p.rejected.extend((key, f"id {xid!r} is already used by {where}") for key in keys)
            losers.update(keys)
            continue
        else:
            winner = keys[0]
            if holder is not None and holder.source == p.source and holder.key in p.vanishing:
                previous = p.vanishing[holder.key]  # renamed, and the id says so
                p.consumed.add(holder.key)
            else:
                previous = p.stored.get(winner)  # possibly an existing article taking a new id
                first_seen = holder.first_seen if holder is not None else None
        for key in keys:
            if key != winner:
                p.rejected.append((key, f"id {xid!r} is already used by {winner}"))
                losers.add(key)
        p.choose(winner, _Choice(xid, previous, first_seen))
    return losers


def _registered(p: _Planning, registry: Mapping[str, Registered], pending: list[str]) -> list[str]:
    """Rule 2, the registry: a live key keeps its row; a key that comes back gets its id
    back.  Returns the keys still without an id."""
    unresolved: list[str] = []
    for key in pending:
        row = p.stored.get(key)
        known = registry.get(key)
        if row is not None and row.id not in p.taken:
            p.choose(key, _Choice(row.id, row))
        elif row is None and known is not None and known.id not in p.taken:
            p.choose(key, _Choice(known.id, None, known.first_seen))
        else:
            unresolved.append(key)
    return unresolved


def _renames(p: _Planning, unresolved: list[str]) -> list[str]:
    """Rule 3, renames: strongest evidence first, over all newcomers; each old row used
    once.  Returns the keys still without an id."""
    if not (p.vanishing and unresolved):
        return unresolved
    rows = [p.vanishing[key] for key in sorted(p.vanishing)]
    news = {key: (p.entries[key][2], p.entries[key][1]) for key in unresolved}
    for signature in (_hash_signature, _digest_signature, _inode_signature):
        index: dict[object, list[Stored]] = {}
        for row in rows:
            value = signature(row.content_hash, row.file)
            if value is not None:
                index.setdefault(value, []).append(row)
        still: list[str] = []
        for key in unresolved:
            value = signature(*news[key])
            match = _take(index.get(value, ()), p.consumed) if value is not None else None
            if match is None:
                still.append(key)
            else:
                p.consumed.add(match.key)
                p.choose(key, _Choice(match.id, match))
        unresolved = still
    return unresolved


def _mint(p: _Planning, unresolved: list[str], mint: Callable[[], str]) -> None:
    """Rule 4, a new id for each key left.  (An id already in the store is caught there:
    the registry insert of a minted id fails.)"""
    for key in unresolved:
        new_id = mint()
        if new_id in p.taken:
            raise ValueError(f"the id factory returned an id already in use: {new_id!r}")
        p.choose(key, _Choice(new_id, None, None, minted=True))


def _plan(p: _Planning, now: datetime) -> Plan:
    """The writes, deletions and changes that the choices made amount to."""
    writes: list[Write] = []
    delete_ids: list[str] = []
    added: list[str] = []
    changed: list[str] = []
    unchanged = 0
    renamed: list[tuple[str, str]] = []
    for key in sorted(p.choices):
        article, file, digest = p.entries[key]
        choice = p.choices[key]
        own = p.stored.get(key)
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
            id=choice.id, article=article, content_hash=digest, file=file, first_seen=seen,
            updated=updated, status=status, minted=choice.minted,
            register=own is None or own.id != choice.id,
            renamed_from=prev.key if prev is not None and prev.key != key else None,
        ))
    removed = sorted(key for key in p.vanishing if key not in p.consumed)
    delete_ids.extend(p.vanishing[key].id for key in removed)
    changes = Changes(added=tuple(added), changed=tuple(changed), removed=tuple(removed),
                      unchanged=unchanged, renamed=tuple(sorted(renamed)),
                      rejected=tuple(sorted(p.rejected)))
    return Plan(writes=tuple(writes), delete_ids=tuple(delete_ids), changes=changes)


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
