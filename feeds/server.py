"""Serve the output directory to feed readers.

A small WSGI application (``make_app``) over a production WSGI server (cheroot, the server
of CherryPy: pure Python, a thread pool, and a ``stop()`` that returns within a second)::

    request ──► resolve path ──► read file whole ──► ETag (cached) ──► 304 / 200 (gzip?)
                (no traversal,   (one fd: the        (by path, dev,
                 no hidden,       writer replaces     inode, size,
                 no listing)      files atomically)   mtime_ns)

* Media types come from the file name: ``rss.xml``, ``atom.xml`` and ``feed.json`` get the
  feed types of ``feeds.model.MEDIA_TYPES``; ``feeds.opml`` is ``text/x-opml``.
* Every 200 and 304 carries a strong ``ETag`` (a content hash; the gzip variant has its own,
  ``"<hash>-gzip"``), ``Last-Modified`` and ``Cache-Control``.  ``If-None-Match`` wins over
  ``If-Modified-Since``.
* Paths with ``..``, hidden components (``.tmp`` files of atomic writes), NUL bytes, or that
  resolve (through symlinks) outside the root are 404.  There is no directory listing: a
  directory serves its ``index.html`` or is 404.

``FeedServer`` runs the server in a background thread (inside the daemon, beside the
scheduler); ``serve_forever`` runs it in the foreground for ``feeds serve``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import os
import re
import signal
import stat
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from types import FrameType
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from cheroot import wsgi

from feeds.model import FILENAMES, MEDIA_TYPES

__all__ = ["FeedServer", "make_app", "media_type_for", "serve_forever"]

log = logging.getLogger(__name__)

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
_ENTITY_CACHE_SIZE = 256


def media_type_for(name: str) -> str:
    """The ``Content-Type`` for a file called ``name`` (a base name)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class _Entity:
    etag: str  # the opaque tag of the identity variant, without quotes
    gzipped: bytes | None = None


class _EntityCache:
    """Content hashes (and gzip bodies) by ``(path, dev, inode, size, mtime_ns)``, LRU."""

    def __init__(self, size: int = _ENTITY_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[object, ...], _Entity] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> _Entity | None:
        with self._lock:
            entity = self._items.get(key)
            if entity is not None:
                self._items.move_to_end(key)
            return entity

    def put(self, key: tuple[object, ...], entity: _Entity) -> None:
        with self._lock:
            self._items[key] = entity
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _File:
    data: bytes
    st: os.stat_result
    name: str


class _NotFound(Exception):
    pass


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class FeedApp:
    """The WSGI application of ``make_app``: static files with feed-reader manners."""

    def __init__(self, root: Path, *, max_age: int = 300) -> None:
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        self.root = Path(root)
        self.max_age = max_age
        self._cache = _EntityCache()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        if method not in ("GET", "HEAD"):
            return self._simple(
                start_response, "405 Method Not Allowed", method, [("Allow", "GET, HEAD")]
            )
        try:
            file = self._open(path)
        except _NotFound:
            return self._simple(start_response, "404 Not Found", method)
        except _Redirect as redirect:
            location = environ.get("SCRIPT_NAME", "") + redirect.location
            return self._simple(
                start_response, "301 Moved Permanently", method, [("Location", location)]
            )
        status, headers, body = self._respond(environ, file)
        log.debug("%s %s %s %d", method, path, status[:3], len(body))
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    # -- path resolution -------------------------------------------------------------------

    def _open(self, path_info: str) -> _File:
        try:
            path = path_info.encode("latin-1").decode("utf-8")  # PEP 3333 bytes-as-str
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
        return self._read(target)

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

    @staticmethod
    def _read(target: str) -> _File:
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(target, flags)
        except OSError:
            raise _NotFound from None
        with open(fd, "rb") as handle:  # one fd: an atomic replace cannot tear this read
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _NotFound
            data = handle.read()
        return _File(data=data, st=st, name=os.path.basename(target))

    # -- representation --------------------------------------------------------------------

    def _respond(
        self, environ: WSGIEnvironment, file: _File
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        st = file.st
        key = (file.name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cacheable = len(file.data) == st.st_size  # else the file changed in place under us
        entity = self._cache.get(key) if cacheable else None
        if entity is None:
            entity = _Entity(etag=hashlib.blake2b(file.data, digest_size=16).hexdigest())
            if cacheable:
                self._cache.put(key, entity)

        content_type = media_type_for(file.name)
        compressible = bool(_COMPRESSIBLE.match(content_type))
        use_gzip = compressible and _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        opaque = entity.etag + "-gzip" if use_gzip else entity.etag
        headers = [
            ("ETag", f'"{opaque}"'),
            ("Last-Modified", formatdate(st.st_mtime, usegmt=True)),
            ("Cache-Control", f"public, max-age={self.max_age}"),
        ]
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))

        if _not_modified(environ, opaque, st.st_mtime):
            return "304 Not Modified", headers, b""

        body = file.data
        if use_gzip:
            if entity.gzipped is None:
                # mtime=0: the same bytes in give the same bytes out, so the ETag holds.
                entity = _Entity(entity.etag, gzip.compress(file.data, mtime=0))
                if cacheable:
                    self._cache.put(key, entity)
            assert entity.gzipped is not None
            body = entity.gzipped
            headers.append(("Content-Encoding", "gzip"))
        headers += [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("Access-Control-Allow-Origin", "*"),
        ]
        return "200 OK", headers, body

    @staticmethod
    def _simple(
        start_response: StartResponse,
        status: str,
        method: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        body = (status[4:] + "\n").encode("ascii")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            *(extra or []),
        ]
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]


