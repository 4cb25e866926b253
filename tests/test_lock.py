"""StateLock: one writer per state directory, released even when the holder is SIGKILLed."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from feeds.errors import FeedsError, LockedError, StoreError
from feeds.lock import LOCK_NAME, StateLock

HOLDER = """
import sys, time
from pathlib import Path
from feeds.lock import StateLock
lock = StateLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_a_directory_gets_the_default_lock_file(tmp_path: Path) -> None:
    with StateLock(tmp_path) as lock:
        assert lock.locked
        assert lock.path == tmp_path / LOCK_NAME
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        assert lock.holder_pid() == os.getpid()
    assert not lock.locked
    assert (tmp_path / LOCK_NAME).exists()  # never deleted: deleting lock files races


def test_second_holder_is_refused_with_file_and_pid(tmp_path: Path) -> None:
    path = tmp_path / "state.lock"
    with StateLock(path):
        with pytest.raises(LockedError) as caught:
            StateLock(path).acquire()
        message = str(caught.value)
        assert str(path) in message
        assert f"PID {os.getpid()}" in message
        assert isinstance(caught.value, StoreError)
        assert isinstance(caught.value, FeedsError)
    with StateLock(path) as again:  # released: free for the next one
        assert again.locked


def test_waiting_gives_up_after_the_deadline(tmp_path: Path) -> None:
    with StateLock(tmp_path), pytest.raises(LockedError, match=r"waited 0\.2s"):
        StateLock(tmp_path).acquire(wait=0.2)


def test_waiting_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    holder = StateLock(tmp_path).acquire()
    # Released a little later (the waiter is most likely polling by then; either order is
    # correct, so nothing here depends on timing).
    timer = threading.Timer(0.3, holder.release)
    timer.start()
    waiter = StateLock(tmp_path)
    try:
        assert waiter.acquire(wait=30).locked
        assert waiter.holder_pid() == os.getpid()
    finally:
        timer.join(10)
        waiter.release()


def test_wait_forever_is_accepted(tmp_path: Path) -> None:
    with StateLock(tmp_path).acquire(wait=math.inf) as lock:
        assert lock.locked


def test_acquire_twice_on_one_object_is_a_bug(tmp_path: Path) -> None:
    with StateLock(tmp_path) as lock, pytest.raises(RuntimeError):
        lock.acquire()


def test_release_is_idempotent(tmp_path: Path) -> None:
    lock = StateLock(tmp_path).acquire()
    lock.release()
    lock.release()
    assert (tmp_path / LOCK_NAME).read_text() == ""  # no stale PID left behind


def test_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the lock file") as caught:
        StateLock(tmp_path / "missing" / LOCK_NAME).acquire()
    assert not isinstance(caught.value, LockedError)


def test_lock_dies_with_a_sigkilled_holder(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match=f"PID {proc.pid}\\b"):
            StateLock(tmp_path).acquire()
        assert StateLock(tmp_path).holder_pid() == proc.pid
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    with StateLock(tmp_path) as lock:  # no waiting: the kernel dropped the flock at death
        assert lock.locked
        assert lock.holder_pid() == os.getpid()
