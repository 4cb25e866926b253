"""What keeps builds fast, checked without a clock: the work a build does, not its time.

* a no-op build renders and verifies nothing;
* one new (or edited) article renders one fragment per format, whatever the feed's size;
* reused fragments give the very bytes a full render gives (and the golden files hold);
* a file changed behind our back is not reused from;
* the parallel render writes the same bytes as the serial one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds import config as config_module
from feeds import normalize, pipeline
from feeds.config import Config
from feeds.errors import PublishError
from feeds.model import RawInput
from feeds.normalize import ReadContext
from feeds.pipeline import build
from feeds.pipeline import feeds as publishing
from feeds.pipeline import folder as reading
from feeds.pipeline.workers import BuildPool
from feeds.publish import FORMATS, stream
from feeds.publish import render as render_module
from feeds.publish.jsonfeed import json_fragment, json_item
from feeds.publish.render import render
from feeds.store import SqliteStore
from tests.conftest import NOW, TWO_FEED_SITE
from tests.golden.sample import CHANNEL, ITEMS

FILES = [f"{feed}/{f.file_name}" for feed in ("all", "everything") for f in FORMATS.values()]


def article(n: int, body: str = "The first paragraph of the story.", author: bool = True) -> str:
    byline = "By Ana Ruiz\n" if author else ""
    return (f"Story number {n}\n\n{byline}Published {1 + n % 28} May 2024\n\n"
            f"LISBON: {body} ({n})\n\nA second paragraph.\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds.toml").write_text(TWO_FEED_SITE.format(author=""), encoding="utf-8")
    for n in range(12):
        write(tmp_path, n)
    return tmp_path


def write(site: Path, n: int, **kwargs: object) -> None:
    (site / "articles" / f"a{n:03}.txt").write_text(article(n, **kwargs), encoding="utf-8")  # type: ignore[arg-type]


def load(site: Path) -> Config:
    return config_module.load(site / "feeds.toml")


def outputs(site: Path) -> dict[str, bytes]:
    return {name: (site / "public" / name).read_bytes() for name in FILES}


def stats(site: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for name in FILES:
        st = (site / "public" / name).stat()
        out[name] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


class Counter:
    """Counts the fragments rendered, per format (wraps ``stream.renderer``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entries: dict[str, int] = {}
        real = stream.renderer

        def counting(fmt: str, channel: object) -> render_module.FormatRenderer:
            r = real(fmt, channel)  # type: ignore[arg-type]
            entry = r.entry

            def counted(item: object) -> bytes:
                self.entries[fmt] = self.entries.get(fmt, 0) + 1
                return entry(item)  # type: ignore[arg-type]

            r.entry = counted  # type: ignore[method-assign]
            return r

        monkeypatch.setattr(stream, "renderer", counting)


def from_scratch(site: Path, now: datetime = NOW) -> dict[str, bytes]:
    """What a build writes with the same store (same ids) but no feed state and no output:
    every fragment rendered anew."""
    fresh = site.parent / (site.name + "-fresh")
    (fresh / "state").mkdir(parents=True)
    os.symlink(site / "articles", fresh / "articles")
    (fresh / "feeds.toml").write_text((site / "feeds.toml").read_text(), encoding="utf-8")
    source = sqlite3.connect(site / "state" / "feeds.db")
    copy = sqlite3.connect(fresh / "state" / "feeds.db")
    source.backup(copy)
    source.close()
    copy.execute("DELETE FROM feed_state")
    copy.execute("DELETE FROM feed_index")
    copy.commit()
    copy.close()
    build(load(fresh), now=now)
    return outputs(fresh)


def test_a_no_op_build_renders_and_verifies_nothing(site: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    before = stats(site)

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a no-op build rendered or verified something")

    for name in ("render", "_select"):
        monkeypatch.setattr(publishing, name, fail)
    for name in ("renderer", "verify", "checked", "spool", "assemble"):
        monkeypatch.setattr(stream, name, fail)
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert all(not f.written and not f.error for f in report.feeds)
    assert stats(site) == before


def test_one_new_article_renders_one_fragment_per_format_and_feed(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    counter = Counter(monkeypatch)
    write(site, 99)
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert [(f.name, f.added) for f in report.feeds] == [("all", 1), ("everything", 1)]
    # one fragment per format in each feed (the feeds do not share a cache)
    assert counter.entries == {"rss": 2, "atom": 2, "json": 2}
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_an_edit_renders_only_the_edited_article(site: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    counter = Counter(monkeypatch)
    write(site, 5, body="A corrected first paragraph.")
    report = build(load(site), now=NOW + timedelta(hours=1))
    everything = report.feeds[1]
    assert (everything.changed, everything.added, everything.removed) == (1, 0, 0)
    assert counter.entries == {"rss": 1, "atom": 1, "json": 1}  # not in "all" (limit 3)
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_a_deletion_renders_nothing_new_and_matches_a_full_render(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    counter = Counter(monkeypatch)
    (site / "articles" / "a007.txt").unlink()
    build(load(site), now=NOW + timedelta(hours=1))
    assert counter.entries == {}  # not in "all" (limit 3); "everything" only loses it
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_the_feed_author_follows_an_authorless_new_article(site: Path) -> None:
    """Atom names the channel as author once some entry has none: the head changes with
    a new fragment even though every reused fragment stays as it was."""
    build(load(site), now=NOW)
    assert b"<author>\n    <name>Everything" not in outputs(site)["everything/atom.xml"]
    write(site, 99, author=False)
    build(load(site), now=NOW + timedelta(hours=1))
    assert b"<author>\n    <name>Everything</name>" in outputs(site)["everything/atom.xml"]
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_a_file_changed_behind_our_back_is_not_reused_from(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    path = site / "public" / "everything" / "rss.xml"
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Story number", b"Story NUMBER"))  # same size
    counter = Counter(monkeypatch)
    write(site, 99)
    build(load(site), now=NOW + timedelta(hours=1))
    assert counter.entries["rss"] == 13 + 1  # everything re-rendered, plus one for "all"
    assert b"Story NUMBER" not in path.read_bytes()
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_a_changed_channel_reuses_every_fragment(site: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    toml = site / "feeds.toml"
    toml.write_text(toml.read_text().replace('title = "Everything"', 'title = "Every thing"'))
    counter = Counter(monkeypatch)
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert counter.entries == {}
    assert [p.name for p in report.feeds[1].written] == ["rss.xml", "atom.xml", "feed.json"]
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_a_changed_feed_language_rerenders_atom_only(site: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    toml = site / "feeds.toml"
    toml.write_text(toml.read_text().replace('[store]', 'language = "pt"\n[store]'))
    counter = Counter(monkeypatch)
    build(load(site), now=NOW + timedelta(hours=1))
    assert counter.entries == {"atom": 3 + 12}  # xml:lang depends on the feed's language
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_the_parallel_render_writes_the_same_bytes(site: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publishing, "PARALLEL_RENDER_THRESHOLD", 1)
    monkeypatch.setattr(publishing, "RENDER_CHUNK", 5)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # build() renders with every core
    build(load(site), now=NOW)
    parallel = outputs(site)
    monkeypatch.setattr(publishing, "PARALLEL_RENDER_THRESHOLD", 10**9)
    assert parallel == from_scratch(site)


def test_a_build_forks_one_pool_for_reading_and_rendering(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The readers' pool renders too, warm, even below the threshold for a pool of its own."""
    import concurrent.futures

    monkeypatch.setattr(reading, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(publishing, "RENDER_CHUNK", 5)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pools: list[object] = []
    submitted: list[object] = []
    real_init = concurrent.futures.ProcessPoolExecutor.__init__
    real_submit = concurrent.futures.ProcessPoolExecutor.submit

    def init(self: object, *args: object, **kwargs: object) -> None:
        pools.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    def submit(self: object, fn: object, *args: object, **kwargs: object) -> object:
        inner = getattr(fn, "args", (fn,))[-1]  # map() submits partial(_process_chunk, fn)
        submitted.append(getattr(inner, "__name__", inner))
        return real_submit(self, fn, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "__init__", init)
    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", submit)
    build(load(site), now=NOW)
    assert len(pools) == 1
    assert "_read_one" in submitted and "_render_job" in submitted  # 12 items: 3 chunks
    assert publishing.PARALLEL_RENDER_THRESHOLD > 12  # rendered in parallel only as the pool ran
    pooled = outputs(site)
    monkeypatch.setattr(reading, "PARALLEL_THRESHOLD", 10**9)
    monkeypatch.setattr(publishing, "PARALLEL_RENDER_THRESHOLD", 10**9)
    assert pooled == from_scratch(site)


@pytest.mark.parametrize("shared", [True, False])
def test_a_file_that_kills_its_reading_worker_is_reported_and_the_rest_published(
        site: Path, monkeypatch: pytest.MonkeyPatch, shared: bool) -> None:
    """A crash in a parser's C code (here: the worker exits) breaks the process pool."""
    monkeypatch.setattr(reading, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    real = normalize.read

    def deadly(raw: RawInput, ctx: ReadContext) -> object:
        if raw.key == "a007.txt":
            os._exit(9)  # in a forked worker, which inherits the patch
        return real(raw, ctx)

    monkeypatch.setattr(normalize, "read", deadly)
    config = load(site)
    if shared:
        report = build(config, now=NOW)
        [source] = report.sources
    else:  # the daemon's way: ingest_folder with its own pool
        with SqliteStore.open(config.store_path) as store:
            source = pipeline.ingest_folder(store, config.sources[0], config, now=NOW,
                                            workers=2)
    assert [key for key, _ in source.problems] == ["a007.txt"]
    assert "killed the worker process" in source.problems[0][1]
    assert source.read == 11
    with SqliteStore.open(config.store_path) as store:
        assert store.count() == 11


def test_a_rendering_worker_that_dies_fails_its_feed_only(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    before = outputs(site)
    monkeypatch.setattr(publishing, "PARALLEL_RENDER_THRESHOLD", 1)
    monkeypatch.setattr(publishing, "RENDER_CHUNK", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    real, parent = stream.renderer, os.getpid()

    def deadly(fmt: str, channel: Any) -> Any:
        if os.getpid() != parent and channel.name == "all":
            os._exit(9)
        return real(fmt, channel)

    monkeypatch.setattr(stream, "renderer", deadly)
    for n in range(20, 25):
        write(site, n)
    report = build(load(site), now=NOW + timedelta(hours=1))
    errors = {f.name: f.error for f in report.feeds}
    assert "rendering worker process died" in (errors["all"] or "")
    assert errors["everything"] is None  # published next, by a new pool
    after = outputs(site)
    assert all(after[name] == before[name] for name in after if name.startswith("all/"))
    assert all(after[name] != before[name] for name in after if name.startswith("everything/"))


@pytest.mark.parametrize("stop_after", [3, 5])
def test_a_cancelled_build_stops_between_steps_and_the_next_one_carries_on(
        site: Path, stop_after: int) -> None:
    """``cancelled`` (SIGTERM, for ``feeds build``) is asked after each file read and before
    each feed: 3 -> while reading, nothing stored yet; 5 -> after the 5 reads were stored,
    before publishing.  Either way no file changes, and the next build completes."""
    from feeds.errors import Stopped

    build(load(site), now=NOW)
    before = outputs(site)
    for n in range(20, 25):
        write(site, n)
    asked = 0

    def cancelled() -> bool:
        nonlocal asked
        asked += 1
        return asked > stop_after

    with pytest.raises(Stopped):
        build(load(site), now=NOW + timedelta(hours=1), cancelled=cancelled)
    assert outputs(site) == before
    with SqliteStore.open(load(site).store_path) as store:
        assert store.count() == (12 if stop_after < 5 else 17)
    build(load(site), now=NOW + timedelta(hours=1))
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))
    with SqliteStore.open(load(site).store_path) as store:
        assert store.count() == 17


def test_a_pool_a_crashed_worker_broke_is_replaced() -> None:
    shared = BuildPool(2, None)
    try:
        first = shared.get()
        with pytest.raises(Exception, match="terminated abruptly"):
            first.submit(os._exit, 3).result()
        assert not shared.started
        second = shared.get()
        assert second is not first
        assert second.submit(sum, [1, 2]).result() == 3
    finally:
        shared.close()


@pytest.mark.parametrize("parallel", [False, True])
def test_a_failed_check_keeps_the_old_files_and_leaves_no_spool(
        site: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    build(load(site), now=NOW)
    before = outputs(site)
    if parallel:
        monkeypatch.setattr(publishing, "PARALLEL_RENDER_THRESHOLD", 1)
        monkeypatch.setattr(publishing, "RENDER_CHUNK", 2)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    real = stream.checked

    def failing(fmt: str, path: Path, data: bytes, items: list[object]) -> None:
        if fmt == "atom" and items:
            raise PublishError("atom: broken on purpose")
        real(fmt, path, data, items)  # type: ignore[arg-type]

    monkeypatch.setattr(stream, "checked", failing)
    for n in range(20, 25):
        write(site, n)
    report = build(load(site), now=NOW + timedelta(hours=1))
    assert all(f.error and "broken on purpose" in f.error for f in report.feeds)
    assert outputs(site) == before  # the fixture checks that no spool file is left


def test_the_streamed_files_are_what_render_gives(site: Path) -> None:
    build(load(site), now=NOW)
    config = load(site)
    with SqliteStore.open(config.store_path) as store:
        for feed in config.feeds:
            items = pipeline.feed_items(config, store, feed, now=NOW)
            for fmt in feed.formats:
                data = render(fmt, config.channel(feed), items)
                assert (site / "public" / feed.name / FORMATS[fmt].file_name).read_bytes() == data


def test_a_build_reads_articles_only_to_render_them(site: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Selecting what a feed shows reads the covering index, not the articles' JSON."""
    build(load(site), now=NOW)
    calls: list[int] = []
    real = SqliteStore.items_by_id

    def counted(self: SqliteStore, ids: list[str]) -> object:
        calls.append(len(ids))
        return real(self, ids)

    monkeypatch.setattr(SqliteStore, "items_by_id", counted)
    monkeypatch.setattr(SqliteStore, "items", lambda *a, **k: pytest.fail("items() read"))
    write(site, 99)
    build(load(site), now=NOW + timedelta(hours=1))
    assert sum(calls) == 2  # the new article, once per feed


def test_json_fragments_are_json_dumps_bytes() -> None:
    for item in ITEMS:
        text = json.dumps(json_item(item), ensure_ascii=False, indent=2)
        assert json_fragment(item) == ("    " + text.replace("\n", "\n    ")).encode()
    feed = json.loads(render("json", CHANNEL, ITEMS))
    assert feed["items"] == [json_item(i) for i in ITEMS]


def test_the_feed_index_is_kept_with_the_digest(site: Path) -> None:
    build(load(site), now=NOW)
    config = load(site)
    with SqliteStore.open(config.store_path) as store:
        index = store.feed_index("everything")
    assert index is not None and len(index.ids) == len(index.keys) == 12
    data = (site / "public" / "everything" / "feed.json").read_bytes()
    entry = index.formats["json"]
    assert isinstance(entry, dict)
    offset = entry["start"]
    for item_id, size in zip(index.ids, entry["sizes"], strict=True):
        length = size >> 1
        assert json.loads(data[offset:offset + length])["id"] == item_id
        offset += length + len(b",\n")


@pytest.fixture(autouse=True)
def _no_leftover_spools(tmp_path: Path) -> Iterator[None]:
    yield
    leftovers = [p for p in tmp_path.rglob(".*")
                 if p.name.startswith(".spool.") or p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("damage", ["sizes are not numbers", "a key twice", "keys missing"])
def test_a_damaged_feed_index_means_rendering_anew_not_a_crash(site: Path, damage: str) -> None:
    build(load(site), now=NOW)
    write(site, 12)  # a new article: something to publish, so the index is consulted
    with sqlite3.connect(site / "state" / "feeds.db") as db:
        index = json.loads(db.execute(
            "SELECT data FROM feed_index WHERE feed = 'everything'").fetchone()[0])
        if damage == "sizes are not numbers":
            for entry in index["formats"].values():
                entry["sizes"] = ["x"] * len(entry["sizes"])
        elif damage == "a key twice":
            index["keys"] = [index["keys"][0]] * len(index["keys"])
        else:
            del index["keys"]
        db.execute("UPDATE feed_index SET data = ? WHERE feed = 'everything'",
                   (json.dumps(index),))
    report = build(load(site), now=NOW)
    assert not [f for f in report.feeds if f.error]
    assert outputs(site) == from_scratch(site)


def edit_in_place(path: Path, old: bytes, new: bytes) -> None:
    """A hand edit that keeps the size, the inode and (set back) the mtime."""
    assert len(old) == len(new)
    st = path.stat()
    offset = path.read_bytes().index(old)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, new, offset)
    finally:
        os.close(fd)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == \
        (st.st_size, st.st_mtime_ns, st.st_ino)


def test_a_hand_edit_keeping_size_mtime_and_inode_does_not_survive_a_build(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(load(site), now=NOW)
    path = site / "public" / "everything" / "rss.xml"
    edit_in_place(path, b"Story number 3<", b"Story NUMBER 3<")
    counter = Counter(monkeypatch)
    write(site, 99)
    build(load(site), now=NOW + timedelta(hours=1))
    assert b"Story NUMBER" not in path.read_bytes()
    assert counter.entries["rss"] == 13 + 1  # everything re-rendered, plus one for "all"
    assert outputs(site) == from_scratch(site, NOW + timedelta(hours=1))


def test_a_hand_edit_keeping_size_mtime_and_inode_is_undone_by_a_no_op_build(
        site: Path) -> None:
    build(load(site), now=NOW)
    path = site / "public" / "all" / "feed.json"
    edit_in_place(path, b"Story number", b"Story NUMBER")
    build(load(site), now=NOW)
    assert b"Story NUMBER" not in path.read_bytes()
    assert outputs(site) == from_scratch(site)
