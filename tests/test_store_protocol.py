"""The Store protocol, specified once and run against every implementation.

Each test takes ``store``: the SQLite store (a file in a temporary directory), the
in-memory one and the PostgreSQL one (a fresh database on the session's throwaway server,
``tests.pgcluster``), all minting ids ``id-1``, ``id-2`` ...  What only SQLite has (migrations,
locking, crash safety, query plans) is specified in ``test_store.py``.
"""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from feeds.model import Article, FetchState, FileState, Retention
from feeds.select import story_keys
from feeds.store import (
    FeedIndex,
    FeedState,
    MemoryStore,
    Restored,
    Selection,
    SqliteStore,
    Store,
    instant,
    stamp,
)
from feeds.store.postgres import PostgresStore
from tests.conftest import TWO_FEED_SITE

SRC = "notes"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
DAY = timedelta(days=1)


def art(key: str, body: str | None = None, source: str = SRC, **kw: object) -> Article:
    return Article(source=source, key=key, title=f"Title {key}", body=body or f"body {key}", **kw)  # type: ignore[arg-type]


def fs(inode: int, size: int = 10, digest: str | None = None) -> FileState:
    return FileState(size=size, mtime_ns=inode * 1000, inode=inode, device=3, digest=digest)


def counter(prefix: str = "id") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


IMPLEMENTATIONS = ["sqlite", "memory", "postgres"]


def open_store(kind: str, tmp_path: Path, id_factory: Callable[[], str],
               request: pytest.FixtureRequest) -> Store:
    if kind == "sqlite":
        return SqliteStore.open(tmp_path / "state" / "feeds.sqlite", id_factory=id_factory)
    if kind == "postgres":  # a fresh database on the session's server (skips without one)
        return PostgresStore.open(request.getfixturevalue("pg_url"), id_factory=id_factory)
    return MemoryStore(id_factory=id_factory)


@pytest.fixture(params=IMPLEMENTATIONS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(request.param, tmp_path, counter(), request) as s:
        yield s


# --------------------------------------------------------------------------- ingest and ids


def test_new_articles_get_ids_and_dates(store: Store) -> None:
    published = datetime(2026, 1, 5, tzinfo=UTC)
    changes = store.ingest(SRC, [(art("a.md", published=published), fs(1)), (art("b.md"), fs(2))],
                           now=NOW, present={"a.md", "b.md"})
    assert changes.added == ("a.md", "b.md")
    a = store.get_item("id-1")
    b = store.get_item("id-2")
    assert a is not None and b is not None
    assert (a.article.key, a.first_seen, a.updated, a.published) == ("a.md", NOW, published,
                                                                     published)
    assert (b.first_seen, b.updated, b.published) == (NOW, NOW, NOW)  # no date: first seen
    assert store.lookup_id(SRC, "b.md") == "id-2"


def test_an_unchanged_article_keeps_its_stored_row_whole(store: Store) -> None:
    guessed = art("a.md", published=NOW - timedelta(days=9), date_source="mtime")
    store.ingest(SRC, [(guessed, fs(1))], now=NOW, present={"a.md"})
    (before,) = store.items()
    touched = replace(guessed, published=LATER, published_text="touched")
    changes = store.ingest(SRC, [(touched, fs(1, size=10))], now=LATER, present={"a.md"})
    assert changes.unchanged == 1
    assert store.items() == [before]  # a touched file is no edit: its date does not jump


def test_an_edit_moves_only_updated(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), fs(1))], now=NOW, present={"a.md"})
    changes = store.ingest(SRC, [(art("a.md", "edited"), fs(1, size=11))], now=LATER,
                           present={"a.md"})
    assert changes.changed == ("a.md",)
    (item,) = store.items()
    assert (item.id, item.first_seen, item.updated, item.article.body) == ("id-1", NOW, LATER,
                                                                          "edited")
    assert store.file_states(SRC) == {"a.md": fs(1, size=11)}


