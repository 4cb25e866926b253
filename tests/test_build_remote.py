"""Remote feeds through the whole pipeline: conditional rebuilds, stable ids, merged feeds."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from feeds import config as config_module
from feeds.pipeline import build
from tests.conftest import NOW


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS document of (guid, title, link) items."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{link}</link>"
        f"<pubDate>Mon, 0{i + 1} Jan 2024 10:00:00 GMT</pubDate>"
        f"<description>About {title}.</description></item>"
        for i, (guid, title, link) in enumerate(items))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Remote</title>'
            f"<link>https://remote.example/</link><description>d</description>{body}"
            f"</channel></rss>").encode()


class FeedServer:
    """Serves ``documents[path]`` with an ETag; records every request's headers."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.requests: list[tuple[str, dict[str, str], int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = outer.documents.get(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if body is None:
                    outer.requests.append((self.path, headers, 404))
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if headers.get("if-none-match") == etag:
                    outer.requests.append((self.path, headers, 304))
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                outer.requests.append((self.path, headers, 200))
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def site(tmp_path: Path, server: FeedServer) -> Path:
    (tmp_path / "feeds.toml").write_text(f"""
[site]
title = "Planet"
base_url = "https://planet.example/"
author = "Planet"
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "one"
kind = "feed"
url = "{server.base}/one.xml"
[[sources]]
name = "two"
kind = "feed"
url = "{server.base}/two.xml"
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    return tmp_path


def snapshot(site: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted((site / "public").rglob("*")) if p.is_file()}


def published(site: Path) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse((site / "public" / "all" / "atom.xml").read_bytes())
    assert parsed.bozo == 0
    return list(parsed.entries)


def test_remote_items_are_published_with_their_origin(site: Path, server: FeedServer) -> None:
    server.documents["/one.xml"] = rss([("g1", "From one", "https://one.example/a")])
    server.documents["/two.xml"] = rss([("g2", "From two", "https://two.example/b")])
    report = build(config_module.load(site / "feeds.toml"), now=NOW)
    assert report.rejected == 0
    assert sorted(e.title for e in published(site)) == ["From one", "From two"]
    rss_text = (site / "public" / "all" / "rss.xml").read_text()
    assert f'<source url="{server.base}/one.xml">Remote</source>' in rss_text


def test_a_second_build_makes_only_conditional_requests_parses_nothing_writes_nothing(
        site: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.documents["/one.xml"] = rss([("g1", "From one", "https://one.example/a")])
    server.documents["/two.xml"] = rss([("g2", "From two", "https://two.example/b")])
    build(config_module.load(site / "feeds.toml"), now=NOW)
    before = snapshot(site)
    server.requests.clear()

    import feeds.normalize.entries as entries

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a 304 must not be parsed")

    monkeypatch.setattr(entries, "parse_feed", no_parsing)
    report = build(config_module.load(site / "feeds.toml"), now=NOW + timedelta(hours=1))
    assert report.rejected == 0
    assert sorted(path for path, _h, _s in server.requests) == ["/one.xml", "/two.xml"]
    assert all(status == 304 and "if-none-match" in headers
               for _p, headers, status in server.requests)
    assert snapshot(site) == before


def test_a_feed_switching_its_guids_to_https_makes_no_duplicates(site: Path,
                                                                  server: FeedServer) -> None:
    items = [(f"http://remote.example/post/{i}", f"Post {i}", f"http://remote.example/post/{i}")
             for i in range(3)]
    server.documents["/one.xml"] = rss(items)
    server.documents["/two.xml"] = rss([])
    build(config_module.load(site / "feeds.toml"), now=NOW)
    ids_before = sorted(e.id for e in published(site))
    switched = [(g.replace("http://", "https://") + "/", t, link.replace("http://", "https://"))
                for g, t, link in items]
    server.documents["/one.xml"] = rss(switched)
    build(config_module.load(site / "feeds.toml"), now=NOW + timedelta(hours=1))
    after = published(site)
    assert sorted(e.title for e in after) == ["Post 0", "Post 1", "Post 2"]
    assert sorted(e.id for e in after) == ids_before


def test_the_same_story_from_two_sources_appears_once(site: Path, server: FeedServer) -> None:
    server.documents["/one.xml"] = rss([("a1", "Shared story", "https://news.example/story")])
    server.documents["/two.xml"] = rss([("b7", "Shared story", "https://news.example/story")])
    build(config_module.load(site / "feeds.toml"), now=NOW)
    assert [e.title for e in published(site)] == ["Shared story"]


def test_a_broken_source_does_not_stop_the_other(site: Path, server: FeedServer) -> None:
    server.documents["/one.xml"] = rss([("g1", "Still here", "https://one.example/a")])
    server.documents["/two.xml"] = b"<rss><channel><title>cut off mid-"
    report = build(config_module.load(site / "feeds.toml"), now=NOW)
    failed = {s.name: s.error for s in report.sources if s.error}
    assert list(failed) == ["two"]
    assert "/two.xml" in str(failed["two"])
    assert [e.title for e in published(site)] == ["Still here"]


def test_items_already_stored_stay_published_when_the_source_breaks(site: Path,
                                                                    server: FeedServer) -> None:
    server.documents["/one.xml"] = rss([("g1", "Kept", "https://one.example/a")])
    server.documents["/two.xml"] = rss([])
    build(config_module.load(site / "feeds.toml"), now=NOW)
    del server.documents["/one.xml"]  # now a 404
    report = build(config_module.load(site / "feeds.toml"), now=NOW + timedelta(hours=1))
    assert any(s.error for s in report.sources)
    assert [e.title for e in published(site)] == ["Kept"]
    feed = json.loads((site / "public" / "all" / "feed.json").read_text())
    assert [i["title"] for i in feed["items"]] == ["Kept"]


def test_a_crash_before_storing_articles_does_not_save_the_etag(
        site: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Otherwise the next fetch would get a 304 and the articles would be lost for good."""
    from feeds.store import SqliteStore

    server.documents["/one.xml"] = rss([("g1", "Not lost", "https://one.example/a")])
    server.documents["/two.xml"] = rss([])
    real_ingest = SqliteStore.ingest

    def crash(self: SqliteStore, *args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt  # the process dies in the middle of storing

    monkeypatch.setattr(SqliteStore, "ingest", crash)
    with pytest.raises(KeyboardInterrupt):
        build(config_module.load(site / "feeds.toml"), now=NOW)
    monkeypatch.setattr(SqliteStore, "ingest", real_ingest)
    server.requests.clear()
    build(config_module.load(site / "feeds.toml"), now=NOW + timedelta(minutes=1))
    assert all("if-none-match" not in headers for _p, headers, _s in server.requests)
    assert [e.title for e in published(site)] == ["Not lost"]
