"""Front matter: the YAML (``---``) or TOML (``+++``) block at the top of a Markdown file, as
a mapping of its string keys.

YAML is read with a safe loader that refuses aliases (no "billion laughs"), reads
timestamps as strings (so a bad date names its key), and is capped at 64 KB.  The common
simple form (``key: value`` lines of strings, ``tags: [a, b]``) is read without the parser,
to the same result.  Every problem is an ``ArticleError`` worded for the user.
"""

from __future__ import annotations

import contextlib
import functools
import re
import tomllib
from datetime import date
from typing import Any

import yaml

from feeds.errors import ArticleError

MAX_FRONT_MATTER = 64 * 1024  # characters


class _SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without aliases; timestamps stay strings for :func:`parse_date`."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _AliasRefused(event.start_mark.line if event.start_mark else 0)
        return super().compose_node(parent, index)


class _AliasRefused(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _timestamp_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)

_FAST = bool(getattr(yaml, "__with_libyaml__", False))
if _FAST:

    class _CSafeLoader(yaml.CSafeLoader):
        """libyaml's parser (about 20 times faster); aliases are refused by a pre-scan."""

    _CSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)


MAX_YAML_DEPTH = 64  # front matter is a flat mapping; deeper nesting is abuse


def _load_yaml(raw: str) -> object:
    """Load front matter: aliases refused, depth bounded, errors worded as PyYAML words them."""
    simple = _simple_yaml(raw)
    if simple is not None:
        return simple
    if not _FAST:
        return yaml.load(raw, Loader=_SafeLoader)  # a SafeLoader subclass
    if "*" not in raw and sum(map(raw.count, "-?:[{")) <= MAX_YAML_DEPTH:
        # Without a "*" there is no alias, and every collection needs an indicator of its
        # own ("-", "?", ":", "[" or "{"), so the checks below cannot fail and one load gives
        # what they would.  Should it fail, the checked path reads it again and words it.
        with contextlib.suppress(Exception):
            return yaml.load(raw, Loader=_CSafeLoader)  # a CSafeLoader subclass
    depth = 0
    try:
        for event in yaml.parse(raw, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise _AliasRefused(event.start_mark.line if event.start_mark else 0)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise RecursionError
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        # libyaml words errors differently: let the pure-Python parser say what is wrong
        return yaml.load(raw, Loader=_SafeLoader)
    return yaml.load(raw, Loader=_CSafeLoader)  # a CSafeLoader subclass


# The common front matter, read without a YAML parser: ``key: value`` lines only, each
# value double- or single-quoted without escapes, a one-line plain scalar, or a flow list
# of plain scalars (``tags: [a, b]``), and every plain scalar one that YAML reads as a
# string (or a timestamp, which is kept as a string).  Anything else (numbers, booleans,
# block lists, comments, blank or indented lines, characters that are not printable)
# goes to the YAML parser.
_SIMPLE_YAML_LINE = re.compile(
    r"(?P<key>[A-Za-z][A-Za-z0-9_]{0,63}): "
    r"""(?:"(?P<double>[^"\\]*)"|'(?P<single>[^']*)'|\[(?P<list>[^\[\]{}"'#:?]*)\]|(?P<plain>\w.*))"""
)
_PLAIN_END = re.compile(r"[\s:]$")  # trailing space or ":" ends a plain scalar differently
_STRING_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"})
_RESOLVER = yaml.resolver.Resolver()  # both loaders resolve plain scalars with this class


@functools.lru_cache(maxsize=4096)
def _plain_is_string(value: str) -> bool:
    """Does YAML read this plain scalar as a string (timestamps are kept as strings)?"""
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag in _STRING_TAGS


def _simple_yaml(raw: str) -> dict[str, Any] | None:
    """``raw`` as YAML reads it when it is in the simple form above, else None."""
    mapping: dict[str, Any] = {}
    for line in raw.split("\n"):
        found = _SIMPLE_YAML_LINE.fullmatch(line)
        if found is None or not line.isprintable() or not _plain_is_string(found["key"]):
            return None
        value: Any
        plain, items = found["plain"], found["list"]
        if plain is not None:
            if ": " in plain or " #" in plain or _PLAIN_END.search(plain):
                return None
            if not _plain_is_string(plain):
                return None
            value = plain
        elif items is not None:
            value = [item.strip(" ") for item in items.split(",")] if items.strip(" ") else []
            if not all(item[:1].isalnum() and _plain_is_string(item) for item in value):
                return None
        else:
            value = found["double"] if found["single"] is None else found["single"]
        mapping[found["key"]] = value
    return mapping


_FENCES = {"---": "yaml", "+++": "toml"}


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)``; no front matter unless the first line is a fence."""
    first, newline, rest = text.partition("\n")
    fence = first.rstrip()
    kind = _FENCES.get(fence)
    if kind is None or not newline:
        return {}, text
    closers = ("---", "...") if kind == "yaml" else ("+++",)
    size = 0
    lines = rest.split("\n")
    for number, line in enumerate(lines):
        if line.rstrip() in closers:
            raw = "\n".join(lines[:number])
            return _load_front_matter(raw, kind), "\n".join(lines[number + 1 :])
        size += len(line) + 1
        if size > MAX_FRONT_MATTER:
            raise ArticleError("front matter is too large (over 64 KB) or not terminated")
    raise ArticleError(f"front matter is not terminated: no closing {fence!r} line")


def _load_front_matter(raw: str, kind: str) -> dict[str, Any]:
    if len(raw) > MAX_FRONT_MATTER:
        raise ArticleError("front matter is too large (over 64 KB)")
    loaded: object
    if kind == "toml":
        try:
            loaded = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as error:
            raise ArticleError(f"front matter is not valid TOML: {error}") from None
        except RecursionError:  # tomllib recurses once per nested array or inline table
            raise ArticleError("front matter is not valid TOML: nested too deeply") from None
    else:
        try:
            loaded = _load_yaml(raw)
        except _AliasRefused as refused:
            raise ArticleError(
                f"front matter uses a YAML alias (line {refused.line + 2}): not allowed"
            ) from None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"line {mark.line + 2}: " if mark is not None else ""
            problem = error.problem or error.context or "syntax error"
            raise ArticleError(f"front matter is not valid YAML: {where}{problem}") from None
        except yaml.YAMLError as error:
            raise ArticleError(f"front matter is not valid YAML: {error}") from None
        except RecursionError:
            raise ArticleError("front matter is not valid YAML: nested too deeply") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ArticleError(f"front matter is not a mapping but {_kind(loaded)}")
    return {key: value for key, value in loaded.items() if isinstance(key, str)}


def _kind(value: object) -> str:
    """``a list``, ``a number`` ... for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    names: dict[type, str] = {list: "a list", dict: "a mapping", str: "a string"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "a value")