def _accepts_gzip(header: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip``/``x-gzip``/``*`` with q > 0)."""
    star: bool | None = None
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


def _not_modified(environ: WSGIEnvironment, opaque: str, mtime: float) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:  # takes precedence (RFC 9110, 13.2.2)
        if if_none_match.strip() == "*":
            return True
        return opaque in _ETAG.findall(if_none_match)  # weak comparison, as the RFC says
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False  # an invalid date is ignored
    return int(mtime) <= since.timestamp()


def make_app(root: Path, *, max_age: int = 300) -> WSGIApplication:
    """A WSGI application serving ``root`` (see the module docstring)."""
    return FeedApp(root, max_age=max_age)


class _Server(wsgi.Server):
    """cheroot's WSGI server, reporting through ``logging`` instead of stderr."""

    def error_log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        log.log(level, "%s", msg, exc_info=traceback)


def _drop_foreign_listen_fds() -> None:
    """Unset socket-activation variables meant for another process (sd_listen_fds(3) rule).

    cheroot takes fd 3 as its listening socket whenever ``LISTEN_PID`` is set, without
    checking that the PID is ours; a stale variable inherited from a parent would make it
    serve on whatever fd 3 happens to be.
    """
    listen_pid = os.environ.get("LISTEN_PID")
    if listen_pid is not None and listen_pid.strip() != str(os.getpid()):
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
        log.debug("ignored LISTEN_PID=%s: socket activation for another process", listen_pid)


class FeedServer:
    """Serve ``root`` over HTTP in a background thread.

    ``start()`` binds before it returns (so a busy port raises ``OSError`` in the caller) and
    ``stop()`` returns within about a second when no request is in flight.  The worker
    threads are not daemon threads: always ``stop()`` (e.g. in a ``finally``).
    """

    def __init__(self, root: Path, *, max_age: int = 300, threads: int = 8) -> None:
        self.root = Path(root)
        self.app = make_app(self.root, max_age=max_age)
        self.threads = threads
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful after ``start(port=0)``)."""
        if self._server is None:
            raise RuntimeError("FeedServer is not started")
        bind_addr: Any = self._server.bind_addr
        return int(bind_addr[1])

    @property
    def host(self) -> str:
        if self._server is None:
            raise RuntimeError("FeedServer is not started")
        bind_addr: Any = self._server.bind_addr
        return str(bind_addr[0])

    @property
    def url(self) -> str:
        host = self.host
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        if self._server is not None:
            raise RuntimeError("FeedServer is already started")
        _drop_foreign_listen_fds()
        server = _Server((host, port), self.app, numthreads=self.threads, timeout=10)
        server.software = "feeds"
        server.prepare()  # binds and listens; raises OSError here when the port is taken
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="feeds-http", daemon=True)
        self._thread.start()
        log.debug("serving %s on %s", self.root, self.url)

    def stop(self, timeout: float = 5) -> None:
        """Stop accepting, let requests in flight finish (up to ``timeout`` s), join."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown_timeout = timeout
        server.stop()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("HTTP server thread did not stop within %.1fs", timeout)
        self._server = self._thread = None

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_forever(
    root: Path, host: str = "127.0.0.1", port: int = 8080, *, max_age: int = 300
) -> None:
    """Serve ``root`` in the foreground until SIGINT or SIGTERM (for ``feeds serve``).

    Must be called from the main thread (it installs signal handlers, and restores them).
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
        log.info("serving %s on %s", root, server.url)
        while not stopping.wait(0.5):
            pass
        log.info("stopping")
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
