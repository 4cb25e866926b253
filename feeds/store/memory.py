"""The store in dicts: the same :class:`~feeds.store.Store` protocol, for pure tests.

Nothing is shared with another process (:meth:`MemoryStore.handle` is None), nothing
survives :meth:`close`.  The decisions are the same functions of :mod:`feeds.store.plan` the
SQLite store calls; only the bookkeeping differs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

from ..model import Article, Changes, FetchState, FileState, Item, Retention, utc
from ..text import STORY_SEP, story_keys_of
from .plan import Holder, Plan, Registered, Stored, default_id_factory, plan_ingest
from .retention import Held, id_memory, plan_prune
from .types import FeedIndex, FeedState, FolderState, Identity, ItemHead, Restored, stamp

if TYPE_CHECKING:
    from .sqlite.codecs import Encoded

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Row:
    id: str
    source: str
    key: str
    content_hash: str
    article: Article
    first_seen: datetime
    updated: datetime
    file: FileState | None = None

    @property
    def published(self) -> datetime:
        return self.article.published or self.first_seen


def _as_stored(article: Article) -> Article:
    """``article`` as a store gives it back: its dates in UTC."""
    published, updated = article.published, article.updated
    if (published is None or published.tzinfo is UTC) and (updated is None
                                                            or updated.tzinfo is UTC):
        return article
    return replace(article, published=None if published is None else utc(published),
                   updated=None if updated is None else utc(updated))


class MemoryStore:
    """A store held in dicts (see the module's docstring)."""

    def __init__(self, *, id_factory: Callable[[], str] | None = None) -> None:
        self._id_factory = id_factory or default_id_factory
        self._rows: dict[str, _Row] = {}  # by id
        self._keys: dict[str, dict[str, str]] = {}  # source -> key -> id
        self._registry: dict[tuple[str, str], Registered] = {}
        self._holder: dict[str, tuple[str, str]] = {}  # id -> (source, key) in the registry
        self._source_states: dict[str, FetchState] = {}
        self._folder_states: dict[str, FolderState] = {}
        self._feed_states: dict[str, FeedState] = {}
        self._feed_index: dict[str, FeedIndex] = {}
        self._reading: dict[str, str] = {}  # source -> reading fingerprint

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def handle(self) -> None:
        return None  # no other process sees these dicts

    # ----------------------------------------------------------------------- ingest

    def file_states(self, source: str,
                    keys: Collection[str] | None = None) -> dict[str, FileState]:
        live = self._keys.get(source, {})
        wanted = live if keys is None else (k for k in keys if k in live)
        return {k: f for k in wanted if (f := self._rows[live[k]].file) is not None}

    def keys_under(self, source: str, folders: Collection[str]) -> set[str]:
        return {k for k in self._keys.get(source, {})
                for folder in folders if k.startswith(folder + "/")}

    def ingest(self, source: str, articles: Sequence[tuple[Article, FileState | None]], *,
               now: datetime, present: Collection[str] | None = None,
               gone: Collection[str] | None = None,
               encoded: Mapping[str, Encoded] | None = None) -> Changes:
        if present is not None and gone is not None:
            raise ValueError("ingest takes present (a full scan) or gone (a partial one)")
        now = utc(now)
        incoming = {article.key for article, _ in articles}
        hashes = {a.key: e.content_hash for a, _ in articles
                  if encoded is not None and (e := encoded.get(a.key)) is not None
                  and e.article is a}
        keys = self._keys.get(source, {})
        if gone is not None:
            live = {k for k in incoming | set(gone) if k in keys}
            wanted = set(live)
            present = (incoming | live) - set(gone)
        else:
            live = set(keys)
            wanted = incoming & live
            if present is not None:
                wanted |= live - incoming - set(present)
        plan = plan_ingest(
            source, articles,
            stored={k: self._stored(keys[k]) for k in wanted},
            registry={k: r for k in incoming - live
                      if (r := self._registry.get((source, k))) is not None},
            holders=self._holders({a.explicit_id for a, _ in articles if a.explicit_id}),
            present=present, now=now, mint=self._id_factory, hashes=hashes)
        self._apply(source, plan)
        return plan.changes

    def _stored(self, id_: str) -> Stored:
        row = self._rows[id_]
        return Stored(row.id, row.key, row.content_hash, row.first_seen, row.updated, row.file)

    def _holders(self, ids: Collection[str]) -> dict[str, Holder]:
        out = {}
        for id_ in ids:
            if (held := self._holder.get(id_)) is not None:
                out[id_] = Holder(*held, self._registry[held].first_seen, id_ in self._rows)
        return out

    def _apply(self, source: str, plan: Plan) -> None:
        for id_ in plan.delete_ids:
            self._delete(id_)
        for w in plan.writes:
            if w.status == "unchanged":
                if w.renamed_from is not None:
                    row = self._rows[w.id]
                    self._place(replace(row, key=w.key, article=replace(row.article, key=w.key)))
            else:
                old = self._rows.get(w.id)
                if w.status == "added" and old is not None:
                    raise ValueError(f"id {w.id!r} is already stored")
                self._place(_Row(w.id, source, w.key, w.content_hash, _as_stored(w.article),
                                 utc(w.first_seen), utc(w.updated),
                                 old.file if old is not None else None))
            if w.minted and w.id in self._holder:
                raise ValueError(f"minted id {w.id!r} is already registered")
            if w.minted or w.register:
                self._register(source, w.key, w.id, utc(w.first_seen))
            if w.file is not None:
                self._rows[w.id].file = w.file

    def _place(self, row: _Row) -> None:
        old = self._rows.get(row.id)
        if old is not None:
            self._keys[old.source].pop(old.key, None)
        self._rows[row.id] = row
        self._keys.setdefault(row.source, {})[row.key] = row.id

    def _delete(self, id_: str) -> None:
        row = self._rows.pop(id_, None)
        if row is not None:
            self._keys[row.source].pop(row.key, None)

    def _register(self, source: str, key: str, id_: str, first_seen: datetime) -> None:
        """INSERT OR REPLACE: the entry of (source, key) and any holder of the id go."""
        old = self._registry.pop((source, key), None)
        if old is not None:
            self._holder.pop(old.id, None)
        held = self._holder.pop(id_, None)
        if held is not None:
            self._registry.pop(held, None)
        self._registry[(source, key)] = Registered(id_, first_seen)
        self._holder[id_] = (source, key)

    def forget_source(self, source: str) -> int:
        ids = list(self._keys.get(source, {}).values())
        for id_ in ids:
            self._delete(id_)
        self._source_states.pop(source, None)
        self._reading.pop(source, None)
        self._folder_states.pop(source, None)
        return len(ids)

    def prune(self, source: str, *, listed: Collection[str], now: datetime,
              retention: Retention, prefix: str = "") -> tuple[str, ...]:
        if retention.unlimited:
            return ()
        keys = self._keys.get(source, {})
        held = [Held(k, id_, self._rows[id_].published)
                for k, id_ in keys.items() if k.startswith(prefix)]
        drop = plan_prune(held, listed=set(listed), now=now, retention=retention)
        for key in drop:
            self._delete(keys[key])
        self._forget_ids(source, prefix, len(held) - len(drop), retention, now)
        return drop

    def prune_unlisted_feeds(self, source: str, feeds: Collection[str]) -> tuple[str, ...]:
        listed = set(feeds)
        keys = self._keys.get(source, {})
        drop = sorted(k for k in keys if k.partition(" ")[0] not in listed)
        for key in drop:
            self._delete(keys[key])
        for feed in {key.partition(" ")[0] for key in drop}:
            self._source_states.pop(feed, None)
        return tuple(drop)

    def _forget_ids(self, source: str, prefix: str, live: int, retention: Retention,
                    now: datetime) -> None:
        memory = id_memory(retention, now)
        if memory.unlimited:
            return
        entries = [(k, r) for (s, k), r in self._registry.items()
                   if s == source and k.startswith(prefix)]
        first = min((r.first_seen for _, r in entries), default=None)
        if not memory.due(len(entries) - live, first):
            return
        remembered = sorted(((k, r) for k, r in entries if r.id not in self._rows),
                            key=lambda e: (-e[1].first_seen.timestamp(), e[1].id))
        for n, (key, entry) in enumerate(remembered, 1):
            if (memory.most is not None and n > memory.most) or (
                    memory.oldest is not None and entry.first_seen < memory.oldest):
                del self._registry[(source, key)]
                self._holder.pop(entry.id, None)

    # ----------------------------------------------------------------------- recovery

    def id_count(self) -> int:
        return len(self._registry)

    def identities(self, source: str) -> list[Identity]:
        rows = sorted((self._rows[i] for i in self._keys.get(source, {}).values()),
                      key=lambda r: r.key)
        return [Identity(r.key, r.id, r.content_hash, r.article.title, r.published,
                         r.first_seen, r.updated,
                         r.article.date_source in ("mtime", "first-seen"),
                         r.article.published is not None, r.article.explicit_id is not None,
                         r.article.link)
                for r in rows]

    def restore_identities(self, source: str, rows: Sequence[Restored]) -> None:
        before = (dict(self._rows), {s: dict(k) for s, k in self._keys.items()},
                  dict(self._registry), dict(self._holder))
        try:
            for restored in rows:
                self._restore(source, restored)
        except BaseException:  # one transaction: all of it or none of it
            self._rows, self._keys, self._registry, self._holder = before
            raise

    def _restore(self, source: str, r: Restored) -> None:
        id_ = self._keys.get(source, {}).get(r.key)
        if id_ is None:
            raise ValueError(f"no article {r.key!r} in source {source!r}")
        row = self._rows.pop(id_)
        article = row.article if r.published is None else replace(row.article,
                                                                   published=utc(r.published))
        self._place(replace(row, id=r.id, article=article, first_seen=utc(r.first_seen),
                            updated=utc(r.updated)))
        if (source, r.key) in self._registry:
            self._holder.pop(self._registry[(source, r.key)].id, None)
            self._registry[(source, r.key)] = Registered(r.id, utc(r.first_seen))
            self._holder[r.id] = (source, r.key)

    # ----------------------------------------------------------------------- reading

    def _newest(self, sources: Collection[str] | None, limit: int | None,
                since: datetime | None) -> list[_Row]:
        if isinstance(sources, str):
            raise TypeError("sources must be a collection of names, not a string")
        if limit is not None and limit <= 0:
            return []
        names = self._keys if sources is None else set(sources)
        rows = [self._rows[i] for s in names for i in self._keys.get(s, {}).values()]
        if since is not None:
            rows = [r for r in rows if r.published >= since]
        rows.sort(key=lambda r: r.id)
        rows.sort(key=lambda r: r.published, reverse=True)
        return rows if limit is None else rows[:limit]

    @staticmethod
    def _item(row: _Row) -> Item:
        return Item(id=row.id, article=row.article, first_seen=row.first_seen,
                    updated=row.updated, content_hash=row.content_hash)

    def items(self, sources: Collection[str] | None = None, *, limit: int | None = None,
              since: datetime | None = None) -> list[Item]:
        return [self._item(r) for r in self._newest(sources, limit, since)]

    def heads(self, sources: Collection[str] | None = None, *, limit: int | None = None,
              since: datetime | None = None) -> list[ItemHead]:
        out = []
        for r in self._newest(sources, limit, since):
            published, a = stamp(r.published), r.article
            out.append(ItemHead(r.id, published, stamp(r.first_seen), stamp(r.updated),
                                r.content_hash, a.title, a.link,
                                STORY_SEP.join(story_keys_of(a.link, a.title, published[:10])),
                                r.source))
        return out

    def items_by_id(self, ids: Sequence[str]) -> dict[str, Item]:
        return {i: self._item(self._rows[i]) for i in ids if i in self._rows}

    def count(self, sources: Collection[str] | None = None) -> int:
        if isinstance(sources, str):
            raise TypeError("sources must be a collection of names, not a string")
        names = self._keys if sources is None else set(sources)
        return sum(len(self._keys.get(s, {})) for s in names)

    def get_item(self, id: str) -> Item | None:
        row = self._rows.get(id)
        return None if row is None else self._item(row)

    def lookup_id(self, source: str, key: str) -> str | None:
        entry = self._registry.get((source, key))
        return None if entry is None else entry.id

    def sources(self) -> list[str]:
        return sorted({s for s, keys in self._keys.items() if keys} | set(self._source_states))

    # ----------------------------------------------------------------------- state

    def source_state(self, source: str) -> FetchState | None:
        return self._source_states.get(source)

    def reading_fingerprint(self, source: str) -> str | None:
        return self._reading.get(source)

    def set_reading_fingerprint(self, source: str, fingerprint: str) -> None:
        self._reading[source] = fingerprint

    def link_holders(self, source: str, links: Collection[str]) -> dict[str, str]:
        wanted = set(links)
        out: dict[str, str] = {}
        for key, id_ in sorted(self._keys.get(source, {}).items(), reverse=True):
            link = self._rows[id_].article.link
            if link in wanted:
                out[link] = key  # the first key in sort order, if two hold it
        return out

    # Claims: a store only one node uses (SQLite, memory) holds none.  Every feed is this
    # node's, whatever the limit; a shared store (PostgreSQL) divides them between nodes.
    def claim(self, feeds: Collection[str], *, lease: timedelta,
              limit: int | None = None) -> list[str]:
        """Of ``feeds``, those this node fetches now, sorted: here, all of them."""
        return sorted(set(feeds))

    def release(self, feeds: Collection[str]) -> None:
        """Give up this node's claims on ``feeds``: here, there are none."""

    def announce(self, source: str) -> None:
        """Tell the other nodes that ``source``'s articles changed: here, there are none."""

    def set_source_states(self, states: Mapping[str, FetchState]) -> None:
        self._source_states.update(states)

    def folder_state(self, source: str) -> FolderState | None:
        return self._folder_states.get(source)

    def set_folder_state(self, source: str, state: FolderState) -> None:
        self._folder_states[source] = FolderState(state.skipped, state.not_published,
                                                  dict(state.due))

    def feed_state(self, feed: str) -> FeedState | None:
        return self._feed_states.get(feed)

    def feed_index(self, feed: str) -> FeedIndex | None:
        return self._feed_index.get(feed)

    def set_feed_state(self, feed: str, state: FeedState, index: FeedIndex | None = None, *,
                       keep_index: bool = False) -> None:
        self._feed_states[feed] = state
        if keep_index:
            return
        if index is None:
            self._feed_index.pop(feed, None)
        else:
            self._feed_index[feed] = index
