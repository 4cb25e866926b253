"""Serve the output directory to feed readers.

An asyncio server speaking HTTP/1.1 through h11, over one pure request handler
(``FeedApp.respond``, also mounted as a WSGI application by ``make_app``)::

    connection ──► h11 parses ──► resolve path ──► stat ──► entity cache ──► 304 / 200 (gzip?)
    (at most        (headers      (no traversal,            (bytes, ETag,
     max_connections, within       no hidden,                gzip body by
     idle ones make  header_timeout) no listing)             dev, inode, size,
     room)                                                   mtime_ns, ctime_ns)

* Media types come from the file name: ``rss.xml``, ``atom.xml`` and ``feed.json`` get the
  feed types of ``feeds.model.MEDIA_TYPES``; ``feeds.opml`` is ``text/x-opml``.
* Every 200 and 304 carries a strong ``ETag`` (a content hash; the gzip variant has its own,
  ``"<hash>-gzip"``), ``Last-Modified`` and ``Cache-Control``; compressible types also
  ``Vary: Accept-Encoding``.  ``If-None-Match`` wins over ``If-Modified-Since``.  gzip is
  sent when ``Accept-Encoding`` gives it a q-value above 0 (``gzip;q=0`` refuses it) and
  not below that of ``identity`` when named.
* Paths with ``..``, hidden components (``.tmp`` files of atomic writes), NUL bytes, or that
  resolve (through symlinks) outside the root are 404.  There is no directory listing: a
  directory serves its ``index.html`` or is 404.
* A file's bytes, hash and gzip body are cached by its identity and times, and read again only
  when the ``stat`` differs.  A file changed less than two seconds ago is read again on each
  request and compared byte for byte (the "racy" rule of git's index): within one tick of a
  coarse file-system clock an in-place rewrite of the same size keeps its times.

Availability (``Limits``): one event loop serves every connection, so idle or slow clients
cost a socket each, never a worker.  A request must arrive whole within ``header_timeout``
(from the connection's start, or from the first byte of a kept-alive connection's next
request; data trickling in does not move the deadline), else the connection gets 408 and is
closed.  An idle kept-alive connection is closed after ``keep_alive_timeout``; a client that
does not read its response, after ``send_timeout``.  Beyond ``max_connections`` the oldest
idle kept-alive connection is closed to make room, or else the newcomer gets 503.

One access log line per response goes to the ``feeds.access`` logger at INFO, in Common Log
Format (``127.0.0.1 - - [02/Dec/2026:07:30:00 +0000] "GET /rss.xml HTTP/1.1" 200 5120``).

``FeedServer`` runs the loop in a background thread (inside the daemon, beside the
scheduler); ``serve_forever`` runs it for ``feeds serve`` until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import hashlib
import logging
import mimetypes
import os
import re
import signal
import socket
import stat
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from types import FrameType
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import h11

from feeds.errors import ListenError
from feeds.model import FILENAMES, MEDIA_TYPES

__all__ = ["FeedApp", "FeedServer", "Limits", "Reply", "make_app", "media_type_for",
           "serve_forever"]

log = logging.getLogger(__name__)
access_log = logging.getLogger("feeds.access")

_UTF8 = "; charset=utf-8"
_BY_NAME: dict[str, str] = {FILENAMES[fmt]: MEDIA_TYPES[fmt] + _UTF8 for fmt in FILENAMES}
_BY_SUFFIX: dict[str, str] = {
    ".xml": "application/xml" + _UTF8,
    ".opml": "text/x-opml" + _UTF8,
    ".json": "application/json",
    ".html": "text/html" + _UTF8,
    ".htm": "text/html" + _UTF8,
    ".xsl": "application/xslt+xml" + _UTF8,
    ".css": "text/css" + _UTF8,
    ".txt": "text/plain" + _UTF8,
    ".js": "text/javascript" + _UTF8,
    ".svg": "image/svg+xml",
}
_COMPRESSIBLE = re.compile(r"^(text/|application/(.+\+)?(xml|json)\b|image/svg\+xml)")
_ETAG = re.compile(r'(?:W/)?"([^"]*)"')
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
_REASONS = {200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request",
            404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
            431: "Request Header Fields Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}

_CACHE_ENTRIES = 256
_CACHE_BYTES = 64 * 1024 * 1024
_CACHE_FILE_BYTES = 16 * 1024 * 1024  # bigger files are read on every request
_RACY_NS = 2_000_000_000  # a file changed this recently is compared byte for byte


def media_type_for(name: str) -> str:
    """The ``Content-Type`` for a file called ``name`` (a base name)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