def test_a_rename_keeps_the_id_and_moves_the_registry(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), fs(1))], now=NOW, present={"a.md"})
    moved = replace(art("a.md"), key="b.md")
    changes = store.ingest(SRC, [(moved, fs(2))], now=LATER, present={"b.md"})
    assert changes.renamed == (("a.md", "b.md"),) and changes.unchanged == 1
    (item,) = store.items()
    assert (item.id, item.article.key, item.updated) == ("id-1", "b.md", NOW)
    assert store.lookup_id(SRC, "b.md") == "id-1"
    assert store.lookup_id(SRC, "a.md") is None
    assert store.file_states(SRC) == {"b.md": fs(2)}


def test_a_rename_with_an_edit_is_found_by_inode(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), fs(7))], now=NOW, present={"a.md"})
    changes = store.ingest(SRC, [(art("b.md", "rewritten"), fs(7))], now=LATER, present={"b.md"})
    assert changes.renamed == (("a.md", "b.md"),) and changes.changed == ("b.md",)
    (item,) = store.items()
    assert (item.id, item.first_seen, item.updated) == ("id-1", NOW, LATER)


def test_a_deleted_file_is_removed_and_gets_its_id_back_when_it_returns(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), fs(1)), (art("b.md"), fs(2))], now=NOW,
                 present={"a.md", "b.md"})
    changes = store.ingest(SRC, [], now=LATER, present={"b.md"})
    assert changes.removed == ("a.md",)
    assert store.get_item("id-1") is None
    assert store.lookup_id(SRC, "a.md") == "id-1"
    assert set(store.file_states(SRC)) == {"b.md"}
    back = store.ingest(SRC, [(art("a.md"), fs(9))], now=LATER, present={"a.md", "b.md"})
    assert back.added == ("a.md",)
    item = store.get_item("id-1")
    assert item is not None and item.first_seen == NOW


def test_remote_ingest_without_present_never_removes(store: Store) -> None:
    store.ingest("remote", [(art(f"e{i}", source="remote"), None) for i in range(3)], now=NOW)
    changes = store.ingest("remote", [(art("e9", source="remote"), None)], now=LATER)
    assert changes.removed == () and changes.added == ("e9",)
    assert store.count(["remote"]) == 4


def test_an_unreadable_file_listed_in_present_keeps_its_article(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), fs(1)), (art("b.md"), fs(2))], now=NOW,
                 present={"a.md", "b.md"})
    changes = store.ingest(SRC, [(art("b.md"), fs(2))], now=LATER, present={"a.md", "b.md"})
    assert changes.removed == ()
    assert store.get_item("id-1") is not None
    assert "a.md" in store.file_states(SRC)


def test_an_explicit_id_wins_and_a_duplicate_is_rejected_not_raised(store: Store) -> None:
    changes = store.ingest(SRC, [(art("a.md", explicit_id="tag:x,2026:a"), None)], now=NOW,
                           present={"a.md"})
    assert changes.added == ("a.md",)
    assert store.lookup_id(SRC, "a.md") == "tag:x,2026:a"
    dup = store.ingest(SRC, [(art("b.md", explicit_id="tag:x,2026:a"), None)], now=LATER,
                       present={"a.md", "b.md"})
    assert dup.rejected == (("b.md", "id 'tag:x,2026:a' is already used by a.md"),)
    assert store.count() == 1 and store.lookup_id(SRC, "b.md") is None


def test_an_explicit_id_used_by_another_source_is_rejected(store: Store) -> None:
    store.ingest("one", [(art("a.md", source="one", explicit_id="X"), None)], now=NOW)
    changes = store.ingest("two", [(art("z.md", source="two", explicit_id="X"), None)], now=NOW)
    assert changes.rejected == (("z.md", "id 'X' is already used by one:a.md"),)


