"""The daemon's incremental ingest: only the paths the watcher reports are looked at.

``folder.scan_paths`` answers for just those keys (or says a full scan is needed);
``ingest_folder(paths=...)`` then takes every other stored file as it was, so one changed
file costs one ``lstat``, not a walk of the archive.  The answers must be those a full
scan would give.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from feeds import config as config_module
from feeds.daemon import Daemon
from feeds.normalize import suffixes
from feeds.pipeline import SourceReport, ingest_folder
from feeds.sources import folder
from feeds.store import SqliteStore, Store
from feeds.systemd import Notifier
from tests.conftest import NOW, ONE_FOLDER_CONFIG

ARTICLE = "{title}\n\nBy Ana Ruiz\nPublished 3 May 2024\n\nLISBON: The story.\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds.toml").write_text(ONE_FOLDER_CONFIG, encoding="utf-8")
    return tmp_path


def write(site: Path, key: str, title: str) -> Path:
    path = site / "articles" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ARTICLE.format(title=title), encoding="utf-8")
    return path


def ingest(site: Path, paths: set[str] | None = None) -> dict[str, str]:
    """Ingest (all, or ``paths``); the stored articles as key -> id."""
    config = config_module.load(site / "feeds.toml")
    with SqliteStore.open(config.store_path) as store:
        ingest_folder(store, config.sources[0], config, now=NOW, workers=1, paths=paths)
        return {i.article.key: i.id for i in store.items(["news"])}


def traced_ingest(site: Path, paths: set[str] | None = None,
                  prepare: Callable[[Store], None] | None = None
                  ) -> tuple[SourceReport, list[str], dict[str, str]]:
    """Ingest with every SQL statement recorded: (report, statements, key -> id after)."""
    config = config_module.load(site / "feeds.toml")
    statements: list[str] = []
    with SqliteStore.open(config.store_path) as store:
        if prepare is not None:
            prepare(store)
        store._db.set_trace_callback(statements.append)
        try:
            report = ingest_folder(store, config.sources[0], config, now=NOW, workers=1,
                                   paths=paths)
        finally:
            store._db.set_trace_callback(None)
        return report, statements, {i.article.key: i.id for i in store.items(["news"])}


def test_only_the_named_paths_are_looked_at(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        write(site, f"a{n}.txt", f"Story {n}")
    before = ingest(site)
    write(site, "new.txt", "New story")
    seen: list[str] = []
    real_lstat = os.lstat
    monkeypatch.setattr(folder.os, "lstat", lambda p: seen.append(str(p)) or real_lstat(p))
    monkeypatch.setattr(folder, "scan", lambda root: pytest.fail("full scan"))
    after = ingest(site, {"new.txt"})
    # (resolving the folder lstats its parents: only article files matter here)
    assert [p for p in seen if p.endswith(".txt")] == [
        str((site / "articles" / "new.txt").resolve())]
    assert {k: v for k, v in after.items() if k != "new.txt"} == before
    assert "new.txt" in after


def test_a_partial_ingest_reads_only_the_named_keys_from_the_store(site: Path) -> None:
    """Neither the file states nor the articles of the rest of the archive are loaded."""
    for n in range(30):
        write(site, f"d/a{n:02}.txt", f"Story {n}")
    write(site, "e/old.txt", "Old")
    first = ingest(site)
    write(site, "d/a03.txt", "Story 3 edited")
    write(site, "new.txt", "New")
    (site / "articles" / "d" / "a04.txt").unlink()
    (site / "articles" / "e" / "old.txt").unlink()
    (site / "articles" / "e").rmdir()
    rows = 0

    def count_file_states(store: Store) -> None:
        real = store.file_states

        def counted(source: str, keys: object = None) -> dict[str, object]:
            nonlocal rows
            assert keys is not None, "every file state loaded"
            states = real(source, keys)  # type: ignore[arg-type]
            rows += len(states)
            return states  # type: ignore[return-value]

        store.file_states = counted  # type: ignore[assignment,method-assign]

    report, statements, after = traced_ingest(
        site, {"d/a03.txt", "new.txt", "d/a04.txt", "e"}, prepare=count_file_states)
    assert rows == 3  # d/a03.txt, d/a04.txt and e/old.txt: not the other 28
    # (the folder's one-row state, skip counts and due re-reads, is no read of the archive)
    whole = [s for s in statements if (s.rstrip().endswith("WHERE source = 'news'")
             and "FROM folder_state" not in s) or ("a.source = 'news'" in s and " IN (" not in s)]
    assert whole == []  # no statement reads all of the source
    assert report.changes.removed and len(report.changes.removed) == 2
    expected = {k: v for k, v in first.items() if k not in ("d/a04.txt", "e/old.txt")}
    assert {k: v for k, v in after.items() if k != "new.txt"} == expected
    assert "new.txt" in after


def test_a_full_scan_in_many_batches_reads_every_key_once(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What went away is settled by the first batch; later batches load only their own keys,
    and an article turned draft after the first batch still leaves."""
    from feeds.pipeline import folder

    for n in range(10):
        write(site, f"a{n:02}.txt", f"Story {n}")
    markdown = site / "articles" / "m.md"
    markdown.write_text("---\ntitle: Markdown\ndate: 2024-01-01\n---\n\nBody.\n")
    first = ingest(site)
    assert "m.md" in first
    (site / "articles" / "a00.txt").unlink()
    for n in range(1, 10):
        write(site, f"a{n:02}.txt", f"Story {n} edited")  # every file is read again...
    markdown.write_text("---\ntitle: Markdown\ndraft: true\ndate: 2024-01-01\n---\n\nB.\n")
    monkeypatch.setattr(folder, "BATCH", 3)  # ...in batches of 3: m.md comes last
    monkeypatch.setattr(folder, "TAIL_BATCH", 2)
    report, statements, after = traced_ingest(site)
    everything = [s for s in statements
                  if s.strip() == "SELECT key FROM articles WHERE source = 'news'"]
    assert len(everything) == 1  # by the first of several batches only
    assert len([s for s in statements if s.strip() == "COMMIT"]) >= 3
    assert report.not_published == [("m.md", "draft")]
    assert set(after) == {f"a{n:02}.txt" for n in range(1, 10)}  # a00 gone, m.md a draft
    assert all(after[k] == first[k] for k in after)


