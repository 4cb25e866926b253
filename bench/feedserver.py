"""A local threaded HTTP server holding many RSS feeds, with ETag / Last-Modified / 304.

``FeedServer(count, items)`` serves ``/feed/<i>.xml`` for ``i`` in ``range(count)``; every
body is built once, deterministically.  A conditional request whose ``If-None-Match``
matches (or, without one, whose ``If-Modified-Since`` is not older than the feed) gets a
304.  Use it as a context manager: the server thread is stopped and joined on exit.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from xml.sax.saxutils import escape

from bench.data import make_record

__all__ = ["FeedServer", "build_feed"]

LAST_MODIFIED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def build_feed(feed: int, items: int) -> bytes:
    """RSS 2.0 with ``items`` entries (content:encoded with a few paragraphs each)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Remote {feed}</title><link>https://remote{feed}.example/</link>"
        f"<description>Synthetic remote feed {feed}</description>"
    ]
    for j in range(items):
        rec = make_record(feed * 1000 + j, seed=7, markdown_every=0,
                          published=LAST_MODIFIED - timedelta(hours=feed + 24 * j))
        content = "".join(f"<p>{escape(p)}</p>" for p in rec.paragraphs[:3])
        parts.append(
            f"<item><title>{escape(rec.title)}</title>"
            f"<link>https://remote{feed}.example/a/{j}</link>"
            f'<guid isPermaLink="false">remote-{feed}-{j}</guid>'
            f"<pubDate>{format_datetime(rec.published, usegmt=True)}</pubDate>"
            f"<description>{escape(rec.bullets[0])}</description>"
            f"<content:encoded>{escape(content)}</content:encoded></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server would
    timeout = 30  # a silent client cannot hold a thread forever
    server: _Server

    def do_GET(self) -> None:
        srv = self.server
        entry = srv.bodies.get(self.path)
        if entry is None:
            self._reply(404, b"not found\n", {"Content-Type": "text/plain"})
            return
        body, etag = entry
        headers = {"ETag": etag, "Last-Modified": srv.last_modified,
                   "Content-Type": "application/rss+xml; charset=utf-8"}
        if self._not_modified(etag):
            self._reply(304, b"", headers)
            return
        self._reply(200, body, headers)

    def _not_modified(self, etag: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return parsedate_to_datetime(ims) >= LAST_MODIFIED
            except (TypeError, ValueError):
                return False
        return False

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.server.count(status)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    bodies: dict[str, tuple[bytes, str]]
    last_modified: str
    statuses: dict[int, int]
    lock: threading.Lock

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


class FeedServer:
    """``count`` feeds of ``items`` entries on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, count: int, items: int = 20) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.bodies = {}
        for i in range(count):
            body = build_feed(i, items)
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            self.httpd.bodies[f"/feed/{i}.xml"] = (body, etag)
        self.httpd.last_modified = format_datetime(LAST_MODIFIED, usegmt=True)
        self.httpd.statuses = {}
        self.httpd.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.feed_count = count

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port}/feed/{i}.xml" for i in range(self.feed_count)]

    def statuses(self) -> dict[int, int]:
        """Responses so far by status; resets the counters."""
        with self.httpd.lock:
            out = dict(self.httpd.statuses)
            self.httpd.statuses.clear()
        return out

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