# -- the request handler -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: ``body`` is the whole representation, also for HEAD (the server drops it)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def reason(self) -> str:
        return _REASONS.get(self.status, "")


class _Entity:
    """One version of a file: its bytes, their hash, and (once asked for) their gzip."""

    __slots__ = ("data", "etag", "gzipped")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.etag = hashlib.blake2b(data, digest_size=16).hexdigest()
        self.gzipped: bytes | None = None

    def gzip(self) -> bytes:
        if self.gzipped is None:
            # mtime=0: the same bytes in give the same bytes out, so the strong ETag holds.
            self.gzipped = gzip.compress(self.data, mtime=0)
        return self.gzipped


_Key = tuple[int, int, int, int, int]


def _key(st: os.stat_result) -> _Key:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _EntityCache:
    """Entities by ``(dev, inode, size, mtime_ns, ctime_ns)``, LRU, bounded in count and bytes."""

    def __init__(self, entries: int = _CACHE_ENTRIES, size: int = _CACHE_BYTES) -> None:
        self._entries = entries
        self._size = size
        self._bytes = 0
        self._items: OrderedDict[_Key, _Entity] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> _Entity | None:
        with self._lock:
            entity = self._items.get(key)
            if entity is not None:
                self._items.move_to_end(key)
            return entity

    def put(self, key: _Key, entity: _Entity) -> None:
        if len(entity.data) > _CACHE_FILE_BYTES:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._items[key] = entity
            self._bytes += len(entity.data)
            while len(self._items) > self._entries or self._bytes > self._size:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.data)


