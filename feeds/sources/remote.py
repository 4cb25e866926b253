"""Remote feeds in: the only module that speaks HTTP (httpx) for feeds.

Pipeline for one source (all sources run concurrently, bounded globally and per host)::

    reconcile(state) ─► skip_reason?  (gone, Retry-After, not due) ─► skipped
        │
        ▼  GET effective URL (User-Agent, Accept, If-None-Match, If-Modified-Since)
    redirects, by hand: at most ``max_redirects``, loops detected, http(s) only,
    public -> private/loopback/link-local refused unless ``allow_private``
        │
        ▼  status: 304 ─► nothing new          3xx/4xx/5xx ─► FetchError
        ▼  200: body streamed raw, decompressed here (gzip/deflate) with a hard cap
    on decoded bytes, the whole exchange under one total timeout
        │
        ▼  same body hash as last time ─► nothing new
    HTML page? ─► its <link rel=alternate> feed is fetched instead (once)
    JSON ─► jsonfeed_in     XML ─► entries (feedparser, in a worker thread)
        │
        ▼
    politeness.next_state(state, facts, now) ─► FetchResult

Nothing here raises for one source's failure: the error is in ``FetchResult.error`` and
the state records the backoff.  Only bugs propagate.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import socket
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from feeds.errors import FeedsError, FetchError, ParseError
from feeds.model import Article
from feeds.normalize.entries import ParsedFeed, parse_feed
from feeds.normalize.failures import input_failure
from feeds.normalize.jsonfeed_in import looks_like_json, parse_json_feed
from feeds.sources.discover import looks_like_html, pick_feed_url
from feeds.sources.politeness import (
    FetchFacts,
    FetchState,
    Redirect,
    next_state,
    reconcile,
    skip_reason,
)

__all__ = [
    "ACCEPT",
    "FeedSpec",
    "FetchResult",
    "FetchSettings",
    "default_user_agent",
    "fetch_feeds",
    "fetch_feeds_sync",
    "make_client",
    "parse_body",
    "resolve_feed_url",
    "resolve_feed_url_sync",
]

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


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One source's fetch.  ``articles`` is None when there is nothing new (304, same
    body, skipped, failed); ``error`` is set when it failed; ``state`` is to be stored."""

    source: str
    state: FetchState
    articles: list[Article] | None
    error: FeedsError | None = None
    warnings: tuple[str, ...] = ()
    status: int | None = None
    url: str | None = None  # the URL the body came from (after redirects / discovery)
    skipped: str | None = None  # why no request was made
    title: str | None = None  # the feed's own title, when parsed


ErrorKind = Literal["network", "timeout", "http", "size", "redirect", "parse"]


class _Failure(Exception):
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
class _Download:
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


async def fetch_feeds(
    specs_and_states: Sequence[tuple[FeedSpec, FetchState | None]],
    settings: FetchSettings,
    *,
    now: datetime,
    client: httpx.AsyncClient | None = None,
    force: bool = False,
) -> list[FetchResult]:
    """Fetch every due source concurrently; one result per spec, in the given order.

    ``now`` is the instant every decision is made against.  ``force`` ignores the
    schedule (``next_due``) but never a 410 Gone or a server's Retry-After.
    """
    own = client is None
    http = client if client is not None else make_client(settings)
    fetcher = _Fetcher(http, settings)
    try:
        jobs = [fetcher.fetch(s, state, now=now, force=force) for s, state in specs_and_states]
        return list(await asyncio.gather(*jobs))
    finally:
        if own:
            await http.aclose()


def fetch_feeds_sync(
    specs_and_states: Sequence[tuple[FeedSpec, FetchState | None]],
    settings: FetchSettings,
    *,
    now: datetime,
    force: bool = False,
    cancelled: Callable[[], bool] | None = None,
) -> list[FetchResult]:
    """:func:`fetch_feeds` for the one-shot CLI and the daemon (runs its own event loop).

    ``cancelled`` is polled ten times a second: once it returns true, requests in flight
    are abandoned and ``FetchError`` is raised, so a stopping daemon does not wait for
    slow servers (nothing is stored for an abandoned fetch; it is simply made again).
    """

    async def run() -> list[FetchResult]:
        task = asyncio.ensure_future(fetch_feeds(specs_and_states, settings, now=now,
                                                 force=force))
        if cancelled is None:
            return await task
        while not task.done():
            if cancelled():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise FetchError("fetch interrupted: stopping")
            await asyncio.wait({task}, timeout=0.1)
        return task.result()

    return asyncio.run(run())


async def resolve_feed_url(
    url: str, settings: FetchSettings, *, client: httpx.AsyncClient | None = None
) -> str:
    """For ``feeds add``: the feed behind ``url`` (itself, or the feed an HTML page
    announces).  Raises FetchError / ParseError when there is none."""
    own = client is None
    http = client if client is not None else make_client(settings)
    fetcher = _Fetcher(http, settings)
    spec = FeedSpec(name="(new)", url=url)
    try:
        try:
            download = await fetcher.download(spec, FetchState(config_url=url), url)
        except _Failure as failure:
            raise failure.error from failure.error.__cause__
        if download.status != 200 or download.body is None:
            raise FetchError(f"HTTP {download.status}", url=url, status=download.status)
        content_type = download.headers.get("content-type")
        if looks_like_html(download.body, content_type):
            found = pick_feed_url(download.body, download.url)
            if found is None:
                raise ParseError("an HTML page that announces no feed", url=download.url)
            return found
        parse_body(download.body, source=spec.name, feed_url=download.url, headers=download.headers)
        return download.url
    finally:
        if own:
            await http.aclose()


