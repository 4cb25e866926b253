"""Archived feeds (RFC 5005 section 4, ``archive = true``): stable pages, few writes.

A folder of dated articles is built with small pages (``archive_size = 3``); the tests
check the layout and links, that every document reads back (feedparser, bozo 0) and
passes the offline checker, and, by comparing every file's bytes, inode and mtime
before and after, that one new article writes only the subscription documents and at
most one archive page per format, and that editing an old article writes only its page.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest

from feeds import config as config_module
from feeds.config import Config
from feeds.errors import ConfigError
from feeds.model import Channel, Item
from feeds.pipeline import build
from feeds.publish import stream
from feeds.publish.render import FormatRenderer
from feeds.select import archive_plan
from feeds.server.files import media_type_for
from feeds.store import FeedState, open_store
from tests.conftest import NOW
from tests.validator import check

FH = "http://purl.org/syndication/history/1.0"
SUBSCRIPTION = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
SITE = """
[site]
title = "Test site"
link = "https://example.org/"
base_url = "https://example.org/feeds/"
author = "Desk"
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "news"
kind = "folder"
path = "articles"
[[feeds]]
name = "all"
title = "All"
archive = true
archive_size = 3
"""


def write_article(site: Path, n: int, body: str = "") -> None:
    day = (NOW - timedelta(days=400 - n)).strftime("%d %B %Y")
    text = f"Story {n}\n\nBy Ana Ruiz\nPublished {day}\n\n{body or f'Body of story {n}.'}\n"
    (site / "articles" / f"a{n:03d}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds.toml").write_text(SITE, encoding="utf-8")
    for n in range(1, 11):
        write_article(tmp_path, n)
    return tmp_path


def load(site: Path) -> Config:
    return config_module.load(site / "feeds.toml")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


def changed(before: dict[str, tuple[bytes, int, int]],
            after: dict[str, tuple[bytes, int, int]]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def ids_in(path: Path) -> list[str]:
    if path.suffix == ".json":  # feedparser reads no JSON Feed
        return [item["id"] for item in json.loads(path.read_bytes())["items"]]
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, (path.name, parsed.get("bozo_exception"))
    return [e.id for e in parsed.entries]


def links(path: Path) -> dict[str, str]:
    parsed = feedparser.parse(path.read_bytes())
    return {link.rel: link.href for link in parsed.feed.get("links", [])}


def test_pages_are_numbered_from_the_oldest_and_link_each_other(site: Path) -> None:
    build(load(site), now=NOW)
    folder = site / "public" / "all"
    # 10 items, pages of 3: pages 1 and 2 full, the subscription document holds 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["rss.xml", "atom.xml", "feed.json", "rss-1.xml", "atom-1.xml", "feed-1.json",
         "rss-2.xml", "atom-2.xml", "feed-2.json", "index.html"])  # index.html: its page
    base = "https://example.org/feeds/all/"
    for fmt in ("rss", "atom"):
        stem = SUBSCRIPTION[fmt].removesuffix(".xml")
        assert links(folder / f"{stem}.xml")["prev-archive"] == f"{base}{stem}-2.xml"
        assert FH.encode() not in (folder / f"{stem}.xml").read_bytes()
        page2 = links(folder / f"{stem}-2.xml")
        assert page2["self"] == f"{base}{stem}-2.xml"
        assert page2["current"] == f"{base}{stem}.xml"
        assert page2["prev-archive"] == f"{base}{stem}-1.xml"
        assert page2["next-archive"] == f"{base}{stem}-3.xml"  # the page made next
        page1 = links(folder / f"{stem}-1.xml")
        assert "prev-archive" not in page1 and page1["next-archive"] == f"{base}{stem}-2.xml"
        assert b"<fh:archive" in (folder / f"{stem}-1.xml").read_bytes()
        titles = [[e.title for e in feedparser.parse((folder / name).read_bytes()).entries]
                  for name in (f"{stem}-1.xml", f"{stem}-2.xml", f"{stem}.xml")]
        assert titles == [["Story 3", "Story 2", "Story 1"], ["Story 6", "Story 5", "Story 4"],
                          ["Story 10", "Story 9", "Story 8", "Story 7"]]
    subscription = json.loads((folder / "feed.json").read_bytes())
    assert subscription["next_url"] == f"{base}feed-2.json"
    assert "expired" not in subscription
    page1 = json.loads((folder / "feed-1.json").read_bytes())
    assert page1["expired"] is True and "next_url" not in page1
    assert page1["feed_url"] == f"{base}feed.json"  # the feed's identity, on every page


def test_every_document_reads_back_and_passes_the_checker(site: Path) -> None:
    build(load(site), now=NOW)
    folder = site / "public" / "all"
    for fmt, name in SUBSCRIPTION.items():
        seen: list[str] = []
        path: Path | None = folder / name
        while path is not None:  # walk from the subscription document to the oldest page
            assert check(fmt, path.read_bytes()) == [], path.name
            seen += ids_in(path)
            if fmt == "json":
                following = json.loads(path.read_bytes()).get("next_url")
            else:
                following = links(path).get("prev-archive")
            path = folder / following.rsplit("/", 1)[1] if following else None
        assert len(seen) == len(set(seen)) == 10, fmt


def test_one_new_article_writes_the_subscription_documents_and_at_most_one_page(
        site: Path) -> None:
    build(load(site), now=NOW)
    folder = site / "public" / "all"
    made = 0
    for n in range(11, 19):  # crosses page boundaries twice
        before = snapshot(folder)
        write_article(site, n)
        build(load(site), now=NOW)
        after = snapshot(folder)
        written = changed(before, after)
        pages = written - set(SUBSCRIPTION.values()) - {"index.html"}
        assert set(SUBSCRIPTION.values()) | {"index.html"} <= written, n  # (the feed's page)
        assert len(pages) in (0, 3), (n, pages)  # one page, in each format, or none
        assert all(name not in before for name in pages), (n, pages)  # a new page
        made += bool(pages)
    assert made == 3  # 18 items: pages 1-5 full, 3 in the subscription document
    assert sorted(n for n in (p.name for p in folder.iterdir()) if n.startswith("rss-")) == [
        "rss-1.xml", "rss-2.xml", "rss-3.xml", "rss-4.xml", "rss-5.xml"]
    assert len(ids_in(folder / "rss.xml")) == 3


def test_editing_an_old_article_rewrites_only_its_page(site: Path) -> None:
    build(load(site), now=NOW)
    folder = site / "public" / "all"
    before = snapshot(folder)
    write_article(site, 2, "An edited body.")
    report = build(load(site), now=NOW)
    assert changed(before, snapshot(folder)) == {"rss-1.xml", "atom-1.xml", "feed-1.json"}
    assert report.feeds[0].changed == 1
    assert "An edited body." in (folder / "feed-1.json").read_text(encoding="utf-8")
    before = snapshot(folder)
    build(load(site), now=NOW + timedelta(hours=1))  # nothing new: nothing written
    assert changed(before, snapshot(folder)) == set()


def test_a_page_left_without_items_is_deleted_and_its_neighbours_relinked(
        site: Path) -> None:
    build(load(site), now=NOW)
    folder = site / "public" / "all"
    for n in (4, 5, 6):  # page 2
        (site / "articles" / f"a{n:03d}.txt").unlink()
    report = build(load(site), now=NOW)
    names = {p.name for p in folder.iterdir()}
    assert not names & {"rss-2.xml", "atom-2.xml", "feed-2.json"}
    assert {p.name for p in report.feeds[0].deleted} == {"rss-2.xml", "atom-2.xml",
                                                         "feed-2.json"}
    assert links(folder / "atom.xml")["prev-archive"].endswith("/atom-1.xml")
    # the newest page names the next page to be made: 2 again
    assert links(folder / "atom-1.xml")["next-archive"].endswith("/atom-2.xml")
    for n in (11, 12):  # 6 in the subscription document: its oldest 3 make page 2
        write_article(site, n)
    build(load(site), now=NOW)
    assert links(folder / "atom-2.xml")["prev-archive"].endswith("/atom-1.xml")
    titles = [e.title for e in feedparser.parse((folder / "atom-2.xml").read_bytes()).entries]
    assert titles == ["Story 9", "Story 8", "Story 7"]


def test_the_index_page_lists_the_pages_and_opml_only_the_subscription(site: Path) -> None:
    build(load(site), now=NOW)
    index = (site / "public" / "index.html").read_text(encoding="utf-8")
    for name in ("rss-1.xml", "atom-2.xml", "feed-1.json"):
        assert f'href="https://example.org/feeds/all/{name}"' in index
    assert 'rel="alternate" type="application/rss+xml" href="https://example.org/feeds/all/' \
        'rss-1.xml"' not in index
    opml = (site / "public" / "feeds.opml").read_text(encoding="utf-8")
    assert "rss.xml" in opml and "rss-1.xml" not in opml


def test_archive_pages_are_served_with_their_formats_media_type() -> None:
    assert media_type_for("rss-12.xml").startswith("application/rss+xml")
    assert media_type_for("feed-3.json").startswith("application/feed+json")
    assert media_type_for("rss-03.xml").startswith("application/xml")


def test_a_lost_state_keeps_the_pages_as_they_are_on_disk(site: Path) -> None:
    build(load(site), now=NOW)
    folder = site / "public" / "all"
    for n in (1, 2):  # page 1 holds 3 then 1: a fresh layout would differ
        (site / "articles" / f"a{n:03d}.txt").unlink()
    build(load(site), now=NOW)
    before = snapshot(folder)
    with open_store(load(site).store_path) as store:  # the feed's state only is lost
        store.set_feed_state("all", FeedState())
    build(load(site), now=NOW)
    assert {k: v[0] for k, v in snapshot(folder).items()} == {k: v[0] for k, v in
                                                              before.items()}


def test_the_plan_keeps_items_on_their_pages() -> None:
    ids = [f"i{n}" for n in range(10, 0, -1)]  # newest first
    pages, current = archive_plan(ids, {}, 3)
    assert {p: [ids[n] for n in pos] for p, pos in pages.items()} == {
        1: ["i3", "i2", "i1"], 2: ["i6", "i5", "i4"]}
    assert [ids[n] for n in current] == ["i10", "i9", "i8", "i7"]
    # an old item arriving late stays in the subscription document; pages keep theirs
    late = ["i10", "i9", "i8", "i7", "i6", "i5", "i4", "i0", "i3", "i2"]
    pages, current = archive_plan(late, {1: ["i3", "i2", "i1"], 2: ["i6", "i5", "i4"]}, 3)
    assert {p: [late[n] for n in pos] for p, pos in pages.items()} == {
        1: ["i3", "i2"], 2: ["i6", "i5", "i4"]}
    assert [late[n] for n in current] == ["i10", "i9", "i8", "i7", "i0"]
    # an emptied page goes; the next page is numbered after the newest left
    pages, current = archive_plan(["i9", "i8", "i7", "i6", "i5", "i4"],
                                  {1: ["i1"], 2: ["i4", "i3", "i2"]}, 2)
    assert list(pages) == [2, 3] and [n for n in pages[3]] == [3, 4]
    assert current == [0, 1, 2]


@pytest.mark.parametrize(("extra", "message"), [
    ("archive_size = 5\n", "feeds[0].archive_size: applies only to an archived feed"),
    ("archive = true\nlimit = 10\n", "feeds[0].limit: does not apply to an archived feed"),
    ('archive = "yes"\n', "feeds[0].archive: must be true or false"),
    ("archive = true\narchive_size = 0\n", "feeds[0].archive_size: must be between 1"),
])
def test_archive_settings_are_checked(tmp_path: Path, extra: str, message: str) -> None:
    (tmp_path / "articles").mkdir()
    text = SITE.replace("archive = true\narchive_size = 3\n", extra)
    (tmp_path / "feeds.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert message in str(caught.value)


def count_fragments(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the fragments rendered, per format (wraps ``stream.renderer``)."""
    counts: dict[str, int] = {}
    real = stream.renderer

    def counting(fmt: str, channel: Channel) -> FormatRenderer:
        r = real(fmt, channel)
        entry = r.entry

        def counted(item: Item) -> bytes:
            counts[fmt] = counts.get(fmt, 0) + 1
            return entry(item)

        r.entry = counted  # type: ignore[method-assign]
        return r

    monkeypatch.setattr(stream, "renderer", counting)
    return counts


