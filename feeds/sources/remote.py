"""Remote feeds in: what to fetch, and what a response means (``download`` does the HTTP).

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
        │
        ▼  a RawInput: kind "jsonfeed" (JSON) or "feed" (XML), the body, its URL and headers
    FetchResult (``raw``; its state is pending) ─► the pipeline reads ``raw`` with the
    readers' table (``feeds.normalize.read_feed``) and calls ``settle``:
    politeness.next_state(state, facts + what the reading said, now) ─► FetchResult

Nothing here reads a feed's entries: that is ``feeds.normalize``'s job.  Nothing here
raises for one source's failure: the error is in ``FetchResult.error`` and the state
records the backoff.  Only bugs propagate.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from feeds.errors import FeedsError, FetchError, ParseError
from feeds.model import Article, RawInput
from feeds.sources.discover import looks_like_html, looks_like_json, pick_feed_url
from feeds.sources.download import (
    ACCEPT,
    Download,
    Downloader,
    Failure,
    FeedSpec,
    FetchSettings,
    default_user_agent,
    make_client,
)
from feeds.sources.politeness import (
    FetchFacts,
    FetchState,
    next_state,
    reconcile,
    skip_reason,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ACCEPT",
    "FeedSpec",
    "FetchResult",
    "FetchSettings",
    "default_user_agent",
    "feed_specs",
    "fetch_feeds",
    "fetch_feeds_sync",
    "make_client",
    "raw_body",
    "resolve_feed_url",
    "resolve_feed_url_sync",
    "settle",
]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One source's fetch.  ``raw`` is the new body to read (None when there is nothing
    new: 304, same body, skipped, failed); once read and ``settle``-d, ``articles`` are
    what it lists.  ``error`` is set when it failed; ``state`` is to be stored (pending
    while ``raw`` is unread: ``settle`` completes it)."""

    source: str
    state: FetchState
    articles: list[Article] | None
    error: FeedsError | None = None
    warnings: tuple[str, ...] = ()
    status: int | None = None
    url: str | None = None  # the URL the body came from (after redirects / discovery)
    skipped: str | None = None  # why no request was made
    title: str | None = None  # the feed's own title, when read
    raw: RawInput | None = None  # the body to read
    pending: _Pending | None = None  # what ``settle`` decides the state with


@dataclass(frozen=True, slots=True)
class _Pending:
    facts: FetchFacts  # what the fetch observed (a read body adds items and ttl)
    decide: Callable[[FetchFacts], FetchState]


class Parsed(Protocol):
    """What reading a body says (``feeds.normalize.entries.ParsedFeed`` is one)."""

    @property
    def articles(self) -> list[Article]: ...
    @property
    def ttl(self) -> timedelta | None: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...
    @property
    def title(self) -> str | None: ...


def settle(result: FetchResult, read: Callable[[RawInput], Parsed]) -> FetchResult:
    """``result`` with its body read by ``read`` (the pipeline hands the readers' table):
    its articles, and the state decided with what the reading said (the entry count and
    the feed's ttl, or the parse error's backoff).  A result with no body is returned as
    it is.  ``read`` raises ``ParseError`` for a body that is not a feed."""
    if result.raw is None or result.pending is None:
        return result
    facts = result.pending.facts
    try:
        parsed = read(result.raw)
    except ParseError as exc:
        failed = FetchFacts(status=facts.status, headers=facts.headers,
                            redirects=facts.redirects, error=_reason(exc), error_kind="parse")
        return replace(result, state=result.pending.decide(failed), error=exc, pending=None)
    facts = replace(facts, items=len(parsed.articles), feed_ttl=parsed.ttl)
    return replace(result, state=result.pending.decide(facts), articles=parsed.articles,
                   warnings=parsed.warnings, title=parsed.title, pending=None)


