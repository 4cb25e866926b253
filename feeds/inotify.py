"""Linux inotify through ctypes, for the folder watcher: the events watchfiles does not give.

watchfiles reports added / modified / deleted, nothing about a writer closing its file, so
``feeds run`` had to wait for a file to be left alone (the settle time) before reading it.
inotify says when a writer closes a file (``IN_CLOSE_WRITE``) and when a file is renamed
into place (``IN_MOVED_TO``, complete by then): both can be read at once.  No dependency:
three libc calls and the event layout, as ``inotify(7)`` documents them.  Watches are not
recursive in inotify: :class:`Tree` adds one per folder, and for folders made or moved in
later.  Hidden folders (``.git``, ``.cache`` ...) are left out: the folder source ignores
them too.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import stat
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

WATCHED = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
           | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (then the name, NUL-padded)


@dataclass(frozen=True, slots=True)
class Event:
    wd: int
    mask: int
    name: str


class Inotify:
    """One inotify instance (Linux only: ``OSError`` elsewhere, or when out of instances)."""

    def __init__(self) -> None:
        if not sys.platform.startswith("linux"):
            raise OSError(errno.ENOSYS, "inotify is Linux only")
        self._libc = ctypes.CDLL(None, use_errno=True)
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise _error("inotify_init1")
        self.fd: int = fd
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def add_watch(self, path: Path, mask: int = WATCHED) -> int:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), ctypes.c_uint32(mask))
        if wd < 0:
            raise _error("inotify_add_watch", path)
        return int(wd)

    def rm_watch(self, wd: int) -> None:
        self._libc.inotify_rm_watch(self.fd, wd)  # (gone already: nothing to do)

    def read(self) -> list[Event]:
        """The events queued, waiting for some; [] once :meth:`wake` was called."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        while True:
            ready = {fd for fd, _mask in poller.poll()}
            if self._wake_read in ready:
                return []
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            return list(_parse(data))

    def wake(self) -> None:
        """Make :meth:`read` return (from another thread)."""
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    def close(self) -> None:
        for fd in (self.fd, self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Inotify:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error(call: str, path: Path | None = None) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{call}: {os.strerror(code)}", None if path is None else str(path))


def _parse(data: bytes) -> Iterator[Event]:
    offset = 0
    while offset + _HEADER.size <= len(data):
        wd, mask, _cookie, size = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size
        name = os.fsdecode(data[offset:offset + size].rstrip(b"\0"))
        offset += size
        yield Event(wd, mask, name)


@dataclass(slots=True)
class Changes:
    """What a batch of events means: ``complete`` paths can be read now (closed by their
    writer, renamed in, gone), ``unsettled`` ones after the settle rule (a folder made,
    metadata changed, events lost), and whether anything happened at all (``active``:
    a file being written counts, though it is in neither list yet)."""

    complete: list[str]
    unsettled: list[str]
    active: bool = False


class Tree:
    """Watches on every folder under ``roots``, and what their events mean."""

    def __init__(self, inotify: Inotify, roots: list[Path]) -> None:
        self.inotify = inotify
        self.roots = roots
        self.paths: dict[int, Path] = {}  # wd -> folder
        self.writing: set[Path] = set()  # files written to and not closed yet
        self.failed: list[tuple[Path, OSError]] = []

    def add(self, folder: Path) -> None:
        """Watch ``folder`` and every folder under it but hidden ones (best effort: a
        folder that cannot be watched is remembered in ``failed``)."""
        stack = [folder]
        while stack:
            current = stack.pop()
            try:
                self.paths[self.inotify.add_watch(current)] = current
                with os.scandir(current) as found:
                    stack.extend(Path(e.path) for e in found
                                 if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ENOTDIR):  # (gone meanwhile)
                    self.failed.append((current, exc))

    def drop(self, folder: Path) -> None:
        """Stop watching ``folder`` and the folders under it (moved out, or removed)."""
        for wd, path in list(self.paths.items()):
            if path == folder or path.is_relative_to(folder):
                del self.paths[wd]
                self.inotify.rm_watch(wd)

    def changes(self, events: list[Event]) -> Changes:
        out = Changes([], [], active=bool(events))
        for event in events:
            self._one(event, out)
        return out

    def _one(self, event: Event, out: Changes) -> None:
        mask = event.mask
        if mask & IN_Q_OVERFLOW:  # events were lost: every folder is looked at again
            out.unsettled.extend(str(root) for root in self.roots)
            return
        folder = self.paths.get(event.wd)
        if folder is None:
            return
        if mask & IN_IGNORED:
            self.paths.pop(event.wd, None)
            return
        if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
            if folder in self.roots:
                out.unsettled.append(str(folder))
            return
        path = folder / event.name
        if mask & IN_ISDIR:
            if mask & (IN_MOVED_TO | IN_CREATE) and not event.name.startswith("."):
                self.add(path)  # a folder moved in is complete; one made is being filled
                (out.complete if mask & IN_MOVED_TO else out.unsettled).append(str(path))
            elif mask & (IN_MOVED_FROM | IN_DELETE):
                self.drop(path)
                out.complete.append(str(path))
            return
        if mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE):
            self.writing.discard(path)
            out.complete.append(str(path))
        elif mask & IN_ATTRIB:
            if path not in self.writing:  # (a file being written: once its writer closes it)
                out.unsettled.append(str(path))
        elif mask & IN_CREATE and _complete_on_creation(path):
            out.complete.append(str(path))
        elif mask & (IN_MODIFY | IN_CREATE):  # read once its writer closes it
            self.writing.add(path)


def _complete_on_creation(path: Path) -> bool:
    """A symbolic link, or a hard link to a file already there: no writer will close it."""
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_nlink > 1)
