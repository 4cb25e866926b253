"""The folder source: which files are articles, and reading them without ever hanging."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from feeds.errors import ArticleError, SourceError
from feeds.normalize import suffixes
from feeds.sources import folder

SUFFIXES = suffixes()  # what the pipeline hands the folder source: the readers' table


def make(root: Path, name: str, data: bytes = b"Title\n\nBody.\n") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_article_files_are_found_recursively_with_relative_keys(tmp_path: Path) -> None:
    make(tmp_path, "a.txt")
    make(tmp_path, "sub/b.md")
    make(tmp_path, "sub/deeper/c.html")
    scan = folder.scan(tmp_path, SUFFIXES)
    assert [(f.key, f.reader) for f in scan.files] == [
        ("a.txt", "text"), ("sub/b.md", "markdown"), ("sub/deeper/c.html", "html")]
    assert scan.problems == []


@pytest.mark.parametrize("name", [".hidden.txt", "draft.txt~", "#draft.txt#", ".#lock.txt",
                                  "a.txt.swp", "notes.tmp", "4913", "image.png", "data.json",
                                  ".git/config.txt"])
def test_hidden_temp_and_unknown_files_are_ignored(tmp_path: Path, name: str) -> None:
    make(tmp_path, name)
    scan = folder.scan(tmp_path, SUFFIXES)
    assert scan.files == []
    assert scan.problems == []
    assert scan.ignored


@pytest.mark.parametrize("name", [
    "a.txt", "A.TXT", "b.Md", "c.markdown", "d.htm", "e.html", ".txt", ".hidden.md", "x~",
    "#x#", "4913", "notes.tmp", "n.TXT.swp", "n.txt.part", "image.png", "README", "a.b.c",
    "trailing.", "x.text", "sub", "", ".", ".."])
def test_the_scan_classifies_a_name_as_the_public_rules_do(name: str) -> None:
    expected = False if folder.is_ignored_name(name) else folder.reader_for(name, SUFFIXES)
    assert folder._classify(name, SUFFIXES) == expected


def test_a_symlink_out_of_the_folder_is_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "src"
    secret = make(tmp_path, "secret.txt", b"Secret\n\nDo not publish.\n")
    root.mkdir()
    (root / "leak.txt").symlink_to(secret)
    (root / "leakdir").symlink_to(tmp_path)
    scan = folder.scan(root, SUFFIXES)
    assert scan.files == []
    reasons = sorted((p.key, p.reason) for p in scan.problems)
    assert reasons == [("leak.txt", "symlink leads outside the source folder: not followed"),
                       ("leakdir", "symlink leads outside the source folder: not followed")]


def test_a_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    real = make(tmp_path, "a.txt")
    (tmp_path / "alias.txt").symlink_to(real)
    assert [f.key for f in folder.scan(tmp_path, SUFFIXES).files] == ["a.txt", "alias.txt"]


def test_symlink_loops_are_reported(tmp_path: Path) -> None:
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "up").symlink_to(tmp_path / "dir")
    scan = folder.scan(tmp_path, SUFFIXES)
    assert ("loop.txt", "symlink loop") in [(p.key, p.reason) for p in scan.problems]
    assert any(p.key == "dir/up" and "cycle" in p.reason for p in scan.problems)


def test_fifos_and_sockets_are_reported_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock.txt"))
        scan = folder.scan(tmp_path, SUFFIXES)
    finally:
        sock.close()
    assert sorted((p.key, p.reason) for p in scan.problems) == [
        ("pipe.txt", "not a regular file (a FIFO)"), ("sock.txt", "not a regular file (a socket)")]


def test_read_refuses_a_fifo_swapped_in_after_the_scan(tmp_path: Path) -> None:
    make(tmp_path, "a.txt")
    found = folder.scan(tmp_path, SUFFIXES).files[0]
    (tmp_path / "a.txt").unlink()
    os.mkfifo(tmp_path / "a.txt")
    with pytest.raises(ArticleError, match="not a regular file"):
        folder.read(found, source="s", max_size=1000)


def test_read_returns_bytes_and_a_digest(tmp_path: Path) -> None:
    make(tmp_path, "a.txt", b"x" * 10)
    raw = folder.read(folder.scan(tmp_path, SUFFIXES).files[0], source="s", max_size=100)
    assert raw.data == b"x" * 10 and (raw.key, raw.kind, raw.source) == ("a.txt", "text", "s")
    assert raw.file is not None and raw.file.size == 10 and raw.file.digest


def test_files_over_the_limit_are_refused(tmp_path: Path) -> None:
    make(tmp_path, "big.txt", b"x" * 2048)
    with pytest.raises(ArticleError, match=r"file too large \(2.0 KiB; the limit is 1.0 KiB\)"):
        folder.read(folder.scan(tmp_path, SUFFIXES).files[0], source="s", max_size=1024)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    path = make(tmp_path, "a.txt")
    path.chmod(0)
    with pytest.raises(ArticleError, match="permission denied"):
        folder.read(folder.scan(tmp_path, SUFFIXES).files[0], source="s", max_size=100)


def test_a_missing_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot be opened"):
        folder.scan(tmp_path / "missing", SUFFIXES)


def test_a_file_that_vanishes_after_the_scan_is_reported(tmp_path: Path) -> None:
    make(tmp_path, "a.txt")
    found = folder.scan(tmp_path, SUFFIXES).files[0]
    (tmp_path / "a.txt").unlink()
    with pytest.raises(ArticleError, match="file vanished"):
        folder.read(found, source="s", max_size=100)


def test_permission_denied_is_reported_even_for_root(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "a.txt")
    found = folder.scan(tmp_path, SUFFIXES).files[0]

    def deny(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(folder.os, "open", deny)
    with pytest.raises(ArticleError, match="unreadable: permission denied"):
        folder.read(found, source="s", max_size=100)


def test_a_file_growing_while_it_is_read_is_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = make(tmp_path, "a.txt", b"first half")
    found = folder.scan(tmp_path, SUFFIXES).files[0]
    real_read = os.read
    appended = []

    def read_then_append(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        if data and not appended:
            with path.open("ab") as f:  # another process is still writing
                f.write(b" and the second half")
            appended.append(True)
        return data

    monkeypatch.setattr(folder.os, "read", read_then_append)
    with pytest.raises(ArticleError, match="changed while it was being read"):
        folder.read(found, source="s", max_size=1000)


def test_device_files_are_reported(tmp_path: Path) -> None:
    import stat as stat_module

    try:
        os.mknod(tmp_path / "null.txt", stat_module.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs privileges")
    scan = folder.scan(tmp_path, SUFFIXES)
    assert [(p.key, p.reason) for p in scan.problems] == [
        ("null.txt", "not a regular file (a device file)")]
