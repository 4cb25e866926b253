"""What ``feeds status`` shows, gathered once: :func:`gather` reads the configuration, the
store and the output folder into an :class:`Overview`; :func:`as_text` and :func:`as_json`
render it (the text table of ``feeds status``, the JSON document of ``feeds status --json``,
whose shape ``docs/status.schema.json`` pins); the status page renders the JSON document.

One entry per fetched feed: a ``feed`` source is one, an ``opml`` source one per outline
(``source`` names the configured source); a folder source is one.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from ..config import Config, FeedConfig, SourceConfig
from ..errors import ConfigError, FeedsError
from ..model import FetchState
from ..publish import FORMATS, feed_url
from ..store import FeedState, Store, open_store
from .remote import remote_specs

#: the version of the JSON document's shape (``docs/status.schema.json``)
SCHEMA_VERSION = 1


@dataclass
class SourceRow:
    """One source (a folder, a feed, or one outline of an OPML source)."""

    name: str
    source: str  # the configured source's name (an OPML outline's parent)
    kind: str
    url: str | None = None
    path: str | None = None
    articles: int = 0
    fetch: FetchState | None = None  # remote only: None before the first fetch
    layout: str | None = None  # folder only
    scanned: bool = False  # folder only: the store has a scan of it
    skipped: int | None = None  # folder only: files the last scan left out
    not_published: int | None = None  # folder only: drafts, scheduled, expired...


@dataclass
class FeedRow:
    """One published feed: what its last publication left, and its files on disk."""

    name: str
    title: str
    items: int | None
    files: list[dict[str, Any]]  # format, name, path, url, media_type, bytes, modified

    @property
    def last_change(self) -> datetime | None:
        """When a subscription file of the feed last changed (files are only rewritten when
        their bytes change, so their newest mtime is the feed's last change)."""
        stamps = [f["modified"] for f in self.files if f["modified"] is not None]
        return max(stamps) if stamps else None


@dataclass
class Overview:
    now: datetime
    config: Config
    sources: list[SourceRow] = field(default_factory=list)
    feeds: list[FeedRow] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)


def gather(config: Config, *, now: datetime, store: Store | None = None,
           only: str | None = None) -> Overview:
    """Everything ``feeds status`` shows.  ``store``: one already open (the daemon's); else
    the configured one is opened to read, if it exists.  ``only``: one source's name (the
    configured name, or an OPML outline's): that source alone, and no feeds."""
    overview = Overview(now, config)
    owned = store is None and (config.shared is not None or config.store_path.is_file())
    if owned:
        store = open_store(config.store)
    named = [s for s in config.sources if s.name == only]  # else an OPML outline, or none
    try:
        for source in named or config.sources:
            _gather_source(overview, store, source)
        if only is None:
            overview.feeds = feed_rows(config, store)
    finally:
        if owned and store is not None:
            store.close()
    if only is not None:
        overview.sources = [s for s in overview.sources if only in (s.name, s.source)]
        overview.errors = [e for e in overview.errors if e[0] == only]
        if not overview.sources and not overview.errors:
            known = ", ".join(s.name for s in config.sources) or "none"
            raise ConfigError(f"no source named {only!r} (sources: {known})",
                              path=str(config.path), key="--source")
    return overview


def _gather_source(overview: Overview, store: Store | None, source: SourceConfig) -> None:
    if not source.remote:
        row = SourceRow(source.name, source.name, source.kind,
                        path=str(source.path) if source.path else None,
                        articles=store.count([source.name]) if store is not None else 0)
        _folder_details(row, store, source)
        overview.sources.append(row)
        return
    try:
        specs = remote_specs(source)
    except FeedsError as exc:
        overview.errors.append((source.name, exc.reason))
        return
    for spec in specs:
        state = store.source_state(spec.name) if store is not None else None
        url = state.effective_url(spec.url) if state is not None else spec.url
        overview.sources.append(SourceRow(
            spec.name, source.name, source.kind, url=url,
            path=str(source.path) if source.path else None, fetch=state,
            articles=store.count([spec.name]) if store is not None else 0))


def _folder_details(row: SourceRow, store: Store | None, source: SourceConfig) -> None:
    """A folder's layout (``auto`` resolved) and what its last scan skipped."""
    from ..sources.layouts import detect

    if "layout" not in source.source_kind.keys or source.path is None:
        return
    layout = source.layout
    if layout == "auto":
        layout = f"{detect(source.path)} (auto)" if source.path.is_dir() else "auto"
    row.layout = layout
    state = store.folder_state(source.name) if store is not None else None
    if state is not None:
        row.scanned, row.skipped, row.not_published = True, state.skipped, state.not_published


