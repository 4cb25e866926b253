"""A folder becomes feeds: ids that never change, honest ``updated``, no-op rebuilds."""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeds import config as config_module
from feeds.config import Config
from feeds.pipeline import build
from tests.conftest import NOW, ROOT

ATOM = "{http://www.w3.org/2005/Atom}"

ARTICLE = """{title}

By Ana Ruiz
Published 3 May 2024

LISBON: {body}

A second paragraph.
"""


def article(title: str, body: str = "The first paragraph of the story.") -> str:
    return ARTICLE.format(title=title, body=body)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds.toml").write_text(
        """
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
max_size = "64 KiB"
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    return tmp_path


def load(site: Path) -> Config:
    return config_module.load(site / "feeds.toml")


def write(site: Path, name: str, text: str | bytes) -> Path:
    path = site / "articles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def entries(site: Path) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse((site / "public" / "all" / "atom.xml").read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return list(parsed.entries)


def snapshot(site: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for path in sorted((site / "public").rglob("*")):
        if path.is_file():
            out[str(path.relative_to(site))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def test_a_folder_becomes_three_feeds_and_index_pages(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    write(site, "two.txt", article("Second story"))
    report = build(load(site), now=NOW)
    assert report.rejected == 0
    for name in ("all/rss.xml", "all/atom.xml", "all/feed.json", "index.html", "feeds.opml"):
        assert (site / "public" / name).is_file(), name
    assert sorted(e.title for e in entries(site)) == ["First story", "Second story"]
    feed = json.loads((site / "public" / "all" / "feed.json").read_text())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "https://example.org/feeds/all/feed.json"
    assert {i["title"] for i in feed["items"]} == {"First story", "Second story"}


def test_a_second_build_writes_nothing(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    before = snapshot(site)
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert snapshot(site) == before
    assert [f.written for f in report.feeds] == [[]]
    assert report.pages_written == []
    assert report.sources[0].skipped == 1 and report.sources[0].read == 0


def test_touching_a_file_without_editing_it_changes_nothing(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    before = snapshot(site)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert report.sources[0].read == 1
    assert snapshot(site) == before


def test_renaming_a_file_keeps_its_id(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    [before] = entries(site)
    path.rename(site / "articles" / "renamed.txt")
    build(load(site), now=NOW + timedelta(hours=1))
    [after] = entries(site)
    assert after.id == before.id
    assert after.updated == before.updated


def test_moving_a_file_into_a_subfolder_keeps_its_id(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    [before] = entries(site)
    (site / "articles" / "2024").mkdir()
    shutil.move(path, site / "articles" / "2024" / "one.txt")
    build(load(site), now=NOW + timedelta(hours=1))
    assert [e.id for e in entries(site)] == [before.id]


def test_editing_the_body_keeps_the_id_and_moves_only_updated(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    [before] = entries(site)
    path.write_text(article("First story", body="A corrected first paragraph."))
    later = NOW + timedelta(hours=2)
    build(load(site), now=later)
    [after] = entries(site)
    assert after.id == before.id
    assert after.published == before.published
    assert after.updated != before.updated
    assert after.updated_parsed[:6] == later.timetuple()[:6]


def test_correcting_the_date_keeps_the_id(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    [before] = entries(site)
    path.write_text(article("First story").replace("3 May 2024", "4 May 2024"))
    build(load(site), now=NOW + timedelta(hours=1))
    [after] = entries(site)
    assert after.id == before.id
    assert after.published_parsed[:3] == (2024, 5, 4)


def test_changing_base_url_keeps_ids(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    [before] = entries(site)
    toml = site / "feeds.toml"
    toml.write_text(toml.read_text().replace("example.org/feeds/", "feeds.example.net/"))
    build(load(site), now=NOW + timedelta(hours=1))
    [after] = entries(site)
    assert after.id == before.id


def test_deleting_a_file_removes_its_item(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    gone = write(site, "two.txt", article("Second story"))
    build(load(site), now=NOW)
    gone.unlink()
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert [e.title for e in entries(site)] == ["First story"]
    assert report.feeds[0].removed == 1


def test_a_deleted_file_that_comes_back_gets_its_old_id(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    [before] = entries(site)
    data = path.read_bytes()
    path.unlink()
    build(load(site), now=NOW + timedelta(hours=1))
    path.write_bytes(data)
    build(load(site), now=NOW + timedelta(hours=2))
    assert [e.id for e in entries(site)] == [before.id]


def test_ids_are_urn_uuids_and_front_matter_ids_win(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    write(site, "two.md", "---\ntitle: Chosen\nid: tag:example.org,2024:chosen\n"
                          "date: 2024-05-01\n---\n\nBody.\n")
    build(load(site), now=NOW)
    ids = {e.title: e.id for e in entries(site)}
    assert ids["Chosen"] == "tag:example.org,2024:chosen"
    assert ids["First story"].startswith("urn:uuid:")


def test_drafts_and_future_articles_are_not_published(site: Path) -> None:
    write(site, "draft.md", "---\ntitle: Draft\ndraft: true\ndate: 2024-01-01\n---\n\nBody.\n")
    write(site, "future.md", "---\ntitle: Future\ndate: 2030-01-01\n---\n\nBody.\n")
    write(site, "now.md", "---\ntitle: Present\ndate: 2024-01-01\n---\n\nBody.\n")
    build(load(site), now=NOW)
    assert [e.title for e in entries(site)] == ["Present"]


def test_a_published_article_turned_draft_leaves_the_feed(site: Path) -> None:
    path = write(site, "a.md", "---\ntitle: A\ndate: 2024-01-01\n---\n\nBody.\n")
    build(load(site), now=NOW)
    path.write_text("---\ntitle: A\ndraft: true\ndate: 2024-01-01\n---\n\nBody.\n")
    build(load(site), now=NOW + timedelta(hours=1))
    assert entries(site) == []


def test_the_newest_items_come_first_up_to_the_limit(site: Path) -> None:
    toml = site / "feeds.toml"
    toml.write_text(toml.read_text().replace('title = "All"', 'title = "All"\nlimit = 3'))
    for day in range(1, 8):
        write(site, f"d{day}.md", f"---\ntitle: Day {day}\ndate: 2024-01-0{day}\n---\n\nB.\n")
    build(load(site), now=NOW)
    assert [e.title for e in entries(site)] == ["Day 7", "Day 6", "Day 5"]


HOSTILE: dict[str, bytes] = {
    "empty.txt": b"",
    "whitespace.txt": b"  \n\t\n   \n",
    "binary.txt": bytes(range(256)) * 4,
    "undecodable.txt": b"Title\n\n\x81\x8d\x8f\x90\x9d" * 20,
    "oversized.txt": b"Big\n\n" + b"word " * 20_000,
}


def test_hostile_files_each_give_one_message_and_the_rest_is_published(site: Path) -> None:
    write(site, "good.txt", article("Good story"))
    for name, data in HOSTILE.items():
        write(site, name, data)
    (site / "articles" / "loop.txt").symlink_to(site / "articles" / "loop.txt")
    outside = site / "secret.txt"
    outside.write_text(article("Secret story"))
    (site / "articles" / "leak.txt").symlink_to(outside)
    os.mkfifo(site / "articles" / "pipe.txt")
    report = build(load(site), now=NOW)
    problems = dict(report.sources[0].problems)
    assert set(problems) == {*HOSTILE, "loop.txt", "leak.txt", "pipe.txt"}
    assert "file too large" in problems["oversized.txt"]
    assert "symlink loop" in problems["loop.txt"]
    assert "outside the source folder" in problems["leak.txt"]
    assert "FIFO" in problems["pipe.txt"]
    assert [e.title for e in entries(site)] == ["Good story"]
    published = b"".join(p.read_bytes() for p in (site / "public").rglob("*") if p.is_file())
    assert b"Secret story" not in published


def test_a_file_that_turns_bad_keeps_its_published_version(site: Path) -> None:
    path = write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    path.write_bytes(b"")
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert dict(report.sources[0].problems) == {"one.txt": "empty file"}
    assert [e.title for e in entries(site)] == ["First story"]


def test_a_file_being_written_during_the_build_does_not_stop_it(site: Path) -> None:
    for i in range(20):
        write(site, f"a{i:02}.txt", article(f"Story {i}"))
    growing = site / "articles" / "growing.txt"
    stop = threading.Event()
    started = threading.Event()

    def writer() -> None:
        with growing.open("w") as f:
            # dated like the others: a file dated by its mtime (today) would lie after NOW
            # and stay out of the feed even when read whole
            f.write(article("Growing story"))
            f.flush()
            started.set()  # the file exists with its headline before the build looks
            while not stop.is_set():
                f.write("more words ")
                f.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(10)
    try:
        report = build(load(site), now=NOW)
    finally:
        stop.set()
        thread.join()
    titles = {e.title for e in entries(site)}
    assert {f"Story {i}" for i in range(20)} <= titles
    problems = dict(report.sources[0].problems)
    # either it was caught changing, or it was read whole between two writes
    assert "growing.txt" in problems or "Growing story" in titles
    if "growing.txt" in problems:
        assert "changed while" in problems["growing.txt"] or "too large" in problems["growing.txt"]


def test_dry_run_reports_changes_and_writes_nothing(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    report = build(load(site), now=NOW, dry_run=True)
    assert report.feeds[0].added == 1
    assert not (site / "public").exists()
    assert not (site / "state" / "feeds.db").exists() or build(load(site), now=NOW).feeds[0].added


def test_atom_output_has_rfc4287_required_elements(site: Path) -> None:
    write(site, "one.txt", article("First story"))
    build(load(site), now=NOW)
    root = etree.parse(str(site / "public" / "all" / "atom.xml")).getroot()
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    has_feed_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert has_feed_author or entry.find(f"{ATOM}author/{ATOM}name") is not None


def test_every_format_round_trips_ids_titles_and_dates(site: Path) -> None:
    for i in range(5):
        write(site, f"s{i}.txt", article(f"Story {i} & <friends>").replace("3 May", f"{i + 1} May"))
    build(load(site), now=NOW)
    out = site / "public" / "all"
    rss = feedparser.parse((out / "rss.xml").read_bytes())
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    assert rss.bozo == 0 and atom.bozo == 0
    jf = json.loads((out / "feed.json").read_text())
    assert [e.id for e in rss.entries] == [e.id for e in atom.entries] == [
        i["id"] for i in jf["items"]]
    assert [e.title for e in rss.entries] == [e.title for e in atom.entries] == [
        i["title"] for i in jf["items"]] == [f"Story {i} & <friends>" for i in range(4, -1, -1)]
    assert [e.published_parsed[:3] for e in rss.entries] == [
        (2024, 5, d) for d in range(5, 0, -1)]


def test_the_bundled_seed_is_published_with_its_metadata(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    build(config_module.load(tmp_path / "config" / "feeds.toml"), now=NOW)
    feed = json.loads((tmp_path / "public" / "all" / "feed.json").read_text())
    [seed] = [i for i in feed["items"]
              if i["title"] == "Afghan spy agency says top Al-Qaeda leader killed in joint US raid"]
    assert seed["date_published"].startswith("2019-10-08")
    assert "Asim Omar led Al-Qaeda’s network in the Indian subcontinent" in seed["summary"]
    assert "said six others killed in same operation" in seed["summary"]
    assert "KABUL: Afghanistan’s main intelligence agency" in seed["content_html"]
    rss = (tmp_path / "public" / "all" / "rss.xml").read_text()
    assert "(Handout/NDS Afghanistan)" in rss
