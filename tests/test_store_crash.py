"""A process killed in the middle of an ingest leaves the store whole: all of it or none.

A child process ingests a big batch (edits of every stored article plus many new ones)
with a tiny page cache, so uncommitted pages spill into the WAL.  An SQLite progress
handler announces "mid" at a chosen point inside the write transaction and then blocks;
the parent SIGKILLs it there.  No sleeps or timings decide anything.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.model import Article, FileState
from feeds.store import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
BASE = 200
BIG = 8_000

CHILD = r"""
import shutil, sys, threading
from datetime import UTC, datetime
from feeds.model import Article, FileState
from feeds.store import SqliteStore, Store

path, mode, fraction = sys.argv[1], sys.argv[2], float(sys.argv[3])
now = datetime(2026, 2, 1, tzinfo=UTC)
batch = [
    (Article(source="notes", key=f"n{i:05}.md", title=f"T{i} v2", body=f"body {i} v2"),
     FileState(i + 1, 2, i + 1, 1))
    for i in range(int(sys.argv[4]))
]
calls = [0]

def count():
    calls[0] += 1
    return 0

shutil.copy(path, path + ".dry")  # the same work on a copy: how long the write lasts
with SqliteStore.open(path + ".dry") as dry:
    dry._db.execute("PRAGMA cache_size = 10")
    dry._db.set_progress_handler(count, 100)
    dry.ingest("notes", batch, now=now, present=None)
    dry._db.set_progress_handler(None, 0)  # count the ingest only, not the close
total, calls[0] = calls[0], 0

store = SqliteStore.open(path)
store._db.execute("PRAGMA cache_size = 10")  # spill dirty pages into the WAL early
if mode == "mid":
    target = max(1, int(total * fraction))

    def stop():
        calls[0] += 1
        if calls[0] == target:
            print("mid", flush=True)
            threading.Event().wait()  # blocked inside the transaction until killed
        return 0

    store._db.set_progress_handler(stop, 100)
store.ingest("notes", batch, now=now, present=None)
print("committed", flush=True)
threading.Event().wait()
"""


def _base(path: Path) -> dict[str, str]:
    numbers = itertools.count(1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with SqliteStore.open(path, id_factory=lambda: f"base-{next(numbers)}") as store:
        store.ingest("notes", [
            (Article(source="notes", key=f"n{i:05}.md", title=f"T{i} v1", body=f"body {i} v1"),
             FileState(i + 1, 1, i + 1, 1))
            for i in range(BASE)
        ], now=now, present=None)
        return {item.article.key: item.id for item in store.items()}


def _run_and_kill(path: Path, mode: str, fraction: float, expect: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mode, str(fraction), str(BIG)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == expect, f"child said {line!r}"
        wal = path.with_name(path.name + "-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        return wal_size
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.98])
def test_a_kill_inside_the_transaction_leaves_none_of_the_batch(
    tmp_path: Path, fraction: float
) -> None:
    path = tmp_path / "feeds.sqlite"
    ids = _base(path)
    wal_before = path.with_name(path.name + "-wal")
    wal_size = _run_and_kill(path, "mid", fraction, "mid")
    if fraction >= 0.5:
        assert wal_size > 0 and wal_before.exists(), "the kill should land mid-write"
    _assert_whole(path, ids, expect_batch=False)


def test_a_kill_after_commit_keeps_all_of_the_batch(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    ids = _base(path)
    _run_and_kill(path, "after", 0, "committed")
    _assert_whole(path, ids, expect_batch=True)


def _assert_whole(path: Path, ids: dict[str, str], *, expect_batch: bool) -> None:
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    raw.close()
    with SqliteStore.open(path) as store:
        items = store.items()
        assert len(items) == (BIG if expect_batch else BASE)
        versions = {item.article.title.rsplit(" ", 1)[1] for item in items}
        assert versions == ({"v2"} if expect_batch else {"v1"})
        for key, id_ in ids.items():
            assert store.lookup_id("notes", key) == id_
            item = store.get_item(id_)
            assert item is not None and item.article.key == key
        assert len(store.file_states("notes")) == (BIG if expect_batch else BASE)
