"""When to fetch a remote feed again, and what a fetch taught us.  Pure: no clock, no I/O.

Every decision here is a function of ``(FetchState, FetchFacts, now)``; ``remote.py``
gathers the facts and calls :func:`next_state`.  The rules::

    304 / 200 + parsed      success: errors reset, validators (ETag, Last-Modified) kept,
                            next fetch = now + max(every, hint), hint = the largest of
                            Cache-Control max-age (minus Age), Expires - now, the feed's
                            <ttl> or sy:updatePeriod/sy:updateFrequency, capped at 24 h
    429 / 503 + Retry-After no request before that instant (capped at 7 days), counted as
                            an error so the backoff keeps growing if it repeats
    network, 5xx, 4xx,      errors += 1, next fetch = now + min(24 h, every * 2**(errors-1))
    size, parse errors      shrunk by up to 20 % of deterministic jitter (a hash of the
                            source name and the error count): retried forever at the ceiling
    410 Gone                gone: never fetched again (until the configured URL changes)
    301 / 308               the new URL is adopted only after it was seen on 3 fetches in a
                            row, or on 2 fetches at least 24 h apart; the move is recorded
    302 / 303 / 307         followed, never adopted

``FetchState`` (in ``feeds.model``) is kept by the store, which owns its encoding, for the store's
source-state column.  :func:`format_status` renders ``feeds status``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

from ..model import FetchState

__all__ = [
    "BACKOFF_CEILING",
    "HINT_CEILING",
    "MAX_RETRY_AFTER",
    "REDIRECT_CONFIRMATIONS",
    "REDIRECT_CONFIRM_AGE",
    "FetchFacts",
    "FetchState",
    "Redirect",
    "backoff_delay",
    "cache_hint",
    "format_status",
    "is_due",
    "next_state",
    "parse_http_date",
    "parse_retry_after",
    "permanent_target",
    "reconcile",
    "skip_reason",
]

BACKOFF_CEILING = timedelta(hours=24)
HINT_CEILING = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(days=7)
REDIRECT_CONFIRMATIONS = 3
REDIRECT_CONFIRM_AGE = timedelta(hours=24)
JITTER = 0.2  # a backoff delay is shrunk by up to this fraction

ErrorKind = Literal["network", "timeout", "http", "size", "redirect", "parse"]


@dataclass(frozen=True, slots=True)
class Redirect:
    status: int
    url: str  # the URL that answered with the redirect
    location: str  # absolute target


@dataclass(frozen=True, slots=True)
class FetchFacts:
    """What one fetch attempt observed.  ``status`` is the final response's, if any."""

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # final response, lower-case keys
    redirects: tuple[Redirect, ...] = ()
    error: str | None = None  # set when the attempt failed (any kind)
    error_kind: ErrorKind | None = None
    body_hash: str | None = None  # of the decoded body, when one was read
    items: int | None = None  # entries parsed, when the body was parsed
    feed_ttl: timedelta | None = None  # <ttl> / sy:updatePeriod, when the body was parsed
    discovered: str | None = None  # a feed URL found in an HTML page at the fetched URL


# --- small pure helpers ---------------------------------------------------------------