class _NotFound(Exception):
    pass


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class FeedApp:
    """Static files with feed-reader manners: ``respond`` is the handler, pure but for reading
    the files; calling the object is the same handler as a WSGI application."""

    def __init__(self, root: Path, *, max_age: int = 300) -> None:
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        self.root = Path(root)
        self.max_age = max_age
        self._cache = _EntityCache()

    def respond(self, method: str, path: bytes, headers: Mapping[str, str]) -> Reply:
        """The reply to ``method path`` (``path`` percent-decoded, without the query);
        ``headers`` by lower-case name."""
        if method not in ("GET", "HEAD"):
            return _simple(405, [("Allow", "GET, HEAD")])
        try:
            name, st, entity = self._open(path)
        except _NotFound:
            return _simple(404)
        except _Redirect as redirect:
            return _simple(301, [("Location", redirect.location)])
        return self._represent(name, st, entity, headers)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = (environ.get("PATH_INFO", "") or "/").encode("latin-1")  # PEP 3333 bytes-as-str
        headers = {key[5:].replace("_", "-").lower(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        reply = self.respond(method, path, headers)
        status_line = f"{reply.status} {reply.reason}"
        out = reply.headers
        if reply.status == 301:
            prefix = environ.get("SCRIPT_NAME", "")
            out = [(k, prefix + v if k == "Location" else v) for k, v in out]
        start_response(status_line, out)
        return [b""] if method == "HEAD" else [reply.body]

    # -- path resolution -----------------------------------------------------------------------

    def _open(self, raw_path: bytes) -> tuple[str, os.stat_result, _Entity]:
        try:
            path = raw_path.decode("utf-8")
        except UnicodeError:
            raise _NotFound from None
        if not path.startswith("/") or "\x00" in path:
            raise _NotFound
        parts = [part for part in path.split("/") if part]
        if any(part.startswith(".") for part in parts):  # "..", ".", hidden and .tmp files
            raise _NotFound
        root = os.path.realpath(self.root)
        target = self._contained(root, os.path.join(root, *parts))
        if os.path.isdir(target):
            index = self._contained(root, os.path.join(target, "index.html"))
            if not os.path.isfile(index):
                raise _NotFound
            if parts and not path.endswith("/"):
                raise _Redirect(urllib.parse.quote(path + "/"))
            target = index
        elif path.endswith("/"):
            raise _NotFound
        st, entity = self._load(target)
        return os.path.basename(target), st, entity

    @staticmethod
    def _contained(root: str, candidate: str) -> str:
        """``candidate`` with symlinks resolved, if it stays inside ``root`` and visible."""
        real = os.path.realpath(candidate)
        if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
            raise _NotFound
        relative = os.path.relpath(real, root)
        if relative != "." and any(p.startswith(".") for p in relative.split(os.sep)):
            raise _NotFound
        return real

    def _load(self, target: str) -> tuple[os.stat_result, _Entity]:
        """The file's entity: from the cache when its ``stat`` matches, else read (one fd:
        an atomic replace cannot tear the read)."""
        try:
            st = os.stat(target, follow_symlinks=False)
        except OSError:
            raise _NotFound from None
        if not stat.S_ISREG(st.st_mode):
            raise _NotFound
        key = _key(st)
        cached = self._cache.get(key)
        if cached is not None and time.time_ns() - st.st_ctime_ns >= _RACY_NS:
            return st, cached
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(target, flags)
        except OSError:
            raise _NotFound from None
        with open(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _NotFound
            data = handle.read()
        key = _key(st)
        if cached is not None and _key(st) == key and cached.data == data:
            return st, cached  # a racy entry, still the same bytes: no new hash
        entity = _Entity(data)
        if len(data) == st.st_size:  # else the file changed in place under us
            self._cache.put(key, entity)
        return st, entity

    # -- representation ------------------------------------------------------------------------

    def _represent(
        self, name: str, st: os.stat_result, entity: _Entity, headers: Mapping[str, str]
    ) -> Reply:
        content_type = media_type_for(name)
        compressible = bool(_COMPRESSIBLE.match(content_type))
        use_gzip = compressible and _accepts_gzip(headers.get("accept-encoding", ""))
        opaque = entity.etag + "-gzip" if use_gzip else entity.etag
        out = [
            ("ETag", f'"{opaque}"'),
            ("Last-Modified", formatdate(st.st_mtime, usegmt=True)),
            ("Cache-Control", f"public, max-age={self.max_age}"),
        ]
        if compressible:
            out.append(("Vary", "Accept-Encoding"))
        if _not_modified(headers, opaque, st.st_mtime):
            return Reply(304, out)
        body = entity.data
        if use_gzip:
            body = entity.gzip()
            out.append(("Content-Encoding", "gzip"))
        out += [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("Access-Control-Allow-Origin", "*"),
        ]
        return Reply(200, out, body)


def _simple(status: int, extra: list[tuple[str, str]] | None = None) -> Reply:
    body = (_REASONS[status] + "\n").encode("ascii")
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
        *(extra or []),
    ]
    return Reply(status, headers, body)


def _codings(header: str) -> dict[str, float]:
    """``Accept-Encoding`` as coding -> q (RFC 9110, 12.5.3); an element with an invalid
    q-value is left out."""
    found: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q: float | None = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else None
        if q is not None:
            found[coding] = max(q, found.get(coding, 0.0))
    return found


def _accepts_gzip(header: str) -> bool:
    """Whether to send gzip: its q-value (``gzip``, ``x-gzip``, else ``*``) is above 0, and
    not below the q-value of ``identity`` when that is named.  No header or an empty one: no
    gzip."""
    codings = _codings(header)
    if "gzip" in codings or "x-gzip" in codings:
        q_gzip = max(codings.get("gzip", 0.0), codings.get("x-gzip", 0.0))
    else:
        q_gzip = codings.get("*", 0.0)
    return q_gzip > 0 and q_gzip >= codings.get("identity", 0.0)


def _not_modified(headers: Mapping[str, str], opaque: str, mtime: float) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:  # takes precedence (RFC 9110, 13.2.2)
        if if_none_match.strip() == "*":
            return True
        return opaque in _ETAG.findall(if_none_match)  # weak comparison, as the RFC says
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False  # an invalid date is ignored
    return int(mtime) <= since.timestamp()


def make_app(root: Path, *, max_age: int = 300) -> WSGIApplication:
    """The handler serving ``root`` as a WSGI application (see the module docstring)."""
    return FeedApp(root, max_age=max_age)


# -- HTTP over asyncio -------------------------------------------------------------------------


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
    reason = _REASONS[status]
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


class _Hub:
    """What the connections of one server share: the handler, limits, the connection set."""

    def __init__(self, app: FeedApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self.clock = _Clock()
        self.connections: dict[_Connection, None] = {}  # admitted, open; in arrival order
        self.live: set[_Connection] = set()  # every transport not yet lost
        self.server: asyncio.Server | None = None
        self.stopping = False

    def admit(self, conn: _Connection) -> bool:
        if len(self.connections) >= self.limits.max_connections:
            idle = next((c for c in self.connections if c.idle), None)
            if idle is None:
                return False
            idle.close()
            self.connections.pop(idle, None)
        self.connections[conn] = None
        return True


class _Connection(asyncio.Protocol):
    """One client: h11 in, replies out; one timer at a time (request deadline, keep-alive,
    send)."""

    def __init__(self, hub: _Hub) -> None:
        self.hub = hub
        self.h11 = h11.Connection(h11.SERVER,
                                  max_incomplete_event_size=hub.limits.max_header_bytes)
        self.transport: asyncio.Transport | None = None
        self.peer = "-"
        self.loop = asyncio.get_running_loop()
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = 0.0  # loop time by which the current request must be in
        self.idle = False  # kept alive between requests, nothing received yet
        self.received = False  # bytes of the current request have arrived
        self.paused = False  # the transport's buffer is full: the client is not reading
        self.closed = False

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
        self._start_request(self.hub.limits.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if self.idle:  # the first byte of the next request starts its clock
            self.idle = False
            self._start_request(self.hub.limits.header_timeout)
        self.received = True
        self.h11.receive_data(data)
        self._process()

    def eof_received(self) -> bool:
        if not self.closed:
            self.h11.receive_data(b"")
            self._process()
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
        if self.idle:
            self._set_timer(self.loop.time() + self.hub.limits.keep_alive_timeout, self.close)
        else:
            self._set_timer(self.deadline, self._request_timed_out)
        self._process()

    # -- requests ------------------------------------------------------------------------------

    def _process(self) -> None:
        conn = self.h11
        while not self.closed and not self.paused:
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                self._next_cycle()
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._canned(431 if exc.error_status_hint == 431 else 400)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._answer(event)
                if conn.our_state is h11.MUST_CLOSE:
                    self.close()
            elif isinstance(event, h11.ConnectionClosed):
                self.close()

    def _next_cycle(self) -> None:
        self.h11.start_next_cycle()
        self.received = bool(self.h11.trailing_data[0])
        if self.received:  # pipelined: the next request is already (partly) here
            self._start_request(self.hub.limits.header_timeout)
        else:
            self.idle = True
            if not self.paused:
                self._set_timer(self.loop.time() + self.hub.limits.keep_alive_timeout,
                                self.close)

    def _answer(self, request: h11.Request) -> None:
        method = request.method.decode("ascii", "replace")
        path = _request_path(request.target)
        headers: dict[str, str] = {}
        size = len(request.target)
        for name, value in request.headers:
            key = name.decode("ascii")
            text = value.decode("latin-1")
            headers[key] = headers[key] + ", " + text if key in headers else text
            size += len(name) + len(value) + 4
        close = method not in ("GET", "HEAD") or self.hub.stopping  # an unread body; going away
        if size > self.hub.limits.max_header_bytes:  # arrived whole, so h11 let it through
            reply, close = _simple(431), True
        elif path is None:
            reply = _simple(400)
        else:
            try:
                reply = self.hub.app.respond(method, path, headers)
            except Exception:
                log.exception("error answering %s %r", method, request.target)
                reply = _simple(500)
        self.hub.clock.tick()
        out = list(reply.headers)
        out.append(("Date", self.hub.clock.http))
        if close:
            out.append(("Connection", "close"))
        conn = self.h11
        head = conn.send(h11.Response(status_code=reply.status, headers=out,
                                      reason=reply.reason.encode("ascii")))
        chunks = [head] if head else []
        sent = 0
        if method != "HEAD" and reply.body and reply.status not in (204, 304):
            chunks += conn.send_with_data_passthrough(h11.Data(data=reply.body)) or []
            sent = len(reply.body)
        tail = conn.send(h11.EndOfMessage())
        if tail:
            chunks.append(tail)
        assert self.transport is not None
        self.transport.writelines(chunks)
        self._log(request.method + b" " + request.target + b" HTTP/" + request.http_version,
                  reply.status, sent)

    def _start_request(self, timeout: float) -> None:
        self.deadline = self.loop.time() + timeout
        if not self.paused:
            self._set_timer(self.deadline, self._request_timed_out)

    def _request_timed_out(self) -> None:
        if self.received and self.h11.our_state is h11.IDLE:
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


def _listen(host: str, port: int, backlog: int = 512) -> socket.socket:
    """A listening, non-blocking socket on ``host:port``; ``ListenError`` says why not."""
    if not 0 <= port <= 65535:
        raise ListenError(host, port, "the port must be between 0 and 65535")
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(host, port, f"unknown host name ({exc.strerror})") from None
    except UnicodeError:  # the idna codec: an empty label, or one over 63 characters
        raise ListenError(host, port, "invalid host name") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(host, port, _reason(exc, port), errno=exc.errno) from None
    return sock


def _reason(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno == errno.EACCES:
        if 0 < port < 1024:
            return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        return "permission denied"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "address not available on this machine"
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _drop_foreign_listen_fds() -> None:
    """Unset socket-activation variables meant for another process (sd_listen_fds(3) rule):
    a child started later must not take them for its own."""
    listen_pid = os.environ.get("LISTEN_PID")
    if listen_pid is not None and listen_pid.strip() != str(os.getpid()):
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
        log.debug("ignored LISTEN_PID=%s: socket activation for another process", listen_pid)


class FeedServer:
    """Serve ``root`` over HTTP from an event loop in a background thread.

    ``start()`` binds before it returns (a busy port raises ``ListenError``, an ``OSError``,
    in the caller) and ``stop()`` closes idle connections at once, lets responses being sent
    finish (up to ``timeout`` s), and joins the thread.
    """

    def __init__(self, root: Path, *, max_age: int = 300, limits: Limits = Limits()) -> None:
        self.root = Path(root)
        self.app = FeedApp(self.root, max_age=max_age)
        self.limits = limits
        self._address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._hub: _Hub | None = None

    @property
    def port(self) -> int:
        """The bound port (useful after ``start(port=0)``)."""
        if self._address is None:
            raise RuntimeError("FeedServer is not started")
        return self._address[1]

    @property
    def host(self) -> str:
        if self._address is None:
            raise RuntimeError("FeedServer is not started")
        return self._address[0]

    @property
    def url(self) -> str:
        host = self.host
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        if self._thread is not None:
            raise RuntimeError("FeedServer is already started")
        _drop_foreign_listen_fds()
        sock = _listen(host, port)
        bound: Any = sock.getsockname()
        self._address = (str(bound[0]), int(bound[1]))
        loop = asyncio.new_event_loop()
        hub = _Hub(self.app, self.limits)
        try:
            hub.server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(hub), sock=sock, start_serving=False))
        except BaseException:
            sock.close()
            loop.close()
            self._address = None
            raise
        self._loop, self._hub = loop, hub
        self._thread = threading.Thread(target=self._run, args=(loop, hub.server),
                                        name="feeds-http", daemon=True)
        self._thread.start()
        log.debug("serving %s on %s", self.root, self.url)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, server: asyncio.Server) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start_serving())
            loop.run_forever()
        finally:
            server.close()
            loop.close()

    def stop(self, timeout: float = 5) -> None:
        """Stop listening, close idle connections, let replies being sent finish (up to
        ``timeout`` s), then drop the rest and join the thread.  Idempotent."""
        loop, thread, hub = self._loop, self._thread, self._hub
        if loop is None or thread is None or hub is None:
            return
        if thread.is_alive():
            asyncio.run_coroutine_threadsafe(_shutdown(loop, hub, timeout), loop)
            thread.join(timeout + 2)
            if thread.is_alive():
                log.warning("HTTP server thread did not stop within %.1fs", timeout)
        self._loop = self._thread = self._hub = None
        self._address = None

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _shutdown(loop: asyncio.AbstractEventLoop, hub: _Hub, timeout: float) -> None:
    """Stop listening; close every connection once its reply is sent; abort what is left
    after ``timeout``."""
    hub.stopping = True
    if hub.server is not None:
        hub.server.close()
    for conn in list(hub.live):
        conn.close()
    deadline = loop.time() + timeout
    while hub.live and loop.time() < deadline:
        await asyncio.sleep(0.02)
    for conn in list(hub.live):
        conn.abort()
    for _ in range(3):  # let connection_lost run
        await asyncio.sleep(0)
    loop.stop()


def serve_forever(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_age: int = 300,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``root`` in the foreground until SIGINT or SIGTERM (for ``feeds serve``).

    ``announce`` is given the URL once the port is bound (default: an INFO log line).  A port
    that cannot be bound raises ``ListenError``.  Must be called from the main thread (it
    installs signal handlers, and restores them).
    """
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = FeedServer(root, max_age=max_age)
    try:
        if not Path(root).is_dir():
            log.warning("%s is not a directory (yet): every request is 404 until it is", root)
        server.start(host, port)
        if announce is None:
            log.info("serving %s on %s", root, server.url)
        else:
            announce(server.url)
        while not stopping.wait(0.5):
            pass
        log.info("stopping")
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
