"""A source kind of one local file (``path``): a folder source of a single file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from feeds.errors import SourceError
from feeds.model import FileState
from feeds.sources.folder import FoundFile, Scan, Suffixes, read, reader_for

__all__ = ["read", "scan", "scan_paths"]


def scan(root: Path, suffixes: Suffixes) -> Scan:
    result = Scan()
    try:
        st = os.stat(root)
    except OSError as exc:
        raise SourceError(f"file {root} cannot be opened: {exc.strerror}") from None
    kind = reader_for(root.name, suffixes)
    if kind is None:
        result.ignored.append(root.name)
    else:
        state = FileState(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        result.files.append(FoundFile(root.name, str(root), kind, state))
    return result


def scan_paths(root: Path, keys: Iterable[str], suffixes: Suffixes) -> None:
    return None  # one file: a full scan is one stat