async def fetch_feeds(
    specs_and_states: Sequence[tuple[FeedSpec, FetchState | None]],
    settings: FetchSettings,
    *,
    now: datetime,
    client: httpx.AsyncClient | None = None,
    force: bool = False,
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch every due source concurrently; one result per spec, in the given order.

    ``now`` is the instant every decision is made against.  ``force`` ignores the
    schedule (``next_due``) but never a 410 Gone or a server's Retry-After.
    ``on_result`` is called with each result as soon as it is there (in the event loop:
    it must not block), so its body can be read while the others are fetched.
    """
    own = client is None
    http = client if client is not None else make_client(settings)
    fetcher = _Fetcher(http, settings)

    async def one(spec: FeedSpec, state: FetchState | None) -> FetchResult:
        result = await fetcher.fetch(spec, state, now=now, force=force)
        if on_result is not None:
            on_result(result)
        return result

    try:
        return list(await asyncio.gather(*(one(s, state) for s, state in specs_and_states)))
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
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """:func:`fetch_feeds` for the one-shot CLI and the daemon (runs its own event loop).

    ``cancelled`` is polled ten times a second: once it returns true, requests in flight
    are abandoned and ``FetchError`` is raised, so a stopping daemon does not wait for
    slow servers (nothing is stored for an abandoned fetch; it is simply made again).
    """

    async def run() -> list[FetchResult]:
        task = asyncio.ensure_future(fetch_feeds(specs_and_states, settings, now=now,
                                                 force=force, on_result=on_result))
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
    url: str, settings: FetchSettings, read: Callable[[RawInput], object], *,
    client: httpx.AsyncClient | None = None
) -> str:
    """For ``feeds add``: the feed behind ``url`` (itself, or the feed an HTML page
    announces), checked by reading it with ``read`` (the pipeline hands the readers'
    table).  Raises FetchError / ParseError when there is none."""
    own = client is None
    http = client if client is not None else make_client(settings)
    fetcher = _Fetcher(http, settings)
    spec = FeedSpec(name="(new)", url=url)
    try:
        try:
            download = await fetcher.download(spec, FetchState(config_url=url), url)
        except Failure as failure:
            raise failure.error from failure.error.__cause__
        if download.status != 200 or download.body is None:
            raise FetchError(f"HTTP {download.status}", url=url, status=download.status)
        content_type = download.headers.get("content-type")
        if looks_like_html(download.body, content_type):
            found = pick_feed_url(download.body, download.url)
            if found is None:
                raise ParseError("an HTML page that announces no feed", url=download.url)
            return found
        read(raw_body(download.body, source=spec.name, url=download.url,
                      headers=download.headers))
        return download.url
    finally:
        if own:
            await http.aclose()


def resolve_feed_url_sync(url: str, settings: FetchSettings,
                          read: Callable[[RawInput], object]) -> str:
    return asyncio.run(resolve_feed_url(url, settings, read))


def raw_body(
    body: bytes, *, source: str, url: str, headers: Mapping[str, str] | None = None
) -> RawInput:
    """A fetched body as the readers' input: kind ``jsonfeed`` by media type or first
    byte, else ``feed`` (RSS, Atom, RDF).  ``ParseError`` for an HTML page."""
    content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type")
    if looks_like_json(body, content_type):
        kind = "jsonfeed"
    elif looks_like_html(body, content_type):
        raise ParseError("an HTML page, not a feed", source=source, url=url)
    else:
        kind = "feed"
    return RawInput(body, source, kind, source, url=url, headers=dict(headers or {}))


class _Fetcher(Downloader):
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
        try:
            download, discovered = await self._download_feed(spec, state, url)
        except Failure as failure:
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
        return await self._read(spec, state, download, discovered, decide)

    async def _download_feed(
        self, spec: FeedSpec, state: FetchState, url: str
    ) -> tuple[Download, str | None]:
        """``url``'s download, or, for an HTML page, that of the feed it announces (and
        its URL, as discovered)."""
        download = await self.download(spec, state, url)
        if not (
            download.status == 200
            and download.body is not None
            and looks_like_html(download.body, download.headers.get("content-type"))
        ):
            return download, None
        found = pick_feed_url(download.body, download.url)
        if found is None:
            raise Failure(
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
        return await self.download(spec, FetchState(config_url=found), found), found

    async def _read(
        self, spec: FeedSpec, state: FetchState, download: Download, discovered: str | None,
        decide: Callable[[FetchFacts], FetchState],
    ) -> FetchResult:
        """The result of a completed download: nothing new (304, the same body), not a
        feed (an HTML page), or the body to read."""
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
            raw = raw_body(download.body, source=spec.name, url=download.url, headers=headers)
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
            discovered=discovered,
        )
        # the state as if the body were empty, until ``settle`` says what it held
        return FetchResult(spec.name, decide(facts), None, status=status, url=download.url,
                           raw=raw, pending=_Pending(facts, decide))


def _reason(error: FeedsError) -> str:
    """The message without the ``source 'name': `` prefix (the status line names it)."""
    source = getattr(error, "source", None)
    prefix = f"source {source!r}: " if source else ""
    return error.message.removeprefix(prefix)


def feed_specs(name: str, *, url: str | None, path: Path | None, every: timedelta | None,
               headers: Mapping[str, str], user_agent: str | None) -> list[FeedSpec]:
    """``feeds.sources.SOURCES``' entry point for the ``feed`` kind: the one feed at ``url``."""
    assert url is not None  # required by the table: config validation makes sure
    return [FeedSpec(name, url, every, headers, user_agent)]
