"""SIGKILL in the middle of a large ingest: nothing is lost, duplicated or renamed.

A running daemon sees 3,000 articles arrive at once (a folder renamed into its source) and
is killed, with its whole process group as systemd would, as soon as the store holds some
but not all of them (polled through a read-only SQLite connection).  The files it had
published must still be whole.  A restart must then hold every article exactly once, the
ones stored before the kill under the same ids, and publish complete files.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import feedparser

from tests.daemon_support import (
    DaemonProcess,
    NotifySocket,
    article_text,
    check_feed_bytes,
    explained,
    wait_until,
    write_config,
)

COUNT = 3000
FILES = ("rss.xml", "atom.xml", "feed.json")


def _read_only(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)


def _stored(db_path: Path) -> dict[str, str]:
    """key -> id of every stored article of the batch."""
    db = _read_only(db_path)
    try:
        rows = db.execute("SELECT key, id FROM articles WHERE key LIKE 'batch/%'").fetchall()
    finally:
        db.close()
    keys = [key for key, _ in rows]
    assert len(keys) == len(set(keys))
    return dict(rows)


def _count(db_path: Path) -> int:
    try:
        db = _read_only(db_path)
        try:
            value: int = db.execute(
                "SELECT count(*) FROM articles WHERE key LIKE 'batch/%'").fetchone()[0]
            return value
        finally:
            db.close()
    except sqlite3.OperationalError:  # busy for an instant: ask again
        return -1


def test_sigkill_mid_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "seed.md").write_text(article_text("Seed article"), encoding="utf-8")
    staging = tmp_path / "staging" / "batch"
    staging.mkdir(parents=True)
    old = time.time() - 120  # settled long ago: read at once, never waited for
    for i in range(COUNT):
        path = staging / f"a{i:04}.md"
        path.write_text(article_text(f"Bulk article {i:04}", body=f"Body of article {i}.",
                                     day=1 + i % 28), encoding="utf-8")
        os.utime(path, (old, old))
    os.utime(folder / "seed.md", (old, old))
    config = tmp_path / "feeds.toml"
    write_config(config, sources=[("main", folder)], limit=COUNT + 10)
    db_path = tmp_path / "state" / "feeds.db"
    public = tmp_path / "public" / "all"

    notify = NotifySocket(tmp_path / "notify.sock")
    first = DaemonProcess(config, tmp_path / "first.log", notify=notify)
    try:
        with explained(first):
            notify.wait_for("READY=1", timeout=30)
        (tmp_path / "staging" / "batch").rename(folder / "batch")
        partial = wait_until(lambda: 0 < _count(db_path) < COUNT, timeout=30, interval=0.01,
                             what="a partly ingested batch")
        first.kill_group()
        assert partial
        assert first.proc.returncode == -signal.SIGKILL
    finally:
        first.close()
    before = _stored(db_path)
    assert 0 < len(before) < COUNT, len(before)
    print(f"\nkilled with {len(before)} of {COUNT} articles stored")
    for name in FILES:  # what was published before the kill is still whole
        check_feed_bytes(name, (public / name).read_bytes())

    after_ready = len(notify.snapshot())
    second = DaemonProcess(config, tmp_path / "second.log", notify=notify)
    try:
        with explained(second):
            notify.wait_for("READY=1", after=after_ready, timeout=60)
        after = _stored(db_path)
        assert len(after) == COUNT
        assert {k: after[k] for k in before} == before  # same ids for what was stored
        assert len(set(after.values())) == COUNT
        db = _read_only(db_path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            registry = dict(db.execute(
                "SELECT key, id FROM id_registry WHERE key LIKE 'batch/%'").fetchall())
        finally:
            db.close()
        assert registry == after

        document = json.loads((public / "feed.json").read_bytes())
        ids = [item["id"] for item in document["items"]]
        assert len(ids) == len(set(ids)) == COUNT + 1
        assert set(after.values()) <= set(ids)
        titles = sorted(item["title"] for item in document["items"])
        assert titles == sorted([f"Bulk article {i:04}" for i in range(COUNT)]
                                + ["Seed article"])
        for name in ("rss.xml", "atom.xml"):
            parsed = feedparser.parse((public / name).read_bytes())
            assert parsed.bozo == 0, parsed.get("bozo_exception")
            assert len(parsed.entries) == COUNT + 1
        stopping = len(notify.snapshot())
        second.signal(signal.SIGTERM)
        assert second.wait(15) == 0
        notify.wait_for("STOPPING=1", after=stopping, timeout=2)
    finally:
        second.close()
        notify.close()
