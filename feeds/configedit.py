"""Edits to the configuration file that keep its comments and layout (tomlkit).

``feeds add URL [--name N]`` appends::

    [[sources]]
    name = "N"
    kind = "feed"
    url = "URL"

The file is rewritten atomically (a temporary file in the same folder, then a rename),
so a crash leaves either the old or the new file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import tomlkit
from tomlkit.exceptions import TOMLKitError

from feeds.errors import ConfigError, PublishError
from feeds.publish.atomic import write_if_changed

__all__ = ["add_feed_source", "name_for_url"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as feeds.config accepts


def name_for_url(url: str) -> str:
    """A source name made from a URL's host: ``https://www.Example.com/x`` -> ``example.com``."""
    host = (urlsplit(url).hostname or "feed").lower().removeprefix("www.")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", host).strip("-.")[:64] or "feed"
    return name if name[0].isalnum() else "feed-" + name[:58]


def add_feed_source(config_path: Path, url: str, name: str | None) -> str:
    """Append a ``kind = "feed"`` source for ``url``; return the name it got.

    Refuses (ConfigError naming the file and key) a URL that is not absolute http(s),
    a name the configuration would not accept, a name already taken, and a URL some
    feed source already has.  Without ``name``, one is made from the URL's host
    (``example.com``, then ``example.com-2`` ...).
    """
    where = str(config_path)
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an absolute http(s) URL: {url!r}", path=where, key="url")
    url = url.strip()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=where) from exc
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=where) from exc

    sources = document.get("sources", tomlkit.aot())
    if not isinstance(sources, tomlkit.items.AoT):
        raise ConfigError("must be an array of tables ([[sources]])", path=where, key="sources")

    names: set[str] = set()
    for i, table in enumerate(sources):
        names.add(str(table.get("name", "")))
        if table.get("kind") == "feed" and str(table.get("url", "")).strip() == url:
            raise ConfigError(
                f"already configured as source {table.get('name')!r}",
                path=where,
                key=f"sources[{i}].url",
            )
    if name is None:
        base = name_for_url(url)
        name = base
        n = 2
        while name in names:
            suffix = f"-{n}"
            name = base[: 64 - len(suffix)] + suffix
            n += 1
    elif not _NAME.match(name):
        raise ConfigError(
            f"invalid source name {name!r}: use letters, digits, '_', '.', '-' "
            "(at most 64, starting with a letter or digit)",
            path=where,
            key="name",
        )
    elif name in names:
        raise ConfigError(f"a source named {name!r} already exists", path=where, key="name")

    # Appended as text, so every other byte of the file (comments, blank lines, order)
    # stays as it was; TOML allows an array of tables to continue anywhere.
    block = "[[sources]]\n" + tomlkit.dumps({"name": name, "kind": "feed", "url": url})
    if text and not text.endswith("\n"):
        text += "\n"
    new_text = text + ("\n" if text.strip() else "") + block
    try:
        check = tomllib.loads(new_text)["sources"][-1]
    except (tomllib.TOMLDecodeError, KeyError, IndexError, TypeError) as exc:
        raise ConfigError(f"cannot append a source: {exc}", path=where) from exc
    if check != {"name": name, "kind": "feed", "url": url}:  # pragma: no cover - defensive
        raise ConfigError("cannot append a source to this file", path=where, key="sources")
    _write_atomically(config_path, new_text)
    return name


def _write_atomically(path: Path, text: str) -> None:
    """The publishers' atomic writer: temp file, fsync, rename, mode kept."""
    try:
        write_if_changed(path, text.encode("utf-8"))
    except PublishError as exc:
        raise ConfigError(f"cannot write the configuration: {exc.message}",
                          path=str(path)) from exc
