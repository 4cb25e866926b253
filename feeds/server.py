"""Serve the output directory to feed readers.

An asyncio server speaking HTTP/1.1 through httptools (llhttp, the parser of Node.js), over
one pure request handler (``FeedApp.respond``, also a WSGI application by ``make_app``)::

    connection ──► llhttp parses ──► resolve path ──► stat ──► entity cache ──► 304 / 200
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
import collections
import errno
import functools
import gzip
import hashlib
import io
import logging
import mimetypes
import os
import re
import signal
import socket
import stat
import sys
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

import httptools

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
_RESOLVED_TTL = 1.0  # s, a request path's resolution is reused this long
_RESOLVED_ENTRIES = 1024


@functools.lru_cache(maxsize=256)
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

    __slots__ = ("data", "etag", "gzipped", "last_modified")

    def __init__(self, data: bytes, mtime: float) -> None:
        self.data = data
        self.etag = hashlib.blake2b(data, digest_size=16).hexdigest()
        self.last_modified = formatdate(mtime, usegmt=True)
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
        # request path -> (expiry, real path): resolving (realpath, a few lstat) costs more
        # than the rest of a request.  Only paths that led to a file; the file is still
        # stat-ed on every request.
        self._resolved: dict[bytes, tuple[float, str]] = {}

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
        now = time.monotonic()
        hit = self._resolved.get(raw_path)
        if hit is not None and hit[0] > now:
            try:
                st, entity = self._load(hit[1])
            except _NotFound:
                self._resolved.pop(raw_path, None)  # gone: resolve again, from the root
            else:
                return os.path.basename(hit[1]), st, entity
        target = self._resolve(raw_path)
        st, entity = self._load(target)
        if len(self._resolved) >= _RESOLVED_ENTRIES:
            self._resolved.clear()
        self._resolved[raw_path] = (now + _RESOLVED_TTL, target)
        return os.path.basename(target), st, entity

    def _resolve(self, raw_path: bytes) -> str:
        """The real path of the file ``raw_path`` names, checked to be inside the root."""
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
        return target

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
        entity = _Entity(data, st.st_mtime)
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
            ("Last-Modified", entity.last_modified),
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


@functools.lru_cache(maxsize=256)
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


_Responder = Callable[[str, bytes, Mapping[str, str]], Reply]


def _wsgi_responder(app: WSGIApplication) -> _Responder:
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


class _Hub:
    """What the connections of one server share: the handler, limits, the connection set."""

    def __init__(self, respond: _Responder, limits: Limits) -> None:
        self.respond = respond
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


@dataclass(slots=True)
class _Request:
    method: bytes
    target: bytes
    version: str  # "1.1"
    headers: dict[str, str]
    keep_alive: bool
    oversized: bool


class _Connection(asyncio.Protocol):
    """One client: httptools parses, complete requests queue up and are answered in order
    while the client reads; one timer at a time (request deadline, keep-alive, send)."""

    def __init__(self, hub: _Hub) -> None:
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
            reply = _simple(431)
        elif path is None:
            reply = _simple(400)
        else:
            try:
                reply = self.hub.respond(method, path, request.headers)
            except Exception:
                log.exception("error answering %s %r", method, request.target)
                reply = _simple(500)
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
        # any WSGI application may stand in (a recording middleware in the tests)
        self.app: FeedApp | WSGIApplication = FeedApp(self.root, max_age=max_age)
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
        app = self.app
        hub = _Hub(app.respond if isinstance(app, FeedApp) else _wsgi_responder(app),
                   self.limits)
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
            tasks = asyncio.all_tasks(loop)  # accepts still in flight after a timeout
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
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
    deadline = loop.time() + timeout
    # Stop accepting first.  A connection accepted just before gets its transport (and a 503:
    # the hub is stopping) in a task of its own, a few loop turns later; closing the server
    # before those tasks ran would make them fail and leave their sockets open (CPython's
    # _accept_connection2 asserts the server is open and does not close the socket).
    server = hub.server
    if server is not None:
        for listening in server.sockets:
            loop.remove_reader(listening.fileno())
    this = asyncio.current_task()
    while any(task is not this for task in asyncio.all_tasks()) and loop.time() < deadline:
        await asyncio.sleep(0.01)
    if server is not None:
        server.close()
    for conn in list(hub.live):
        conn.close()
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