def test_an_explicit_id_added_to_an_existing_article_replaces_its_row(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), fs(1))], now=NOW, present={"a.md"})
    store.ingest(SRC, [(art("a.md", explicit_id="X"), fs(1))], now=LATER, present={"a.md"})
    (item,) = store.items()
    assert (item.id, item.first_seen, item.updated) == ("X", NOW, LATER)
    assert store.lookup_id(SRC, "a.md") == "X"
    assert store.file_states(SRC) == {"a.md": fs(1)}


def test_datetimes_are_aware_utc_on_the_way_out(store: Store) -> None:
    plus5 = timezone(timedelta(hours=5))
    store.ingest(SRC, [(art("a.md", published=datetime(2026, 1, 1, 5, tzinfo=plus5)), None)],
                 now=NOW.astimezone(plus5))
    (item,) = store.items()
    for value in (item.first_seen, item.updated, item.published, item.article.published):
        assert value is not None and value.tzinfo is UTC
    assert item.published == datetime(2026, 1, 1, tzinfo=UTC)
    assert item.first_seen == NOW


def _three_sources(store: Store) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n, source in enumerate(("a", "b", "c")):
        store.ingest(source, [
            (art(f"{i}.md", source=source, published=base + timedelta(hours=3 * i + n)), None)
            for i in range(10)
        ], now=NOW)
    # a tie on published: ordered by id
    store.ingest("c", [(art("tie.md", source="c", published=base + timedelta(hours=27)), None)],
                 now=NOW)


def test_items_are_newest_first_with_ties_by_id(store: Store) -> None:
    _three_sources(store)
    items = store.items()
    keys = [(i.published, i.id) for i in items]
    assert keys == sorted(keys, key=lambda k: (-k[0].timestamp(), k[1]))
    assert len(items) == store.count() == 31


@pytest.mark.parametrize("sources", [None, ["a"], ["a", "c"], ["c", "b", "a"]])
@pytest.mark.parametrize("limit", [1, 5, 12, 100])
def test_limited_items_are_the_head_of_all_items(
    store: Store, sources: list[str] | None, limit: int
) -> None:
    _three_sources(store)
    assert store.items(sources, limit=limit) == store.items(sources)[:limit]


def test_items_since_and_empty_sources(store: Store) -> None:
    _three_sources(store)
    since = datetime(2026, 1, 2, tzinfo=UTC)
    recent = store.items(since=since)
    assert recent and all(i.published >= since for i in recent)
    assert recent == [i for i in store.items() if i.published >= since]
    assert store.items([]) == [] and store.count([]) == 0
    assert store.items(["nope"]) == []
    assert store.count(["a", "b"]) == 20
    with pytest.raises(TypeError):
        store.items("a")


def test_sources_and_forget_source_keeps_the_registry(store: Store) -> None:
    store.ingest("a", [(art("x.md", source="a"), fs(1))], now=NOW, present={"x.md"})
    store.ingest("b", [(art("y.md", source="b"), None)], now=NOW)
    store.set_source_states({"c": FetchState(etag="W/1")})
    assert store.sources() == ["a", "b", "c"]
    assert store.forget_source("a") == 1
    assert store.forget_source("c") == 0
    assert store.sources() == ["b"]
    assert store.file_states("a") == {} and store.source_state("c") is None
    store.ingest("a", [(art("x.md", source="a"), fs(1))], now=LATER, present={"x.md"})
    assert store.lookup_id("a", "x.md") == "id-1"


def test_reading_fingerprint_round_trips_per_source_and_leaves_with_it(store: Store) -> None:
    assert store.reading_fingerprint("a") is None
    store.set_reading_fingerprint("a", "f1")
    store.set_reading_fingerprint("b", "f2")
    store.set_reading_fingerprint("a", "f3")
    assert (store.reading_fingerprint("a"), store.reading_fingerprint("b")) == ("f3", "f2")
    store.forget_source("a")
    assert store.reading_fingerprint("a") is None and store.reading_fingerprint("b") == "f2"


