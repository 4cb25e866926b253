"""The checks behind ``feeds.config``: one ``_Validator`` collecting every problem with the key
it names, the parsers of durations and sizes, and the bounds they enforce.

``feeds.config`` holds the ``Config`` types and builds them section by section; the checks
of single values live here, so that each module stays readable on its own.
"""

from __future__ import annotations

import importlib.util
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$")
_DURATION_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3,
}
#: bounds of durations: a schedule (``every``) runs at least once a second and at least once a
#: year; ``since`` looks back at most a century
MIN_EVERY = timedelta(seconds=1)
MAX_EVERY = timedelta(days=366)
MAX_SINCE = timedelta(days=36_600)
#: largest size (``max_size``): 1 GiB
MAX_SIZE = 1024**3
#: longest timeout, seconds; longest ``server.max_age``
MAX_TIMEOUT = 3600.0
MAX_MAX_AGE = 366 * 86400
#: the placeholders ``link_pattern`` may use (``feeds.normalize.permalink.FIELDS``)
LINK_FIELDS = ("year", "month", "day", "slug", "stem", "path", "section", "category",
               "categories")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_URL_BAD = re.compile(r"[\x00-\x20\x7f-\x9f]")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")  # printable ASCII: what httpx sends as is
_HEADER_NOT = re.compile(r"[^\t\x20-\x7e]")
_NAME_MAX, _PATH_MAX = 255, 4095


#: what a node of a shared store does: fetch sources, publish feeds, or both
NODE_ROLES = ("both", "fetch", "publish")
#: how long a node holds a remote feed it claimed, unless it finishes sooner
DEFAULT_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class SharedStore:
    """``[store] url``: a PostgreSQL store several nodes share (``feeds.store.postgres``)."""

    url: str
    lease: timedelta = DEFAULT_LEASE
    role: str = "both"  # NODE_ROLES

    @property
    def fetches(self) -> bool:
        return self.role != "publish"

    @property
    def publishes(self) -> bool:
        return self.role != "fetch"


def _store_url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL URL (None: nothing seen without connecting)."""
    if not url.startswith(("postgresql://", "postgres://")):
        return f"must be a PostgreSQL URL like postgresql://user@host:5432/feeds, got {_short(url)}"
    if _URL_BAD.search(url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        return f"not a usable URL: {exc}"
    if not parts.hostname and "host=" not in parts.query:
        return ("must name a host, e.g. postgresql://user@db.example:5432/feeds (a local "
                "socket: postgresql:///feeds?host=/var/run/postgresql)")
    if not parts.path.strip("/"):
        return "must name a database, e.g. postgresql://user@host:5432/feeds"
    return None


def parse_duration(text: str, *, minimum: timedelta = MIN_EVERY,
                   maximum: timedelta = MAX_EVERY) -> timedelta:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"``; a bare number is seconds.

    ValueError (one line) for anything else, and outside ``minimum`` .. ``maximum``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {_short(text)} (use e.g. 30s, 15m, 2h, 1d)")
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2) or "s"]  # inf if huge
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {_short(text)}")
    if seconds < minimum.total_seconds():
        raise ValueError(f"duration must be at least {_span(minimum)}: {_short(text)}")
    if not seconds <= maximum.total_seconds():
        raise ValueError(f"duration must be at most {_span(maximum)}: {_short(text)}")
    return timedelta(seconds=seconds)


def parse_size(value: str | int, *, maximum: int = MAX_SIZE) -> int:
    """``"5 MiB"``, ``"500 KB"``, a bare number of bytes; ValueError past ``maximum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = float(value)
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError(f"not a size: {_short(str(value))} (use e.g. 5 MiB, 500 KB)")
        size = float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]  # inf if huge
    if not size >= 1:
        raise ValueError("size must be positive")
    if not size <= maximum:
        raise ValueError(f"size must be at most {_bytes(maximum)}")
    return int(size)


def _bytes(size: int) -> str:
    for unit, length in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size % length == 0:
            return f"{size // length} {unit}"
    return f"{size} bytes"


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % length == 0:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"