def resolve_feed_url_sync(url: str, settings: FetchSettings) -> str:
    return asyncio.run(resolve_feed_url(url, settings))


def parse_body(
    body: bytes, *, source: str, feed_url: str, headers: Mapping[str, str] | None = None
) -> ParsedFeed:
    """A fetched body -> ParsedFeed: JSON Feed by media type or first byte, else XML.

    ``ParseError`` when the body is not a feed we can read, also when a parser fails on it
    in a way we did not foresee (:func:`feeds.normalize.failures.input_failure` sorts
    that from our own bugs, which propagate): that source's error, never the build's."""
    try:
        return _parse_body(body, source=source, feed_url=feed_url, headers=headers)
    except FeedsError:
        raise
    except Exception as exc:
        reason = input_failure(exc)
        if reason is None:
            raise
        raise ParseError(reason, source=source, url=feed_url) from None


def _parse_body(
    body: bytes, *, source: str, feed_url: str, headers: Mapping[str, str] | None
) -> ParsedFeed:
    content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type")
    if looks_like_json(body, content_type):
        return parse_json_feed(body, source=source, feed_url=feed_url)
    if looks_like_html(body, content_type):
        raise ParseError("an HTML page, not a feed", source=source, url=feed_url)
    return parse_feed(body, source=source, feed_url=feed_url, headers=headers)


# --- the fetcher ----------------------------------------------------------------------


class _Fetcher:
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

    async def fetch(
        self, spec: FeedSpec, old: FetchState | None, *, now: datetime, force: bool
    ) -> FetchResult:
        state = reconcile(spec.url, old)
        reason = skip_reason(state, now, force=force)
        if reason is not None:
            return FetchResult(spec.name, state, None, skipped=reason)
        every = spec.every or self.settings.every

        def decide(facts: FetchFacts) -> FetchState:
            return next_state(state, facts, now, every=every, key=spec.name)

        url = state.effective_url(spec.url)
        discovered: str | None = None
        try:
            download = await self.download(spec, state, url)
            if (
                download.status == 200
                and download.body is not None
                and looks_like_html(download.body, download.headers.get("content-type"))
            ):
                found = pick_feed_url(download.body, download.url)
                if found is None:
                    raise _Failure(
                        ParseError(
                            "an HTML page that announces no feed",
                            source=spec.name,
                            url=download.url,
                            status=200,
                        ),
                        "parse",
                        status=200,
                        headers=download.headers,
                        redirects=download.redirects,
                    )
                discovered = found
                download = await self.download(spec, FetchState(config_url=found), found)
        except _Failure as failure:
            facts = FetchFacts(
                status=failure.status,
                headers=failure.headers,
                redirects=failure.redirects,
                error=_reason(failure.error),
                error_kind=failure.kind,
            )
            return FetchResult(
                spec.name, decide(facts), None, error=failure.error, status=failure.status
            )

        status, headers = download.status, download.headers
        if status == 304 or download.body is None:
            facts = FetchFacts(status=status, headers=headers, redirects=download.redirects)
            return FetchResult(spec.name, decide(facts), None, status=status, url=download.url)

        body_hash = hashlib.sha256(download.body).hexdigest()
        if body_hash == state.body_hash and discovered is None:
            facts = FetchFacts(
                status=status, headers=headers, redirects=download.redirects, body_hash=body_hash
            )
            return FetchResult(spec.name, decide(facts), None, status=status, url=download.url)

        try:
            parsed = await asyncio.to_thread(
                parse_body, download.body, source=spec.name, feed_url=download.url, headers=headers
            )
        except ParseError as exc:
            facts = FetchFacts(
                status=status,
                headers=headers,
                redirects=download.redirects,
                error=_reason(exc),
                error_kind="parse",
            )
            return FetchResult(
                spec.name, decide(facts), None, error=exc, status=status, url=download.url
            )
        facts = FetchFacts(
            status=status,
            headers=headers,
            redirects=download.redirects,
            body_hash=body_hash,
            items=len(parsed.articles),
            feed_ttl=parsed.ttl,
            discovered=discovered,
        )
        return FetchResult(
            spec.name,
            decide(facts),
            parsed.articles,
            warnings=parsed.warnings,
            status=status,
            url=download.url,
            title=parsed.title,
        )

    async def download(self, spec: FeedSpec, state: FetchState, url: str) -> _Download:
        """GET ``url`` following redirects by hand, under one total timeout."""
        redirects: list[Redirect] = []
        try:
            # Waiting for a slot is not part of the time budget; the exchange is.
            async with self.slots, self.host_slot(url):
                async with asyncio.timeout(self.settings.timeout):
                    return await self._exchange(spec, state, url, redirects)
        except TimeoutError as exc:
            raise _Failure(
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
    ) -> _Download:
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
                    return _Download(304, got, None, current, tuple(redirects))
                if status != 200:
                    reason = response.reason_phrase or ""
                    raise fail(f"HTTP {status} {reason}".strip(), "http", status, got)
                body = await self._read_body(response, got, fail)
                return _Download(200, got, body, current, tuple(redirects))
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
        ) -> _Failure:
            return _Failure(
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
    ) -> _Failure: ...


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


def _reason(error: FeedsError) -> str:
    """The message without the ``source 'name': `` prefix (the status line names it)."""
    source = getattr(error, "source", None)
    prefix = f"source {source!r}: " if source else ""
    return error.message.removeprefix(prefix)


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
