"""Retention: the store keeps what a remote feed still lists plus a bounded history.

A feed that shows fresh guids on every fetch must not grow the store without limit.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest

import feeds.store.sqlite.connection as store_module
from feeds import config as config_module
from feeds.config import ConfigProblems
from feeds.model import Article, FetchState, Retention
from feeds.pipeline import build, ingest, ingest_remote
from feeds.store import MemoryStore, SqliteStore, Store
from feeds.store.retention import Held, IdMemory, id_memory, plan_prune
from tests.conftest import NOW
from tests.test_build_remote import FeedServer


def fresh_feed(batch: int, count: int, now: datetime) -> bytes:
    """An RSS document of ``count`` entries no earlier fetch has seen (guids name the batch)."""
    items = "".join(
        f"<item><guid>https://fresh.example/{batch}/{i}</guid><title>Entry {batch}.{i}</title>"
        f"<link>https://fresh.example/{batch}/{i}</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=i), usegmt=True)}</pubDate>"
        f"<description>Entry {i} of batch {batch}.</description></item>"
        for i in range(count))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Fresh</title>'
            f"<link>https://fresh.example/</link><description>d</description>{items}"
            f"</channel></rss>").encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def write_site(tmp_path: Path, server: FeedServer, extra: str = "") -> Path:
    (tmp_path / "feeds.toml").write_text(f"""
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "fresh"
kind = "feed"
url = "{server.base}/fresh.xml"
{extra}
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    return tmp_path / "feeds.toml"


def test_a_feed_with_fresh_guids_on_every_fetch_does_not_grow_the_store_without_limit(
        tmp_path: Path, server: FeedServer) -> None:
    """With the default retention (the newest 500 entries, 90 days), 12 fetches of 60
    fresh entries each leave at most 500 entries, all of them from the latest fetches."""
    config = config_module.load(write_site(tmp_path, server))
    with SqliteStore.open(config.store_path) as store:
        for batch in range(12):
            now = NOW + timedelta(hours=batch)
            server.documents["/fresh.xml"] = fresh_feed(batch, 60, now)
            ingest(config, store, now=now)
        assert store.count(["fresh"]) == 500
        kept = {i.article.title for i in store.items(["fresh"])}
    assert {f"Entry 11.{i}" for i in range(60)} <= kept  # the latest fetch: listed
    assert not any(title.startswith("Entry 0.") for title in kept)  # the oldest: pruned


# --------------------------------------------------------------------------- the decision


DAY = timedelta(days=1)


def held(key: str, age: timedelta, id_: str | None = None) -> Held:
    return Held(key=key, id=id_ or f"id-{key}", published=NOW - age)


def test_entries_the_feed_still_lists_are_kept_however_old_or_many() -> None:
    entries = [held(f"k{i}", age=(1000 + i) * DAY) for i in range(10)]
    assert plan_prune(entries, listed={e.key for e in entries}, now=NOW,
                      retention=Retention(max_age=DAY, max_items=0)) == ()


def test_unlisted_entries_beyond_the_newest_max_items_are_pruned_and_listed_ones_count() -> None:
    entries = [held(f"k{i}", age=i * timedelta(hours=1)) for i in range(6)]  # k0 newest
    drop = plan_prune(entries, listed={"k0", "k1"}, now=NOW,
                      retention=Retention(max_age=None, max_items=4))
    assert drop == ("k4", "k5")


def test_unlisted_entries_older_than_max_age_are_pruned() -> None:
    entries = [held("young", age=89 * DAY), held("old", age=91 * DAY),
               held("old-but-listed", age=400 * DAY)]
    drop = plan_prune(entries, listed={"old-but-listed"}, now=NOW,
                      retention=Retention(max_age=90 * DAY, max_items=None))
    assert drop == ("old",)


def test_both_limits_apply_so_the_stricter_one_decides() -> None:
    entries = [held("new", age=DAY), held("second", age=2 * DAY), held("third", age=3 * DAY),
               held("ancient", age=200 * DAY)]
    retention = Retention(max_age=90 * DAY, max_items=2)
    assert plan_prune(entries, listed=set(), now=NOW, retention=retention) == (
        "ancient", "third")
    # within the count but too old: pruned all the same
    assert plan_prune(entries[2:], listed=set(), now=NOW, retention=retention) == ("ancient",)


