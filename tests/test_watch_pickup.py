"""Instant pickup under ``feeds run`` (issue 13): a file renamed into a watched folder is
complete and read at once; a file written in place is read when its writer closes it, never
before; what changed is published without waiting out a debounce window.

No durations are asserted: the watcher tests rely on inotify's ordering (a later event is
reported after an earlier one), and the daemon tests make the settle time and the publish
debounce an hour, so that only the instant path can publish anything.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from feeds import daemon as daemon_module
from feeds.config import load
from feeds.daemon import Daemon, Work
from feeds.systemd import Notifier
from feeds.watch import Watcher
from tests.daemon_support import article_text, titles, wait_until, write_article, write_config

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


@dataclass
class Reported:
    complete: list[str]
    unsettled: list[str]


class Recorder:
    """A watcher on ``folder`` whose reports land in a queue."""

    def __init__(self, folder: Path, *, use_inotify: bool = True) -> None:
        self.reports: queue.Queue[Reported] = queue.Queue()
        self.seen: list[Reported] = []
        self.watcher = Watcher([folder], on_ready=lambda: None, use_inotify=use_inotify,
                               on_changes=lambda c, u: self.reports.put(Reported(c, u)))

    def until(self, path: Path, *, complete: bool = True) -> list[Reported]:
        """The reports up to the first that names ``path`` (complete, or unsettled)."""
        before = len(self.seen)
        while True:
            report = self.reports.get(timeout=15)
            self.seen.append(report)
            if str(path) in (report.complete if complete else report.unsettled):
                return self.seen[before:]

    def named(self, path: Path) -> bool:
        return any(str(path) in r.complete + r.unsettled for r in self.seen)


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    folder = tmp_path / "articles"
    folder.mkdir()
    recorder = Recorder(folder)
    recorder.watcher.start()
    try:
        yield recorder
    finally:
        recorder.watcher.stop()


def rename_in(folder: Path, name: str, text: str = "x") -> Path:
    tmp = folder.parent / f"{name}.outside"
    tmp.write_text(text, encoding="utf-8")
    return tmp.replace(folder / name)


@linux_only
def test_the_inotify_watcher_tells_complete_files_apart(recorder: Recorder) -> None:
    assert recorder.watcher.instant


@linux_only
def test_a_file_renamed_in_is_reported_complete(recorder: Recorder, tmp_path: Path) -> None:
    path = rename_in(tmp_path / "articles", "moved.md")
    recorder.until(path)


@linux_only
def test_a_file_written_in_place_is_reported_when_its_writer_closes_it(
        recorder: Recorder, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    path = folder / "slow.md"
    with path.open("w", encoding="utf-8") as out:
        out.write("---\ntitle: Half")
        out.flush()
        sentinel = rename_in(folder, "sentinel.md")  # reported after the write above
        recorder.until(sentinel)
        assert not recorder.named(path), "a file still open for writing was reported"
        out.write(" written\n---\n")
    recorder.until(path)


@linux_only
def test_a_folder_moved_in_is_complete_and_watched(recorder: Recorder, tmp_path: Path) -> None:
    outside = tmp_path / "incoming"
    outside.mkdir()
    (outside / "inner").mkdir()
    (outside / "inner" / "one.md").write_text("one")
    moved = outside.replace(tmp_path / "articles" / "incoming")
    recorder.until(moved)
    later = moved / "inner" / "two.md"
    later.write_text("two")
    recorder.until(later)


@linux_only
def test_a_folder_made_is_looked_at_once_settled_and_watched(
        recorder: Recorder, tmp_path: Path) -> None:
    made = tmp_path / "articles" / "2026"
    made.mkdir()
    recorder.until(made, complete=False)  # files written before the watch: the settle rule
    inside = made / "new.md"
    inside.write_text("new")
    recorder.until(inside)


@linux_only
def test_deletions_and_renames_within_the_folder_are_complete(
        recorder: Recorder, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    first = rename_in(folder, "first.md")
    recorder.until(first)
    second = first.replace(folder / "second.md")
    reports = recorder.until(second)
    assert str(first) in reports[-1].complete, "both halves of a rename come together"
    second.unlink()
    recorder.until(second)


@linux_only
def test_hidden_folders_are_not_watched(recorder: Recorder, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    (folder / ".git").mkdir()
    recorder.until(rename_in(folder, "marker-1.md"))
    (folder / ".git" / "index").write_text("x")
    recorder.until(rename_in(folder, "marker-2.md"))
    assert not recorder.named(folder / ".git" / "index")


def test_without_inotify_every_change_waits_to_settle(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    recorder = Recorder(folder, use_inotify=False)
    recorder.watcher.start()
    try:
        path = rename_in(folder, "moved.md")
        recorder.until(path, complete=False)
        assert not any(r.complete for r in recorder.seen)
    finally:
        recorder.watcher.stop()


# --------------------------------------------------------------------------- the daemon


class InProcess:
    """A :class:`Daemon` running its loop in a thread (no signals, no systemd)."""

    def __init__(self, base: Path) -> None:
        self.folder = base / "articles"
        self.folder.mkdir()
        write_article(self.folder, "seed.md", "Seed article", rename=False)
        os.utime(self.folder / "seed.md", (1_000_000_000, 1_000_000_000))  # settled already
        self.atom = base / "public" / "all" / "atom.xml"
        config_path = base / "feeds.toml"
        write_config(config_path, sources=[("main", self.folder)])
        self.daemon = Daemon(config_path, load(config_path), notifier=Notifier(None))
        self.thread = threading.Thread(target=self.daemon._loop, daemon=True)

    def start(self) -> None:
        d = self.daemon
        d.service.open()
        d._ingest("main")
        d._publish(None)
        d._start_services(server=False)
        # the full scan asked once watching (with the settle rule), done before any test
        # writes: a test's file is then only ever read through the watcher's reports
        wait_until(lambda: "main" in d.queued, what="the scan asked once watching")
        d._ingest_requested("main")
        self.thread.start()

    def stop(self) -> None:
        d = self.daemon
        d.stop_requested = True
        d.queue.put(Work("stop"))
        self.thread.join(timeout=30)
        d._stop_services(timers=True)
        d.service.close()

    def published(self) -> list[str]:
        return titles(self.atom)


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcess]:
    # an hour: the settle rule and the publish debounce never fire during a test
    monkeypatch.setattr(daemon_module, "SETTLE", 3600.0)
    monkeypatch.setattr(daemon_module, "PUBLISH_DEBOUNCE", 3600.0)
    process = InProcess(tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@linux_only
def test_a_renamed_in_article_is_published_without_settling(running: InProcess) -> None:
    write_article(running.folder, "new.md", "Renamed in", rename=True)
    # (the settle time is an hour: only the instant path can have read it)
    wait_until(lambda: "Renamed in" in running.published(), what="the renamed-in article")


@linux_only
def test_an_article_written_in_place_is_published_once_closed_and_not_before(
        running: InProcess) -> None:
    path = running.folder / "in-place.md"
    with path.open("w", encoding="utf-8") as out:
        out.write(article_text("Half written", body="first half"))
        out.flush()
        os.utime(path, (1_000_000_000, 1_000_000_000))  # settled long ago, by its stat
        write_article(running.folder, "sentinel.md", "Sentinel", rename=True)
        wait_until(lambda: "Sentinel" in running.published(), what="the sentinel")
        assert "Half written" not in running.published()
        out.write("second half\n")
    wait_until(lambda: "Half written" in running.published(), what="the closed article")
    assert "second half" in running.atom.read_text(encoding="utf-8")


@linux_only
def test_an_edit_and_a_deletion_are_published_without_settling(running: InProcess) -> None:
    write_article(running.folder, "seed.md", "Seed edited", rename=False)
    wait_until(lambda: "Seed edited" in running.published(), what="the edit")
    (running.folder / "seed.md").unlink()
    wait_until(lambda: "Seed edited" not in running.published(), what="the deletion")
