"""Atomic, change-aware file writes: readers see the old file or the new one, never half.

``write_if_changed`` writes a temporary file in the target's directory, fsyncs it,
``os.replace``s it over the target and fsyncs the directory.  When the target already holds
exactly the new bytes nothing is touched (its mtime stays), so a no-op rebuild keeps HTTP
caches (ETag / Last-Modified) valid.  On any failure the old file is left as it was and the
temporary file is removed.

A new file gets mode 0644 (it is meant to be served); a replaced file keeps its mode.

Every temporary file in the output directory carries the PID of the process that made it
(``.rss.xml.<pid>.<random>.tmp``, and the spools of :mod:`feeds.publish.stream`,
``.spool.<pid>.<random>...``): :func:`remove_temporaries` removes those a killed process
left behind, and a process stopping in a hurry removes its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from feeds.errors import OutputError, PublishError

__all__ = ["Span", "remove_temporaries", "write_if_changed", "write_pieces"]

NEW_FILE_MODE = 0o644


def write_if_changed(path: Path, data: bytes, *, dry_run: bool = False) -> bool:
    """Make ``path`` hold ``data``; return whether it changed (or would, with ``dry_run``).

    Creates missing parent directories.  Raises ``PublishError`` naming the path on any
    ``OSError``.
    """
    path = Path(path)
    try:
        previous = _unchanged_or_mode(path, data)
        if previous is None:
            return False
        if dry_run:
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data, *previous)
    except OSError as exc:
        raise OutputError.of(exc, path) from exc
    return True


@dataclass(frozen=True, slots=True)
class Span:
    """``length`` bytes at ``offset`` of the open file ``fd``: copied by the kernel."""

    fd: int
    offset: int
    length: int


_BUFFER = 1 << 20


def write_pieces(path: Path, pieces: Iterable[bytes | Span], *, size: int) -> bool:
    """Make ``path`` hold the concatenation of ``pieces`` (``size`` bytes in all), streamed.

    Like :func:`write_if_changed`, atomic and change-aware (an identical file is left as
    it was, mtime and all), but nothing of the document is ever whole in memory: byte
    strings are written through a small buffer, and a :class:`Span` of another file
    (typically the previous version of this one) is copied by the kernel.
    """
    path = Path(path)
    try:
        old_mtime_ns: int | None = None
        try:
            st = path.stat()
        except FileNotFoundError:
            old_size, mode = None, NEW_FILE_MODE
        else:
            if not stat.S_ISREG(st.st_mode):
                raise IsADirectoryError(21, "not a regular file", str(path))
            old_size, mode, old_mtime_ns = st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns
        path.parent.mkdir(parents=True, exist_ok=True)

        def stream(fd: int) -> None:
            written = _stream(fd, pieces)
            if written != size:
                raise PublishError(f"wrote {written} bytes, expected {size}", path=str(path))

        def unchanged(tmp: str) -> bool:
            return old_size == size and _same_bytes(Path(tmp), path)

        if not _install(path, stream, mode, old_mtime_ns, unchanged=unchanged):
            return False
    except OSError as exc:
        raise OutputError.of(exc, path) from exc
    return True


def _stream(fd: int, pieces: Iterable[bytes | Span]) -> int:
    buffer: list[bytes] = []
    buffered = 0
    written = 0
    pending: Span | None = None  # adjacent spans are merged into one copy

    def flush() -> None:
        nonlocal buffered
        if buffer:
            _write_all(fd, b"".join(buffer))
            buffer.clear()
            buffered = 0

    def copy(span: Span) -> None:
        flush()
        _copy_range(span, fd)

    for piece in pieces:
        if isinstance(piece, Span):
            if piece.length <= 0:
                continue
            if pending is not None and pending.fd == piece.fd \
                    and pending.offset + pending.length == piece.offset:
                pending = Span(piece.fd, pending.offset, pending.length + piece.length)
            else:
                if pending is not None:
                    copy(pending)
                pending = piece
            written += piece.length
            continue
        if pending is not None:
            copy(pending)
            pending = None
        buffer.append(piece)
        buffered += len(piece)
        written += len(piece)
        if buffered >= _BUFFER:
            flush()
    if pending is not None:
        copy(pending)
    flush()
    return written


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_range(span: Span, fd: int) -> None:
    offset, left = span.offset, span.length
    copy_file_range = getattr(os, "copy_file_range", None)
    if copy_file_range is not None:
        try:
            while left:
                done = copy_file_range(span.fd, fd, left, offset)
                if done <= 0:
                    break
                offset += done
                left -= done
        except OSError:  # not supported between these files: copy through user space
            pass
    while left:
        chunk = os.pread(span.fd, min(left, _BUFFER), offset)
        if not chunk:
            raise OSError(5, "source file shorter than expected")
        _write_all(fd, chunk)
        offset += len(chunk)
        left -= len(chunk)


def _same_bytes(a: Path, b: Path) -> bool:
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(_BUFFER), fb.read(_BUFFER)
            if x != y:
                return False
            if not x:
                return True


def _unchanged_or_mode(path: Path, data: bytes) -> tuple[int, int | None] | None:
    """None when ``path`` already holds ``data``, else (the new file's mode, old mtime)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return NEW_FILE_MODE, None
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(21, "not a regular file", str(path))
    if st.st_size == len(data) and path.read_bytes() == data:
        return None
    return stat.S_IMODE(st.st_mode), st.st_mtime_ns


def _advance_mtime(tmp: str, old_mtime_ns: int | None) -> None:
    """Make a replacement's mtime at least one whole second after the old file's.

    ``Last-Modified`` has whole seconds: two versions written within one second would
    share it, and a reader that validates with ``If-Modified-Since`` would keep the old one.
    """
    if old_mtime_ns is None:
        return
    floor = (old_mtime_ns // 1_000_000_000 + 1) * 1_000_000_000
    st = os.stat(tmp)
    if st.st_mtime_ns < floor:
        os.utime(tmp, ns=(st.st_atime_ns, floor))


def _replace(path: Path, data: bytes, mode: int, old_mtime_ns: int | None = None) -> None:
    _install(path, lambda fd: _write_all(fd, data), mode, old_mtime_ns)


def _install(path: Path, write: Callable[[int], None], mode: int, old_mtime_ns: int | None,
             *, unchanged: Callable[[str], bool] | None = None) -> bool:
    """The one atomic write: a temp file beside ``path``, filled by ``write``, fsynced,
    given ``mode`` and a later mtime, renamed over ``path``, the folder fsynced.  When
    ``unchanged(temp)`` says the old file already holds these bytes, nothing is replaced
    and False is returned.  No temp file survives a failure."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=".tmp")
    try:
        try:
            write(fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        if unchanged is not None and unchanged(tmp):
            os.unlink(tmp)
            return False
        os.chmod(tmp, mode)
        _advance_mtime(tmp, old_mtime_ns)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable.  Platforms that cannot open a directory skip this."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: a temporary file's name: ``.<file>.<pid>.<random>.tmp`` (:func:`_install`) or
#: ``.spool.<pid>.<random>...`` (spools); group 1 is the PID of the process that made it
_TEMPORARY = re.compile(r"\.spool\.(\d+)\..+|\..+\.(\d+)\.[a-z0-9_]+\.tmp")
#: a temporary file this old whose PID is alive belongs to another process that reused it
STALE_AGE = 3600.0


def remove_temporaries(folders: Iterable[Path], *, own: bool = False) -> list[Path]:
    """Remove the temporary files (see the module docstring) in ``folders`` that no live
    process will use: made by a process that is gone (killed in the middle of a build), or
    older than :data:`STALE_AGE` (its PID now another process's).  ``own``: this process's
    too, when it is about to exit without unwinding.  Returns what was removed."""
    me = os.getpid()
    removed: list[Path] = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _TEMPORARY.fullmatch(entry.name)
            if match is None:
                continue
            pid = int(match.group(1) or match.group(2))
            if own if pid == me else not _alive(pid) or _age(entry) > STALE_AGE:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _age(entry: os.DirEntry[str]) -> float:
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0
