"""Politeness and recovery decisions: pure functions of (state, facts, now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.sources.politeness import (
    BACKOFF_CEILING,
    FetchFacts,
    FetchState,
    Redirect,
    backoff_delay,
    cache_hint,
    format_status,
    next_state,
    parse_retry_after,
    permanent_target,
    reconcile,
    skip_reason,
)

URL = "https://example.com/feed.xml"
NEW = "https://new.example.com/feed.xml"
EVERY = timedelta(minutes=30)


def decide(state: FetchState, facts: FetchFacts, now: datetime) -> FetchState:
    return next_state(state, facts, now, every=EVERY, key="blog")


def fresh() -> FetchState:
    return reconcile(URL, None)


def moved(status: int, target: str = NEW) -> tuple[Redirect, ...]:
    return (Redirect(status, URL, target),)


# --- Retry-After, cache hints, backoff ------------------------------------------------


def test_retry_after_seconds_and_http_date(now: datetime) -> None:
    assert parse_retry_after("120", now) == now + timedelta(seconds=120)
    assert parse_retry_after("Mon, 23 Nov 2026 13:00:00 GMT", now) == datetime(
        2026, 11, 23, 13, 0, tzinfo=UTC
    )
    assert parse_retry_after("Sunday, 22-Nov-26 10:00:00 GMT", now) == now  # past: now
    assert parse_retry_after("99999999", now) == now + timedelta(days=7)  # capped
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_cache_hint(now: datetime) -> None:
    assert cache_hint({"cache-control": "public, max-age=3600"}, now) == timedelta(hours=1)
    assert cache_hint({"cache-control": "max-age=3600", "age": "600"}, now) == timedelta(minutes=50)
    assert cache_hint({"cache-control": "no-cache, max-age=3600"}, now) is None
    expires = {"expires": "Mon, 23 Nov 2026 14:00:00 GMT"}
    assert cache_hint(expires, now) == timedelta(hours=2)
    # max-age wins over Expires
    assert cache_hint({**expires, "cache-control": "max-age=60"}, now) == timedelta(minutes=1)
    assert cache_hint({"expires": "0"}, now) is None
    assert cache_hint({}, now) is None


def test_backoff_grows_to_the_ceiling_with_deterministic_jitter() -> None:
    delays = [backoff_delay(n, key="blog", base=EVERY) for n in range(1, 12)]
    assert delays == [backoff_delay(n, key="blog", base=EVERY) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        raw = min(BACKOFF_CEILING, EVERY * 2 ** (n - 1))
        assert raw * 0.8 <= delay <= raw
    assert delays[-1] <= BACKOFF_CEILING
    assert delays[-1] >= BACKOFF_CEILING * 0.8  # retried forever at the ceiling
    others = [backoff_delay(n, key="other", base=EVERY) for n in range(1, 12)]
    assert others != delays  # sources that failed together do not retry together


# --- transitions ----------------------------------------------------------------------


def test_success_stores_validators_and_schedules(now: datetime) -> None:
    facts = FetchFacts(
        status=200,
        headers={"etag": '"v1"', "last-modified": "Sun, 22 Nov 2026 10:00:00 GMT"},
        body_hash="h1",
        items=3,
    )
    state = decide(fresh(), facts, now)
    assert (state.etag, state.last_modified, state.body_hash) == (
        '"v1"',
        "Sun, 22 Nov 2026 10:00:00 GMT",
        "h1",
    )
    assert state.items == 3 and state.errors == 0 and state.last_success == now
    assert state.next_due == now + EVERY
    assert skip_reason(state, now + timedelta(minutes=10)) is not None
    assert skip_reason(state, now + timedelta(minutes=10), force=True) is None
    assert skip_reason(state, now + EVERY) is None


def test_304_keeps_validators_and_resets_errors(now: datetime) -> None:
    state = FetchState(config_url=URL, etag='"v1"', last_modified="x", errors=3, items=5)
    after = decide(state, FetchFacts(status=304, headers={}), now)
    assert after.etag == '"v1"' and after.last_modified == "x" and after.items == 5
    assert after.errors == 0 and after.last_error is None and after.last_status == 304


def test_hints_set_a_lower_bound_capped_at_24h(now: datetime) -> None:
    ttl = decide(fresh(), FetchFacts(status=200, feed_ttl=timedelta(hours=2)), now)
    assert ttl.next_due == now + timedelta(hours=2)
    huge = FetchFacts(status=200, headers={"cache-control": "max-age=9999999"})
    assert decide(fresh(), huge, now).next_due == now + timedelta(hours=24)
    short = FetchFacts(status=200, headers={"cache-control": "max-age=60"})
    assert decide(fresh(), short, now).next_due == now + EVERY  # never sooner than `every`


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_even_with_force(status: int, now: datetime) -> None:
    facts = FetchFacts(status=status, headers={"retry-after": "7200"}, error="HTTP 429")
    state = decide(fresh(), facts, now)
    assert state.retry_after == now + timedelta(hours=2)
    assert state.next_due is not None and state.next_due >= now + timedelta(hours=2)
    assert state.errors == 1
    assert skip_reason(state, now + timedelta(hours=1), force=True) is not None
    assert skip_reason(state, now + timedelta(hours=2), force=True) is None


def test_503_without_retry_after_backs_off(now: datetime) -> None:
    state = decide(fresh(), FetchFacts(status=503, error="HTTP 503"), now)
    assert state.retry_after is None
    assert state.next_due == now + backoff_delay(1, key="blog", base=EVERY)


def test_errors_back_off_exponentially_forever(now: datetime) -> None:
    state = fresh()
    moment = now
    for n in range(1, 15):
        state = decide(state, FetchFacts(error="network error", error_kind="network"), moment)
        assert state.errors == n
        assert state.next_due == moment + backoff_delay(n, key="blog", base=EVERY)
        assert state.next_due - moment <= BACKOFF_CEILING
        moment = state.next_due
    assert not state.gone
    ok = decide(state, FetchFacts(status=200, body_hash="h"), moment)
    assert ok.errors == 0 and ok.last_error is None


def test_parse_error_keeps_old_validators(now: datetime) -> None:
    state = FetchState(config_url=URL, etag='"old"', body_hash="old")
    facts = FetchFacts(
        status=200, headers={"etag": '"new"'}, error="not a feed", error_kind="parse"
    )
    after = decide(state, facts, now)
    assert after.etag == '"old"' and after.body_hash == "old" and after.errors == 1


def test_410_gone_is_never_fetched_again(now: datetime) -> None:
    state = decide(fresh(), FetchFacts(status=410, error="HTTP 410 Gone"), now)
    assert state.gone and state.next_due is None
    assert skip_reason(state, now + timedelta(days=365), force=True) is not None
    # ... until the configuration points the source somewhere else
    assert not reconcile("https://example.com/elsewhere.xml", state).gone


def test_permanent_redirect_adopted_after_three_fetches(now: datetime) -> None:
    state = fresh()
    facts = FetchFacts(status=200, redirects=moved(301), body_hash="h")
    for i in range(2):
        state = decide(state, facts, now + timedelta(minutes=30 * i))
        assert state.effective_url(URL) == URL
        assert state.redirect_to == NEW and state.redirect_seen == i + 1
    state = decide(state, facts, now + timedelta(hours=1))
    assert state.effective_url(URL) == NEW
    assert state.redirect_to is None
    assert state.moves and f"{URL} -> {NEW} (301)" in state.moves[-1]


def test_permanent_redirect_adopted_after_24h_of_consistency(now: datetime) -> None:
    facts = FetchFacts(status=200, redirects=moved(308), body_hash="h")
    state = decide(fresh(), facts, now)
    state = decide(state, facts, now + timedelta(hours=24))
    assert state.effective_url(URL) == NEW


def test_inconsistent_redirects_restart_the_count(now: datetime) -> None:
    state = decide(fresh(), FetchFacts(status=200, redirects=moved(301)), now)
    state = decide(state, FetchFacts(status=200), now + timedelta(hours=1))  # no redirect
    assert state.redirect_to is None
    state = decide(state, FetchFacts(status=200, redirects=moved(301)), now + timedelta(hours=2))
    state = decide(
        state, FetchFacts(status=200, redirects=moved(301, NEW + "?v=2")), now + timedelta(hours=3)
    )
    assert state.redirect_seen == 1 and state.effective_url(URL) == URL


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirects_never_adopted(status: int, now: datetime) -> None:
    state = fresh()
    for i in range(5):
        state = decide(
            state, FetchFacts(status=200, redirects=moved(status)), now + timedelta(days=i)
        )
    assert state.effective_url(URL) == URL and not state.moves


def test_permanent_target_stops_at_a_temporary_hop() -> None:
    chain = (
        Redirect(301, URL, "https://b.example/"),
        Redirect(302, "https://b.example/", "https://c.example/"),
    )
    assert permanent_target(chain) == "https://b.example/"
    assert permanent_target((Redirect(302, URL, NEW),)) is None


def test_discovered_feed_url_is_used_from_then_on(now: datetime) -> None:
    page = "https://example.com/"
    state = reconcile(page, None)
    after = next_state(state, FetchFacts(status=200, discovered=URL), now, every=EVERY, key="b")
    assert after.effective_url(page) == URL
    assert "discovered" in after.moves[-1]


def test_state_round_trips_through_the_stores_json(now: datetime) -> None:
    from feeds.store.sqlite.codecs import fetch_state_from_json, fetch_state_to_json

    state = FetchState(
        config_url=URL,
        url=NEW,
        etag='"x"',
        last_fetch=now,
        next_due=now + EVERY,
        errors=2,
        gone=False,
        moves=("a -> b",),
        items=4,
    )
    assert fetch_state_from_json(fetch_state_to_json(state)) == state
    assert fetch_state_from_json("{}") is None  # nothing recorded: no state
    assert fetch_state_from_json(fetch_state_to_json(FetchState())) is None
    assert fetch_state_from_json('{"errors": "x", "next_due": "garbage", "bogus": 1}') \
        == FetchState()


def test_format_status(now: datetime) -> None:
    ok = FetchState(
        config_url=URL,
        last_fetch=now - timedelta(minutes=5),
        last_status=200,
        items=12,
        next_due=now + timedelta(minutes=25),
    )
    failing = FetchState(
        config_url=URL,
        last_fetch=now - timedelta(hours=2),
        last_status=503,
        errors=4,
        next_due=now + timedelta(hours=6),
        last_error="HTTP 503 Service Unavailable",
    )
    gone = FetchState(config_url=URL, gone=True, last_status=410, errors=1, last_error="410 Gone")
    text = format_status(
        [
            ("blog", "feed", ok),
            ("flaky", "feed", failing),
            ("old", "feed", gone),
            ("notes", "folder", None),
        ],
        now=now,
    )
    lines = text.splitlines()
    assert len(lines) == 5
    assert lines[0].split()[:3] == ["SOURCE", "KIND", "LAST"]
    assert "2026-11-23 11:55 (5m ago)" in lines[1] and "(in 25m)" in lines[1]
    assert " 200 " in lines[1] and " 12 " in lines[1]
    assert "HTTP 503 Service Unavailable" in lines[2] and " 4 " in lines[2]
    assert "never (gone)" in lines[3]
    assert lines[4].startswith("notes") and "never" in lines[4]
