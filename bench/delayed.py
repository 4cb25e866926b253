"""A local server of many RSS feeds that answers each request after a delay, and counts the
requests each feed received: what several ``feeds run`` nodes sharing one store are
measured (``bench/nodes.py``) and checked (``tests/test_store_nodes.py``) against.

``DelayedFeeds(count, items, delay)`` serves ``/feed/<i>.xml`` (bodies from
``bench.feedserver.build_feed``, ETag and 304), each answer ``delay`` seconds late; and
``opml()`` lists them all, for one OPML source.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from xml.sax.saxutils import quoteattr

from bench.feedserver import build_feed

__all__ = ["DelayedFeeds"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            srv.requests[self.path] += 1
        time.sleep(srv.delay)
        entry = srv.bodies.get(self.path)
        if entry is None:
            self._reply(404, b"not found\n", {"Content-Type": "text/plain"})
            return
        body, etag = entry
        headers = {"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}
        if self.headers.get("If-None-Match") == etag:
            self._reply(304, b"", headers)
        else:
            self._reply(200, body, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
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
    request_queue_size = 128
    bodies: dict[str, tuple[bytes, str]]
    requests: Counter[str]
    delay: float
    lock: threading.Lock


class DelayedFeeds:
    """``count`` feeds of ``items`` entries on 127.0.0.1, each answer ``delay`` s late."""

    def __init__(self, count: int, items: int = 3, delay: float = 0.1) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.bodies = {}
        for i in range(count):
            body = build_feed(i, items)
            self.httpd.bodies[f"/feed/{i}.xml"] = (body, '"' + hashlib.sha1(body).hexdigest()
                                                   [:20] + '"')
        self.httpd.requests = Counter()
        self.httpd.delay = delay
        self.httpd.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.count = count

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def paths(self) -> list[str]:
        return [f"/feed/{i}.xml" for i in range(self.count)]

    def requests(self) -> Counter[str]:
        """Requests so far, by path (a copy)."""
        with self.httpd.lock:
            return Counter(self.httpd.requests)

    def opml(self) -> str:
        """An OPML file subscribing to every feed."""
        outlines = "".join(
            f'<outline type="rss" text="f{i}" title="f{i}" xmlUrl='
            f'{quoteattr(f"http://127.0.0.1:{self.port}/feed/{i}.xml")}/>\n'
            for i in range(self.count))
        return (f'<?xml version="1.0"?>\n<opml version="2.0"><head><title>all</title></head>'
                f"<body>\n{outlines}</body></opml>\n")

    def __enter__(self) -> DelayedFeeds:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
