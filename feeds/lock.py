"""One writer per state directory: an ``flock`` on ``<state dir>/.feeds.lock``.

The kernel drops an ``flock`` when its file is closed, so the lock dies with its process,
even under SIGKILL: there is never a stale lock to clean up.  The holder writes its PID into
the file so the next one can say who holds it.  The file itself is never deleted (deleting a
lock file races with a process that has it open).
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import time
from pathlib import Path

from feeds.errors import LockedError, StoreError, os_reason

__all__ = ["LOCK_NAME", "StateLock"]

LOCK_NAME = ".feeds.lock"
_POLL = 0.05  # seconds between attempts while waiting


class StateLock:
    """An exclusive lock on a state directory.

    ``path`` is the lock file, or a directory (then ``<path>/.feeds.lock`` is used).  Use
    ``with StateLock(state_dir):`` (does not wait) or ``with StateLock(p).acquire(wait=5):``.
    Locks from two ``StateLock`` objects exclude each other even inside one process.
    """

    def __init__(self, path: Path) -> None:
        path = Path(path)
        self.path = path / LOCK_NAME if path.is_dir() else path
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, wait: float | None = None) -> StateLock:
        """Take the lock, or raise ``LockedError`` naming the lock file and the holder's PID.

        ``wait``: None or 0 tries once; a number of seconds keeps trying that long;
        ``math.inf`` waits for as long as it takes.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.path}: already held by this StateLock")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StoreError(f"{self.path}: cannot open the lock file: {os_reason(error)}") \
                from error
        deadline = None if wait is None or math.isinf(wait) else time.monotonic() + wait
        forever = wait is not None and math.isinf(wait)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StoreError(f"{self.path}: cannot lock: {os_reason(error)}") \
                            from error
                if not forever and (deadline is None or time.monotonic() >= deadline):
                    raise LockedError(self._held_message(fd, wait))
                time.sleep(_POLL)
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            except OSError as error:  # a full disk: the lock cannot say who holds it
                raise StoreError(f"{self.path}: cannot write the lock file: "
                                 f"{os_reason(error)}") from error
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # while still locked: the next holder writes its own PID
        except OSError:
            pass
        finally:
            os.close(fd)  # closing releases the flock

    def holder_pid(self) -> int | None:
        """The PID written by the current (or last) holder, if readable."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeError):
            return None
        return int(text) if text.isdigit() else None

    def _held_message(self, fd: int, wait: float | None) -> str:
        try:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            text = ""
        holder = f"PID {text}" if text.isdigit() else "another process (PID not yet written)"
        waited = f" (waited {wait:g}s)" if wait else ""
        return (
            f"{self.path} is held by {holder}{waited}: another feeds process is writing "
            "to this state directory; stop it or wait for it to finish"
        )

    def __enter__(self) -> StateLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


def lock_state_dir(store_path: Path, *, wait: float | None = None) -> StateLock:
    """Take the lock of the directory holding the store (created when missing)."""
    directory = Path(store_path).parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"{directory}: cannot create the state directory: "
                         f"{os_reason(error)}") from error
    return StateLock(directory).acquire(wait=wait)
