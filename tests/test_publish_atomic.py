"""write_if_changed: atomic replacement, no-op on identical bytes, clean failure, dry run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from feeds.errors import PublishError
from feeds.publish.atomic import write_if_changed

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
