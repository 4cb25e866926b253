"""Which feeds an ingest touches, which sources and keys a changed path touches, and how
often a source is looked at.

All are pipeline decisions the daemon only acts on; all are pure (no store, no disk).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feeds.config import Config, FeedConfig, FetchConfig, Site, SourceConfig
from feeds.model import Changes
from feeds.pipeline import changed_keys, schedule_every, sources_changed, watched_folders
from feeds.select import feeds_touched

FEEDS = (
    FeedConfig("all", "All"),  # every source ("*")
    FeedConfig("news", "News", sources=("news",)),
    FeedConfig("blogs", "Blogs", sources=("blog", "essays")),
)


def changes(*, added: tuple[str, ...] = (), changed: tuple[str, ...] = (),
            removed: tuple[str, ...] = (), unchanged: int = 0,
            rejected: tuple[tuple[str, str], ...] = ()) -> Changes:
    return Changes(added=added, changed=changed, removed=removed, unchanged=unchanged,
                   rejected=rejected)


@pytest.mark.parametrize("what", [
    changes(added=("a.txt",)), changes(changed=("a.txt",)), changes(removed=("a.txt",)),
])
def test_an_ingest_that_added_changed_or_removed_touches_every_feed_showing_its_source(
        what: Changes) -> None:
    assert feeds_touched(FEEDS, "news", what) == {"all", "news"}
    assert feeds_touched(FEEDS, "essays", what) == {"all", "blogs"}


def test_a_source_no_feed_names_touches_only_the_feeds_of_every_source() -> None:
    assert feeds_touched(FEEDS, "elsewhere", changes(added=("x",))) == {"all"}
    assert feeds_touched(FEEDS[1:], "elsewhere", changes(added=("x",))) == set()


@pytest.mark.parametrize("what", [
    None,  # the source failed as a whole
    changes(unchanged=12),  # read again, nothing new
    changes(rejected=(("dup.txt", "duplicate id"),)),  # only rejections: nothing published
])
def test_an_ingest_that_changed_no_published_item_touches_no_feed(
        what: Changes | None) -> None:
    assert feeds_touched(FEEDS, "news", what) == set()


FOLDERS = {Path("/srv/news"): "news", Path("/srv/blog"): "blog"}


def test_a_changed_file_asks_for_its_key_under_its_folders_source() -> None:
    assert changed_keys(FOLDERS, ["/srv/news/a.txt", "/srv/news/2024/b.md",
                                  "/srv/blog/c.md"]) == {
        "news": {"a.txt", "2024/b.md"}, "blog": {"c.md"}}


def test_a_change_to_the_folder_itself_asks_for_the_whole_folder() -> None:
    assert changed_keys(FOLDERS, ["/srv/news/a.txt", "/srv/news"]) == {"news": None}
    assert changed_keys(FOLDERS, ["/srv/news", "/srv/news/a.txt"]) == {"news": None}


def test_paths_under_no_folder_or_behind_an_ignored_name_ask_for_nothing() -> None:
    assert changed_keys(FOLDERS, ["/srv/other/a.txt", "/srv/news/.git/index",
                                  "/srv/news/.a.txt.swp"]) == {}
    assert changed_keys(FOLDERS, []) == {}


def test_a_source_is_scheduled_by_its_own_every_else_by_its_kinds_default() -> None:
    folder = SourceConfig("news", "folder", path=Path("/srv/news"))
    remote = SourceConfig("far", "feed", url="https://example.org/feed")
    own = SourceConfig("mine", "folder", path=Path("/srv/mine"), every=timedelta(minutes=1))
    config = Config(Path("/srv/feeds.toml"), Site(), Path("/srv/state.db"), Path("/srv/out"),
                    sources=(folder, remote, own), feeds=FEEDS,
                    fetch=FetchConfig(every=timedelta(minutes=30)),
                    folder_every=timedelta(minutes=5))
    assert schedule_every(config, folder) == timedelta(minutes=5)
    assert schedule_every(config, remote) == timedelta(minutes=30)
    assert schedule_every(config, own) == timedelta(minutes=1)
    assert watched_folders(config) == {Path("/srv/news"): "news", Path("/srv/mine"): "mine"}


def test_a_reload_ingests_the_new_and_changed_sources_and_names_the_removed_ones() -> None:
    def config(*sources: SourceConfig) -> Config:
        return Config(Path("/srv/feeds.toml"), Site(), Path("/srv/state.db"), Path("/srv/out"),
                      sources=sources, feeds=FEEDS)

    news = SourceConfig("news", "folder", path=Path("/srv/news"))
    blog = SourceConfig("blog", "folder", path=Path("/srv/blog"))
    far = SourceConfig("far", "feed", url="https://example.org/feed")
    slower = SourceConfig("news", "folder", path=Path("/srv/news"), every=timedelta(hours=1))
    assert sources_changed(config(news, blog, far), config(news, blog, far)) == ([], [])
    assert sources_changed(config(news, blog, far), config(far, slower)) == (
        ["news"], ["blog"])
    assert sources_changed(config(news), config(blog, news, far)) == (["blog", "far"], [])
