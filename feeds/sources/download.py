"""One feed URL over HTTP (httpx): the GET, redirects by hand, the body decoded with a cap.

The only module that fetches feeds with httpx (``remote`` decides what to fetch and what a
response means; it names httpx only in annotations).  A failed exchange raises
:class:`Failure` carrying the ``FetchError``, its kind and what the server said, for the
caller's backoff; a completed one returns a :class:`Download` (status 200 or 304).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from feeds.errors import FetchError
from feeds.sources.politeness import ErrorKind, FetchState, Redirect

PROJECT_URL = "https://github.com/feeds/feeds"
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json, application/json;q=0.8, application/xml;q=0.7, "
    "text/xml;q=0.7, text/html;q=0.5, */*;q=0.1"
)
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


def default_user_agent(site_link: str | None = None, version: str | None = None) -> str:
    """``feeds/<version> (+<site link>)``: who we are and where to complain."""
    if version is None:
        try:
            from importlib.metadata import version as package_version

            version = package_version("feeds")
        except Exception:  # not installed (a source checkout): still say who we are
            version = "0"
    return f"feeds/{version} (+{site_link or PROJECT_URL})"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    connect_timeout: float = 10.0
    timeout: float = 30.0  # total, for the whole exchange (redirects and body included)
    max_bytes: int = 10 * 2**20  # decoded body
    max_redirects: int = 5
    concurrency: int = 10
    per_host: int = 2
    user_agent: str = field(default_factory=default_user_agent)
    allow_private: bool = False  # allow redirects from public to private addresses
    every: timedelta = timedelta(minutes=30)  # default interval for specs without one
    trust_env: bool = True  # honour HTTP(S)_PROXY / NO_PROXY from the environment


@dataclass(frozen=True, slots=True)
class FeedSpec:
    name: str
    url: str
    every: timedelta | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    user_agent: str | None = None




class Failure(Exception):
    def __init__(
        self,
        error: FetchError,
        kind: ErrorKind,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        redirects: tuple[Redirect, ...] = (),
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.kind = kind
        self.status = status
        self.headers = dict(headers or {})
        self.redirects = redirects


@dataclass(frozen=True, slots=True)
class Download:
    status: int
    headers: dict[str, str]
    body: bytes | None
    url: str
    redirects: tuple[Redirect, ...]


def make_client(settings: FetchSettings) -> httpx.AsyncClient:
    """An AsyncClient for feeds: no automatic redirects or decompression tricks."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        limits=httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
        ),
        follow_redirects=False,
        trust_env=settings.trust_env,
    )