def test_link_holders_name_the_stored_key_of_each_link(store: Store) -> None:
    store.ingest(SRC, [(art("a.md", link="https://ex.org/a/"), None),
                       (art("b.md", link="https://ex.org/b/"), None), (art("c.md"), None)],
                 now=NOW)
    store.ingest("other", [(art("z.md", source="other", link="https://ex.org/z/"), None)],
                 now=NOW)
    wanted = ["https://ex.org/a/", "https://ex.org/z/", "https://ex.org/new/"]
    assert store.link_holders(SRC, wanted) == {"https://ex.org/a/": "a.md"}
    assert store.link_holders("other", wanted) == {"https://ex.org/z/": "z.md"}
    assert store.link_holders(SRC, []) == {}


def test_heads_name_their_source(store: Store) -> None:
    _three_sources(store)
    assert {h.id: h.source for h in store.heads()} == {i.id: i.article.source
                                                      for i in store.items()}


def test_file_states_round_trip(store: Store) -> None:
    states = {f"{i}.md": FileState(i, 10**18 + i, 2**40 + i, 2**31 + i, f"d{i}" if i else None)
              for i in range(3)}
    store.ingest(SRC, [(art(k), st) for k, st in states.items()], now=NOW, present=set(states))
    assert store.file_states(SRC) == states
    assert store.file_states("other") == {}


def test_heads_carry_the_story_keys_merging_compares(store: Store) -> None:
    store.ingest(SRC, [(art("a.md", link="http://Example.com/x/"), None),
                       (replace(art("b.md"), title="  Hello,   World! "), None)], now=NOW)
    by_key = {i.article.key: i for i in store.items([SRC])}
    heads = {h.id: h for h in store.heads([SRC])}
    for item in by_key.values():
        assert heads[item.id].story_keys() == list(story_keys(item))
    assert "link:example.com/x" in heads[by_key["a.md"].id].story_keys()
    day = by_key["b.md"].published.date().isoformat()
    assert f"title:{day}:hello world" in heads[by_key["b.md"].id].story_keys()
    # an edit that changes the title changes the stored keys with it
    store.ingest(SRC, [(replace(art("b.md"), title="Another title"), None)], now=NOW)
    head = next(h for h in store.heads([SRC]) if h.id == by_key["b.md"].id)
    assert head.story_keys()[-1].endswith(":another title")


def test_reingesting_unchanged_articles_moves_nothing(store: Store) -> None:
    batch = [(art(f"{i}.md"), fs(i)) for i in range(5)]
    store.ingest(SRC, batch, now=NOW, present={a.key for a, _ in batch})
    before = store.items()
    changes = store.ingest(SRC, batch, now=LATER, present={a.key for a, _ in batch})
    assert (changes.added, changes.changed, changes.removed, changes.unchanged) == (
        (), (), (), 5)
    assert store.items() == before


def test_ingest_takes_present_or_gone_not_both(store: Store) -> None:
    with pytest.raises(ValueError):
        store.ingest(SRC, [], now=NOW, present=set(), gone=set())


def test_a_partial_ingest_removes_exactly_the_keys_gone(store: Store) -> None:
    store.ingest(SRC, [(art(f"{i}.md"), fs(i)) for i in range(3)], now=NOW,
                 present={"0.md", "1.md", "2.md"})
    changes = store.ingest(SRC, [(art("3.md"), fs(3))], now=LATER, gone={"1.md"})
    assert (changes.added, changes.removed) == (("3.md",), ("1.md",))
    assert sorted(store.file_states(SRC)) == ["0.md", "2.md", "3.md"]
    assert store.file_states(SRC, {"2.md", "9.md"}) == {"2.md": fs(2)}