def test_a_limit_switched_off_is_not_applied_and_with_both_off_nothing_is_pruned() -> None:
    entries = [held(f"k{i}", age=i * 100 * DAY) for i in range(5)]
    assert plan_prune(entries, listed=set(), now=NOW,
                      retention=Retention(max_age=None, max_items=3)) == ("k3", "k4")
    assert plan_prune(entries, listed=set(), now=NOW,
                      retention=Retention(max_age=150 * DAY, max_items=None)) == (
        "k2", "k3", "k4")
    assert plan_prune(entries, listed=set(), now=NOW,
                      retention=Retention(max_age=None, max_items=None)) == ()


def test_max_items_zero_keeps_only_what_the_feed_lists() -> None:
    entries = [held("listed", age=5 * DAY), held("gone", age=timedelta(0))]
    assert plan_prune(entries, listed={"listed"}, now=NOW,
                      retention=Retention(max_age=None, max_items=0)) == ("gone",)


def test_entries_of_the_same_date_are_pruned_in_the_order_feeds_show_them() -> None:
    """Feeds order by (date, id): the entry that would come last is the one pruned."""
    entries = [held("a", age=DAY, id_="id-3"), held("b", age=DAY, id_="id-1"),
               held("c", age=DAY, id_="id-2")]
    for order in (entries, entries[::-1]):
        assert plan_prune(order, listed=set(), now=NOW,
                          retention=Retention(max_age=None, max_items=2)) == ("a",)


def test_the_default_retention_is_the_newest_500_entries_or_90_days() -> None:
    assert Retention() == Retention(max_age=timedelta(days=90), max_items=500)


@pytest.mark.parametrize("kwargs", [{"max_items": -1}, {"max_age": timedelta(0)}])
def test_a_retention_that_means_nothing_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Retention(**kwargs)  # type: ignore[arg-type]


def test_the_ids_of_pruned_entries_are_remembered_ten_times_as_long_and_as_many() -> None:
    assert id_memory(Retention(max_age=60 * DAY, max_items=200), NOW) == IdMemory(
        oldest=NOW - 600 * DAY, most=2000, slack=60 * DAY)


def test_ids_are_remembered_at_least_a_year_and_a_thousand_entries() -> None:
    memory = id_memory(Retention(max_age=DAY, max_items=0), NOW)
    assert (memory.oldest, memory.most) == (NOW - 365 * DAY, 1000)
    assert id_memory(Retention(max_age=None, max_items=None), NOW).unlimited


def test_forgetting_ids_waits_until_the_memory_overflows_by_a_tenth() -> None:
    """So that a feed in its steady state does not rewrite its registry on every read."""
    memory = IdMemory(oldest=NOW - 100 * DAY, most=1000, slack=10 * DAY)
    assert not memory.due(1100, NOW - 110 * DAY)
    assert memory.due(1101, NOW)
    assert memory.due(0, NOW - 110 * DAY - timedelta(seconds=1))
    assert not memory.due(0, None)
    assert not IdMemory(oldest=None, most=None).due(10**9, NOW - 10**4 * DAY)


# --------------------------------------------------------------------------- the store


def remote(key: str, age: timedelta = timedelta(0), source: str = "fresh") -> Article:
    return Article(source=source, key=key, title=f"Title {key}", body=f"body {key}",
                   published=NOW - age, link=f"https://fresh.example/{key}")


def numbered() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"urn:test:{next(numbers)}"


@pytest.fixture(params=["sqlite", "memory"])
def memory_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A store in memory: SQLite's, or the dicts of ``MemoryStore`` (the same protocol)."""
    opened: Store = SqliteStore.open(":memory:", id_factory=numbered()) \
        if request.param == "sqlite" else MemoryStore(id_factory=numbered())
    with opened as store:
        yield store


def keys_of(store: Store, source: str = "fresh") -> list[str]:
    return sorted(i.article.key for i in store.items([source]))


def test_prune_deletes_what_the_retention_does_not_keep_and_remembers_the_ids(
        memory_store: Store) -> None:
    memory_store.ingest("fresh", [(remote(f"k{i}", i * DAY), None) for i in range(5)], now=NOW)
    ids = {f"k{i}": memory_store.lookup_id("fresh", f"k{i}") for i in range(5)}
    pruned = memory_store.prune("fresh", listed={"k4"}, now=NOW,
                                retention=Retention(max_age=None, max_items=2))
    assert pruned == ("k2", "k3")
    assert keys_of(memory_store) == ["k0", "k1", "k4"]
    assert {k: memory_store.lookup_id("fresh", k) for k in ids} == ids  # registry kept


