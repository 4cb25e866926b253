"""A full disk, a read-only mount, a refused write: one line naming the path, exit 2, the old
files as they were, no temporary file left, and never a traceback.

Two ways in.  Where this process may mount a small tmpfs (root in a container that
allows it), the file system itself says "No space left on device" or "Read-only file
system" to a real ``feeds`` process.  Everywhere, the same errors are injected at the
system calls (``os.open``, ``os.write``, ``os.pwrite``) into ``feeds.cli.main`` run in
this process.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds.cli import EXIT_FAILED, EXIT_OK, main
from feeds.store import SqliteStore, Store
from tests.conftest import ONE_FOLDER_CONFIG

Snapshot = dict[str, tuple[bytes, int, int]]


def article(n: int) -> str:
    return (f"Story number {n} of the day\n\nPublished 3 May 2024\n\n"
            f"LISBON: The story number {n}. {'Words and more words. ' * 20}\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    for n in range(30):
        (tmp_path / "articles" / f"a{n:02}.txt").write_text(article(n), encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(ONE_FOLDER_CONFIG, encoding="utf-8")
    (tmp_path / "public").mkdir()
    (tmp_path / "state").mkdir()
    return tmp_path


def add_article(site: Path, n: int = 99) -> None:
    (site / "articles" / f"new{n}.txt").write_text(article(n), encoding="utf-8")


def snapshot(folder: Path) -> Snapshot:
    """Every file under ``folder`` (but the tests' filler): its bytes, mtime and inode."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "filler"}


def temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*") if p.name.startswith(".spool.")
            or p.name.endswith(".tmp")]


def one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("feeds: error: "), err
    return lines[0]


# --------------------------------------------------------------------------- injected


def run_build(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["build", "-q", "--config", str(site / "feeds.toml")])
    return code, capsys.readouterr().err


