"""Ids survive a lost store: ``feeds recover`` rebuilds the ids from the published feeds.

The published files are the one copy of the ids the world already holds.  Build, lose the
store, recover, build: every published byte is what it was.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feeds import config as config_module
from feeds.cli import main
from feeds.errors import StoreError
from feeds.pipeline import build, recover
from feeds.store import SqliteStore
from tests.conftest import NOW, ROOT
from tests.test_build_remote import FeedServer

SEEDS = ROOT / "seeds"
LATER = NOW + timedelta(hours=3)
MUCH_LATER = NOW + timedelta(days=2)


def remote_rss() -> bytes:
    """Two dated entries and one without a date (it shows when it was first seen)."""
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Remote</title>'
        b"<link>https://remote.example/</link><description>d</description>"
        b"<item><guid>https://remote.example/a</guid><title>Remote A</title>"
        b"<link>https://remote.example/a</link><pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>"
        b"<description>About A.</description></item>"
        b"<item><guid>https://remote.example/b</guid><title>Remote B</title>"
        b"<link>https://remote.example/b</link><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate>"
        b"<description>About B.</description></item>"
        b"<item><guid>https://remote.example/undated</guid><title>Remote undated</title>"
        b"<link>https://remote.example/undated</link><description>No date.</description></item>"
        b"</channel></rss>")


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    srv.documents["/feed.xml"] = remote_rss()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()


def write_site(root: Path, remote_url: str | None) -> Path:
    """Plain text and HTML (news), Markdown with and without a date (blog), notes only in
    an RSS-only feed, and a remote feed; feeds in every format and in RSS alone."""
    news, blog, notes = root / "news", root / "blog", root / "notes"
    for folder in (news, blog, notes):
        folder.mkdir()
    for seed in SEEDS.iterdir():
        if seed.suffix in (".txt", ".html"):
            shutil.copy(seed, news / seed.name)
        elif seed.suffix == ".md":
            shutil.copy(seed, blog / seed.name)
    (blog / "undated.md").write_text("---\ntitle: An undated note\n---\n\nNo date at all.\n")
    old = datetime(2024, 2, 1, 8, 0).timestamp()
    os.utime(blog / "undated.md", (old, old))  # its date is the file's mtime
    (notes / "one.md").write_text(
        "---\ntitle: Note one\ndate: 2024-04-01T09:00:00Z\n---\n\nThe first note.\n")
    (notes / "two.md").write_text(
        "---\ntitle: Note two\ndate: 2024-04-02T09:00:00Z\n---\n\nThe second note.\n")
    remote = (f'[[sources]]\nname = "remote"\nkind = "feed"\nurl = "{remote_url}"\n'
              if remote_url else "")
    all_sources = '["news", "blog", "remote"]' if remote_url else '["news", "blog"]'
    path = root / "feeds.toml"
    path.write_text(
        '[site]\ntitle = "T"\nlink = "https://example.org/"\n'
        'base_url = "https://example.org/feeds/"\n'
        '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
        '[[sources]]\nname = "news"\nkind = "folder"\npath = "news"\n'
        '[[sources]]\nname = "blog"\nkind = "folder"\npath = "blog"\n'
        'link_pattern = "blog/{stem}.html"\n'
        '[[sources]]\nname = "notes"\nkind = "folder"\npath = "notes"\n'
        f"{remote}"
        f'[[feeds]]\nname = "all"\ntitle = "All"\nsources = {all_sources}\n'
        '[[feeds]]\nname = "blog"\ntitle = "Blog"\nsources = ["blog"]\nformats = ["rss"]\n'
        '[[feeds]]\nname = "notes"\ntitle = "Notes"\nsources = ["notes"]\nformats = ["rss"]\n'
        '[[feeds]]\nname = "news"\ntitle = "News"\nsources = ["news"]\nformats = ["atom"]\n')
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def lose_store(config: config_module.Config) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{config.store_path}{suffix}").unlink(missing_ok=True)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))


# --------------------------------------------------------------------------- done when


def test_build_lose_the_store_recover_build_gives_byte_identical_feeds(
        tmp_path: Path, server: FeedServer) -> None:
    config = config_module.load(write_site(tmp_path, f"{server.base}/feed.xml"))
    build(config, now=NOW)
    # edits after the first publication: `updated` moves to the build's clock, which no
    # file says, and the RSS-only feed's lastBuildDate with it
    edit(tmp_path / "blog" / "2024-03-18-harbour-ferry-timetable.md", "ferry", "Ferry")
    edit(tmp_path / "notes" / "one.md", "The first note.", "The first note, edited.")
    build(config, now=LATER)
    before = tree(config.output_dir)
    assert '"_feeds"' in before["all/feed.json"].decode()

    lose_store(config)
    report = recover(config, now=MUCH_LATER)
    assert not report.result.unmatched
    assert report.result.matched == report.articles  # every article was published

    build(config, now=MUCH_LATER)
    assert tree(config.output_dir) == before


def test_a_second_build_after_recover_leaves_every_file_untouched(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    mtimes = {p: p.stat().st_mtime_ns for p in config.output_dir.rglob("*") if p.is_file()}
    lose_store(config)
    recover(config, now=LATER)
    report = build(config, now=LATER)
    assert all(not f.written for f in report.feeds)
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def test_without_recover_a_new_store_would_renumber_every_item(tmp_path: Path) -> None:
    """What recover prevents (and why a build refuses to start without it)."""
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    ids = {i["id"] for i in json.loads((config.output_dir / "all" / "feed.json").read_text())
           ["items"]}
    lose_store(config)
    with SqliteStore.open(config.store_path):  # a fresh store, as a first run would make
        pass
    build(config, now=LATER)
    again = {i["id"] for i in json.loads((config.output_dir / "all" / "feed.json").read_text())
             ["items"]}
    assert ids and not ids & again


# --------------------------------------------------------------------------- matching


def test_a_file_renamed_while_the_store_was_lost_keeps_its_id_by_fingerprint(
        tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    before = tree(config.output_dir)
    lose_store(config)
    news = tmp_path / "news"
    (news / "001_river_cleanup_volunteers.txt").rename(news / "elsewhere.txt")
    report = recover(config, now=LATER)
    assert not report.result.unmatched
    notes = 2  # published in RSS only: no fingerprint, matched by title and date
    assert report.result.how == {"fingerprint": report.articles - notes,
                                 "title and date": notes}
    build(config, now=LATER)
    assert tree(config.output_dir) == before


def test_an_article_edited_while_the_store_was_lost_is_matched_and_its_updated_moves(
        tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    items = json.loads((config.output_dir / "all" / "feed.json").read_text())["items"]
    old = next(i for i in items if i["title"] == "An undated note")
    lose_store(config)
    edit(tmp_path / "blog" / "undated.md", "No date at all.", "No date at all, still.")
    report = recover(config, now=LATER)
    assert report.result.edited == [old["id"]]
    build(config, now=LATER)
    items = json.loads((config.output_dir / "all" / "feed.json").read_text())["items"]
    new = next(i for i in items if i["title"] == "An undated note")
    assert new["id"] == old["id"]
    assert new["date_published"] == old["date_published"]
    assert new["date_modified"] > old["date_modified"]
    assert new["_feeds"]["fingerprint"] != old["_feeds"]["fingerprint"]


def test_without_json_items_are_matched_by_title_and_date(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    before = tree(config.output_dir)
    for path in config.output_dir.rglob("feed.json"):
        path.unlink()  # only RSS and Atom are left to recover from
    lose_store(config)
    report = recover(config, now=LATER)
    assert not report.result.unmatched
    assert report.result.how == {"title and date": report.articles}
    (config.output_dir / "all" / "feed.json").write_bytes(before["all/feed.json"])
    build(config, now=LATER)
    assert tree(config.output_dir) == before


def test_published_items_without_an_article_are_reported(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    lose_store(config)
    (tmp_path / "notes" / "two.md").unlink()
    report = recover(config, now=LATER)
    assert [e.title for e in report.result.unmatched] == ["Note two"]


def test_published_output_names_no_file_path(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    text = (config.output_dir / "all" / "feed.json").read_text()
    for name in ("undated.md", "harbour-ferry-timetable.md", str(tmp_path), "news", "blog"):
        assert f'"{name}' not in text and f"/{name}" not in text.replace("/blog/", "")
    fingerprints = [i["_feeds"] for i in json.loads(text)["items"]]
    assert all(list(f) == ["fingerprint"] and len(f["fingerprint"]) == 32
               for f in fingerprints)


# --------------------------------------------------------------------------- refusals


def test_a_build_refuses_a_missing_store_when_feeds_were_published(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    before = tree(config.output_dir)
    lose_store(config)
    with pytest.raises(StoreError, match="feeds recover") as info:
        build(config, now=LATER)
    assert str(config.store_path) in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(StoreError, match="feeds recover"):
        build(config, now=LATER, dry_run=True)  # it would report every item as new
    assert tree(config.output_dir) == before
    assert not config.store_path.exists()


def test_a_first_build_with_no_published_feeds_starts_a_store(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    assert config.store_path.is_file()


def test_recover_refuses_a_store_that_holds_ids_unless_forced(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    with pytest.raises(StoreError, match="--force"):
        recover(config, now=LATER)
    report = recover(config, now=LATER, force=True)
    assert report.kept_aside == config.store_path.with_name("feeds.db.replaced")
    assert report.kept_aside.is_file()
    assert not report.result.unmatched


def test_recover_rebuilds_a_zero_length_store(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    before = tree(config.output_dir)
    lose_store(config)
    config.store_path.write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        build(config, now=LATER)
    recover(config, now=LATER)
    build(config, now=LATER)
    assert tree(config.output_dir) == before


def test_recover_replaces_a_corrupt_store_only_when_forced(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    before = tree(config.output_dir)
    lose_store(config)
    config.store_path.write_bytes(b"not a database at all " * 300)
    with pytest.raises(StoreError, match="not a usable feeds store"):
        recover(config, now=LATER)
    report = recover(config, now=LATER, force=True)
    assert report.kept_aside is not None
    assert report.kept_aside.read_bytes() == b"not a database at all " * 300
    build(config, now=LATER)
    assert tree(config.output_dir) == before


# --------------------------------------------------------------------------- the command


def test_feeds_recover_prints_a_line_per_feed_and_names_unmatched_items(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_site(tmp_path, None)
    config = config_module.load(path)
    build(config, now=NOW)
    lose_store(config)
    (tmp_path / "notes" / "two.md").unlink()
    code = main(["recover", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 1  # an item was left out
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["all", "blog", "notes", "news"]
    assert "notes: 2 items in rss.xml, 1 ids recovered, 1 unmatched" in lines
    assert "unmatched" in err and "'Note two'" in err
    assert lines[-1].startswith(f"store {config.store_path}:")
    code = main(["recover", "--config", str(path)])
    assert code == 2
    assert "--force" in capsys.readouterr().err


def test_feeds_build_without_a_store_says_to_recover_and_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_site(tmp_path, None)
    build(config_module.load(path), now=NOW)
    lose_store(config_module.load(path))
    assert main(["build", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "feeds recover" in err


def test_recover_leaves_no_scratch_files(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    lose_store(config)
    recover(config, now=LATER)
    names = sorted(p.name for p in config.store_path.parent.iterdir())
    assert [n for n in names if "recovering" in n or n.endswith(".replaced")] == []
    with sqlite3.connect(config.store_path) as db:
        assert db.execute("SELECT count(*) FROM id_registry").fetchone()[0] > 0


# --------------------------------------------------------------------------- the store file


def test_a_zero_length_store_file_is_refused_not_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "state" / "feeds.db"
    path.parent.mkdir()
    path.write_bytes(b"")
    old = path.stat().st_mtime - 60
    os.utime(path, (old, old))  # not a store another process is creating right now
    for opener in (SqliteStore.open, SqliteStore.open_copy):
        with pytest.raises(StoreError) as info:
            opener(path)
        message = str(info.value)
        assert str(path) in message and "empty" in message
        assert "feeds recover" in message and "delete" in message and "\n" not in message
    assert path.stat().st_size == 0  # nothing was written into it


def test_a_missing_store_file_starts_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "state" / "feeds.db"
    with SqliteStore.open(path) as store:
        assert store.id_count() == 0
    assert path.stat().st_size > 0


def test_a_file_that_is_not_sqlite_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    path.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(StoreError) as info:
        SqliteStore.open(path)
    message = str(info.value)
    assert str(path) in message and "feeds recover --force" in message and "\n" not in message


def test_another_programs_database_says_to_check_store_path(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE theirs (x)")
    raw.close()
    with pytest.raises(StoreError, match=r"check store\.path") as info:
        SqliteStore.open(path)
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------- shared folders


def two_sources(root: Path, first: str, second: str) -> Path:
    path = root / "feeds.toml"
    path.write_text(
        '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
        f'[[sources]]\nname = "first"\nkind = "folder"\npath = "{first}"\n'
        f'[[sources]]\nname = "second"\nkind = "folder"\npath = "{second}"\n'
        '[[feeds]]\nname = "all"\ntitle = "All"\n')
    return path


@pytest.mark.parametrize(("first", "second", "how"), [
    ("articles", "articles", "is the same folder as"),
    ("articles", "./articles/", "is the same folder as"),
    ("articles", "link", "is the same folder as"),  # a symlink to it
    ("articles", "articles/sub", "is inside the folder of"),
    ("articles/sub", "link", "contains the folder of"),
])
def test_two_sources_reading_the_same_files_are_refused(
        tmp_path: Path, first: str, second: str, how: str) -> None:
    (tmp_path / "articles" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "articles")
    with pytest.raises(config_module.ConfigProblems) as info:
        config_module.load(two_sources(tmp_path, first, second))
    problems = info.value.problems
    assert len(problems) == 1
    assert problems[0].startswith("sources[1].path: ")
    assert how in problems[0] and "'first'" in problems[0] and "'second'" in problems[0]


def test_sibling_folders_are_two_sources(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "ab").mkdir()  # a prefix of the name is not a folder inside
    config = config_module.load(two_sources(tmp_path, "a", "ab"))
    assert [s.name for s in config.sources] == ["first", "second"]


def test_a_second_source_on_the_same_folder_cannot_flip_published_ids(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "articles").mkdir()
    for seed in SEEDS.iterdir():
        shutil.copy(seed, tmp_path / "articles" / seed.name)
    (tmp_path / "link").symlink_to(tmp_path / "articles")
    path = two_sources(tmp_path, "articles", "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    build(config_module.load(path), now=NOW)
    before = tree(tmp_path / "public")
    path.write_text(path.read_text().replace('"elsewhere"', '"link"'))
    assert main(["build", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "'first'" in err and "'second'" in err and "same folder" in err
    assert tree(tmp_path / "public") == before


def test_the_daemon_refuses_a_missing_store_when_feeds_were_published(tmp_path: Path) -> None:
    from feeds.daemon import run

    path = write_site(tmp_path, None)
    config = config_module.load(path)
    build(config, now=NOW)
    lose_store(config)
    with pytest.raises(StoreError, match="feeds recover"):
        run(path)
    assert not config.store_path.exists()


def test_a_store_file_another_process_is_creating_is_waited_for(tmp_path: Path) -> None:
    """SQLite creates the file, then writes its header a moment later: a zero-length file
    that fresh is watched briefly before it counts as a lost store."""
    import threading

    made = tmp_path / "made.db"
    SqliteStore.open(made).close()
    path = tmp_path / "feeds.db"
    path.write_bytes(b"")  # just created by "another process"
    writer = threading.Timer(0.2, lambda: path.write_bytes(made.read_bytes()))
    writer.start()
    try:
        with SqliteStore.open(path) as store:
            assert store.id_count() == 0
    finally:
        writer.join()


# --------------------------------------------------------------------------- review: hostile
# and ambiguous published files


def write_twins(root: Path, *, formats: str, dated: bool) -> Path:
    """Six notes of one title and three of one content (front matter without or with a
    date): recover must tell them apart by what their items show, not by file order."""
    notes = root / "notes"
    notes.mkdir()
    for n in range(1, 7):
        (notes / f"m{n}.md").write_text(
            f"---\ntitle: Meeting notes\n---\n\nNotes number {n} about things.\n")
        stamp = datetime(2024, n, 1, 10, 0).timestamp()
        os.utime(notes / f"m{n}.md", (stamp, stamp))  # the date is the file's mtime
    date = "date: 2024-05-05T10:00:00Z\n" if dated else ""
    for n in range(1, 4):  # one content, one date: one story, published once
        (notes / f"same{n}.md").write_text(f"---\ntitle: Same\n{date}---\n\nIdentical body.\n")
        stamp = datetime(2024, 5, 5, 10, 0).timestamp()
        os.utime(notes / f"same{n}.md", (stamp, stamp))
    path = root / "feeds.toml"
    path.write_text(
        '[site]\ntitle = "T"\nlink = "https://example.org/"\n'
        'base_url = "https://example.org/feeds/"\n'
        '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
        '[[sources]]\nname = "notes"\nkind = "folder"\npath = "notes"\n'
        f'[[feeds]]\nname = "all"\ntitle = "All"\nsources = ["notes"]\nformats = {formats}\n')
    return path


@pytest.mark.parametrize("formats", ['["rss"]', '["atom"]', '["json"]'])
def test_notes_of_one_title_dated_by_their_files_keep_each_its_own_id(
        tmp_path: Path, formats: str) -> None:
    """Title alone would fit every one of them: the date the item shows tells them apart."""
    config = config_module.load(write_twins(tmp_path, formats=formats, dated=False))
    for same in (tmp_path / "notes").glob("same*.md"):
        same.unlink()  # one title only
    for attempt in range(4):  # new random ids each round: a lucky order must not pass
        build(config, now=NOW)
        before = tree(config.output_dir)
        lose_store(config)
        report = recover(config, now=LATER)
        assert not report.result.unmatched
        build(config, now=LATER)
        assert tree(config.output_dir) == before, f"round {attempt}"
        shutil.rmtree(config.output_dir)
        lose_store(config)


@pytest.mark.parametrize("dated", [True, False])
def test_articles_a_feed_shows_once_keep_the_one_it_showed(tmp_path: Path,
                                                           dated: bool) -> None:
    """Three files of one story (same title and date) show as one item, the first by id.
    The two never published get new ids, which must not displace the one published."""
    config = config_module.load(write_twins(tmp_path, formats='["rss", "json"]', dated=dated))
    for attempt in range(6):
        build(config, now=NOW)
        before = tree(config.output_dir)
        lose_store(config)
        recover(config, now=LATER)
        build(config, now=LATER)
        assert tree(config.output_dir) == before, f"round {attempt}"
        shutil.rmtree(config.output_dir)
        lose_store(config)


def test_a_damaged_json_feed_is_reported_and_its_atom_file_read_instead(
        tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    before = tree(config.output_dir)
    json_feed = config.output_dir / "all" / "feed.json"
    json_feed.write_bytes(before["all/feed.json"][: len(before["all/feed.json"]) // 2])
    lose_store(config)
    report = recover(config, now=LATER)
    files = [f for f in report.files if f.feed == "all"]
    assert [f.path.name for f in files] == ["feed.json", "atom.xml"]
    assert files[0].error and not files[1].error and files[1].entries
    assert not report.result.unmatched
    assert report.result.matched == report.articles
    json_feed.write_bytes(before["all/feed.json"])
    build(config, now=LATER)
    assert tree(config.output_dir) == before


HOSTILE_JSON = {
    "a title that is a number": lambda d: d["items"][0].update(title=5),
    "a title that is a list": lambda d: d["items"][0].update(title=["x"]),
    "a date in year 1": lambda d: d["items"][0].update(
        date_published="0001-01-01T00:00:00+01:00"),
    "a date past year 9999": lambda d: d["items"][0].update(
        date_modified="9999-12-31T23:59:59-01:00"),
    "_feeds not an object": lambda d: d["items"][0].update(_feeds=[1]),
    "a fingerprint that is a number": lambda d: d["items"][0].update(_feeds={"fingerprint": 7}),
}


@pytest.mark.parametrize("damage", sorted(HOSTILE_JSON))
def test_a_hand_edited_json_feed_never_crashes_recover_nor_a_build(
        tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_site(tmp_path, None)
    config = config_module.load(path)
    build(config, now=NOW)
    feed = config.output_dir / "all" / "feed.json"
    document = json.loads(feed.read_text())
    HOSTILE_JSON[damage](document)
    feed.write_text(json.dumps(document))
    lose_store(config)
    assert main(["build", "--config", str(path)]) == 2  # refused, not a traceback
    assert "feeds recover" in capsys.readouterr().err
    code = main(["recover", "--config", str(path)])
    assert code in (0, 1)
    report_line = capsys.readouterr().out.splitlines()[-1]
    assert report_line.startswith("store ")


def test_a_json_feed_nested_too_deep_is_reported_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_site(tmp_path, None)
    config = config_module.load(path)
    build(config, now=NOW)
    (config.output_dir / "all" / "feed.json").write_text("[" * 100_000 + "]" * 100_000)
    lose_store(config)
    assert main(["recover", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "feed.json" in err
    report = recover(config, now=LATER, force=True)
    assert not report.result.unmatched  # the Atom file gave every id of feed "all"


def test_a_feed_whose_formats_changed_is_recovered_from_its_current_file_too(
        tmp_path: Path) -> None:
    """feed.json of a feed that no longer has JSON stays behind, stale: the RSS file
    written since holds ids it does not."""
    path = write_site(tmp_path, None)
    config = config_module.load(path)
    build(config, now=NOW)
    path.write_text(path.read_text().replace(
        'name = "all"\ntitle = "All"\nsources = ["news", "blog"]\n',
        'name = "all"\ntitle = "All"\nsources = ["news", "blog"]\nformats = ["rss"]\n'
    ).replace('[[feeds]]\nname = "news"\ntitle = "News"\nsources = ["news"]\n'
              'formats = ["atom"]\n', ""))
    config = config_module.load(path)
    assert [f.name for f in config.feeds] == ["all", "blog", "notes"]
    (tmp_path / "news" / "late.md").write_text(
        "---\ntitle: A late story\ndate: 2024-06-01T09:00:00Z\n---\n\nOnly in rss.xml.\n")
    build(config, now=LATER)
    assert (config.output_dir / "all" / "feed.json").exists()  # stale, left behind
    before = tree(config.output_dir)
    lose_store(config)
    report = recover(config, now=LATER)
    assert not report.result.unmatched
    assert report.result.matched == report.articles
    build(config, now=LATER)
    assert tree(config.output_dir) == before


def test_a_second_forced_recover_keeps_the_store_the_first_one_kept_aside(
        tmp_path: Path) -> None:
    """--force twice must not delete the one store that held every id (also of articles
    no feed shows, and the remembered ids of pruned entries)."""
    config = config_module.load(write_site(tmp_path, None))
    build(config, now=NOW)
    original = config.store_path.read_bytes()
    first = recover(config, now=LATER, force=True)
    second = recover(config, now=LATER, force=True)
    assert first.kept_aside is not None and second.kept_aside is not None
    assert second.kept_aside != first.kept_aside
    assert first.kept_aside.read_bytes() == original
    assert second.kept_aside.is_file()


def undated_rss(title: str) -> bytes:
    """Entries without a date: they show when they were first seen."""
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
            "<link>https://wire.example/</link><description>d</description>"
            "<item><guid>https://wire.example/s1</guid><title>Storm warning</title>"
            "<link>https://wire.example/s1</link><description>Wind.</description></item>"
            "<item><title>Ferry cancelled</title><description>No link.</description></item>"
            "</channel></rss>").encode()


def test_undated_entries_a_merged_feed_showed_once_do_not_come_back_newer(
        tmp_path: Path) -> None:
    """Two wire feeds carry the same undated stories (one by link, one by title): the
    merged feed shows each once.  In the fresh store the copies never shown are first seen
    at recover, newer than the published ones they were one story with: they must not
    take their place."""
    srv = FeedServer()
    srv.documents["/one.xml"] = undated_rss("One")
    srv.documents["/two.xml"] = undated_rss("Two")
    srv.thread.start()
    try:
        path = tmp_path / "feeds.toml"
        path.write_text(
            '[site]\ntitle = "T"\nlink = "https://example.org/"\n'
            'base_url = "https://example.org/feeds/"\n'
            '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
            '[fetch]\nallow_private = true\n'
            f'[[sources]]\nname = "one"\nkind = "feed"\nurl = "{srv.base}/one.xml"\n'
            f'[[sources]]\nname = "two"\nkind = "feed"\nurl = "{srv.base}/two.xml"\n'
            '[[feeds]]\nname = "all"\ntitle = "All"\nsources = ["one", "two"]\n'
            '[[feeds]]\nname = "rss"\ntitle = "R"\nsources = ["one", "two"]\n'
            'formats = ["rss"]\n')
        config = config_module.load(path)
        build(config, now=NOW)
        before = tree(config.output_dir)
        assert before["all/feed.json"].count(b'"title": "Storm warning"') == 1
        lose_store(config)
        report = recover(config, now=LATER)
        assert report.result.matched == 2 and report.articles == 4
        build(config, now=LATER)
        assert tree(config.output_dir) == before
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.mark.parametrize("item", [
    "<description>An entry without a title, titled by its text in Atom.</description>",
    "<link>https://wire.example/untitled</link>",  # titled by its link
    "<guid>https://wire.example/bare</guid>",  # no text, no link: titled by its id
])
def test_an_untitled_entry_of_an_atom_only_feed_keeps_its_id(tmp_path: Path,
                                                             item: str) -> None:
    """Atom titles an untitled entry (by its text, else its link, else its id), which is
    what an Atom-only feed holds to match it by."""
    srv = FeedServer()
    srv.documents["/wire.xml"] = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        "<link>https://wire.example/</link><description>d</description>"
        f"<item>{item}<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item>"
        "</channel></rss>").encode()
    srv.thread.start()
    try:
        path = tmp_path / "feeds.toml"
        path.write_text(
            '[site]\ntitle = "T"\nlink = "https://example.org/"\n'
            'base_url = "https://example.org/feeds/"\n'
            '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
            '[fetch]\nallow_private = true\n'
            f'[[sources]]\nname = "wire"\nkind = "feed"\nurl = "{srv.base}/wire.xml"\n'
            '[[feeds]]\nname = "all"\ntitle = "All"\nsources = ["wire"]\n'
            'formats = ["atom"]\n')
        config = config_module.load(path)
        build(config, now=NOW)
        before = tree(config.output_dir)
        lose_store(config)
        report = recover(config, now=LATER)
        assert not report.result.unmatched
        assert report.result.how == {"title and date": 1}
        build(config, now=LATER)
        assert tree(config.output_dir) == before
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
