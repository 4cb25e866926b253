"""Pure decisions on what a remote feed's history keeps (no I/O, no clock: ``now`` is given).

Retention (:func:`plan_prune`, after a remote feed is read): entries the feed still lists
are kept; of the others, those beyond the feed's ``max_items`` newest or older than
``max_age`` are deleted.  The registry remembers their ids within :func:`id_memory`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..model import Retention, utc

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