def test_a_pruned_entry_that_comes_back_gets_its_old_id_back(memory_store: Store) -> None:
    memory_store.ingest("fresh", [(remote("back"), None)], now=NOW)
    old_id = memory_store.lookup_id("fresh", "back")
    memory_store.prune("fresh", listed=set(), now=NOW,
                       retention=Retention(max_age=None, max_items=0))
    assert memory_store.count(["fresh"]) == 0
    changes = memory_store.ingest("fresh", [(remote("back"), None)], now=NOW + DAY)
    assert changes.added == ("back",)
    [item] = memory_store.items(["fresh"])
    assert item.id == old_id
    assert item.first_seen == NOW  # it is the same entry, first seen back then


def test_prune_is_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    memory_store = SqliteStore.open(":memory:", id_factory=numbered())
    memory_store.ingest("fresh", [(remote(f"k{i}"), None) for i in range(3)], now=NOW)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crash after the articles were deleted")

    monkeypatch.setattr(SqliteStore, "_forget_ids", broken)
    with pytest.raises(RuntimeError):
        memory_store.prune("fresh", listed=set(), now=NOW,
                           retention=Retention(max_age=None, max_items=0))
    assert keys_of(memory_store) == ["k0", "k1", "k2"]


def test_prune_of_one_feed_of_an_opml_source_leaves_its_other_feeds_alone(
        memory_store: Store) -> None:
    articles = [remote(f"{feed} {n}", source="planet") for feed in ("planet.a", "planet.ab",
                                                                    "planet.b") for n in "xy"]
    memory_store.ingest("planet", [(a, None) for a in articles], now=NOW)
    pruned = memory_store.prune("planet", listed={"planet.a x"}, now=NOW,
                                retention=Retention(max_age=None, max_items=0),
                                prefix="planet.a ")
    assert pruned == ("planet.a y",)
    assert keys_of(memory_store, "planet") == [
        "planet.a x", "planet.ab x", "planet.ab y", "planet.b x", "planet.b y"]


def test_the_id_registry_of_a_feed_with_fresh_guids_stays_bounded(memory_store: Store) -> None:
    retention = Retention(max_age=None, max_items=10)  # ids remembered: the newest 1,000
    for batch in range(20):
        now = NOW + batch * timedelta(hours=1)
        articles = [remote(f"{batch}/{i}", -batch * timedelta(hours=1)) for i in range(100)]
        memory_store.ingest("fresh", [(a, None) for a in articles], now=now)
        memory_store.prune("fresh", listed={a.key for a in articles}, now=now,
                           retention=retention)
    assert memory_store.count(["fresh"]) == 100  # what the feed lists (more than 10)
    remembered = [k for b in range(20) for i in range(100)
                  if memory_store.lookup_id("fresh", k := f"{b}/{i}") is not None]
    assert 100 + 1000 <= len(remembered) <= 100 + 1000 + 100  # memory, plus a tenth at most
    assert memory_store.lookup_id("fresh", "0/0") is None  # the oldest are forgotten
    assert memory_store.lookup_id("fresh", "18/0") is not None


def test_the_ids_of_entries_first_seen_too_long_ago_are_forgotten(memory_store: Store) -> None:
    retention = Retention(max_age=DAY, max_items=None)  # ids remembered: a year
    memory_store.ingest("fresh", [(remote("old", 400 * DAY), None)], now=NOW - 400 * DAY)
    memory_store.ingest("fresh", [(remote("recent", 300 * DAY), None)], now=NOW - 300 * DAY)
    memory_store.ingest("fresh", [(remote("listed", 500 * DAY), None)], now=NOW - 500 * DAY)
    assert memory_store.prune("fresh", listed={"listed"}, now=NOW, retention=retention) == (
        "old", "recent")
    assert memory_store.lookup_id("fresh", "old") is None
    assert memory_store.lookup_id("fresh", "recent") is not None
    assert memory_store.lookup_id("fresh", "listed") is not None  # stored: never forgotten


# --------------------------------------------------------------------------- through a build


def listing(*guids: str, newest: datetime = NOW) -> bytes:
    """An RSS document listing ``guids``, the first dated ``newest``, each next an hour
    earlier."""
    items = "".join(
        f"<item><guid>https://news.example/{g}</guid><title>Story {g}</title>"
        f"<link>https://news.example/{g}</link>"
        f"<pubDate>{format_datetime(newest - timedelta(hours=n), usegmt=True)}</pubDate>"
        "</item>"
        for n, g in enumerate(guids))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
            f"<link>https://news.example/</link><description>d</description>{items}"
            f"</channel></rss>").encode()