def test_a_partial_ingest_agrees_with_a_full_one(site: Path) -> None:
    for n in range(4):
        write(site, f"d/a{n}.txt", f"Story {n}")
    write(site, "keep.txt", "Kept")
    first = ingest(site)
    # edit one, delete one, rename one, add one; an editor's temp file is ignored
    write(site, "d/a0.txt", "Story 0 edited")
    (site / "articles" / "d" / "a1.txt").unlink()
    (site / "articles" / "d" / "a2.txt").rename(site / "articles" / "renamed.txt")
    write(site, "fresh.txt", "Fresh")
    write(site, ".fresh.txt.swp", "swap")
    changed = {"d/a0.txt", "d/a1.txt", "d/a2.txt", "renamed.txt", "fresh.txt",
               ".fresh.txt.swp"}
    partial = ingest(site, changed)
    assert set(partial) == {"d/a0.txt", "d/a3.txt", "keep.txt", "renamed.txt", "fresh.txt"}
    assert partial["renamed.txt"] == first["d/a2.txt"]  # the id follows the renamed file
    assert partial["d/a0.txt"] == first["d/a0.txt"]
    assert ingest(site) == partial  # a full scan finds nothing more to do


def test_a_deleted_folder_takes_its_articles_with_it(site: Path) -> None:
    write(site, "sub/x.txt", "X")
    write(site, "sub/deeper/y.txt", "Y")
    write(site, "z.txt", "Z")
    ingest(site)
    sub = site / "articles" / "sub"
    for path in (sub / "deeper" / "y.txt", sub / "x.txt", sub / "deeper", sub):
        path.rmdir() if path.is_dir() else path.unlink()
    assert set(ingest(site, {"sub"})) == {"z.txt"}


@pytest.mark.parametrize("case", ["folder", "link", "outside", "root"])
def test_what_only_a_full_scan_can_tell_gets_one(site: Path, case: str) -> None:
    root = site / "articles"
    write(site, "a.txt", "A")
    if case == "folder":  # a folder moved in: its files were never reported one by one
        write(site, "moved/b.txt", "B")
        keys = {"moved"}
    elif case == "link":
        (root / "link.txt").symlink_to(root / "a.txt")
        keys = {"link.txt"}
    elif case == "outside":
        keys = {"../escape.txt"}
    else:
        keys = {""}
    assert folder.scan_paths(root, keys, suffixes()) is None
    if case == "folder":
        assert "moved/b.txt" in ingest(site, keys)


def test_an_unreadable_path_is_reported_like_a_full_scan_does(site: Path) -> None:
    os.mkfifo(site / "articles" / "pipe.txt")
    scan, gone = (folder.scan_paths(site / "articles", {"pipe.txt", "missing.txt"}, suffixes())
                  or (None, None))
    assert scan is not None and gone == {"missing.txt"}
    assert [(p.key, p.reason) for p in scan.problems] == [
        ("pipe.txt", "not a regular file (a FIFO)")]
    assert [(p.key, p.reason) for p in folder.scan(site / "articles", suffixes()).problems] == [
        ("pipe.txt", "not a regular file (a FIFO)")]


def test_requests_waiting_together_merge(site: Path) -> None:
    daemon = Daemon(site / "feeds.toml", config_module.load(site / "feeds.toml"),
                    notifier=Notifier(None))
    daemon.request("news", ["a.txt"])
    daemon.request("news", ["b.txt"])
    assert daemon.pending == {"news": {"a.txt", "b.txt"}}
    assert daemon.queue.qsize() == 1  # one piece of work for both
    daemon.request("news", None)  # a full scan covers everything
    daemon.request("news", ["c.txt"])
    assert daemon.pending == {"news": None}
    assert daemon.queue.qsize() == 1