def failing(real: Callable[..., Any], error: int, when: Callable[..., bool]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            raise OSError(error, os.strerror(error))
        return real(*args, **kwargs)
    return call


def under(folder: Path) -> Callable[..., bool]:
    """``os.open(path, flags)`` creating a file in ``folder`` (a temporary or spool file)."""
    def when(path: Any, flags: int = 0, *args: Any, **kwargs: Any) -> bool:
        return isinstance(path, (str, os.PathLike)) and bool(flags & os.O_CREAT) \
            and Path(path).parent.is_relative_to(folder)
    return when


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_an_output_folder_refusing_new_files_gives_one_line_and_exit_2(
        site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        error: int) -> None:
    assert run_build(site, capsys)[0] == EXIT_OK
    before = snapshot(site / "public")
    add_article(site)
    monkeypatch.setattr(os, "open", failing(os.open, error, under(site / "public")))
    code, err = run_build(site, capsys)
    monkeypatch.undo()
    line = one_error_line(err)
    assert code == EXIT_FAILED
    assert str(site / "public" / "all") in line
    assert os.strerror(error) in line
    assert snapshot(site / "public") == before
    assert temporaries(site) == []


def test_a_disk_filling_up_while_the_feed_is_written_keeps_the_old_files(
        site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The spools were written; the disk fills while the new file is streamed."""
    assert run_build(site, capsys)[0] == EXIT_OK
    before = snapshot(site / "public")
    add_article(site)
    monkeypatch.setattr(os, "write", failing(os.write, errno.ENOSPC, lambda *a: True))
    code, err = run_build(site, capsys)
    monkeypatch.undo()
    line = one_error_line(err)
    assert code == EXIT_FAILED
    assert line.endswith(": cannot write: No space left on device")
    assert str(site / "public" / "all") in line
    assert snapshot(site / "public") == before
    assert temporaries(site) == []


@pytest.mark.parametrize("page", ["index.html", "feeds.opml"])
def test_a_page_that_cannot_be_written_gives_one_line_and_exit_2(
        site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        page: str) -> None:
    assert run_build(site, capsys)[0] == EXIT_OK
    (site / "feeds.toml").write_text(ONE_FOLDER_CONFIG.replace('title = "T"', 'title = "U"'))
    before = snapshot(site / "public")

    def page_temp(path: Any, flags: int = 0, *args: Any, **kwargs: Any) -> bool:
        return isinstance(path, str) and Path(path).name.startswith(f".{page}.")

    monkeypatch.setattr(os, "open", failing(os.open, errno.ENOSPC, page_temp))
    code, err = run_build(site, capsys)
    monkeypatch.undo()
    line = one_error_line(err)
    assert code == EXIT_FAILED
    assert line == f"feeds: error: {site / 'public' / page}: cannot write: " \
                   "No space left on device"
    assert snapshot(site / "public")[page] == before[page]
    assert temporaries(site) == []


def test_a_full_disk_while_taking_the_lock_gives_one_line_and_exit_2(
        site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "pwrite", failing(os.pwrite, errno.ENOSPC, lambda *a: True))
    code, err = run_build(site, capsys)
    monkeypatch.undo()
    assert code == EXIT_FAILED
    assert one_error_line(err) == (
        f"feeds: error: {site / 'state' / '.feeds.lock'}: cannot write the lock file: "
        "No space left on device")


def test_a_read_only_store_gives_one_line_and_exit_2(
        site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's own "attempt to write a readonly database" (``PRAGMA query_only`` makes it
    say so), translated by the store."""
    assert run_build(site, capsys)[0] == EXIT_OK
    before = snapshot(site / "public")
    add_article(site)
    real_open = SqliteStore.open.__func__  # type: ignore[attr-defined]

    def read_only(cls: type[SqliteStore], *args: Any, **kwargs: Any) -> Store:
        store = real_open(cls, *args, **kwargs)
        store._db.execute("PRAGMA query_only = 1")
        return store

    monkeypatch.setattr(SqliteStore, "open", classmethod(read_only))
    code, err = run_build(site, capsys)
    monkeypatch.undo()
    line = one_error_line(err)
    assert code == EXIT_FAILED
    assert line.startswith(f"feeds: error: {site / 'state' / 'feeds.db'}: cannot ")
    assert line.endswith("attempt to write a readonly database")
    assert snapshot(site / "public") == before


# --------------------------------------------------------------------------- real file systems


def feeds(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feeds", "build", *args, "--config",
                           str(site / "feeds.toml")], capture_output=True, text=True, timeout=120)


class Tmpfs:
    def __init__(self, where: Path) -> None:
        self.where = where

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.where)], check=True)

    def fill(self) -> None:
        """Leave no free block: a file grown until the file system says it is full."""
        with (self.where / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC


@pytest.fixture
def tmpfs() -> Iterator[Callable[[Path, str], Tmpfs]]:
    """Mount a small tmpfs (skips where this process may not mount)."""
    mounted: list[Path] = []

    def mount(where: Path, size: str) -> Tmpfs:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                 str(where)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(where)
        return Tmpfs(where)

    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_output_file_system_keeps_the_old_files(
        site: Path, tmpfs: Callable[[Path, str], Tmpfs]) -> None:
    disk = tmpfs(site / "public", "2m")
    assert feeds(site).returncode == EXIT_OK
    before = snapshot(site / "public")
    disk.fill()
    add_article(site)
    result = feeds(site)
    line = one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED, result.stderr
    assert str(site / "public") in line and line.endswith("No space left on device")
    assert snapshot(site / "public") == before
    assert temporaries(site) == []


def test_a_read_only_output_file_system_keeps_the_old_files(
        site: Path, tmpfs: Callable[[Path, str], Tmpfs]) -> None:
    disk = tmpfs(site / "public", "2m")
    assert feeds(site).returncode == EXIT_OK
    before = snapshot(site / "public")
    disk.remount("ro")
    add_article(site)
    result = feeds(site)
    line = one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(site / "public") in line and line.endswith("Read-only file system")
    assert snapshot(site / "public") == before


def test_a_full_state_file_system_is_one_line_and_exit_2(
        site: Path, tmpfs: Callable[[Path, str], Tmpfs]) -> None:
    disk = tmpfs(site / "state", "1m")
    assert feeds(site).returncode == EXIT_OK
    before = snapshot(site / "public")
    disk.fill()
    for n in range(100, 140):
        add_article(site, n)
    result = feeds(site)
    line = one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(site / "state") in line
    assert line.endswith(("No space left on device", "database or disk is full"))
    assert snapshot(site / "public") == before


def test_a_read_only_state_file_system_is_one_line_and_exit_2(
        site: Path, tmpfs: Callable[[Path, str], Tmpfs]) -> None:
    disk = tmpfs(site / "state", "1m")
    assert feeds(site).returncode == EXIT_OK
    disk.remount("ro")
    add_article(site)
    result = feeds(site)
    line = one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert line == (f"feeds: error: {site / 'state' / '.feeds.lock'}: cannot open the lock "
                    "file: Read-only file system")


def test_a_state_file_system_too_small_for_the_store_is_one_line_and_exit_2(
        site: Path, tmpfs: Callable[[Path, str], Tmpfs]) -> None:
    """Room for the lock file but not for the database and its WAL index: SQLite says
    "database or disk is full" or, when the WAL index cannot grow, only "disk I/O error"
    (which I/O is then named, with a hint)."""
    tmpfs(site / "state", "16k")
    result = feeds(site)
    line = one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert line.startswith(f"feeds: error: {site / 'state' / 'feeds.db'}: cannot ")
    assert line.endswith(("database or disk is full", "is the disk full?)")), line
