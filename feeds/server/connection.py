"""HTTP/1.1 over asyncio through httptools: one ``ClientConnection`` per client, bounded by
``Limits`` (see the package docstring), answering through a responder (``FeedApp.respond``
or any WSGI application)."""

from __future__ import annotations

import asyncio
import collections
import io
import logging
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from wsgiref.types import WSGIApplication

import httptools

from feeds.server.files import REASONS, Reply, simple_reply

log = logging.getLogger("feeds.server")
access_log = logging.getLogger("feeds.access")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one client may hold: time to send a request, idle time, connections, header bytes."""

    header_timeout: float = 10.0  # s, a whole request (headers, and a body if any)
    keep_alive_timeout: float = 5.0  # s, idle between two requests of a connection
    send_timeout: float = 30.0  # s, a response the client does not read
    max_connections: int = 512
    max_header_bytes: int = 16 * 1024


def _canned(status: int) -> bytes:
    """A whole ``Connection: close`` response, for when there is no request to answer."""
    reason = REASONS[status]
    body = reason + "\n"
    retry = "Retry-After: 1\r\n" if status == 503 else ""
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{retry}Connection: close\r\n\r\n{body}").encode()


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Clock:
    """``Date`` and the access log's time, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self.http = ""
        self.clf = ""

    def tick(self) -> None:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self.http = formatdate(now, usegmt=True)
            t = time.gmtime(now)
            self.clf = (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
                        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000")


def _log_text(raw: bytes) -> str:
    """Request-line bytes for the access log: printable ASCII, ``"`` and ``\\`` escaped."""
    text = raw.decode("latin-1")
    if text.isprintable() and text.isascii() and '"' not in text and "\\" not in text:
        return text
    return "".join(c if c.isprintable() and c.isascii() and c not in '"\\' else f"\\x{ord(c):02x}"
                   for c in text)


def _request_path(target: bytes) -> bytes | None:
    """The percent-decoded path of an origin-form (or absolute-form) target; None: 400.

    ``//x`` is refused: read as a network-path reference it names a host, not a file."""
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        rest = target.split(b"//", 1)[1]
        slash = rest.find(b"/")
        target = rest[slash:] if slash >= 0 else b"/"
    if not target.startswith(b"/") or target.startswith(b"//"):
        return None
    path = target.split(b"?", 1)[0]
    return urllib.parse.unquote_to_bytes(path)


_Responder = Callable[[str, bytes, Mapping[str, str]], Reply]


def wsgi_responder(app: WSGIApplication) -> _Responder:
    """``respond`` over any WSGI application (a middleware around ``make_app``'s, say),
    called in the event loop: the application must be quick and must not block."""

    def respond(method: str, path: bytes, headers: Mapping[str, str]) -> Reply:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path.decode("latin-1"),
            "QUERY_STRING": "", "SERVER_NAME": "localhost", "SERVER_PORT": "0",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
        seen: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, response_headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], object]:
            seen.append((status, list(response_headers)))
            return lambda data: None

        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, out = seen[-1]
        return Reply(int(status[:3]), out, body)

    return respond


class ConnectionHub:
    """What the connections of one server share: the handler, limits, the connection set."""

    def __init__(self, respond: _Responder, limits: Limits) -> None:
        self.respond = respond
        self.limits = limits
        self.clock = _Clock()
        self.connections: dict[ClientConnection, None] = {}  # admitted, open; in arrival order
        self.live: set[ClientConnection] = set()  # every transport not yet lost
        self.server: asyncio.Server | None = None
        self.stopping = False

    def admit(self, conn: ClientConnection) -> bool:
        if len(self.connections) >= self.limits.max_connections:
            idle = next((c for c in self.connections if c.idle), None)
            if idle is None:
                return False
            idle.close()
            self.connections.pop(idle, None)
        self.connections[conn] = None
        return True


@dataclass(slots=True)
class _Request:
    method: bytes
    target: bytes
    version: str  # "1.1"
    headers: dict[str, str]
    keep_alive: bool
    oversized: bool