def feed_rows(config: Config, store: Store | None) -> list[FeedRow]:
    """Every configured feed: what its last publication left, and its files on disk."""
    return [_feed_row(config, store, feed) for feed in config.feeds]


def _feed_row(config: Config, store: Store | None, feed: FeedConfig) -> FeedRow:
    state = (store.feed_state(feed.name) if store is not None else None) or FeedState()
    channel = config.channel(feed)
    files = []
    for fmt in feed.formats:
        spec = FORMATS[fmt]
        path = config.output_dir / feed.name / spec.file_name
        try:
            st = path.stat()
            size: int | None = st.st_size
            modified: datetime | None = datetime.fromtimestamp(st.st_mtime, UTC)
        except OSError:
            size = modified = None
        files.append({"format": fmt, "name": spec.file_name, "path": str(path),
                      "url": feed_url(channel, fmt), "media_type": spec.media_type,
                      "bytes": size, "modified": modified})
    return FeedRow(feed.name, feed.title, state.count, files)


# --------------------------------------------------------------------------- renderers


def as_text(overview: Overview) -> list[str]:
    """``feeds status``: one line per folder source (its article count, layout and skips),
    then the table of remote feeds (see :func:`feeds.sources.politeness.format_status`)."""
    from ..sources.politeness import format_status

    lines = []
    for row in overview.sources:
        if row.url is not None:
            continue
        extra = ""
        if row.layout is not None:
            extra = (f", layout {row.layout}, {row.skipped} files skipped, "
                     f"{row.not_published} not published" if row.scanned
                     else f", layout {row.layout}, not scanned yet")
        lines.append(f"{row.name}: {row.kind} {row.path}, {row.articles} articles{extra}")
    remote = [(r.name, r.kind, r.fetch) for r in overview.sources if r.url is not None]
    if remote:
        lines.append(format_status(remote, now=overview.now))
    return lines


def as_json_document(overview: Overview) -> dict[str, Any]:
    """``feeds status --json``: the document ``docs/status.schema.json`` describes.  Every
    key is always present (null where it does not apply); times are UTC ISO 8601 ('Z')."""
    return {
        "version": SCHEMA_VERSION,
        "generated": _iso(overview.now),
        "config": os.path.abspath(overview.config.path),
        "output_dir": str(overview.config.output_dir),
        "sources": [_source_json(row) for row in overview.sources],
        "feeds": [_feed_json(row) for row in overview.feeds],
        "errors": [{"source": name, "reason": reason} for name, reason in overview.errors],
    }


def as_html(overview: Overview, *, health: str | None = None) -> bytes:
    """The status page (``/status``, ``status.html``): the JSON document, rendered by
    :func:`feeds.publish.statuspage.render_status_html`."""
    from ..publish.statuspage import render_status_html

    return render_status_html(as_json_document(overview), site_title=overview.config.site.title,
                              health=health)


def _source_json(row: SourceRow) -> dict[str, Any]:
    state = row.fetch
    remote = row.url is not None
    if state is None:
        fetch: dict[str, Any] = {"last_fetch": None, "last_success": None, "http_status": None,
                                 "items": None, "next_due": None, "errors": 0,
                                 "last_error": None, "gone": False}
    else:
        fetch = {"last_fetch": _iso(state.last_fetch), "last_success": _iso(state.last_success),
                 "http_status": state.last_status, "items": state.items,
                 "next_due": None if state.gone else _iso(state.next_due),
                 "errors": state.errors, "last_error": state.last_error, "gone": state.gone}
    return {
        "name": row.name, "source": row.source, "kind": row.kind, "remote": remote,
        "url": row.url, "path": row.path, "articles": row.articles,
        **fetch,
        "layout": row.layout, "scanned": row.scanned if not remote else None,
        "skipped_files": row.skipped, "not_published": row.not_published,
        "healthy": not (state is not None and (state.errors > 0 or state.gone)),
    }


def _feed_json(row: FeedRow) -> dict[str, Any]:
    return {
        "name": row.name, "title": row.title, "items": row.items,
        "last_change": _iso(row.last_change),
        "files": [{**f, "modified": _iso(f["modified"])} for f in row.files],
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def print_status(config: Config, *, now: datetime, as_json: bool = False,
                 only: str | None = None, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """``feeds status [--json] [--source NAME]``: print, and give the exit code (0; an
    unknown ``--source`` raises ``ConfigError``).  Sources that could not be listed go to
    ``err`` in text mode, into the document's ``errors`` in JSON."""
    out = out or sys.stdout
    err = err or sys.stderr
    overview = gather(config, now=now, only=only)
    if as_json:
        json.dump(as_json_document(overview), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    for name, reason in overview.errors:
        print(f"feeds: source {name}: {reason}", file=err)
    for line in as_text(overview):
        print(line, file=out)
    return 0
