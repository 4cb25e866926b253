"""The pure request handler: files under a root as HTTP replies (``FeedApp.respond``).

Resolves a request path inside the root (no escape by ``..`` or symlink), keeps recently
served files in memory keyed by their stat identity (device, inode, size, mtime, ctime; a
file changed within ``_RACY_NS`` is compared byte for byte), answers conditional requests
(ETag, If-Modified-Since) and gzip.  No sockets here: ``connection`` speaks HTTP, the
package's ``FeedServer`` runs it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
import os
import re
import stat
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from feeds.publish import FORMATS, document_format

_UTF8 = "; charset=utf-8"
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
REASONS = {200: "OK", 301: "Moved Permanently", 303: "See Other", 304: "Not Modified",
           400: "Bad Request",
            404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
            431: "Request Header Fields Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}

#: what a feed document's reply depends on besides its path (see _opened_from_outside)
_FEED_VARY = "Sec-Fetch-Dest, Sec-Fetch-Site"

_CACHE_ENTRIES = 256
_CACHE_BYTES = 64 * 1024 * 1024
_CACHE_FILE_BYTES = 16 * 1024 * 1024  # bigger files are read on every request
_RACY_NS = 2_000_000_000  # a file changed this recently is compared byte for byte
_RESOLVED_TTL = 1.0  # s, a request path's resolution is reused this long
_RESOLVED_ENTRIES = 1024


@functools.lru_cache(maxsize=256)
def media_type_for(name: str) -> str:
    """The ``Content-Type`` for a file called ``name`` (a base name)."""
    known = document_format(name)  # the feed files and archive pages: the formats' table
    if known is not None:
        return FORMATS[known[0]].media_type + _UTF8
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
        return REASONS.get(self.status, "")


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
            return simple_reply(405, [("Allow", "GET, HEAD")])
        try:
            name, st, entity = self._open(path)
        except _NotFound:
            return simple_reply(404)
        except _Redirect as redirect:
            return simple_reply(301, [("Location", redirect.location)])
        feed = document_format(name)
        if feed is not None and feed[1] is None and self._has_page(path):
            # a feed's subscription document, beside the feed's page
            if _opened_from_outside(headers):
                folder = path[: path.rfind(b"/") + 1]
                return simple_reply(303, [("Location", urllib.parse.quote(folder)),
                                          ("Vary", _FEED_VARY)])
            reply = self._represent(name, st, entity, headers)
            reply.headers.append(("Vary", _FEED_VARY))
            return reply
        return self._represent(name, st, entity, headers)

    def _has_page(self, path: bytes) -> bool:
        """Whether the folder of the document ``path`` has its feed's page."""
        try:
            self._open(path[: path.rfind(b"/") + 1] + b"index.html")
        except (_NotFound, _Redirect):
            return False
        return True

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = (environ.get("PATH_INFO", "") or "/").encode("latin-1")  # PEP 3333 bytes-as-str
        headers = {key[5:].replace("_", "-").lower(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        reply = self.respond(method, path, headers)
        status_line = f"{reply.status} {reply.reason}"
        out = reply.headers
        if reply.status in (301, 303):
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


def _opened_from_outside(headers: Mapping[str, str]) -> bool:
    """A person opened a feed's URL in a browser from outside the site: a top-level
    navigation (``Sec-Fetch-Dest: document``, a header only browsers send, and never for a
    fetch by a script or an extension) typed, bookmarked or followed from another site
    (``Sec-Fetch-Site: none`` or ``cross-site``).  They get the feed's page, not raw XML;
    feed readers send no such headers, and a link on the site itself (the page's own
    subscription links) still opens the document."""
    return headers.get("sec-fetch-dest", "").lower() == "document" and \
        headers.get("sec-fetch-site", "").lower() in ("none", "cross-site")


def simple_reply(status: int, extra: list[tuple[str, str]] | None = None) -> Reply:
    body = (REASONS[status] + "\n").encode("ascii")
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