class Downloader:
    """GETs under a global and a per-host limit of concurrent requests."""

    def __init__(self, client: httpx.AsyncClient, settings: FetchSettings) -> None:
        self.client = client
        self.settings = settings
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = {}

    def host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self.hosts:
            self.hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self.hosts[host]

    async def download(self, spec: FeedSpec, state: FetchState, url: str) -> Download:
        """GET ``url`` following redirects by hand, under one total timeout."""
        redirects: list[Redirect] = []
        try:
            # Waiting for a slot is not part of the time budget; the exchange is.
            async with self.slots, self.host_slot(url):
                async with asyncio.timeout(self.settings.timeout):
                    return await self._exchange(spec, state, url, redirects)
        except TimeoutError as exc:
            raise Failure(
                FetchError(
                    f"timed out after {self.settings.timeout:g} s",
                    source=spec.name,
                    url=url,
                ),
                "timeout",
                redirects=tuple(redirects),
            ) from exc

    async def _exchange(
        self, spec: FeedSpec, state: FetchState, url: str, redirects: list[Redirect]
    ) -> Download:
        # The per-host limit holds for the source's own host (taken in ``download``); a
        # redirect to another host does not wait for that host's slots.
        settings = self.settings
        headers = self._headers(spec, state)
        visited = {url}
        origin_private: bool | None = None
        current = url
        while True:
            fail = self._fail_factory(spec, current, redirects)
            if urlsplit(current).scheme not in ("http", "https"):
                raise fail(f"not an http(s) URL: {current}", "redirect")
            try:
                request = self.client.build_request(
                    "GET",
                    current,
                    headers=headers,
                    timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
                )
                response = await self.client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as exc:
                raise fail(f"timed out: {type(exc).__name__}", "timeout") from exc
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise fail(f"network error: {type(exc).__name__}: {exc}", "network") from exc
            try:
                status = response.status_code
                got = {k.lower(): v for k, v in response.headers.items()}
                if status in _REDIRECTS and "location" in got:
                    target = urljoin(current, got["location"].strip()).split("#", 1)[0]
                    redirects.append(Redirect(status, current, target))
                    if target in visited:
                        raise fail(f"redirect loop at {target}", "redirect", status, got)
                    if len(redirects) > settings.max_redirects:
                        raise fail(
                            f"more than {settings.max_redirects} redirects", "redirect", status, got
                        )
                    if not settings.allow_private:
                        if origin_private is None:
                            origin_private = await _is_private(url)
                        if not origin_private and await _is_private(target):
                            raise fail(
                                f"redirect from a public to a private address refused: {target}",
                                "redirect",
                                status,
                                got,
                            )
                    visited.add(target)
                    current = target
                    continue
                if status == 304:
                    # read the (empty) body: closing an unread response closes its
                    # connection, and the all-304 pass would connect once per feed
                    await response.aread()
                    return Download(304, got, None, current, tuple(redirects))
                if status != 200:
                    reason = response.reason_phrase or ""
                    raise fail(f"HTTP {status} {reason}".strip(), "http", status, got)
                body = await self._read_body(response, got, fail)
                return Download(200, got, body, current, tuple(redirects))
            except httpx.TimeoutException as exc:
                raise fail(f"timed out: {type(exc).__name__}", "timeout") from exc
            except httpx.HTTPError as exc:
                raise fail(f"network error: {type(exc).__name__}: {exc}", "network") from exc
            finally:
                await response.aclose()

    @staticmethod
    def _fail_factory(spec: FeedSpec, at: str, redirects: list[Redirect]) -> _FailFactory:
        def fail(
            message: str,
            kind: ErrorKind,
            status: int | None = None,
            response_headers: Mapping[str, str] | None = None,
        ) -> Failure:
            return Failure(
                FetchError(message, source=spec.name, url=at, status=status),
                kind,
                status=status,
                headers=response_headers,
                redirects=tuple(redirects),
            )

        return fail

    def _headers(self, spec: FeedSpec, state: FetchState) -> dict[str, str]:
        headers = {
            "User-Agent": spec.user_agent or self.settings.user_agent,
            "Accept": ACCEPT,
        }
        for name, value in spec.headers.items():
            if name.lower() not in ("accept-encoding", "host", "content-length"):
                headers[name] = value
        headers["Accept-Encoding"] = "gzip, deflate"
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        return headers

    async def _read_body(
        self, response: httpx.Response, headers: Mapping[str, str], fail: _FailFactory
    ) -> bytes:
        limit = self.settings.max_bytes
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise fail(
                f"body of {declared} bytes exceeds the {limit}-byte limit", "size", 200, headers
            )
        encoding = headers.get("content-encoding", "identity").strip().lower()
        try:
            decoder = _Decoder(encoding, limit)
        except ValueError as exc:
            raise fail(str(exc), "http", 200, headers) from exc
        parts: list[bytes] = []
        raw = 0
        try:
            try:
                async for chunk in response.aiter_raw(_CHUNK):
                    raw += len(chunk)
                    if raw > limit:
                        raise _TooLarge
                    parts.append(decoder.feed(chunk))
            except httpx.StreamConsumed:  # a MockTransport response built with content=
                if len(response.content) > limit:
                    raise _TooLarge from None
                parts = [decoder.feed(response.content)]
        except _TooLarge:
            raise fail(
                f"body exceeds the {limit}-byte limit (after decompression)", "size", 200, headers
            ) from None
        except zlib.error as exc:
            raise fail(f"corrupt {encoding} body: {exc}", "network", 200, headers) from exc
        return b"".join(parts)


class _FailFactory(Protocol):  # the shape of the local ``fail`` helper
    def __call__(
        self,
        message: str,
        kind: ErrorKind,
        status: int | None = None,
        response_headers: Mapping[str, str] | None = None,
    ) -> Failure: ...


class _TooLarge(Exception):
    pass


class _Decoder:
    """Content-Encoding decoding with a hard cap on output: a gzip bomb stops at the cap.

    httpx would inflate each network chunk whole (64 kB of gzip can be 64 MB); here
    ``decompress(max_length=...)`` never produces more than the room left plus one byte.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self.encoding = "gzip" if encoding == "x-gzip" else encoding or "identity"
        self.limit = limit
        self.total = 0
        self.started = False
        self.inflater = self._new()

    def _new(self) -> zlib._Decompress | None:
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS)
        return None

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.limit:
            raise _TooLarge
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self.inflater is None:
            return self._count(chunk)
        if self.encoding == "deflate" and not self.started:
            self.started = True
            try:
                return self._inflate(chunk)
            except zlib.error:  # "deflate" sent as raw deflate, without the zlib header
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self.total = 0
        return self._inflate(chunk)

    def _inflate(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data and self.inflater is not None:
            piece = self.inflater.decompress(data, self.limit - self.total + 1)
            out.append(self._count(piece))
            data = self.inflater.unconsumed_tail
            if self.inflater.eof:
                data = self.inflater.unused_data
                if not data or self.encoding != "gzip":
                    break
                self.inflater = self._new()  # a multi-member gzip stream
        return b"".join(out)


async def _is_private(url: str) -> bool:
    """True when ``url``'s host is (or resolves to) a loopback, private, link-local,
    reserved or otherwise non-global address.  Unresolvable names count as public:
    the request itself will then fail."""
    host = urlsplit(url).hostname or ""
    addresses: list[str] = []
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            return False
        addresses = [str(info[4][0]) for info in infos]
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return True
    return False
