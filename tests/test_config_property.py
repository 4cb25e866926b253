"""A property of the configuration: whatever ``load`` accepts, what build and run derive from
it (triggers, links, filters, durations, fetch settings, the server) works; whatever it
refuses is a ``ConfigError``.  Documents are random TOML over the schema's keys, with
values from plausible to hostile."""

from __future__ import annotations

import socket
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds import config
from feeds.daemon import _trigger
from feeds.errors import ConfigError
from feeds.model import Article, Item
from feeds.normalize.fallbacks import apply_folder_fallbacks
from feeds.pipeline import fetch_settings
from feeds.select import select_items
from feeds.server import FeedServer

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
S = st.SearchStrategy

wrong_type: S[Any] = st.one_of(
    st.booleans(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1), st.text(max_size=10),
)


def key(good: S[Any], hostile: S[Any]) -> S[Any]:
    """A key's value: mostly one of its kind (edges included), now and then a hostile one
    or one of another type, so that many documents pass and many fail, on one key."""
    return st.integers(0, 19).flatmap(
        lambda n: hostile if n == 0 else wrong_type if n == 1 else good)


text: S[str] = st.text(max_size=30)
control = st.sampled_from(["a\x00b", "a\nb", "\x07", "\u0085", "\x7f", "", " "])
huge = st.sampled_from([2**63 - 1, -(2**63), 10**18, -1, 0])
integer = st.integers(-5, 70_000)
number = st.one_of(st.floats(0.001, 3600), st.integers(1, 3600))
bad_number = st.one_of(st.floats(), st.just(1e300), st.integers(-10, 10**12))
duration = st.one_of(
    st.sampled_from(["15m", "1s", "1.5s", "366d", "52w", " 2 h ", "1e3", "90"]),
    st.integers(1, 31_000_000),
    st.builds(lambda n, u: f"{n}{u}", st.decimals(1, 10**3, places=2).map(str),
              st.sampled_from(["", "s", "sec", "m", "min", "h", "d", "w"])),
)
bad_duration = st.one_of(
    st.sampled_from(["0.5s", "0.99s", "367d", "53w", "99999999999d", "9" * 400, "9" * 400 + "w",
                     "", "-5m", "0", "36601d", "5 parsecs", "nan", "inf"]),
    st.integers(-10, 10**12), st.floats(), text,
)
minute = st.sampled_from(["*", "*/5", "0", "59", "1-5", "1,2", "*/59"])
hour = st.sampled_from(["*", "0", "23", "*/6", "1-5", "0,12"])
day = st.sampled_from(["*", "1", "29", "30", "31", "last", "1-5", "*/2"])
month = st.sampled_from(["*", "1", "2", "4", "12", "1-5", "jan", "feb"])
weekday = st.sampled_from(["*", "mon-fri", "sun", "0", "6", "sun#9", "1-5", "mon,wed", "2nd fri"])
cron = st.tuples(minute, hour, day, month, weekday).map(" ".join)
bad_cron_field = st.sampled_from(["*/0", "60", "99", "24", "32", "13", "7", "8", "5-1", "1,,2",
                                  "L", "?", "-1", "x", "*/999999999999999999999", "1-50/3"])
bad_cron = st.one_of(
    st.lists(st.one_of(bad_cron_field, minute), min_size=4, max_size=6).map(" ".join), text)
pattern = st.sampled_from([r"(a|a)*b", r"(x|x|x)*y", r"(.|\s)*!", r".*.*.*.*=",
                           r"[a-z]*[a-z]*[a-z]*[a-z]*!", r"\pL+", r"(?i)python", r"\bnews\b",
                           r"(a+)+$", r"(\w+\s?)*$", "x{2,1000}", r"é|ü", r"^$", ""])
bad_pattern = st.one_of(
    st.sampled_from([r"(.)\1", r"(?=x)", r".{1000}", r"\Z", "a" * 301, "(", "[z-a]"]),
    st.text(alphabet="()[]{}|*+?.\\^$axyz019=!<-:PpLwWsSdDbBzZ,", max_size=30),
)
link_pattern = st.sampled_from(["{stem}", "{slug}/", "articles/{stem}.html", "{{x}}/{stem}",
                                "{stem}-{slug}", "?p={slug}", "#{stem}", "https://o.org/{stem}"])
