"""TOML -> validated, immutable ``Config``.  The only module that sees raw dicts.

Every problem found is collected, so ``feeds check`` reports them all at once; each names
the file and the key (``sources[1].path``).  Relative paths resolve against the folder of
the config file.  Resolution of *which* file: ``--config``, else ``$FEEDS_CONFIG``, else
``./config/feeds.toml``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .configcheck import (
    _HEADER_NOT,
    MAX_MAX_AGE,
    MAX_SINCE,
    SharedStore,
    _host,
    _join,
    _short,
    _Validator,
)

# the value parsers, for the callers of feeds.config (the CLI parses sizes and durations)
from .configcheck import parse_duration as parse_duration
from .configcheck import parse_size as parse_size
from .errors import ConfigError
from .model import Author, Channel, Retention
from .publish import FORMATS as OUTPUT_FORMATS
from .publish import feed_url
from .select import validate_pattern
from .sources import COMMON_KEYS, LAYOUTS, SOURCES, SourceKind

DEFAULT_PATH = Path("config/feeds.toml")
FORMATS = tuple(OUTPUT_FORMATS)  # the table's names, in its order: a feed's default

@dataclass(frozen=True)
class Site:
    title: str = "feeds"
    link: str | None = None
    base_url: str | None = None
    author: Author | None = None
    language: str | None = None
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    hub: str | None = None


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    path: Path | None = None  # folder, opml
    url: str | None = None  # feed
    every: timedelta | None = None
    cron: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    user_agent: str | None = None
    max_size: int = 5 * 1024 * 1024  # folder: largest article file read
    link_pattern: str | None = None  # folder: "articles/{stem}.html" under site.base_url
    retention: Retention = field(default_factory=Retention)  # feed, opml: history kept
    layout: str = "auto"  # folder: whose rules say what is an article (feeds.sources.layouts)
    include: tuple[str, ...] = ()  # folder: globs a file must match (none: every file)
    exclude: tuple[str, ...] = ()  # folder: globs of files and folders left out

    @property
    def source_kind(self) -> SourceKind:
        """This source's line of ``feeds.sources.SOURCES``."""
        return SOURCES[self.kind]

    @property
    def remote(self) -> bool:
        """Fetched over HTTP (``feed``, ``opml``); else read from local files (``folder``)."""
        return SOURCES[self.kind].remote


@dataclass(frozen=True)
class FeedConfig:
    name: str
    title: str
    description: str = ""
    sources: tuple[str, ...] = ("*",)
    formats: tuple[str, ...] = FORMATS
    limit: int = 50
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    since: timedelta | None = None
    content: str = "full"  # "summary": items carry their summary, not their whole text
    archive: bool = False  # RFC 5005 archived feed: every item, in pages of archive_size
    archive_size: int = 100

    @property
    def shown(self) -> int | None:
        """How many items the feed shows: ``limit``, or every one (None) when archived."""
        return None if self.archive else self.limit

    def matches(self, source: str) -> bool:
        """Whether articles of ``source`` go into this feed (``"*"`` is every source)."""
        return any(pattern == "*" or pattern == source for pattern in self.sources)


@dataclass(frozen=True)
class FetchConfig:
    connect_timeout: float = 10.0
    timeout: float = 30.0
    max_size: int = 10 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 10
    per_host: int = 2
    user_agent: str | None = None
    allow_private: bool = False
    every: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class ServerConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    max_age: int = 300
    metrics_sources: int = 20  # /metrics: per-source series for this many sources at most


@dataclass(frozen=True)
class Config:
    path: Path
    site: Site
    store_path: Path
    output_dir: Path
    sources: tuple[SourceConfig, ...]
    feeds: tuple[FeedConfig, ...]
    fetch: FetchConfig = field(default_factory=FetchConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    folder_every: timedelta = timedelta(minutes=5)
    status_page: bool = False  # [output] status_page: write status.html (it shows source URLs)
    shared: SharedStore | None = None  # [store] url: a PostgreSQL store nodes share

    @property
    def store(self) -> str | Path:
        """Where the store is: the shared store's URL, else the SQLite file."""
        return self.shared.url if self.shared else self.store_path

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def feed_sources(self, feed: FeedConfig) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources if feed.matches(s.name))

    def channel(self, feed: FeedConfig) -> Channel:
        return Channel(
            name=feed.name,
            title=feed.title,
            description=feed.description or feed.title,
            home_url=self.site.link,
            base_url=self.site.base_url,
            language=self.site.language,
            author=self.site.author,
            hub=self.site.hub,
            formats=feed.formats,
        )

    def feed_urls(self, feed: FeedConfig) -> list[str]:
        """The absolute URLs of ``feed``'s files (none without ``site.base_url``)."""
        channel = self.channel(feed)
        return [url for fmt in feed.formats if (url := feed_url(channel, fmt))]


