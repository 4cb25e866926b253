"""Atomic, change-aware file writes: readers see the old file or the new one, never half.

``write_if_changed`` writes a temporary file in the target's directory, fsyncs it,
``os.replace``s it over the target and fsyncs the directory.  When the target already holds
exactly the new bytes nothing is touched (its mtime stays), so a no-op rebuild keeps HTTP
caches (ETag / Last-Modified) valid.  On any failure the old file is left as it was and the
temporary file is removed.

A new file gets mode 0644 (it is meant to be served); a replaced file keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from feeds.errors import PublishError

__all__ = ["write_if_changed"]

NEW_FILE_MODE = 0o644


def write_if_changed(path: Path, data: bytes, *, dry_run: bool = False) -> bool:
    """Make ``path`` hold ``data``; return whether it changed (or would, with ``dry_run``).

    Creates missing parent directories.  Raises ``PublishError`` naming the path on any
    ``OSError``.
    """
    path = Path(path)
    try:
        mode = _unchanged_or_mode(path, data)
        if mode is None:
            return False
        if dry_run:
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data, mode)
    except OSError as exc:
        raise PublishError(f"cannot write: {exc.strerror or exc}", path=str(path)) from exc
    return True


def _unchanged_or_mode(path: Path, data: bytes) -> int | None:
    """None when ``path`` already holds ``data``, else the mode the new file should get."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return NEW_FILE_MODE
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(21, "not a regular file", str(path))
    if st.st_size == len(data) and path.read_bytes() == data:
        return None
    return stat.S_IMODE(st.st_mode)


def _replace(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


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
