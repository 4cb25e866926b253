"""Fetching over real HTTP: a threaded stdlib server on 127.0.0.1, ephemeral port.

Each test installs its routes on the server; a route is a function of the request
handler that writes the whole response.  No test sleeps; only the slow-server route
trickles bytes (server side) to prove that the *total* timeout is enforced.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from feeds.errors import FetchError, ParseError
from feeds.pipeline import read_body
from feeds.sources.politeness import FetchState
from feeds.sources.remote import (
    FeedSpec,
    FetchResult,
    FetchSettings,
    default_user_agent,
    fetch_feeds,
    resolve_feed_url,
    settle,
)

DATA = Path(__file__).parent / "data" / "remote"
RSS = (DATA / "rss_basic.xml").read_bytes()
Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Server:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def headers_of(self, path: str) -> dict[str, str]:
        return [h for p, h in self.requests if p == path][-1]


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(base="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = state.routes.get(self.path)
            if route is None:
                send(self, 404, b"not here")
                return
            route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    all_headers = {"Content-Type": "application/rss+xml; charset=utf-8", **(headers or {})}
    for name, value in all_headers.items():
        handler.send_header(name, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 304:
        handler.wfile.write(body)


def static(status: int, body: bytes = b"", **headers: str) -> Route:
    fixed = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda h: send(h, status, body, fixed)


def settings(**overrides: object) -> FetchSettings:
    base: dict[str, object] = {"trust_env": False, "timeout": 10.0, "connect_timeout": 5.0}
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


def fetch(
    spec: FeedSpec,
    state: FetchState | None,
    now: datetime,
    *,
    force: bool = False,
    **overrides: object,
) -> FetchResult:
    """One fetch, its body read as the pipeline reads it (``settle`` with the readers)."""
    results = asyncio.run(fetch_feeds([(spec, state)], settings(**overrides), now=now, force=force))
    assert len(results) == 1
    return settle(results[0], read_body)


# --- the basics -----------------------------------------------------------------------


def test_fetch_parses_and_sends_a_project_user_agent(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(200, RSS, ETag='"v1"')
    result = fetch(FeedSpec("blog", server.url("/feed")), None, now)
    assert result.error is None and result.status == 200
    assert result.articles is not None and len(result.articles) == 3
    assert result.articles[0].source == "blog"
    assert result.state.etag == '"v1"' and result.state.items == 3
    sent = server.headers_of("/feed")
    assert sent["user-agent"].startswith("feeds/")
    assert "gzip" in sent["accept-encoding"]
    assert "application/rss+xml" in sent["accept"]


def test_user_agent_names_project_version_and_site() -> None:
    assert default_user_agent("https://my.site/", "1.2.3") == "feeds/1.2.3 (+https://my.site/)"


def test_per_source_headers_and_user_agent(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(200, RSS)
    spec = FeedSpec(
        "b", server.url("/feed"), headers={"Authorization": "Bearer t"}, user_agent="custom/1"
    )
    fetch(spec, None, now)
    sent = server.headers_of("/feed")
    assert sent["authorization"] == "Bearer t" and sent["user-agent"] == "custom/1"


# --- conditional GET ------------------------------------------------------------------


def conditional(etag: str | None, modified: str | None) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        if (etag and h.headers.get("If-None-Match") == etag) or (
            modified and h.headers.get("If-Modified-Since") == modified
        ):
            send(h, 304)
            return
        headers = {}
        if etag:
            headers["ETag"] = etag
        if modified:
            headers["Last-Modified"] = modified
        send(h, 200, RSS, headers)

    return route


@pytest.mark.parametrize(
    ("etag", "modified"),
    [('"abc"', None), (None, "Sun, 22 Nov 2026 10:00:00 GMT")],
    ids=["etag", "last-modified"],
)
def test_conditional_get_304(
    server: Server, now: datetime, etag: str | None, modified: str | None
) -> None:
    server.routes["/feed"] = conditional(etag, modified)
    spec = FeedSpec("b", server.url("/feed"))
    first = fetch(spec, None, now)
    assert first.articles is not None and first.status == 200
    assert (first.state.etag, first.state.last_modified) == (etag, modified)
    assert first.state.next_due == now + timedelta(minutes=90)  # the feed's <ttl>
    second = fetch(spec, first.state, now + timedelta(hours=2))
    sent = server.headers_of("/feed")
    if etag:
        assert sent["if-none-match"] == etag
    if modified:
        assert sent["if-modified-since"] == modified
    assert second.status == 304 and second.articles is None and second.error is None
    assert second.state.etag == etag and second.state.errors == 0


def test_unchanged_body_is_not_parsed_again(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(200, RSS)
    spec = FeedSpec("b", server.url("/feed"))
    first = fetch(spec, None, now)
    second = fetch(spec, first.state, now + timedelta(hours=2))
    assert second.status == 200 and second.articles is None and second.error is None
    assert second.state.body_hash == first.state.body_hash
    assert second.state.items == 3


def test_not_due_is_skipped_without_a_request(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(200, RSS)
    spec = FeedSpec("b", server.url("/feed"))
    first = fetch(spec, None, now)
    skipped = fetch(spec, first.state, now + timedelta(minutes=1))
    assert skipped.skipped and skipped.articles is None and server.hits("/feed") == 1
    forced = fetch(spec, first.state, now + timedelta(minutes=1), force=True)
    assert forced.skipped is None and server.hits("/feed") == 2


# --- throttling and errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "3600", timedelta(hours=1)),
        (429, "Mon, 23 Nov 2026 15:00:00 GMT", timedelta(hours=3)),
        (503, "120", timedelta(minutes=30)),  # backoff (>= every) is later than 2 minutes
    ],
    ids=["429-seconds", "429-date", "503"],
)
def test_throttled_with_retry_after(
    server: Server, now: datetime, status: int, retry_after: str, expected: timedelta
) -> None:
    server.routes["/feed"] = static(status, b"slow down", Retry_After=retry_after)
    spec = FeedSpec("b", server.url("/feed"))
    result = fetch(spec, None, now)
    assert isinstance(result.error, FetchError) and result.status == status
    assert result.state.retry_after is not None
    assert result.state.next_due is not None and result.state.next_due >= now + expected * 0.8
    if status == 429:
        assert result.state.retry_after == now + expected
        assert result.state.next_due >= now + expected
    again = fetch(spec, result.state, now + timedelta(minutes=1), force=True)
    assert again.skipped and server.hits("/feed") == 1  # no request before Retry-After


def test_410_gone_stops_fetching(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(410, b"gone")
    spec = FeedSpec("b", server.url("/feed"))
    result = fetch(spec, None, now)
    assert result.state.gone and result.status == 410
    later = fetch(spec, result.state, now + timedelta(days=30), force=True)
    assert later.skipped and server.hits("/feed") == 1


def test_server_error_backs_off(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(500, b"oops")
    spec = FeedSpec("b", server.url("/feed"))
    result = fetch(spec, None, now)
    assert isinstance(result.error, FetchError) and result.error.status == 500
    assert result.state.errors == 1 and result.state.last_error == "HTTP 500 Internal Server Error"
    second = fetch(spec, result.state, result.state.next_due or now)
    assert second.state.errors == 2
    assert (second.state.next_due or now) - (result.state.next_due or now) > timedelta(minutes=30)


def test_connection_refused_is_a_network_error(now: datetime) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch(FeedSpec("b", f"http://127.0.0.1:{port}/feed"), None, now)
    assert isinstance(result.error, FetchError) and result.state.errors == 1
    assert "network error" in (result.state.last_error or "")


def test_parse_error_is_reported_for_the_source(server: Server, now: datetime) -> None:
    server.routes["/feed"] = static(200, b"<rss><channel><title>cut", ETag='"e"')
    result = fetch(FeedSpec("b", server.url("/feed")), None, now)
    assert isinstance(result.error, ParseError) and result.error.source == "b"
    assert result.state.errors == 1 and result.state.etag is None


# --- redirects ------------------------------------------------------------------------


def redirect(status: int, location: str) -> Route:
    return static(status, b"", Location=location)


def test_301_adopted_only_after_confirmation(server: Server, now: datetime) -> None:
    server.routes["/old"] = redirect(301, "/new")
    server.routes["/new"] = static(200, RSS)
    spec = FeedSpec("b", server.url("/old"))
    state: FetchState | None = None
    for i in range(2):
        result = fetch(spec, state, now + timedelta(hours=i), force=True)
        assert result.url == server.url("/new")
        state = result.state
        assert state.effective_url(spec.url) == spec.url
    result = fetch(spec, state, now + timedelta(hours=2), force=True)
    assert result.state.effective_url(spec.url) == server.url("/new")
    assert result.state.moves
    before = server.hits("/old")
    fetch(spec, result.state, now + timedelta(hours=3), force=True)
    assert server.hits("/old") == before  # the old URL is no longer asked


def test_302_followed_but_never_adopted(server: Server, now: datetime) -> None:
    server.routes["/old"] = redirect(302, "/new")
    server.routes["/new"] = static(200, RSS)
    spec = FeedSpec("b", server.url("/old"))
    state: FetchState | None = None
    for i in range(4):
        result = fetch(spec, state, now + timedelta(days=i), force=True)
        assert result.error is None
        state = result.state
    assert state is not None and state.effective_url(spec.url) == spec.url


def test_redirect_loop_is_detected(server: Server, now: datetime) -> None:
    server.routes["/a"] = redirect(302, "/b")
    server.routes["/b"] = redirect(302, "/a")
    result = fetch(FeedSpec("b", server.url("/a")), None, now)
    assert isinstance(result.error, FetchError) and "loop" in result.error.message
    assert server.hits("/a") == 1 and server.hits("/b") == 1


def test_too_many_redirects(server: Server, now: datetime) -> None:
    for i in range(10):
        server.routes[f"/r{i}"] = redirect(307, f"/r{i + 1}")
    result = fetch(FeedSpec("b", server.url("/r0")), None, now, max_redirects=3)
    assert isinstance(result.error, FetchError) and "redirects" in result.error.message
    assert server.hits("/r4") == 0


def test_redirect_from_public_to_private_is_refused(now: datetime) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "93.184.216.34":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})
        return httpx.Response(200, content=RSS)

    async def run(allow: bool) -> FetchResult:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            spec = FeedSpec("b", "http://93.184.216.34/feed")
            results = await fetch_feeds(
                [(spec, None)], settings(allow_private=allow), now=now, client=client
            )
            return settle(results[0], read_body)

    refused = asyncio.run(run(False))
    assert isinstance(refused.error, FetchError) and "private" in refused.error.message
    assert seen == ["http://93.184.216.34/feed"]
    allowed = asyncio.run(run(True))
    assert allowed.error is None and allowed.articles


def test_loopback_source_may_redirect_within_loopback(server: Server, now: datetime) -> None:
    server.routes["/a"] = redirect(302, server.url("/b").replace("127.0.0.1", "localhost"))
    server.routes["/b"] = static(200, RSS)
    result = fetch(FeedSpec("b", server.url("/a")), None, now)
    assert result.error is None and result.articles


# --- limits ---------------------------------------------------------------------------


def test_total_timeout_on_a_trickling_server(server: Server, now: datetime) -> None:
    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        try:
            for _ in range(400):  # each read is quick; the whole would take 40 s
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    server.routes["/slow"] = trickle
    result = fetch(FeedSpec("b", server.url("/slow")), None, now, timeout=1.0)
    assert isinstance(result.error, FetchError) and "timed out" in result.error.message
    assert result.state.errors == 1


def test_declared_body_too_large(server: Server, now: datetime) -> None:
    server.routes["/big"] = static(200, b"<rss>" + b" " * 5000 + b"</rss>")
    result = fetch(FeedSpec("b", server.url("/big")), None, now, max_bytes=1000)
    assert isinstance(result.error, FetchError) and "limit" in result.error.message


def test_streamed_body_too_large_without_content_length(server: Server, now: datetime) -> None:
    def chunked(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b" " * 1000)
        except OSError:
            pass
        h.close_connection = True

    server.routes["/stream"] = chunked
    result = fetch(FeedSpec("b", server.url("/stream")), None, now, max_bytes=10_000)
    assert isinstance(result.error, FetchError) and "limit" in result.error.message


def test_gzip_bomb_is_cut_off(server: Server, now: datetime) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * (50 * 2**20), compresslevel=9)
    assert len(bomb) < 100_000
    server.routes["/bomb"] = static(200, bomb, Content_Encoding="gzip")
    result = fetch(FeedSpec("b", server.url("/bomb")), None, now, max_bytes=2**20)
    assert isinstance(result.error, FetchError)
    assert "after decompression" in result.error.message


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(server: Server, now: datetime, encoding: str) -> None:
    if encoding == "gzip":
        body = gzip.compress(RSS)
    elif encoding == "deflate":
        body = zlib.compress(RSS)
    else:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = packer.compress(RSS) + packer.flush()
    server.routes["/z"] = static(200, body, Content_Encoding=encoding.removeprefix("raw-"))
    result = fetch(FeedSpec("b", server.url("/z")), None, now)
    assert result.error is None and result.articles is not None and len(result.articles) == 3


def test_billion_laughs_over_http(server: Server, now: datetime) -> None:
    server.routes["/lol"] = static(200, (DATA / "billion_laughs.xml").read_bytes())
    result = fetch(FeedSpec("b", server.url("/lol")), None, now)
    assert isinstance(result.error, ParseError) and "entit" in result.error.message


# --- autodiscovery --------------------------------------------------------------------


def test_html_page_leads_to_its_feed(server: Server, now: datetime) -> None:
    page = (DATA / "page.html").read_bytes()
    server.routes["/blog/"] = static(200, page, Content_Type="text/html; charset=utf-8")
    server.routes["/blog/feed.atom"] = static(
        200, (DATA / "atom_base.xml").read_bytes(), Content_Type="application/atom+xml"
    )
    spec = FeedSpec("b", server.url("/blog/"))
    result = fetch(spec, None, now)
    assert result.error is None and result.articles is not None and len(result.articles) == 2
    assert result.url == server.url("/blog/feed.atom")
    assert result.state.effective_url(spec.url) == server.url("/blog/feed.atom")
    later = fetch(spec, result.state, now + timedelta(hours=1))
    assert later.error is None and server.hits("/blog/") == 1  # the page is not asked again

    found = asyncio.run(resolve_feed_url(spec.url, settings(), read_body))
    assert found == server.url("/blog/feed.atom")


def test_html_page_without_feed_is_a_parse_error(server: Server, now: datetime) -> None:
    server.routes["/"] = static(
        200, b"<!doctype html><html><head></head><body>hi</body></html>", Content_Type="text/html"
    )
    result = fetch(FeedSpec("b", server.url("/")), None, now)
    assert isinstance(result.error, ParseError) and "announces no feed" in result.error.message


# --- concurrency ----------------------------------------------------------------------


def test_many_sources_one_result_each_in_order(server: Server, now: datetime) -> None:
    for i in range(6):
        server.routes[f"/f{i}"] = static(200, RSS) if i % 2 == 0 else static(500, b"no")
    specs = [(FeedSpec(f"s{i}", server.url(f"/f{i}")), None) for i in range(6)]
    results = asyncio.run(fetch_feeds(specs, settings(concurrency=3, per_host=2), now=now))
    assert [r.source for r in results] == [f"s{i}" for i in range(6)]
    assert [r.error is None for r in results] == [True, False] * 3


def test_a_cancelled_fetch_stops_waiting_for_a_slow_server() -> None:
    """A stopping daemon abandons requests in flight instead of waiting for the timeout."""
    import socket
    import threading
    import time as time_module

    from feeds.errors import FetchError
    from feeds.sources.remote import FeedSpec, FetchSettings, fetch_feeds_sync

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts, never answers
    port = listener.getsockname()[1]
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time_module.monotonic()
    try:
        with pytest.raises(FetchError, match="interrupted"):
            fetch_feeds_sync([(FeedSpec("slow", f"http://127.0.0.1:{port}/feed"), None)],
                             FetchSettings(timeout=30, connect_timeout=30),
                             now=datetime(2026, 1, 1, tzinfo=UTC), cancelled=stop.is_set)
    finally:
        listener.close()
    assert time_module.monotonic() - started < 20  # far below the 30 s timeout


# --- raw input ------------------------------------------------------------------------


def test_the_source_hands_over_the_body_unread_and_settle_reads_it(
        server: Server, now: datetime) -> None:
    json_feed = b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": []}'
    server.routes["/feed"] = static(200, RSS, ETag='"v1"')
    server.routes["/feed.json"] = static(200, json_feed, Content_Type="application/feed+json")
    specs = [(FeedSpec("blog", server.url("/feed")), None),
             (FeedSpec("json", server.url("/feed.json")), None)]
    unread, unread_json = asyncio.run(fetch_feeds(specs, settings(), now=now))
    assert unread.articles is None and unread.raw is not None
    assert (unread.raw.kind, unread.raw.key, unread.raw.source, unread.raw.url,
            unread.raw.data) == ("feed", "blog", "blog", server.url("/feed"), RSS)
    assert unread.raw.headers.get("etag") == '"v1"'
    assert unread_json.raw is not None and unread_json.raw.kind == "jsonfeed"
    read = settle(unread, read_body)
    assert read.articles is not None and len(read.articles) == 3 and read.state.items == 3
    assert read.state.etag == '"v1"'