bad_link_pattern = st.one_of(
    st.sampled_from(["{stem}{x}", "{stem}}", "{{stem}", "{stem:d}", "{stem!r}", "{0}", "{}",
                     "//[{stem}", "http://[::1/{stem}", "{stem.upper}", "a b/{slug}", "plain"]),
    st.text(alphabet="{}stemlugx!:.[]0/ -\n", max_size=20),
)
bad_path = st.one_of(
    control,
    st.sampled_from(["~nosuchuser/x", "missing", "a" * 300, "/".join(["a" * 200] * 30)]), text)
url = st.one_of(
    st.sampled_from(["https://ex.org/feed.xml", "http://ex.org", "http://[::1]:8080/",
                     "https://exämple.org/ü", "http://x:65535/", "https://ex.org/a?b=c#d"]))
bad_url = st.one_of(
    st.sampled_from(["ftp://ex.org/", "example.org", "http://[::1", "http://x:99999/",
                     "http://x:-1/", "http://a b/", "http://x/\x00", "https://", "http:///path",
                     "file:///etc/passwd"]),
    text,
)
size = st.one_of(st.sampled_from(["5 MiB", "500kb", "1 GiB", "1.5 MiB", "1 b"]),
                 st.integers(1, 2**30))
bad_size = st.one_of(
    st.sampled_from(["1.5 GiB", "0.1 b", "9" * 400 + " GiB", "lots", ""]), huge)
ascii_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
headers = st.dictionaries(st.sampled_from(["X-Token", "Accept", "If-None-Match"]), ascii_text,
                          max_size=2)
bad_headers = st.dictionaries(
    st.one_of(st.sampled_from(["Bad Name", "", "X:y"]), st.text(max_size=6)),
    st.one_of(control, st.sampled_from(["é", "\u2028"]), st.text(max_size=6)), min_size=1,
    max_size=2)


def table(keys: dict[str, S[Any]]) -> S[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=keys)


site = table({
    "title": key(text, control), "link": key(url, bad_url), "base_url": key(url, bad_url),
    "hub": key(url, bad_url),
    "author": key(st.one_of(text, table({"name": key(text, control),
                                         "url": key(url, bad_url)})), control),
    "language": key(st.sampled_from(["en", "fr-CA"]), st.one_of(control, text)),
    "timezone": key(st.sampled_from(["UTC", "Europe/Paris", "America/St_Johns"]),
                    st.one_of(st.sampled_from(["Mars/Olympus", "a" * 300, "Europe/Paris\x00",
                                               "../etc", "/etc/passwd"]), text)),
})
fetch = table({
    "connect_timeout": key(number, bad_number), "timeout": key(number, bad_number),
    "max_size": key(size, bad_size), "max_redirects": key(st.integers(0, 30), huge),
    "concurrency": key(st.integers(1, 500), huge), "per_host": key(st.integers(1, 50), huge),
    "user_agent": key(ascii_text, st.one_of(control, text)),
    "allow_private": key(st.booleans(), text), "every": key(duration, bad_duration),
})
server = table({
    "enabled": key(st.booleans(), text),
    "host": key(st.sampled_from(["127.0.0.1", "::1", "localhost"]), st.one_of(control, text)),
    "port": key(st.integers(0, 65535), st.one_of(huge, st.integers(65536, 10**6))),
    "max_age": key(st.integers(0, 366 * 86400), huge),
})
common = {"every": key(duration, bad_duration), "cron": key(cron, bad_cron)}
folder = st.fixed_dictionaries(
    {"kind": st.just("folder"), "path": key(st.just("articles"), bad_path)},
    optional={**common, "max_size": key(size, bad_size),
              "link_pattern": key(link_pattern, bad_link_pattern)})
remote = st.fixed_dictionaries(
    {"kind": st.just("feed"), "url": key(url, bad_url)},
    optional={**common, "headers": key(headers, bad_headers),
              "user_agent": key(ascii_text, st.one_of(control, text))})
opml = st.fixed_dictionaries(
    {"kind": key(st.just("opml"), st.just("pigeon")), "path": key(st.just("feeds.opml"), bad_path)},
    optional={**common, "headers": key(headers, bad_headers)})
