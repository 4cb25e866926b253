"""The remote fast paths change nothing but speed: a 304 keeps its connection, and bodies
read by the build's process pool give the articles reading them one by one gives."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench.data import write_remote_config
from bench.feedserver import FeedServer
from feeds import config as config_module
from feeds.pipeline import build
from feeds.pipeline import remote as remote_pipeline
from feeds.sources.download import FetchSettings
from feeds.sources.politeness import FetchState
from feeds.sources.remote import FeedSpec, fetch_feeds_sync
from tests.conftest import NOW


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0


class _NotModified(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Counting

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        self.send_response(304)
        self.send_header("ETag", '"same"')
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_modified() -> Iterator[_Counting]:
    srv = _Counting(("127.0.0.1", 0), _NotModified)
    srv.connections = 0
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def test_304_responses_reuse_one_connection(not_modified: _Counting) -> None:
    port = not_modified.server_address[1]
    pairs: list[tuple[FeedSpec, FetchState | None]] = []
    for i in range(8):
        url = f"http://127.0.0.1:{port}/{i}.xml"
        pairs.append((FeedSpec(f"f{i}", url), FetchState(config_url=url, etag='"same"')))
    settings = FetchSettings(concurrency=1, per_host=1)
    results = fetch_feeds_sync(pairs, settings, now=NOW, force=True)
    assert [r.status for r in results] == [304] * 8
    assert not_modified.connections == 1


def _items(site: Path) -> list[str]:
    feed = json.loads((site / "public" / "all" / "feed.json").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = feed["items"]
    for item in items:
        item.pop("id")  # made up per store
    return sorted(json.dumps(item, sort_keys=True) for item in items)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the pool needs two cores")
def test_bodies_read_by_the_pool_give_the_same_articles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feeds = remote_pipeline.PARALLEL_FEEDS + 2
    started: list[bool] = []
    real_start = remote_pipeline._Reading.start.__func__  # type: ignore[attr-defined]

    def spy(cls: type[remote_pipeline._Reading], count: int) -> remote_pipeline._Reading | None:
        reading: remote_pipeline._Reading | None = real_start(cls, count)
        started.append(reading is not None)
        return reading

    monkeypatch.setattr(remote_pipeline._Reading, "start", classmethod(spy))
    with FeedServer(feeds, items=3) as server:
        sites = {}
        for name, threshold in (("pool", remote_pipeline.PARALLEL_FEEDS), ("here", 10**9)):
            monkeypatch.setattr(remote_pipeline, "PARALLEL_FEEDS", threshold)
            site = tmp_path / name
            config = write_remote_config(site, server.urls(), concurrency=5)
            text = config.read_text(encoding="utf-8").replace("limit = 50", "limit = 1000")
            config.write_text(text, encoding="utf-8")
            report = build(config_module.load(config), now=NOW)
            assert report.rejected == 0
            sites[name] = site
    assert started == [True, False]
    pooled, here = _items(sites["pool"]), _items(sites["here"])
    assert len(here) == feeds * 3
    assert pooled == here
