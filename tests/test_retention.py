"""Retention: the store keeps what a remote feed still lists plus a bounded history.

A feed that shows fresh guids on every fetch must not grow the store without limit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

import feeds.store as store_module
from feeds import config as config_module
from feeds.decide import Held, Registered, Retention, plan_forget_ids, plan_prune
from feeds.model import Article
from feeds.pipeline import ingest
from feeds.store import Store
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
    with Store.open(config.store_path) as store:
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


def registered(ages: list[timedelta]) -> dict[str, Registered]:
    return {f"k{i:05d}": Registered(f"id-{i:05d}", NOW - age) for i, age in enumerate(ages)}


def test_the_ids_of_pruned_entries_are_remembered_ten_times_as_many_as_entries_are_kept() -> None:
    retention = Retention(max_age=None, max_items=200)  # ids: the newest 2,000
    dead = registered([i * timedelta(minutes=1) for i in range(2005)])  # k00000 newest
    assert plan_forget_ids(dead, now=NOW, retention=retention) == tuple(
        f"k{i:05d}" for i in range(2000, 2005))


def test_the_ids_of_pruned_entries_are_remembered_ten_times_as_long_as_entries_are_kept() -> None:
    retention = Retention(max_age=60 * DAY, max_items=None)  # ids: 600 days
    dead = registered([599 * DAY, 601 * DAY])
    assert plan_forget_ids(dead, now=NOW, retention=retention) == ("k00001",)


def test_ids_are_remembered_at_least_a_year_and_a_thousand_entries() -> None:
    retention = Retention(max_age=DAY, max_items=0)
    assert plan_forget_ids(registered([364 * DAY, 366 * DAY]), now=NOW,
                           retention=retention) == ("k00001",)
    dead = registered([timedelta(seconds=i) for i in range(1001)])
    assert plan_forget_ids(dead, now=NOW, retention=retention) == ("k01000",)
    assert plan_forget_ids(dead, now=NOW, retention=Retention(None, None)) == ()


# --------------------------------------------------------------------------- the store


def remote(key: str, age: timedelta = timedelta(0), source: str = "fresh") -> Article:
    return Article(source=source, key=key, title=f"Title {key}", body=f"body {key}",
                   published=NOW - age, link=f"https://fresh.example/{key}")


def numbered() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"urn:test:{next(numbers)}"


@pytest.fixture
def memory_store() -> Iterator[Store]:
    with Store.open(":memory:", id_factory=numbered()) as store:
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


def test_prune_is_one_transaction(memory_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    memory_store.ingest("fresh", [(remote(f"k{i}"), None) for i in range(3)], now=NOW)

    def broken(*args: object, **kwargs: object) -> tuple[str, ...]:
        raise RuntimeError("crash after the articles were deleted")

    monkeypatch.setattr(store_module, "plan_forget_ids", broken)
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
    for batch in range(12):
        now = NOW + batch * timedelta(hours=1)
        articles = [remote(f"{batch}/{i}", -batch * timedelta(hours=1)) for i in range(100)]
        memory_store.ingest("fresh", [(a, None) for a in articles], now=now)
        memory_store.prune("fresh", listed={a.key for a in articles}, now=now,
                           retention=retention)
    assert memory_store.count(["fresh"]) == 100  # what the feed lists (more than 10)
    remembered = [k for b in range(12) for i in range(100)
                  if memory_store.lookup_id("fresh", k := f"{b}/{i}") is not None]
    assert len(remembered) == 100 + 1000
    assert memory_store.lookup_id("fresh", "0/0") is None  # the oldest are forgotten