feed = st.fixed_dictionaries({}, optional={
    "title": key(text, control), "description": key(text, control),
    "sources": key(st.lists(st.sampled_from(["*", "s0", "s1"]), max_size=2),
                   st.lists(st.sampled_from(["nowhere", ""]), min_size=1, max_size=1)),
    "formats": key(st.lists(st.sampled_from(["rss", "atom", "json"]), min_size=1, max_size=3),
                   st.lists(st.sampled_from(["gopher", ""]), max_size=1)),
    "limit": key(st.integers(1, 100_000), huge), "include": key(st.lists(pattern, max_size=2),
                                                                st.lists(bad_pattern, min_size=1,
                                                                         max_size=2)),
    "exclude": key(st.lists(pattern, max_size=2), st.lists(bad_pattern, min_size=1, max_size=2)),
    "since": key(duration, bad_duration)})


def named(tables: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [{"name": f"{prefix}{i}", **t} for i, t in enumerate(tables)]


documents = st.fixed_dictionaries(
    {"sources": st.lists(st.one_of(folder, remote, opml), max_size=3).map(
        lambda ts: named(ts, "s")),
     "feeds": st.lists(feed, min_size=1, max_size=2).map(lambda ts: named(ts, "f"))},
    optional={"site": site, "store": table({"path": key(st.just("state/feeds.db"), bad_path)}),
              "output": table({"dir": key(st.just("public"), bad_path)}), "fetch": fetch,
              "server": server, "schedule": table({"folder_every": key(duration, bad_duration)})},
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("property")
    (root / "articles").mkdir()
    (root / "feeds.opml").write_text("<opml/>", encoding="utf-8")
    return root


def items() -> Iterator[Item]:
    for i, title in enumerate(["a" * 500, "x" * 499 + "y", "Python news", "é\ud800" * 100]):
        article = Article(source="news", key=f"{i}.md", title=title, summary=title * 4,
                          tags=(title[:100],), published=NOW - timedelta(days=i),
                          date_source="content")
        yield Item(id=str(i), article=article, first_seen=article.published,
                   updated=article.published)


def exercise(cfg: config.Config) -> None:
    """What build and run derive from ``cfg``: none of it may raise."""
    settings_ = fetch_settings(cfg)
    httpx.Timeout(settings_.timeout, connect=settings_.connect_timeout)  # as make_client does
    httpx.Limits(max_connections=settings_.concurrency,
                 max_keepalive_connections=settings_.concurrency)
    with socket.socket() as sock:  # what the transport does with the timeouts
        sock.settimeout(settings_.timeout)
        sock.settimeout(settings_.connect_timeout)
    zlib.decompressobj().decompress(b"", settings_.max_bytes + 1)  # the size cap's inflater
    for src in cfg.sources:
        assert _trigger(src, cfg).get_next_fire_time(None, NOW) is not None
        if src.kind == "folder":
            article = Article(source=src.name, key="2024/a b#c.md", title="A title?",
                              published=None, date_source="content")
            apply_folder_fallbacks(article, mtime_ns=0, tz=cfg.site.timezone,
                                   base_url=cfg.site.base_url or "https://ex.org/",
                                   link_pattern=src.link_pattern)
            assert src.path is not None and src.path.is_dir()
        if src.url is not None:
            request = httpx.Request("GET", src.url, headers={
                **src.headers, "User-Agent": src.user_agent or settings_.user_agent})
            request.headers.raw  # noqa: B018  (encodes every header as httpx sends it)
    for f in cfg.feeds:
        select_items(list(items()), include=f.include, exclude=f.exclude, since=f.since,
                     limit=f.limit, now=NOW)
        cfg.channel(f)
    datetime(2026, 6, 1, 12, tzinfo=cfg.site.timezone).astimezone(UTC)
    for p in (cfg.store_path, cfg.output_dir):
        p.exists()  # raises on a name the file system cannot take
    FeedServer(cfg.output_dir, max_age=cfg.server.max_age)
    assert 0 <= cfg.server.port <= 65535


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=documents)
def test_what_load_accepts_runs_and_what_it_refuses_is_a_config_error(
    base: Path, document: dict[str, Any]
) -> None:
    path = base / "feeds.toml"
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    try:
        cfg = config.load(path)
    except ConfigError as exc:
        assert str(path) in str(exc)  # a message naming the file
        if isinstance(exc, config.ConfigProblems):  # and one line for each problem
            assert exc.problems and all("\n" not in p and p.strip() for p in exc.problems)
        return
    exercise(cfg)