# --- fields -------------------------------------------------------------------------------

# Pelican's metadata header (Python-Markdown's "meta" extension): ``Key: value`` lines at
# the very top, a value continued on lines indented by four spaces, ended by a blank line.
_HEADER_LINE = re.compile(r" {0,3}([A-Za-z][A-Za-z0-9_-]{0,63}):[ \t]*(.*)")
_HEADER_MORE = re.compile(r" {4,}(\S.*)")
#: the keys Pelican documents; outside the ``pelican`` layout only these, with a Title
PELICAN_KEYS = frozenset({
    "title", "date", "modified", "category", "tags", "keywords", "slug", "author",
    "authors", "summary", "status", "lang", "translation", "save_as", "url", "template",
})  # fmt: skip


def pelican_headers(text: str, *, strict: bool) -> tuple[dict[str, Any], str]:
    """``(metadata, body)`` of a file that starts with Pelican ``Key: value`` lines (keys
    lower-cased), else ``({}, text)``.  ``strict``: every key must be one Pelican documents
    and one of them ``Title``, so that a first line such as "Note: ..." stays text."""
    meta: dict[str, Any] = {}
    last = ""
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if not line.strip():
            break
        found = _HEADER_LINE.fullmatch(line)
        more = _HEADER_MORE.fullmatch(line) if last else None
        if found is not None and more is None:
            last = found.group(1).lower()
            if strict and last not in PELICAN_KEYS:
                return {}, text
            meta.setdefault(last, found.group(2).strip())
        elif more is not None:
            meta[last] = f"{meta[last]} {more.group(1).strip()}".strip()
        elif number == 0:
            return {}, text
        else:
            break
    else:
        number = len(lines)
    if not meta or (strict and "title" not in meta):
        return {}, text
    return meta, "\n".join(lines[number:])