class ConfigProblems(ConfigError):
    """Several problems at once; ``problems`` lists each one's line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun}:\n{lines}", path=str(path))
        self.problems = problems


def resolve_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """``--config``, else ``$FEEDS_CONFIG``, else ``./config/feeds.toml``."""
    if explicit:
        return Path(explicit)
    if env.get("FEEDS_CONFIG"):
        return Path(env["FEEDS_CONFIG"])
    return DEFAULT_PATH


def load(path: Path) -> Config:
    """Read and validate ``path``; raise ``ConfigError`` naming the file (and keys)."""
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config file not found", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", path=str(path)) from None
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None
    return parse(raw, path)


def parse(raw: Mapping[str, Any], path: Path) -> Config:
    """Validate an already-decoded TOML document; collect every problem."""
    v = _Validator(path.resolve().parent)
    top = v.table(raw, "", {"site", "store", "output", "sources", "feeds", "fetch", "server",
                            "schedule", "retention"})
    site = _site(v, v.sub(top, "site"))
    store_table = v.table(v.sub(top, "store"), "store", {"path", "url", "lease", "node"})
    shared = v.shared_store(store_table)
    store_path = v.path(store_table, "store", "path", default="../state/feeds.db")
    output_table = v.table(v.sub(top, "output"), "output", {"dir", "status_page"})
    output_dir = v.path(output_table, "output", "dir", default="../public")
    status_page = v.boolean(output_table, "output", "status_page", False)
    fetch = _fetch(v, v.sub(top, "fetch"))
    server = _server(v, v.sub(top, "server"))
    schedule = v.table(v.sub(top, "schedule"), "schedule", {"folder_every"})
    folder_every = v.duration(schedule, "schedule", "folder_every") or timedelta(minutes=5)

    retention = _retention(v, v.sub(top, "retention"), "retention", Retention())
    sources = _sources(v, top.get("sources", []), retention)
    _shared_folders(v, sources)
    feeds = _feeds(v, top.get("feeds", []), {s.name for s in sources})
    if v.problems:
        raise ConfigProblems(path, v.problems)
    assert store_path is not None and output_dir is not None
    return Config(
        path=path,
        site=site,
        store_path=store_path,
        output_dir=output_dir,
        sources=tuple(sources),
        feeds=tuple(feeds),
        fetch=fetch,
        server=server,
        folder_every=folder_every,
        status_page=status_page,
        shared=shared,
    )


def _site(v: _Validator, raw: Any) -> Site:
    t = v.table(raw, "site", {"title", "link", "base_url", "author", "language", "timezone",
                              "hub"})
    author: Author | None = None
    raw_author = t.get("author")
    if isinstance(raw_author, str):
        author = Author(raw_author)
    elif isinstance(raw_author, dict):
        a = v.table(raw_author, "site.author", {"name", "email", "url"})
        name = v.string(a, "site.author", "name", required=True)
        author = Author(name or "", v.string(a, "site.author", "email"),
                        v.url(a, "site.author", "url")) if name else None
    elif raw_author is not None:
        v.problem("site.author", "must be a string or a table with name, email, url")
    tz: tzinfo = ZoneInfo("UTC")
    tz_name = v.string(t, "site", "timezone")
    if tz_name:
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            v.problem("site.timezone",
                      f"unknown time zone {_short(tz_name)} (use e.g. Europe/Paris)")
    base_url = v.url(t, "site", "base_url")
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    language = v.string(t, "site", "language")
    if language and not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", language):
        v.problem("site.language", f"must be a language tag like 'en' or 'fr-CA', got {language!r}")
    link = v.url(t, "site", "link")
    if link is not None and not link.isascii():  # it goes into the default User-Agent
        v.problem("site.link", f"must be ASCII (the host in punycode, the path %-encoded), "
                  f"got {_short(link)}")
        link = None
    return Site(
        title=v.string(t, "site", "title", default="feeds") or "feeds",
        link=link,
        base_url=base_url,
        author=author,
        language=language,
        timezone=tz,
        hub=v.url(t, "site", "hub"),
    )


def _fetch(v: _Validator, raw: Any) -> FetchConfig:
    t = v.table(raw, "fetch", {"connect_timeout", "timeout", "max_size", "max_redirects",
                               "concurrency", "per_host", "user_agent", "allow_private",
                               "every"})
    d = FetchConfig()
    return FetchConfig(
        connect_timeout=v.number(t, "fetch", "connect_timeout", d.connect_timeout),
        timeout=v.number(t, "fetch", "timeout", d.timeout),
        max_size=v.size(t, "fetch", "max_size", d.max_size),
        max_redirects=v.integer(t, "fetch", "max_redirects", d.max_redirects, maximum=30),
        concurrency=v.integer(t, "fetch", "concurrency", d.concurrency, minimum=1, maximum=500),
        per_host=v.integer(t, "fetch", "per_host", d.per_host, minimum=1, maximum=50),
        user_agent=v.plain(t, "fetch", "user_agent", pattern=_HEADER_NOT,
                           what="anything but printable ASCII"),
        allow_private=v.boolean(t, "fetch", "allow_private", d.allow_private),
        every=v.duration(t, "fetch", "every") or d.every,
    )


def _server(v: _Validator, raw: Any) -> ServerConfig:
    t = v.table(raw, "server", {"enabled", "host", "port", "max_age", "metrics_sources"})
    d = ServerConfig()
    return ServerConfig(
        enabled=v.boolean(t, "server", "enabled", True if t else d.enabled),
        host=_host(v, t) or d.host,
        port=v.integer(t, "server", "port", d.port, minimum=0, maximum=65535),
        max_age=v.integer(t, "server", "max_age", d.max_age, maximum=MAX_MAX_AGE),
        metrics_sources=v.integer(t, "server", "metrics_sources", d.metrics_sources,
                                  maximum=1000),
    )




def _retention(v: _Validator, raw: Any, where: str, default: Retention) -> Retention:
    """A retention table (``max_age``: a duration, ``max_items``: an integer; ``false``
    switches a limit off); keys left out take ``default``'s values."""
    t = v.table(raw, where, {"max_age", "max_items"})
    max_age, max_items = default.max_age, default.max_items
    age, items = t.get("max_age"), t.get("max_items")
    if age is False:
        max_age = None
    elif isinstance(age, str):
        max_age = v.duration(t, where, "max_age", maximum=MAX_SINCE) or max_age
    elif age is not None:  # a bare number would be seconds: never what is meant here
        v.problem(_join(where, "max_age"),
                  f'must be a duration like "90d", or false for no age limit, got {age!r}')
    if items is False:
        max_items = None
    elif isinstance(items, int) and not isinstance(items, bool):
        max_items = v.integer(t, where, "max_items", 0, maximum=10_000_000)
    elif items is not None:
        v.problem(_join(where, "max_items"),
                  f"must be a number of entries, or false for no limit, got {items!r}")
    return Retention(max_age=max_age, max_items=max_items)