def _short(text: str, limit: int = 40) -> str:
    """``text`` quoted for a one-line message, cut when long."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}…"


class _Validator:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}" if key else message)

    def sub(self, table: Mapping[str, Any], key: str) -> Any:
        return table.get(key, {})

    def table(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(where, f"must be a table, got {_type(value)}")
            return {}
        for key in value:
            if key not in allowed:
                hint = _suggest(key, allowed)
                self.problem(_join(where, key), f"unknown key{hint}")
        return value

    def string(self, table: Mapping[str, Any], where: str, key: str,
               default: str | None = None, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(_join(where, key), "is required")
            return default
        if not isinstance(value, str):
            self.problem(_join(where, key), f"must be a string, got {_type(value)}")
            return default
        if required and not value.strip():
            self.problem(_join(where, key), "must not be empty")
        return value

    def url(self, table: Mapping[str, Any], where: str, key: str, *,
            required: bool = False) -> str | None:
        value = self.string(table, where, key, required=required)
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            _port = parts.port  # ValueError when out of range or not a number
            good = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            good = False
        if not good or _URL_BAD.search(value):
            self.problem(_join(where, key),
                         f"must be an absolute http(s) URL, got {_short(value, 80)}")
            return None
        return value

    def plain(self, table: Mapping[str, Any], where: str, key: str, *,
              default: str | None = None, pattern: re.Pattern[str] = _CONTROL,
              what: str = "control characters") -> str | None:
        """A string that must not hold ``pattern`` (control characters by default)."""
        value = self.string(table, where, key, default=default)
        if value is not None and pattern.search(value):
            self.problem(_join(where, key), f"must not contain {what}, got {_short(value)}")
            return default
        return value

    def integer(self, table: Mapping[str, Any], where: str, key: str, default: int, *,
                minimum: int = 0, maximum: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_join(where, key), f"must be an integer, got {_type(value)}")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            self.problem(_join(where, key), f"must be between {minimum}{upper}, got {value}")
            return default
        return value

    def number(self, table: Mapping[str, Any], where: str, key: str, default: float, *,
               maximum: float = MAX_TIMEOUT) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value <= maximum:  # also refuses nan
            self.problem(_join(where, key),
                         f"must be a number above 0 and at most {maximum:g}, got {value!r}")
            return default
        return float(value)

    def boolean(self, table: Mapping[str, Any], where: str, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(_join(where, key), f"must be true or false, got {_type(value)}")
            return default
        return value

    def strings(self, table: Mapping[str, Any], where: str, key: str,
                default: tuple[str, ...]) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.problem(_join(where, key), "must be a list of strings")
            return default
        return tuple(value)

    def path(self, table: Mapping[str, Any], where: str, key: str, *,
             default: str | None = None, required: bool = False) -> Path | None:
        value = self.string(table, where, key, default=default, required=required)
        if value is None or (required and not value.strip()):
            return None
        problem = _path_problem(value)
        if problem is None:
            try:
                return (self.base / Path(value).expanduser()).resolve()
            except RuntimeError:  # expanduser: "~user" names nobody (or $HOME is unset)
                problem = f"cannot expand {_short(value.split('/')[0])}: no such user or home"
            except (OSError, ValueError) as exc:
                problem = f"not a usable path: {exc}"
        self.problem(_join(where, key), problem)
        return None

    def duration(self, table: Mapping[str, Any], where: str, key: str, *,
                 minimum: timedelta = MIN_EVERY,
                 maximum: timedelta = MAX_EVERY) -> timedelta | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problem(_join(where, key), f"must be a duration like \"15m\", got {_type(value)}")
            return None
        try:
            return parse_duration(value, minimum=minimum, maximum=maximum)
        except ValueError as exc:
            self.problem(_join(where, key), str(exc))
            return None

    def size(self, table: Mapping[str, Any], where: str, key: str, default: int) -> int:
        value = table.get(key)
        if value is None:
            return default
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.problem(_join(where, key), f"must be a size like \"5 MiB\", got {_type(value)}")
            return default
        try:
            return parse_size(value)
        except ValueError as exc:
            self.problem(_join(where, key), str(exc))
            return default

    def cron(self, table: Mapping[str, Any], where: str, key: str) -> str | None:
        """A crontab line, as APScheduler's own ``CronTrigger.from_crontab`` reads it."""
        value = self.string(table, where, key)
        if value is None:
            return None
        problem = cron_problem(value)
        if problem:
            self.problem(_join(where, key), problem)
            return None
        return value

    def link_pattern(self, table: Mapping[str, Any], where: str, key: str) -> str | None:
        value = self.string(table, where, key)
        if value is None:
            return None
        problem = link_pattern_problem(value)
        if problem:
            self.problem(_join(where, key), problem)
            return None
        return value

    def choice(self, table: Mapping[str, Any], where: str, key: str, choices: Sequence[str],
               *, default: str) -> str:
        """One of ``choices`` (a string), else ``default`` and a problem listing them."""
        value = table.get(key, default)
        if not isinstance(value, str) or value not in choices:
            shown = _short(value) if isinstance(value, str) else _type(value)
            self.problem(_join(where, key),
                         f"must be one of {', '.join(repr(c) for c in choices)}, got {shown}")
            return default
        return value

    def archive(self, t: Mapping[str, Any], where: str) -> dict[str, Any]:
        """``archive`` and ``archive_size`` of one ``[[feeds]]`` table (RFC 5005 archives)."""
        archive = self.boolean(t, where, "archive", False)
        size = self.integer(t, where, "archive_size", 100, minimum=1, maximum=100_000)
        if "archive_size" in t and not archive:
            self.problem(_join(where, "archive_size"),
                         "applies only to an archived feed: add archive = true, or remove it")
        if archive and "limit" in t:
            self.problem(_join(where, "limit"),
                         "does not apply to an archived feed (archive = true), which keeps "
                         "every item: its subscription document holds the newest "
                         "archive_size to 2 × archive_size − 1 and archive pages the rest; "
                         "remove limit")
        return {"archive": archive, "archive_size": size}

    def shared_store(self, table: Mapping[str, Any]) -> SharedStore | None:
        """``[store] url`` (a PostgreSQL database), ``lease`` and ``node``; None: no url
        (the SQLite file at ``path``)."""
        url = self.string(table, "store", "url")
        lease = self.duration(table, "store", "lease", minimum=timedelta(seconds=1))
        role = self.choice(table, "store", "node", NODE_ROLES, default="both")
        if url is None:
            for key in ("lease", "node"):
                if key in table:
                    self.problem(f"store.{key}", "applies only with store.url (a shared store)")
            return None
        problem = _store_url_problem(url)
        if problem is None and "path" in table:
            problem = "give store.path (a SQLite file) or store.url, not both"
        if problem is None and importlib.util.find_spec("psycopg") is None:
            problem = ("a PostgreSQL store needs psycopg 3, which is not installed: "
                       "pip install 'feeds[postgresql]'")
        if problem:
            self.problem("store.url", problem)
            return None
        return SharedStore(url, lease or DEFAULT_LEASE, role)

    def globs(self, table: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
        """A list of include/exclude globs (``feeds.sources.layouts.glob_regex``); one
        problem per bad glob, naming it."""
        from .sources.layouts import glob_problem

        patterns = self.strings(table, where, key, ())
        good: list[str] = []
        for pattern in patterns:
            problem = glob_problem(pattern)
            if problem:
                self.problem(_join(where, key), f"{_short(pattern)}: {problem}")
            else:
                good.append(pattern)
        return tuple(good)

    def headers(self, table: Mapping[str, Any], where: str, key: str) -> dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(x, str) for k, x in value.items()
        ):
            self.problem(_join(where, key), "must be a table of strings")
            return {}
        for name, text in value.items():
            if not _TOKEN.match(name):
                self.problem(_join(where, key), f"{_short(name)} is not a header name")
                return {}
            if not _HEADER_VALUE.match(text):
                self.problem(_join(where, key), f"the value of {name} must be printable ASCII, "
                             f"got {_short(text)}")
                return {}
        return dict(value)

    def name(self, table: Mapping[str, Any], where: str, seen: set[str]) -> str:
        name = self.string(table, where, "name", required=True) or ""
        if name and not _NAME.match(name):
            self.problem(_join(where, "name"),
                         f"{name!r} must be letters, digits, '.', '_' or '-' (it names files)")
        elif name in seen:
            self.problem(_join(where, "name"), f"duplicate name {name!r}")
        seen.add(name)
        return name


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type(value: object) -> str:
    names: dict[type, str] = {str: "a string", int: "an integer", float: "a number",
                              bool: "a boolean", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _suggest(key: str, allowed: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(sorted(allowed))})"