def test_a_new_page_copies_its_entries_and_a_no_op_build_renders_nothing(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    write_article(site, 11)
    build(load(site), now=NOW)  # 5 in the subscription document
    counts = count_fragments(monkeypatch)
    write_article(site, 12)  # 6: its oldest 3 make page 3
    build(load(site), now=NOW)
    assert (site / "public" / "all" / "rss-3.xml").exists()
    assert counts == {"rss": 1, "atom": 1, "json": 1}  # the new article only

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a no-op build rendered or verified something")

    for name in ("renderer", "verify", "checked", "spool", "assemble"):
        monkeypatch.setattr(stream, name, fail)
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert not report.feeds[0].written and not report.feeds[0].error


def test_pages_built_one_article_at_a_time_are_those_built_at_once(site: Path) -> None:
    build(load(site), now=NOW)
    for n in range(11, 18):
        write_article(site, n)
        build(load(site), now=NOW)
    once = site.parent / "once"
    (once / "articles").mkdir(parents=True)
    (once / "feeds.toml").write_text(SITE, encoding="utf-8")
    for path in (site / "articles").iterdir():
        (once / "articles" / path.name).write_bytes(path.read_bytes())
    shutil.copytree(site / "state", once / "state")  # the same ids
    with open_store(load(once).store_path) as store:
        store.set_feed_state("all", FeedState())  # and no trace of the pages
    build(load(once), now=NOW)
    assert {k: v[0] for k, v in snapshot(once / "public" / "all").items()} == \
        {k: v[0] for k, v in snapshot(site / "public" / "all").items()}