def test_keys_under_folders(store: Store) -> None:
    keys = ["a/1.md", "a/b/2.md", "a0.md", "ab/3.md", "c.md"]
    store.ingest(SRC, [(art(k), fs(n)) for n, k in enumerate(keys)], now=NOW, present=set(keys))
    assert store.keys_under(SRC, ["a"]) == {"a/1.md", "a/b/2.md"}
    assert store.keys_under(SRC, ["a/b", "ab"]) == {"a/b/2.md", "ab/3.md"}
    assert store.keys_under("other", ["a"]) == set()


# --------------------------------------------------------------------------- reading


def test_heads_are_items_as_stamps(store: Store) -> None:
    store.ingest(SRC, [(art(f"{n}.md", published=NOW - timedelta(hours=n)), None)
                       for n in range(5)], now=NOW)
    items = store.items([SRC], limit=3)
    heads = store.heads([SRC], limit=3)
    assert [h.id for h in heads] == [i.id for i in items]
    assert [(instant(h.published), instant(h.first_seen), instant(h.updated)) for h in heads] \
        == [(i.published, i.first_seen, i.updated) for i in items]
    assert [h.published for h in heads] == [stamp(i.published) for i in items]
    assert [h.content_hash for h in heads] == [i.article.content_hash() for i in items]
    assert store.items_by_id([h.id for h in heads] + ["nope"]) == {i.id: i for i in items}
    assert store.heads([SRC], since=NOW - timedelta(hours=1)) == heads[:2]
    assert store.heads([]) == [] and store.heads([SRC], limit=0) == []


def test_get_item_and_lookup_id_of_what_is_not_there(store: Store) -> None:
    assert store.get_item("nope") is None and store.lookup_id(SRC, "nope") is None
    assert store.items() == [] and store.count() == 0 and store.sources() == []


# --------------------------------------------------------------------------- prune


def remote(key: str, age: timedelta = timedelta(0)) -> Article:
    return Article(source="fresh", key=key, title=key, published=NOW - age)


def test_prune_keeps_what_the_feed_lists_and_the_ids_of_what_it_drops(store: Store) -> None:
    store.ingest("fresh", [(remote(f"k{i}", i * DAY), None) for i in range(5)], now=NOW)
    ids = {f"k{i}": store.lookup_id("fresh", f"k{i}") for i in range(5)}
    pruned = store.prune("fresh", listed={"k4"}, now=NOW, retention=Retention(max_items=2))
    assert pruned == ("k2", "k3")
    assert sorted(i.article.key for i in store.items(["fresh"])) == ["k0", "k1", "k4"]
    assert {k: store.lookup_id("fresh", k) for k in ids} == ids
    back = store.ingest("fresh", [(remote("k3", 3 * DAY), None)], now=LATER)
    assert back.added == ("k3",) and store.lookup_id("fresh", "k3") == ids["k3"]


def test_prune_with_a_prefix_touches_only_that_feed(store: Store) -> None:
    store.ingest("fresh", [(remote(f"{p}/k{i}", i * DAY), None) for p in "ab" for i in range(3)],
                 now=NOW)
    assert store.prune("fresh", listed=set(), now=NOW, retention=Retention(max_items=1),
                       prefix="a/") == ("a/k1", "a/k2")
    assert store.count(["fresh"]) == 4
    assert store.prune("fresh", listed=set(), now=NOW, retention=Retention()) == ()


def test_feeds_an_opml_file_no_longer_lists_leave_with_their_state_not_their_ids(
        store: Store) -> None:
    entries = [Article(source="planet", key=f"{feed} e{n}", title=f"{feed} {n}")
               for feed in ("planet.a", "planet.b") for n in range(2)]
    store.ingest("planet", [(a, None) for a in entries], now=NOW)
    store.set_source_states({"planet.a": FetchState(etag="a"), "planet.b": FetchState(etag="b")})
    ids = {a.key: store.lookup_id("planet", a.key) for a in entries}
    assert store.prune_unlisted_feeds("planet", ["planet.a"]) == ("planet.b e0", "planet.b e1")
    assert sorted(i.article.key for i in store.items(["planet"])) == ["planet.a e0",
                                                                     "planet.a e1"]
    assert store.source_state("planet.b") is None
    assert store.source_state("planet.a") == FetchState(etag="a")
    assert {k: store.lookup_id("planet", k) for k in ids} == ids
    assert store.prune_unlisted_feeds("planet", ["planet.a"]) == ()


