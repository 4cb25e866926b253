"""Feed files streamed from fragments: reused by byte range, or rendered and spooled.

A feed file is ``head + sep.join(fragments) + tail`` (:mod:`feeds.publish.render`).  The
feed index a build leaves (kept by the store) says, per file, where each fragment lies;
the next build copies every fragment it can reuse from the current file by its byte range
(the kernel copies: ``copy_file_range``), renders the others into spool files beside the
output (:func:`spool`, also in worker processes), and :func:`assemble` streams head,
ranges and tail into the new file (:func:`feeds.publish.atomic.write_pieces`).

A reused range was verified when it was written, and the file it comes from is unchanged
since (same size, mtime, inode and ctime: :func:`file_stats`); every fragment rendered now
is verified before it is spooled, and so are the head and tail.
"""

from __future__ import annotations

import array
import contextlib
import itertools
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from feeds.errors import OutputError, PublishError
from feeds.model import Channel, Item
from feeds.publish.atomic import Span, write_pieces
from feeds.publish.render import Summary, fragment_context, renderer, verify

__all__ = [
    "Output",
    "Reusable",
    "Spooled",
    "assemble",
    "checked",
    "file_stats",
    "positions",
    "remove_spools",
    "spool",
    "spool_dir",
]

#: a spool file's name, and per item in it: (position, offset, length, authorless)
Spooled = tuple[str, list[tuple[int, int, int, int]]]


def checked(fmt: str, path: Path, data: bytes, items: Sequence[Item]) -> None:
    """:func:`verify` ``data``, the bytes about to become ``path``, or say which file kept
    its old bytes."""
    try:
        verify(fmt, data, items)
    except PublishError as exc:
        raise PublishError(f"{fmt} output failed its check, old file kept: {exc.message}",
                           path=str(path)) from exc


class Reusable:
    """The fragments of one file as last written, found by fragment key: (offset, length,
    authorless).  Empty unless the file is still the one the index describes.

    The index keeps the feed's fragment keys once and, per file, where the first fragment
    starts and each one's ``length * 2 + authorless``: fragments follow each other, ``sep``
    bytes apart.  Offsets are kept in an array and the key -> position map is shared by the
    feed's files (at 50,000 items, per-file dicts of tuples cost ~20 MB more).
    """

    EMPTY: Reusable

    def __init__(self, position: Mapping[str, int], offsets: array.array[int],
                 sizes: Sequence[int]) -> None:
        self.position = position
        self.offsets = offsets
        self.sizes = sizes

    def __contains__(self, key: str) -> bool:
        return key in self.position

    def __len__(self) -> int:
        return len(self.position)

    def __getitem__(self, key: str) -> tuple[int, int, int]:
        n = self.position[key]
        size = self.sizes[n]
        return self.offsets[n], size >> 1, size & 1

    @classmethod
    def of(cls, index: dict[str, object] | None, position: Mapping[str, int], fmt: str,
           context: str, sep: int, path: Path) -> Reusable:
        if index is None or not position:
            return cls.EMPTY
        formats = index.get("formats")
        entry = formats.get(fmt) if isinstance(formats, dict) else None
        if not isinstance(entry, dict) or entry.get("context") != context:
            return cls.EMPTY
        start, sizes = entry.get("start"), entry.get("sizes")
        if not isinstance(start, int) or not isinstance(sizes, list) \
                or len(sizes) != len(position) \
                or not all(type(size) is int and size >= 0 for size in sizes) \
                or entry.get("file") != file_stats({fmt: path})[fmt]:
            return cls.EMPTY  # not the file we wrote, or an index we did not write
        offsets = array.array("q", itertools.accumulate(
            ((size >> 1) + sep for size in sizes[:-1]), initial=start))
        return cls(position, offsets, sizes)


Reusable.EMPTY = Reusable({}, array.array("q"), [])


def positions(index: dict[str, object] | None) -> dict[str, int]:
    """Fragment key -> its position in the files the index describes (none if unusable)."""
    keys = index.get("keys") if index is not None else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return {}
    position = {key: n for n, key in enumerate(keys)}
    return position if len(position) == len(keys) else {}


class Output:
    """One file being published: its renderer, what it can reuse (from its own previous
    version, or ``source``, another file of the feed), what it rendered."""

    def __init__(self, fmt: str, channel: Channel, path: Path,
                 index: dict[str, object] | None, position: Mapping[str, int],
                 source: Path | None = None) -> None:
        self.fmt = fmt
        self.path = path
        self.source = source or path  # the file ``index`` describes (reused from)
        self.renderer = renderer(fmt, channel)
        self.context = fragment_context(fmt, channel)
        self.reusable = Reusable.of(index, position, fmt, self.context,
                                     len(self.renderer.sep), self.source)
        self.old_fd = -1
        # position -> (fd of a spool file, offset, length, authorless)
        self.rendered: dict[int, tuple[int, int, int, int]] = {}

    def open_old(self, stack: contextlib.ExitStack, count: int) -> None:
        if len(self.reusable) and count:
            try:
                self.old_fd = os.open(self.source, os.O_RDONLY)
            except OSError:
                self.reusable = Reusable.EMPTY
            else:
                stack.callback(os.close, self.old_fd)