def parse_http_date(value: str) -> datetime | None:
    """An HTTP date (IMF-fixdate, RFC 850, asctime) as aware UTC, else None."""
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` (delta-seconds or an HTTP date) as an instant, capped at 7 days."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        delay = timedelta(seconds=min(int(text), int(MAX_RETRY_AFTER.total_seconds())))
        return now + delay
    when = parse_http_date(text)
    if when is None:
        return None
    return min(max(when, now), now + MAX_RETRY_AFTER)


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-cache|no-store)\b", re.IGNORECASE)


def cache_hint(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """Freshness the server promises: Cache-Control max-age (minus Age), else Expires."""
    cache_control = headers.get("cache-control", "")
    if _NO_CACHE.search(cache_control):
        return None
    found = _MAX_AGE.search(cache_control)
    if found:
        age = headers.get("age", "").strip()
        seconds = int(found.group(1)) - (int(age) if age.isdigit() else 0)
        return timedelta(seconds=max(0, min(seconds, 10**9)))
    expires = headers.get("expires")
    if expires:
        when = parse_http_date(expires)
        if when is not None and when > now:
            return when - now
    return None


def backoff_delay(
    errors: int, *, key: str, base: timedelta, ceiling: timedelta = BACKOFF_CEILING
) -> timedelta:
    """``min(ceiling, base * 2**(errors-1))`` shrunk by a deterministic jitter of up to 20 %.

    The jitter comes from a hash of ``key`` (the source name) and ``errors``, so sources
    that failed together do not retry together, yet every run decides the same.
    """
    errors = max(1, errors)
    base_s = max(base.total_seconds(), 60.0)
    raw = min(ceiling.total_seconds(), base_s * 2.0 ** min(errors - 1, 40))
    digest = hashlib.blake2b(f"{key}\0{errors}".encode(), digest_size=8).digest()
    fraction = int.from_bytes(digest, "big") / 2**64  # in [0, 1)
    return timedelta(seconds=round(raw * (1.0 - JITTER * fraction)))


def permanent_target(redirects: Sequence[Redirect]) -> str | None:
    """The URL the source permanently moved to: the end of the leading 301/308 run."""
    target = None
    for hop in redirects:
        if hop.status not in (301, 308):
            break
        target = hop.location
    return target


def reconcile(config_url: str, state: FetchState | None) -> FetchState:
    """The state to use for ``config_url``: a fresh one when the configuration changed."""
    if state is None or (state.config_url is not None and state.config_url != config_url):
        return FetchState(config_url=config_url)
    if state.config_url is None:
        return replace(state, config_url=config_url)
    return state


def skip_reason(state: FetchState, now: datetime, *, force: bool = False) -> str | None:
    """Why this source is not fetched now (None: fetch it).  ``force`` skips the schedule,
    never a 410 or a server's Retry-After."""
    if state.gone:
        return "gone (410): no longer fetched"
    if state.retry_after is not None and now < state.retry_after:
        return f"server asked to wait until {_iso(state.retry_after)}"
    if not force and state.next_due is not None and now < state.next_due:
        return f"not due until {_iso(state.next_due)}"
    return None


def is_due(state: FetchState, now: datetime, *, force: bool = False) -> bool:
    return skip_reason(state, now, force=force) is None


# --- the transition -------------------------------------------------------------------


def next_state(
    state: FetchState,
    facts: FetchFacts,
    now: datetime,
    *,
    every: timedelta,
    key: str,
) -> FetchState:
    """The state after one fetch attempt.  ``key`` (the source name) seeds the jitter."""
    current = state.effective_url(state.config_url or "")
    new = _follow_redirects(state, facts, now, current)
    new = replace(new, last_fetch=now, last_status=facts.status, retry_after=None)
    if facts.discovered and facts.error is None:
        new = _move(new, current, facts.discovered, "discovered", now)

    if facts.status == 410:
        return replace(
            new,
            gone=True,
            next_due=None,
            errors=new.errors + 1,
            last_error="410 Gone: the feed was removed; it will not be fetched again",
        )

    if facts.error is not None:
        errors = new.errors + 1
        due = now + backoff_delay(errors, key=key, base=every)
        retry_after = None
        if facts.status in (429, 503):
            retry_after = parse_retry_after(facts.headers.get("retry-after"), now)
            if retry_after is not None:
                due = max(due, retry_after)
        return replace(
            new,
            errors=errors,
            last_error=facts.error,
            next_due=due,
            retry_after=retry_after,
        )

    hints = [h for h in (cache_hint(facts.headers, now), facts.feed_ttl) if h is not None]
    lower_bound = min(max(hints), HINT_CEILING) if hints else timedelta(0)
    new = replace(
        new,
        errors=0,
        last_error=None,
        last_success=now,
        next_due=now + max(every, lower_bound),
    )
    if facts.status == 304:
        return replace(
            new,
            etag=facts.headers.get("etag") or new.etag,
            last_modified=facts.headers.get("last-modified") or new.last_modified,
        )
    return replace(
        new,
        etag=facts.headers.get("etag"),
        last_modified=facts.headers.get("last-modified"),
        body_hash=facts.body_hash or new.body_hash,
        items=facts.items if facts.items is not None else new.items,
    )


def _follow_redirects(
    state: FetchState, facts: FetchFacts, now: datetime, current: str
) -> FetchState:
    target = permanent_target(facts.redirects)
    if target is None or target == current:
        if facts.status is None and facts.error is not None and not facts.redirects:
            return state  # nothing answered: no evidence either way
        return replace(state, redirect_to=None, redirect_seen=0, redirect_since=None)
    if target == state.redirect_to and state.redirect_since is not None:
        seen, since = state.redirect_seen + 1, state.redirect_since
    else:
        seen, since = 1, now
    if seen >= REDIRECT_CONFIRMATIONS or (seen >= 2 and now - since >= REDIRECT_CONFIRM_AGE):
        status = next(h.status for h in facts.redirects)
        moved = _move(state, current, target, str(status), now)
        return replace(moved, etag=None, last_modified=None)
    return replace(state, redirect_to=target, redirect_seen=seen, redirect_since=since)


def _move(state: FetchState, old: str, new: str, why: str, now: datetime) -> FetchState:
    note = f"{_iso(now)} {old} -> {new} ({why})"
    return replace(
        state,
        url=None if new == state.config_url else new,
        redirect_to=None,
        redirect_seen=0,
        redirect_since=None,
        moves=(*state.moves, note)[-10:],
    )


# --- feeds status ---------------------------------------------------------------------


def format_status(rows: Sequence[tuple[str, str, FetchState | None]], *, now: datetime) -> str:
    """``feeds status``: one line per ``(name, kind, state)``; a header line first.

    Columns: source, kind, last fetch, HTTP status, items, next due, consecutive errors,
    last error.  Times are UTC to the minute with a relative hint (``5m ago``, ``in 2h``).
    """
    header = ("SOURCE", "KIND", "LAST FETCH", "HTTP", "ITEMS", "NEXT DUE", "ERRORS", "LAST ERROR")
    table = [header]
    for name, kind, state in rows:
        if state is None:
            table.append((name, kind, "never", "-", "-", "now", "0", "-"))
            continue
        if state.gone:
            due = "never (gone)"
        elif state.next_due is None:
            due = "now"
        else:
            due = _when(state.next_due, now)
        error = (state.last_error or "-").replace("\n", " ")
        table.append(
            (
                name,
                kind,
                _when(state.last_fetch, now) if state.last_fetch else "never",
                str(state.last_status) if state.last_status is not None else "-",
                str(state.items) if state.items is not None else "-",
                due,
                str(state.errors),
                error if len(error) <= 80 else error[:79] + "…",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def _when(moment: datetime, now: datetime) -> str:
    delta = (moment - now).total_seconds()
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if abs(delta) < 60:
        return f"{stamp} (now)"
    span = _span(abs(delta))
    return f"{stamp} ({span} ago)" if delta < 0 else f"{stamp} (in {span})"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