# --------------------------------------------------------------------------- recovery


def test_identities_and_restoring_them(store: Store) -> None:
    assert store.id_count() == 0
    store.ingest(SRC, [(art("a.md", published=NOW - DAY, date_source="mtime",
                           link="https://e/a"), fs(1)),
                       (art("b.md", explicit_id="X"), fs(2))], now=NOW,
                 present={"a.md", "b.md"})
    a, b = store.identities(SRC)
    assert (a.key, a.id, a.published, a.first_seen, a.guessed, a.dated, a.explicit, a.link) == (
        "a.md", "id-1", NOW - DAY, NOW, True, True, False, "https://e/a")
    assert (b.key, b.id, b.published, b.guessed, b.dated, b.explicit) == (
        "b.md", "X", NOW, False, False, True)
    old = NOW - 30 * DAY
    store.restore_identities(SRC, [Restored("a.md", "urn:old", old, old + DAY, old)])
    item = store.get_item("urn:old")
    assert item is not None and store.get_item("id-1") is None
    assert (item.first_seen, item.updated, item.published) == (old, old + DAY, old)
    assert store.lookup_id(SRC, "a.md") == "urn:old"
    assert store.file_states(SRC)["a.md"] == fs(1)
    assert [h.published for h in store.heads([SRC])][-1] == stamp(old)


def test_restoring_an_unknown_key_restores_nothing(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), None)], now=NOW)
    with pytest.raises(ValueError):
        store.restore_identities(SRC, [Restored("a.md", "urn:a", NOW, NOW),
                                       Restored("zz.md", "urn:z", NOW, NOW)])
    assert store.lookup_id(SRC, "a.md") == "id-1" and store.get_item("id-1") is not None


# --------------------------------------------------------------------------- state


def test_source_state_round_trips_as_a_fetch_state(store: Store) -> None:
    assert store.source_state("r") is None
    state = FetchState(config_url="https://e/feed", etag='"abc"', last_status=200,
                       last_fetch=NOW, next_due=NOW + timedelta(hours=1, microseconds=0),
                       errors=2, gone=False, moves=("a -> b",))
    store.set_source_states({"r": FetchState(etag="old"), "s": FetchState(errors=1)})
    store.set_source_states({"r": state})
    back = store.source_state("r")
    assert back == state and back is not None and back.last_fetch is not None
    assert back.last_fetch.tzinfo is UTC
    assert store.source_state("s") == FetchState(errors=1)
    assert store.sources() == ["r", "s"]


def test_feed_state_and_index_round_trip(store: Store) -> None:
    assert store.feed_state("f") is None and store.feed_index("f") is None
    state = FeedState(channel="c1", items="d1", count=2, files={"rss": [1, 2, 3, 4], "atom": None},
                      selection=Selection("rows", NOW, LATER))
    index = FeedIndex(ids=("a", "b"), keys=("ka", "kb"), updated=(stamp(NOW), stamp(LATER)),
                      formats={"rss": {"head": 10, "fragments": [[0, 5]]}})
    store.set_feed_state("f", state, index)
    assert store.feed_state("f") == state and store.feed_index("f") == index
    nothing_seen = replace(state, selection=Selection("rows", None, None), count=0)
    store.set_feed_state("f", nothing_seen, keep_index=True)
    assert store.feed_state("f") == nothing_seen and store.feed_index("f") == index
    store.set_feed_state("f", replace(state, items="d2"))  # no index: none is kept
    assert store.feed_state("f") == replace(state, items="d2") and store.feed_index("f") is None
    assert store.feed_state("other") is None