def published_titles(site: Path) -> dict[str, list[str]]:
    """The titles each published file of the feed "all" lists, by format."""
    folder = site / "public" / "all"
    atom = feedparser.parse((folder / "atom.xml").read_bytes())
    rss = feedparser.parse((folder / "rss.xml").read_bytes())
    feed = json.loads((folder / "feed.json").read_text(encoding="utf-8"))
    return {"atom": sorted(e.title for e in atom.entries),
            "rss": sorted(e.title for e in rss.entries),
            "json": sorted(i["title"] for i in feed["items"])}


def everywhere(*titles: str) -> dict[str, list[str]]:
    return {fmt: sorted(titles) for fmt in ("atom", "rss", "json")}


def test_an_entry_pruned_from_the_store_leaves_the_published_feed_at_the_next_build(
        tmp_path: Path, server: FeedServer) -> None:
    path = write_site(tmp_path, server, "retention = {max_items = 1}")
    server.documents["/fresh.xml"] = listing("c", "b", "a")
    build(config_module.load(path), now=NOW)
    assert published_titles(tmp_path) == everywhere("Story a", "Story b", "Story c")
    server.documents["/fresh.xml"] = listing("d", newest=NOW + timedelta(hours=1))
    report = build(config_module.load(path), now=NOW + timedelta(hours=1))
    [source] = report.sources
    assert source.changes is not None and len(source.changes.removed) == 3
    [feed] = report.feeds
    assert (feed.added, feed.removed) == (1, 3) and len(feed.written) == 3
    assert published_titles(tmp_path) == everywhere("Story d")


def test_an_entry_still_listed_keeps_its_id_and_one_that_comes_back_gets_its_old_id(
        tmp_path: Path, server: FeedServer) -> None:
    path = write_site(tmp_path, server, "retention = {max_items = 0}")
    server.documents["/fresh.xml"] = listing("kept", "leaves")
    build(config_module.load(path), now=NOW)
    first = {e.title: e.id for e in feedparser.parse(
        (tmp_path / "public" / "all" / "atom.xml").read_bytes()).entries}
    server.documents["/fresh.xml"] = listing("kept")
    build(config_module.load(path), now=NOW + timedelta(hours=1))
    assert published_titles(tmp_path) == everywhere("Story kept")
    server.documents["/fresh.xml"] = listing("kept", "leaves")
    build(config_module.load(path), now=NOW + timedelta(hours=2))
    again = {e.title: e.id for e in feedparser.parse(
        (tmp_path / "public" / "all" / "atom.xml").read_bytes()).entries}
    assert again == first


def test_a_feed_that_fails_or_did_not_change_prunes_nothing(
        tmp_path: Path, server: FeedServer) -> None:
    """Only a feed read anew says what it lists: an error, a 304 or the same body don't."""
    path = write_site(tmp_path, server, "retention = {max_items = 0}")
    server.documents["/fresh.xml"] = listing("b", "a")
    build(config_module.load(path), now=NOW)
    document = server.documents.pop("/fresh.xml")  # a 404
    build(config_module.load(path), now=NOW + timedelta(hours=1))
    assert published_titles(tmp_path) == everywhere("Story a", "Story b")
    server.documents["/fresh.xml"] = document  # the same body again
    build(config_module.load(path), now=NOW + timedelta(hours=2))
    assert published_titles(tmp_path) == everywhere("Story a", "Story b")
    server.documents["/fresh.xml"] = listing("c", "b")
    build(config_module.load(path), now=NOW + timedelta(hours=3))
    assert published_titles(tmp_path) == everywhere("Story b", "Story c")


