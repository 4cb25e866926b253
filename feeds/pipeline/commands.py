"""What the one-shot commands other than ``build`` ask of the sources and the store:
``feeds status``, ``feeds inspect`` and ``feeds add``.  The shell only prints the answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config, SourceConfig
from ..errors import FeedsError
from ..store import Store, open_store
from .remote import fetch_settings, read_body, remote_specs

if TYPE_CHECKING:
    from ..sources.politeness import FetchState


@dataclass
class Status:
    """``feeds status``: the lines to print, and the sources that could not be listed."""

    lines: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)


def status(config: Config, *, now: datetime) -> Status:
    """One line per folder source (its article count), then one per remote feed (last
    fetch, status, next due, errors: see :func:`feeds.sources.politeness.format_status`)."""
    from ..sources.politeness import format_status

    report = Status()
    rows: list[tuple[str, str, FetchState | None]] = []
    counts: dict[str, int] = {}
    folders: dict[str, str] = {}
    store = open_store(config.store) \
        if config.shared or config.store_path.is_file() else None
    try:
        for source in config.sources:
            if store is not None:
                counts[source.name] = store.count([source.name])
            if not source.remote:
                folders[source.name] = _folder_status(store, source)
                continue
            try:
                specs = remote_specs(source)
            except FeedsError as exc:
                report.errors.append((source.name, exc.reason))
                continue
            for spec in specs:
                state = store.source_state(spec.name) if store is not None else None
                rows.append((spec.name, source.kind, state))
    finally:
        if store is not None:
            store.close()
    report.lines.extend(f"{s.name}: {s.kind} {s.path}, {counts.get(s.name, 0)} articles"
                        f"{folders[s.name]}" for s in config.sources if not s.remote)
    if rows:
        report.lines.append(format_status(rows, now=now))
    return report


def _folder_status(store: Store | None, source: SourceConfig) -> str:
    """What a folder source's line adds: its layout (``auto`` resolved) and what its last
    scan skipped (left out, not published), as the store keeps it."""
    from ..sources.layouts import detect

    if "layout" not in source.source_kind.keys or source.path is None:
        return ""
    layout = source.layout
    if layout == "auto":
        layout = f"{detect(source.path)} (auto)" if source.path.is_dir() else "auto"
    state = store.folder_state(source.name) if store is not None else None
    if state is None:
        return f", layout {layout}, not scanned yet"
    return (f", layout {layout}, {state.skipped} files skipped, "
            f"{state.not_published} not published")


def locate(config: Config | None, path: Path) -> tuple[str | None, str | None]:
    """Which folder source holds ``path``, and its key there."""
    if config is None:
        return None, None
    real = path.resolve()
    for source in config.sources:
        if not source.remote and source.path and real.is_relative_to(source.path):
            return source.name, real.relative_to(source.path).as_posix()
    return None, None


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