def test_a_handle_reopens_the_same_store_in_another_process(store: Store) -> None:
    store.ingest(SRC, [(art("a.md"), None)], now=NOW)
    handle = store.handle()
    if isinstance(store, MemoryStore):
        assert handle is None  # nobody else sees these dicts: render in this process
        return
    assert handle is not None
    with pickle.loads(pickle.dumps(handle)).open() as other:
        assert other.items() == store.items()


def test_a_store_is_a_context_manager_and_a_store(store: Store) -> None:
    with store as same:
        assert same is store
    assert isinstance(store, (SqliteStore, MemoryStore, PostgresStore))


# --------------------------------------------------------------------------- through the pipeline


SITE = TWO_FEED_SITE.format(author="")  # the perf tests' site: a feed of 3 and one of all


@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
def test_the_pipeline_publishes_the_same_files_from_either_store_and_then_nothing(
        tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> None:
    """Ingest and publish ask only the protocol: the memory store gives the files a build
    gives, and its kept feed state makes the next publication a no-op."""
    from feeds import config as config_module
    from feeds.pipeline import build, ingest, publish

    def site(root: Path) -> Path:
        (root / "articles").mkdir(parents=True)
        (root / "feeds.toml").write_text(SITE, encoding="utf-8")
        for n in range(8):
            (root / "articles" / f"a{n}.txt").write_text(
                f"Story {n}\n\nPublished {1 + n} May 2024\n\nText of story {n}.\n",
                encoding="utf-8")
        return root

    reference = config_module.load(site(tmp_path / "built") / "feeds.toml")
    build(reference, now=NOW)
    config = config_module.load(site(tmp_path / "here") / "feeds.toml")
    with open_store(kind, tmp_path / "here", counter("urn:x"), request) as store:
        ingest(config, store, now=NOW)
        reports, _pages = publish(config, store, now=NOW)
        assert all(r.error is None for r in reports)
        state = store.feed_state("everything")
        assert state is not None and state.count == 8 and state.selection is not None
        index = store.feed_index("everything")
        assert index is not None and len(index.ids) == 8
        again, _pages = publish(config, store, now=NOW + timedelta(minutes=1))
        assert [r.written for r in again] == [[], []]
        assert [r.unchanged for r in again] == [3, 8]

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*")) if p.is_file()}

    def without_ids(data: bytes) -> bytes:
        import re
        return re.sub(rb"urn:(uuid|x)[-:][0-9a-z-]+", b"ID", data)

    built, here = files(tmp_path / "built" / "public"), files(tmp_path / "here" / "public")
    assert built.keys() == here.keys() and len(built) > 4
    assert {k: without_ids(v) for k, v in here.items()} == \
        {k: without_ids(v) for k, v in built.items()}


def test_keys_and_links_of_any_length_are_stored_and_found(store: Store) -> None:
    """An entry's id comes from its feed, whatever its length (PostgreSQL's B-tree entries
    hold at most 2,704 bytes: no index may hold a key whole)."""
    import random
    import string

    rng = random.Random(14)
    long_key = "".join(rng.choice(string.ascii_letters) for _ in range(20_000))
    link = "https://example.org/" + "".join(rng.choice(string.ascii_letters) for _ in range(9000))
    store.ingest(SRC, [(art(long_key, link=link), fs(1)), (art("short"), fs(2))], now=NOW,
                 present={long_key, "short"})
    assert store.lookup_id(SRC, long_key) == "id-1"
    assert store.file_states(SRC, [long_key]) == {long_key: fs(1)}
    assert store.link_holders(SRC, [link]) == {link: long_key}
    changes = store.ingest(SRC, [(art("short"), fs(2))], now=LATER, present={"short"})
    assert changes.removed == (long_key,) and store.file_states(SRC) == {"short": fs(2)}
    store.ingest(SRC, [(art(long_key, link=link), fs(1))], now=LATER, present={long_key, "short"})
    assert store.lookup_id(SRC, long_key) == "id-1"  # back, with its id