def _sources(v: _Validator, raw: Any, retention: Retention) -> list[SourceConfig]:
    if not isinstance(raw, list):
        v.problem("sources", "must be an array of tables ([[sources]])")
        return []
    seen: set[str] = set()
    out: list[SourceConfig] = []
    for i, item in enumerate(raw):
        where = f"sources[{i}]"
        if not isinstance(item, dict):
            v.problem(where, "must be a table")
            continue
        kind = item.get("kind")
        if not isinstance(kind, str) or kind not in SOURCES:  # the table, read now
            v.problem(_join(where, "kind"), f"must be one of {', '.join(SOURCES)}, "
                      f"got {kind!r}")
            kind = None
        allowed = {"name", "kind"} | COMMON_KEYS | (SOURCES[kind].keys if kind else set().union(
            *(s.keys for s in SOURCES.values())))
        t = v.table(item, where, allowed)
        t = {key: value for key, value in t.items() if key in allowed}  # one line per key
        name = v.name(t, where, seen)
        if not name or not kind:
            continue
        kinds = SOURCES[kind]
        every = v.duration(t, where, "every")
        cron = v.cron(t, where, "cron")
        if every and cron:
            v.problem(where, "give either 'every' or 'cron', not both")
        source = SourceConfig(
            name=name,
            kind=kind,
            path=v.path(t, where, "path", required=kinds.required == "path"),
            url=v.url(t, where, "url", required=kinds.required == "url"),
            every=every,
            cron=cron,
            headers=v.headers(t, where, "headers"),
            user_agent=v.plain(t, where, "user_agent", pattern=_HEADER_NOT,
                               what="anything but printable ASCII"),
            max_size=v.size(t, where, "max_size", SourceConfig.max_size),
            link_pattern=v.link_pattern(t, where, "link_pattern"),
            retention=_retention(v, t["retention"], _join(where, "retention"), retention)
            if "retention" in t and kinds.remote else retention,
            layout=v.choice(t, where, "layout", LAYOUTS, default="auto"),
            include=v.globs(t, where, "include"),
            exclude=v.globs(t, where, "exclude"),
        )
        if not kinds.remote and "retention" in t:
            remote = " or ".join(f'"{k}"' for k, s in SOURCES.items() if s.remote)
            v.problem(_join(where, "retention"), f"applies to remote sources only (kind = "
                      f"{remote}): a folder's articles stay while their files do")
        if kinds.path_is == "dir" and source.path is not None and not os.path.isdir(source.path):
            v.problem(_join(where, "path"), f"folder not found: {source.path}")
        if kinds.path_is == "file" and source.path is not None \
                and not os.path.isfile(source.path):
            v.problem(_join(where, "path"), f"file not found: {source.path}")
        out.append(source)
    return out