def _host(v: _Validator, t: Mapping[str, Any]) -> str | None:
    host = v.string(t, "server", "host")
    if host is not None and (not host or _URL_BAD.search(host)):
        v.problem("server.host", f"must be a host name or address, got {_short(host)}")
        return None
    return host


def _path_problem(value: str) -> str | None:
    """Why ``value`` cannot name a file, before the file system is asked (or None)."""
    if not value.strip():
        return "must not be empty"
    if _CONTROL.search(value):
        return f"must not contain control characters, got {_short(value)}"
    encoded = os.fsencode(value)
    if len(encoded) > _PATH_MAX or any(len(part) > _NAME_MAX for part in encoded.split(b"/")):
        return f"path too long: {_short(value)}"
    return None


def cron_problem(expression: str) -> str | None:
    """Why the daemon cannot run ``expression`` (``feeds.schedule.cron_trigger``), or None."""
    from .schedule import cron_trigger

    try:
        trigger = cron_trigger(expression)
    except ValueError as exc:
        message = " ".join(str(exc).split())
        return message if message.startswith("must") else f"{_short(expression)}: {message}"
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        return f"{_short(expression)} never fires"
    return None


def link_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot make links (``str.format`` with :data:`LINK_FIELDS`), or None."""
    allowed = ", ".join(f"{{{name}}}" for name in LINK_FIELDS)
    if _URL_BAD.search(pattern):
        return f"must not contain spaces or control characters, got {_short(pattern)}"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return f"{exc} in {_short(pattern)} (write a literal brace as {{{{ or }}}})"
    fields = set()
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in LINK_FIELDS:
            return f"unknown placeholder {{{name}}} (use {allowed})"
        if spec or conversion:
            return f"write placeholders plainly, as {allowed}"
        fields.add(name)
    if not fields:
        return f"must contain {allowed}"
    try:
        urljoin("https://example.org/", pattern.format_map(dict.fromkeys(LINK_FIELDS, "a")))
    except ValueError as exc:
        return f"does not make a URL: {exc}"
    return None