class ClientConnection(asyncio.Protocol):
    """One client: httptools parses, complete requests queue up and are answered in order
    while the client reads; one timer at a time (request deadline, keep-alive, send)."""

    def __init__(self, hub: ConnectionHub) -> None:
        self.hub = hub
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = "-"
        self.loop = asyncio.get_running_loop()
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = 0.0  # loop time by which the request in progress must be in
        self.idle = False  # kept alive between requests, nothing received yet
        self.paused = False  # the transport's buffer is full: the client is not reading
        self.closed = False
        self.ignore_input = False  # answered early (405, 431): the rest is not read
        # the request being received
        self.in_head = False
        self.head_chunks = 0  # reads that ended inside the head
        self.head_bytes = 0  # bytes of those reads after the first
        self.url = b""
        self.header_list: list[tuple[bytes, bytes]] = []
        self.current: _Request | None = None
        self.answered = 0  # requests answered since self.deadline was set
        self.pending: collections.deque[_Request] = collections.deque()

    # -- asyncio callbacks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.hub.live.add(self)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "-"
        if self.hub.stopping or not self.hub.admit(self):
            self._canned(503)
            return
        self._start_request()

    def data_received(self, data: bytes) -> None:
        if self.closed or self.ignore_input:
            return
        if self.idle:  # the first byte of the next request starts its clock
            self.idle = False
            self._start_request()
        upgrade = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            upgrade = True  # (h2c, websocket): answered in HTTP/1.1, then closed
        except httptools.HttpParserError:
            self._answer_pending()
            if not self.closed:
                self._canned(400)
            return
        if self.in_head:
            self.head_chunks += 1
            if self.head_chunks > 1:
                self.head_bytes += len(data)
            if self.head_bytes > self.hub.limits.max_header_bytes:
                self._answer_pending()
                if not self.closed:
                    self._canned(431)
                return
        if upgrade:
            for request in self.pending:
                request.keep_alive = False
            self.ignore_input = True
        self._answer_pending()

    def eof_received(self) -> bool:
        return False  # close (after what is buffered is sent)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        self.hub.connections.pop(self, None)
        self.hub.live.discard(self)

    def pause_writing(self) -> None:
        self.paused = True
        assert self.transport is not None
        self.transport.pause_reading()
        self._set_timer(self.loop.time() + self.hub.limits.send_timeout, self.abort)

    def resume_writing(self) -> None:
        self.paused = False
        if self.closed:
            return
        assert self.transport is not None
        self.transport.resume_reading()
        self._answer_pending()

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.answered:  # a pipelined request: its own clock
            self.deadline = self.loop.time() + self.hub.limits.header_timeout
            self.answered = 0
        self.in_head = True
        self.head_chunks = self.head_bytes = 0
        self.url = b""
        self.header_list = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_list.append((name, value))

    def on_headers_complete(self) -> None:
        self.in_head = False
        headers: dict[str, str] = {}
        size = len(self.url)
        for name, value in self.header_list:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = headers[key] + ", " + text if key in headers else text
            size += len(name) + len(value) + 4
        method = self.parser.get_method()
        request = _Request(method, self.url, self.parser.get_http_version(), headers,
                           self.parser.should_keep_alive(),
                           size > self.hub.limits.max_header_bytes)
        if request.oversized or method not in (b"GET", b"HEAD"):
            request.keep_alive = False  # answered now, without reading a body
            self.pending.append(request)
            self.ignore_input = True
        else:
            self.current = request

    def on_message_complete(self) -> None:
        if self.current is not None:
            self.pending.append(self.current)
            self.current = None

    # -- answering -----------------------------------------------------------------------------

    def _answer_pending(self) -> None:
        while self.pending and not self.paused and not self.closed:
            request = self.pending.popleft()
            self._answer(request)
            self.answered += 1
            if not request.keep_alive or self.hub.stopping:
                self.close()
        if self.closed or self.paused:
            return
        if self.in_head or self.current is not None:  # a request is on its way
            if self.answered:  # it began in an earlier read: its clock started there
                self.deadline = self.loop.time() + self.hub.limits.header_timeout
                self.answered = 0
            self._set_timer(self.deadline, self._request_timed_out)
        elif self.ignore_input:
            self.close()
        else:
            self.idle = True
            self.answered = 0
            self._set_timer(self.loop.time() + self.hub.limits.keep_alive_timeout, self.close)

    def _answer(self, request: _Request) -> None:
        method = request.method.decode("latin-1")
        path = _request_path(request.target)
        if request.oversized:
            reply = simple_reply(431)
        elif path is None:
            reply = simple_reply(400)
        else:
            try:
                reply = self.hub.respond(method, path, request.headers)
            except Exception:
                log.exception("error answering %s %r", method, request.target)
                reply = simple_reply(500)
        self.hub.clock.tick()
        lines = [f"HTTP/1.1 {reply.status} {reply.reason}"]
        lines += [f"{name}: {value}" for name, value in reply.headers]
        lines.append("Date: " + self.hub.clock.http)
        if not request.keep_alive or self.hub.stopping:
            lines.append("Connection: close")
        elif request.version == "1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        assert self.transport is not None
        sent = 0
        if method != "HEAD" and reply.body and reply.status not in (204, 304):
            sent = len(reply.body)
            self.transport.writelines((head, reply.body))
        else:
            self.transport.write(head)
        self._log(b"%s %s HTTP/%s" % (request.method, request.target,
                                      request.version.encode("ascii")), reply.status, sent)

    def _start_request(self) -> None:
        self.deadline = self.loop.time() + self.hub.limits.header_timeout
        self.answered = 0
        if not self.paused:
            self._set_timer(self.deadline, self._request_timed_out)

    def _request_timed_out(self) -> None:
        if self.in_head or self.current is not None:
            self._canned(408)
        else:
            self.close()

    # -- output and closing --------------------------------------------------------------------

    def _canned(self, status: int) -> None:
        body = _canned(status)
        assert self.transport is not None
        self.transport.write(body)
        self._log(b"-", status, len(body) - body.index(b"\r\n\r\n") - 4)
        self.close()

    def _log(self, request_line: bytes, status: int, sent: int) -> None:
        if access_log.isEnabledFor(logging.INFO):
            self.hub.clock.tick()
            line = "-" if request_line == b"-" else _log_text(request_line)
            access_log.info('%s - - [%s] "%s" %d %s', self.peer, self.hub.clock.clf, line,
                            status, sent or "-")

    def close(self) -> None:
        """Close once what is buffered is sent (``send_timeout`` bounds that)."""
        if self.closed:
            return
        self.closed = True
        self.idle = False
        self.hub.connections.pop(self, None)
        assert self.transport is not None
        if self.transport.get_write_buffer_size():
            self._set_timer(self.loop.time() + self.hub.limits.send_timeout, self.abort)
        else:
            self._cancel_timer()
        self.transport.close()

    def abort(self) -> None:
        self.closed = True
        self._cancel_timer()
        self.hub.connections.pop(self, None)
        if self.transport is not None:
            self.transport.abort()

    def _set_timer(self, when: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self.timer = self.loop.call_at(when, callback)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