def _shared_folders(v: _Validator, sources: list[SourceConfig]) -> None:
    """Two folder sources must not read the same files: the same folder (also through a
    symlink) or one folder inside the other would give each file two articles, two ids,
    and a story that flips between them.  One problem per pair, naming both sources."""
    folders: list[tuple[int, SourceConfig, Path]] = []
    for index, source in enumerate(sources):
        if source.source_kind.path_is == "dir" and source.path is not None \
                and source.path.is_dir():
            folders.append((index, source, source.path.resolve()))
    for n, (_i, first, a) in enumerate(folders):
        for j, second, b in folders[n + 1:]:
            if a == b:
                how = "is the same folder as"
            elif b.is_relative_to(a):
                how = "is inside the folder of"
            elif a.is_relative_to(b):
                how = "contains the folder of"
            else:
                continue
            v.problem(f"sources[{j}].path", f"{second.path} (source {second.name!r}) {how} "
                      f"source {first.name!r} ({first.path}): two sources would read the "
                      f"same files under different ids")


def _feeds(v: _Validator, raw: Any, source_names: set[str]) -> list[FeedConfig]:
    if not isinstance(raw, list):
        v.problem("feeds", "must be an array of tables ([[feeds]])")
        return []
    if not raw:
        v.problem("feeds", "no feeds defined: add at least one [[feeds]] table")
    seen: set[str] = set()
    out: list[FeedConfig] = []
    for i, item in enumerate(raw):
        where = f"feeds[{i}]"
        t = v.table(item, where, {"name", "title", "description", "sources", "formats", "limit",
                                  "include", "exclude", "since", "content", "archive",
                                  "archive_size"})
        if not t:
            continue
        name = v.name(t, where, seen)
        sources = v.strings(t, where, "sources", ("*",))
        for s in sources:
            if s != "*" and s not in source_names:
                v.problem(_join(where, "sources"), f"unknown source {s!r}")
        known = tuple(OUTPUT_FORMATS)  # the table, read now: a format is one line there
        formats = v.strings(t, where, "formats", FORMATS)
        for f in formats:
            if f not in known:
                v.problem(_join(where, "formats"),
                          f"unknown format {f!r} (use {', '.join(known)})")
        if not formats:
            v.problem(_join(where, "formats"), "must name at least one format")
        include = v.strings(t, where, "include", ())
        exclude = v.strings(t, where, "exclude", ())
        for key, patterns in (("include", include), ("exclude", exclude)):
            for pattern in patterns:
                try:
                    validate_pattern(pattern)
                except ConfigError as exc:
                    v.problem(_join(where, key),
                              f"bad regular expression {_short(pattern)}: {exc}")
                    break  # one line per key
        out.append(FeedConfig(
            name=name,
            title=v.string(t, where, "title", default=name) or name,
            description=v.string(t, where, "description", default="") or "",
            sources=sources,
            formats=tuple(f for f in known if f in formats),
            limit=v.integer(t, where, "limit", 50, minimum=1, maximum=100_000),
            include=include,
            exclude=exclude,
            since=v.duration(t, where, "since", maximum=MAX_SINCE),
            content=v.choice(t, where, "content", ("full", "summary"), default="full"),
            **v.archive(t, where),
        ))
    return out

