"""What the one-shot commands other than ``build`` ask of the sources and the store:
``feeds status``, ``feeds inspect`` and ``feeds add``.  The shell only prints the answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import FeedsError
from ..store import open_store
from .remote import fetch_settings, read_body


@dataclass
class Status:
    """``feeds status``: the lines to print, and the sources that could not be listed."""

    lines: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)


def status(config: Config, *, now: datetime) -> Status:
    """One line per folder source (its article count), then one per remote feed (last
    fetch, status, next due, errors: see :func:`feeds.sources.politeness.format_status`);
    gathered by :func:`feeds.pipeline.overview.gather`, which ``--json`` renders too."""
    from .overview import as_text, gather

    overview = gather(config, now=now)
    return Status(as_text(overview), overview.errors)


@dataclass(frozen=True, slots=True)
class Located:
    """How ``feeds inspect`` reads a file as ``feeds build`` would: the folder source that
    holds it (if any), its key there, the layout and link pattern it is read with, and why
    the build leaves it out (None: it reads it)."""

    source: str | None = None
    key: str | None = None
    layout: str = "plain"
    link_pattern: str | None = None
    skipped: str | None = None


#: how many folders above a file ``feeds inspect`` looks for a site generator's files
_SITE_DEPTH = 8


def locate(config: Config | None, path: Path) -> Located:
    """Where ``path`` is read from: the folder source that holds it, else the site (Jekyll,
    Hugo, Zola, Pelican) whose files stand in a folder above it, else a plain folder."""
    from ..sources.layouts import Rules, detect

    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reading it says so
        real = path.absolute()
    for source in config.sources if config is not None else ():
        if not source.remote and source.path and real.is_relative_to(source.path):
            key = real.relative_to(source.path).as_posix()
            if "layout" not in source.source_kind.keys:
                return Located(source.name, key)
            rules = Rules.build(source.path, source.layout, source.include, source.exclude)
            return Located(source.name, key, rules.layout, source.link_pattern,
                           rules.judge(source.path, key))
    for root in list(real.parents)[:_SITE_DEPTH]:
        layout = detect(root)
        if layout != "plain":
            key = real.relative_to(root).as_posix()
            return Located(None, key, layout, None, Rules.build(root, layout).judge(root, key))
    return Located()


def lookup_id(config: Config | None, source: str | None, key: str | None) -> str | None:
    """The id the store gave the article ``key`` of ``source``, if any (and if there is a
    usable store)."""
    if config is None or source is None or key is None or not (
            config.shared or config.store_path.is_file()):
        return None
    try:
        with open_store(config.store) as store:
            return store.lookup_id(source, key)
    except FeedsError:
        return None


def discover_feed(config: Config, url: str) -> str:
    """The feed ``url`` is, or the one the page at ``url`` links to (``feeds add``)."""
    from ..sources.remote import resolve_feed_url_sync

    return resolve_feed_url_sync(url, fetch_settings(config), read_body)


def explain_path(path: Path, *, tz: tzinfo) -> list[dict[str, Any]]:
    """``feeds inspect --explain``: for each line of a plain-text article's title and header
    zone, ``line`` (its number), ``role`` (what the reader took it for), ``why`` and
    ``text``.  Empty for other kinds of file (they have no header zone to explain).
    ``ArticleError`` as in reading."""
    from ..errors import ArticleError
    from ..normalize.decode import decode_text
    from ..normalize.plaintext import read_plaintext

    if path.suffix.lower() not in (".txt", ".text"):
        return []
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ArticleError(exc.strerror or "unreadable", path=str(path)) from None
    notes: list[tuple[int, str, str]] = []
    read_plaintext(data, source="", key=path.name, tz=tz, mtime=mtime, explain=notes)
    lines = decode_text(data).split("\n")
    return [{"line": index + 1, "role": role, "why": why, "text": lines[index].strip()}
            for index, role, why in notes]