def test_each_feed_of_an_opml_source_is_pruned_by_what_it_lists(
        tmp_path: Path, server: FeedServer) -> None:
    (tmp_path / "planet.opml").write_text(
        f'<opml version="2.0"><body><outline text="A" xmlUrl="{server.base}/a.xml"/>'
        f'<outline text="B" xmlUrl="{server.base}/b.xml"/></body></opml>', encoding="utf-8")
    (tmp_path / "feeds.toml").write_text("""
[store]
path = "state/feeds.db"
[output]
dir = "public"
[retention]
max_items = 0
[[sources]]
name = "planet"
kind = "opml"
path = "planet.opml"
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    server.documents["/a.xml"] = listing("a2", "a1")
    server.documents["/b.xml"] = listing("b1")
    build(config_module.load(tmp_path / "feeds.toml"), now=NOW)
    server.documents["/a.xml"] = listing("a3")
    build(config_module.load(tmp_path / "feeds.toml"), now=NOW + timedelta(hours=1))
    assert published_titles(tmp_path) == everywhere("Story a3", "Story b1")


def test_the_daemons_ingest_reports_pruned_entries_as_removed_so_it_republishes(
        tmp_path: Path, server: FeedServer) -> None:
    config = config_module.load(write_site(tmp_path, server, "retention = {max_items = 0}"))
    with SqliteStore.open(config.store_path) as store:
        server.documents["/fresh.xml"] = listing("b", "a")
        ingest_remote(config, store, config.sources, now=NOW, force=False)
        server.documents["/fresh.xml"] = listing("b")
        [report] = ingest_remote(config, store, config.sources, now=NOW + timedelta(hours=2),
                                 force=False)
        assert report.changes is not None
        assert len(report.changes.removed) == 1 and not report.changes.empty
        assert [i.article.title for i in store.items(["fresh"])] == ["Story b"]


# --------------------------------------------------------------------------- configuration


def remote_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "feeds.toml").write_text(f"""
{text}
[[sources]]
name = "notes"
kind = "folder"
path = "articles"
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    return tmp_path / "feeds.toml"


def test_remote_sources_keep_the_newest_500_entries_or_90_days_by_default(
        tmp_path: Path) -> None:
    config = config_module.load(remote_config(tmp_path, """
[[sources]]
name = "news"
kind = "feed"
url = "https://news.example/feed.xml"
"""))
    assert config.source("news").retention == Retention(max_age=90 * DAY, max_items=500)


def test_a_sources_retention_overrides_the_global_one_key_by_key(tmp_path: Path) -> None:
    config = config_module.load(remote_config(tmp_path, """
[retention]
max_age = "30d"
max_items = 200
[[sources]]
name = "news"
kind = "feed"
url = "https://news.example/feed.xml"
[[sources]]
name = "busy"
kind = "feed"
url = "https://busy.example/feed.xml"
retention = {max_items = 50}
[[sources]]
name = "archive"
kind = "feed"
url = "https://archive.example/feed.xml"
retention = {max_age = false, max_items = false}
"""))
    assert config.source("news").retention == Retention(max_age=30 * DAY, max_items=200)
    assert config.source("busy").retention == Retention(max_age=30 * DAY, max_items=50)
    assert config.source("archive").retention == Retention(max_age=None, max_items=None)


@pytest.mark.parametrize(("text", "expected"), [
    ('[retention]\nmax_items = -1', "retention.max_items: must be between 0"),
    ('[retention]\nmax_items = "many"', "retention.max_items: must be a number of entries"),
    ('[retention]\nmax_items = true', "retention.max_items: must be a number of entries"),
    ('[retention]\nmax_age = 90', 'retention.max_age: must be a duration like "90d"'),
    ('[retention]\nmax_age = "soon"', "retention.max_age: not a duration"),
    ('[retention]\nkeep = 5', "retention.keep: unknown key"),
    ('retention = 5', "retention: must be a table"),
])
def test_a_bad_retention_is_reported_with_its_key(tmp_path: Path, text: str,
                                                  expected: str) -> None:
    with pytest.raises(ConfigProblems) as caught:
        config_module.load(remote_config(tmp_path, text))
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_retention_on_a_folder_source_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds.toml").write_text("""
[[sources]]
name = "notes"
kind = "folder"
path = "articles"
retention = {max_items = 5}
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    with pytest.raises(ConfigProblems) as caught:
        config_module.load(tmp_path / "feeds.toml")
    assert caught.value.problems == [
        'sources[0].retention: applies to remote sources only (kind = "feed" or "opml"):'
        " a folder's articles stay while their files do"]


def pages(path: Path) -> int:
    """The pages the database uses, as another connection sees it (WAL included)."""
    with sqlite3.connect(path) as db:
        count: int = db.execute("PRAGMA page_count").fetchone()[0]
    return count


def test_the_store_file_stops_growing_once_the_history_is_full(tmp_path: Path) -> None:
    """SQLite reuses the pages pruning frees: with fresh guids on every read, the file
    grows until the history and the remembered ids are full, then stays put."""
    path = tmp_path / "feeds.db"
    retention = Retention(max_age=None, max_items=100)  # ids remembered: 1,000 (+ a tenth)
    sizes = []
    with SqliteStore.open(path) as store:
        for batch in range(80):
            now = NOW + batch * timedelta(hours=1)
            articles = [Article(source="fresh", key=f"{batch}/{i}", title=f"Entry {batch}.{i}",
                                body="Some words of a summary. " * 12,
                                published=now - timedelta(minutes=i)) for i in range(60)]
            store.ingest("fresh", [(a, None) for a in articles], now=now)
            store.prune("fresh", listed={a.key for a in articles}, now=now,
                        retention=retention)
            sizes.append(pages(path))
    full = sizes[39]  # 40 reads: 2,400 entries seen, 160 kept, ~1,100 ids remembered
    assert max(sizes[40:]) <= full * 1.1
    assert sizes[19] < full  # (it did grow while filling up: the check can fail)


def test_one_large_prune_does_not_leave_the_wal_file_that_large(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first prune of a store that grew without retention rewrites most of its pages in
    one transaction: the WAL grows as large, and is cut back once checkpointed."""
    monkeypatch.setattr(store_module, "WAL_SIZE_LIMIT", 256 * 1024)
    path = tmp_path / "feeds.db"
    wal = tmp_path / "feeds.db-wal"
    with SqliteStore.open(path) as store:
        store.ingest("fresh", [(remote(f"k{i}", timedelta(minutes=i)), None) for i in range(3000)],
                     now=NOW)
        store.prune("fresh", listed=set(), now=NOW, retention=Retention(None, max_items=10))
        largest = wal.stat().st_size
        # the next write starts the WAL anew
        store.set_source_states({"fresh": FetchState(etag="x")})
        assert wal.stat().st_size <= 256 * 1024 < largest


# --------------------------------------------------------------------------- review


@pytest.mark.parametrize("days", [80_000, 1_000_000, 99_999_999])
def test_a_max_age_reaching_before_year_one_keeps_everything_of_that_age_not_a_crash(
        memory_store: Store, days: int) -> None:
    """"keep for a few centuries" is no age limit at all: nothing was published before year
    one (the id memory, ten times as long, reaches there sooner)."""
    retention = Retention(max_age=timedelta(days=days), max_items=2)
    entries = [held(f"k{i}", age=i * DAY) for i in range(4)]
    assert plan_prune(entries, listed=set(), now=NOW, retention=retention) == ("k2", "k3")
    memory = id_memory(retention, NOW)
    assert memory.oldest is None and memory.most == 1000
    memory_store.ingest("fresh", [(remote(f"k{i}", i * DAY), None) for i in range(4)],
                        now=NOW)
    assert memory_store.prune("fresh", listed={"k0"}, now=NOW,
                              retention=retention) == ("k2", "k3")


def test_a_feed_taken_out_of_an_opml_file_leaves_the_store_and_the_published_feeds(
        tmp_path: Path, server: FeedServer) -> None:
    """It is never read again, so retention would never prune it: unsubscribed, it goes
    as a source taken out of the configuration does (its ids are remembered)."""
    opml = tmp_path / "planet.opml"

    def subscribe(*names: str) -> None:
        outlines = "".join(f'<outline text="{n}" xmlUrl="{server.base}/{n}.xml"/>'
                           for n in names)
        opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>',
                        encoding="utf-8")

    (tmp_path / "feeds.toml").write_text("""
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "planet"
kind = "opml"
path = "planet.opml"
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    server.documents["/a.xml"] = listing("a1")
    server.documents["/b.xml"] = listing("b2", "b1")
    subscribe("a", "b")
    config = config_module.load(tmp_path / "feeds.toml")
    build(config, now=NOW)
    assert published_titles(tmp_path) == everywhere("Story a1", "Story b1", "Story b2")
    with SqliteStore.open(config.store_path) as store:
        b_ids = {i.article.title: i.id for i in store.items() if "b" in i.article.title}
    subscribe("a")
    report = build(config, now=NOW + timedelta(hours=1))
    assert published_titles(tmp_path) == everywhere("Story a1")
    assert [f.removed for f in report.feeds] == [2]
    with SqliteStore.open(config.store_path) as store:
        assert store.count(["planet"]) == 1
    subscribe("a", "b")  # subscribed again: the same entries, the same ids
    build(config, now=NOW + timedelta(hours=2))
    assert published_titles(tmp_path) == everywhere("Story a1", "Story b1", "Story b2")
    with SqliteStore.open(config.store_path) as store:
        assert {i.article.title: i.id for i in store.items()
                if "b" in i.article.title} == b_ids
