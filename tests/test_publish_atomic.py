"""write_if_changed: atomic replacement, no-op on identical bytes, clean failure, dry run."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feeds.errors import PublishError
from feeds.publish.atomic import STALE_AGE, write_if_changed
from tests.conftest import ONE_FOLDER_CONFIG

OLD_NS = 1_000_000_000 * 1_000_000_000  # 2001-09-09, far from any real "now"


def aged(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    os.utime(path, ns=(OLD_NS, OLD_NS))
    return path


def test_writes_a_new_file_creating_parent_directories(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "rss.xml"
    assert write_if_changed(target, b"<rss/>") is True
    assert target.read_bytes() == b"<rss/>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_identical_bytes_leave_the_file_and_its_mtime_untouched(tmp_path: Path) -> None:
    target = aged(tmp_path / "rss.xml", b"same")
    inode = target.stat().st_ino
    assert write_if_changed(target, b"same") is False
    assert target.stat().st_mtime_ns == OLD_NS
    assert target.stat().st_ino == inode


def test_changed_bytes_replace_the_file_and_keep_its_mode(tmp_path: Path) -> None:
    target = aged(tmp_path / "rss.xml", b"old")
    target.chmod(0o640)
    assert write_if_changed(target, b"new!") is True
    assert target.read_bytes() == b"new!"
    assert target.stat().st_mtime_ns != OLD_NS
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_same_size_different_bytes_is_a_change(tmp_path: Path) -> None:
    target = aged(tmp_path / "rss.xml", b"abc")
    assert write_if_changed(target, b"abd") is True
    assert target.read_bytes() == b"abd"


def test_dry_run_reports_the_change_but_writes_nothing(tmp_path: Path) -> None:
    target = aged(tmp_path / "rss.xml", b"old")
    assert write_if_changed(target, b"new", dry_run=True) is True
    assert write_if_changed(target, b"old", dry_run=True) is False
    missing = tmp_path / "sub" / "new.xml"
    assert write_if_changed(missing, b"x", dry_run=True) is True
    assert target.read_bytes() == b"old"
    assert target.stat().st_mtime_ns == OLD_NS
    assert not missing.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rss.xml"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failure_keeps_the_old_file_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = aged(tmp_path / "rss.xml", b"good old feed")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(PublishError) as info:
        write_if_changed(target, b"new feed")
    monkeypatch.undo()
    assert info.value.path == str(target)
    assert "No space left on device" in str(info.value)
    assert target.read_bytes() == b"good old feed"
    assert target.stat().st_mtime_ns == OLD_NS
    assert [p.name for p in tmp_path.iterdir()] == ["rss.xml"]


def test_a_directory_in_the_way_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "rss.xml").mkdir()
    with pytest.raises(PublishError, match=r"rss\.xml"):
        write_if_changed(tmp_path / "rss.xml", b"x")


def test_unwritable_parent_is_a_publish_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(PublishError) as info:
        write_if_changed(blocker / "rss.xml", b"x")
    assert info.value.path == str(blocker / "rss.xml")


def test_a_rebuild_of_the_same_feeds_changes_nothing(tmp_path: Path) -> None:
    """render -> verify -> write, twice: the second pass touches no file."""
    from feeds.publish.render import render, verify
    from tests.golden.sample import CHANNEL, ITEMS

    def build() -> list[bool]:
        changed = []
        for fmt, name in (("rss", "rss.xml"), ("atom", "atom.xml"), ("json", "feed.json")):
            data = render(fmt, CHANNEL, ITEMS)
            verify(fmt, data, ITEMS)
            changed.append(write_if_changed(tmp_path / CHANNEL.name / name, data))
        return changed

    assert build() == [True, True, True]
    for path in (tmp_path / CHANNEL.name).iterdir():
        os.utime(path, ns=(OLD_NS, OLD_NS))
    assert build() == [False, False, False]
    assert {p.stat().st_mtime_ns for p in (tmp_path / CHANNEL.name).iterdir()} == {OLD_NS}


def test_a_replacement_always_gets_a_later_whole_second(tmp_path: Path) -> None:
    """Last-Modified must move even when two versions are written within one second."""
    path = tmp_path / "feed.xml"
    write_if_changed(path, b"<a/>")
    first = path.stat().st_mtime_ns // 10**9
    write_if_changed(path, b"<b/>")
    second = path.stat().st_mtime_ns // 10**9
    write_if_changed(path, b"<c/>")
    third = path.stat().st_mtime_ns // 10**9
    assert first < second < third


def test_a_streamed_replacement_also_gets_a_later_whole_second(tmp_path: Path) -> None:
    from feeds.publish.atomic import write_pieces

    path = tmp_path / "feed.xml"
    write_pieces(path, [b"<a>", b"</a>"], size=7)
    first = path.stat().st_mtime_ns // 10**9
    write_pieces(path, [b"<b>", b"</b>"], size=7)
    assert path.stat().st_mtime_ns // 10**9 > first
    assert path.read_bytes() == b"<b></b>"


def dead_pid() -> int:
    """The PID of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_build_removes_the_temporary_files_a_killed_build_left(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text("Title\n\nPublished 3 May 2024\n\nBody.\n")
    (tmp_path / "feeds.toml").write_text(ONE_FOLDER_CONFIG)
    dead, alive = dead_pid(), os.getpid()  # (this test's process is not the build's)
    feed = tmp_path / "public" / "all"
    feed.mkdir(parents=True)
    left = [feed / f".spool.{dead}.0a1b2c3d.k7mghv26", feed / f".rss.xml.{dead}.x1y2z3w4.tmp",
            tmp_path / "public" / f".index.html.{dead}.abcdefgh.tmp"]
    old = feed / f".spool.{alive}.9f8e7d6c.oldoldol"  # its PID reused long after: stale too
    young = feed / f".spool.{alive}.9f8e7d6c.youngyou"  # another live process's, in use
    unrelated = feed / ".keep"
    for path in [*left, old, young, unrelated]:
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 2 * STALE_AGE,) * 2)
    result = subprocess.run([sys.executable, "-m", "feeds", "build", "-q", "--config",
                             str(tmp_path / "feeds.toml")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert [p for p in [*left, old] if p.exists()] == []
    assert young.exists() and unrelated.exists()


def test_a_dry_run_removes_nothing(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(ONE_FOLDER_CONFIG)
    (tmp_path / "articles").mkdir()
    feed = tmp_path / "public" / "all"
    feed.mkdir(parents=True)
    leftover = feed / f".spool.{dead_pid()}.0a1b2c3d.k7mghv26"
    leftover.write_bytes(b"x")
    result = subprocess.run([sys.executable, "-m", "feeds", "build", "--dry-run", "-q",
                             "--config", str(tmp_path / "feeds.toml")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert leftover.exists()