def spool(fmt: str, channel: Channel, path: Path, prefix: str,
          todo: Sequence[tuple[int, Item]]) -> Spooled:
    """Render the items of ``todo`` (position, item) in ``fmt``, verify them (as one small
    document) and write them to a spool file beside ``path``, separated as in the feed so
    that runs are copied whole: the spool's name and per item (position, offset, length,
    authorless)."""
    r = renderer(fmt, channel)
    items = [item for _, item in todo]
    fragments = [r.entry(item) for item in items]
    if items:
        head, tail = r.frame(Summary.of(items, False))
        checked(fmt, path, head + r.sep.join(fragments) + tail, items)
    where = spool_dir(path)
    try:
        fd, name = tempfile.mkstemp(dir=where, prefix=prefix)
    except OSError as exc:
        raise OutputError.of(exc, where or path, "cannot write a temporary file") from exc
    entries: list[tuple[int, int, int, int]] = []
    try:
        with os.fdopen(fd, "wb") as handle:
            offset = 0
            for (n, item), data in zip(todo, fragments, strict=True):
                if offset:
                    handle.write(r.sep)
                    offset += len(r.sep)
                entries.append((n, offset, len(data), int(r.authorless(item))))
                handle.write(data)
                offset += len(data)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(exc, OSError):
            raise OutputError.of(exc, Path(name).parent, "cannot write a temporary file") \
                from exc
        raise
    return name, entries


def assemble(out: Output, count: int, newest: tuple[str, str] | None,
              keys: Sequence[str]) -> tuple[bool, dict[str, object]]:
    """Write head, every fragment (spooled or reused) and tail; the file's index entry.
    ``newest``: the greatest stored ``updated`` and ``published`` (None: no items)."""
    r = out.renderer
    rendered, reusable, old_fd = out.rendered, out.reusable, out.old_fd
    spans = [rendered[n] if n in rendered else (old_fd, *reusable[key])
             for n, key in enumerate(keys)]
    summary = Summary(
        count,
        datetime.fromisoformat(newest[0]) if newest else None,
        datetime.fromisoformat(newest[1]) if newest else None,
        any(span[3] for span in spans))
    head, tail = r.frame(summary)
    checked(out.fmt, out.path, head + tail, [])
    pieces: list[bytes | Span] = [head]
    sep = len(r.sep)
    sizes: list[int] = []
    position = len(head)
    run_fd, run_start, run_end = -1, 0, -1  # the run of fragments being copied as one
    for n, (fd, offset, length, flag) in enumerate(spans):
        sizes.append(length * 2 + flag)
        if fd == run_fd and offset == run_end + sep:
            run_end = offset + length  # the next fragment of a run, separator included
        else:
            if run_fd != -1:
                pieces.append(Span(run_fd, run_start, run_end - run_start))
            if n and sep:
                pieces.append(r.sep)
            run_fd, run_start, run_end = fd, offset, offset + length
        position += length + (sep if n else 0)
    if run_fd != -1:
        pieces.append(Span(run_fd, run_start, run_end - run_start))
    pieces.append(tail)
    changed = write_pieces(out.path, pieces, size=position + len(tail))
    return changed, {"context": out.context, "file": file_stats({out.fmt: out.path})[out.fmt],
                     "start": len(head), "sizes": sizes}


def remove_spools(folders: set[Path], prefix: str) -> None:
    """Spool files a failed publication left (those it used are unlinked once open)."""
    for where in folders:
        for leftover in where.glob(prefix + "*") if where.is_dir() else ():
            with contextlib.suppress(OSError):
                leftover.unlink()


def spool_dir(path: Path) -> Path | None:
    """Beside the output (same file system: the kernel copies cheaply), else the system's
    temporary directory (writing the output will then say what is wrong with it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path.parent


def file_stats(paths: dict[str, Path]) -> dict[str, list[int] | None]:
    """What identifies each file as the one a build wrote: its size, mtime, inode and
    ctime.  The ctime is the kernel's own mark of a change: every write, truncation,
    ``utime``, rename or ``chmod`` sets it to the current time, and no call sets it back.
    A hand edit that keeps the size, the inode and (with ``touch -d``) the mtime still
    moves it, so the file is not trusted (reused from, or taken as unchanged) again.  It
    costs one ``stat``; a checksum of the reused bytes would read every one of them
    (hundreds of MB for a feed of 50,000 items) at every build."""
    stats: dict[str, list[int] | None] = {}
    for fmt, path in paths.items():
        try:
            st = path.stat()
            stats[fmt] = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
        except OSError:
            stats[fmt] = None
    return stats
