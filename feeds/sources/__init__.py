"""Sources: where raw input comes from (a folder of files, a remote feed, an OPML list).

``SOURCES`` is the table of source kinds (the ``kind`` of a ``[[sources]]`` table): one
line per kind says which configuration keys it takes, which it requires, what its
``path`` must be on disk, whether it is fetched over HTTP (the remote ingest: fetch
states, politeness, retention) or read from local files (the folder ingest, watched by
the daemon), and which module implements it (imported only when used).  A module of a
local kind provides::

    scan(root, suffixes[, rules]) -> Scan        the input files under ``root``
    scan_paths(root, keys, suffixes[, rules]) -> (Scan, gone) | None    just those keys

(``rules``, a :class:`feeds.sources.layouts.Rules`, is passed to the kinds that take the
``layout`` key: what the source's layout and globs leave out)
    read(found, *, source, max_size) -> RawInput               one file's input

and a module of a remote kind::

    feed_specs(name, *, url, path, every, headers, user_agent) -> list[FeedSpec]

Configuration validation, the pipeline and the shells read this table (through
``SourceConfig.remote`` and friends) instead of naming kinds; every source hands the
pipeline ``feeds.model.RawInput``.  Adding a source kind is one module and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

__all__ = ["COMMON_KEYS", "LAYOUTS", "SOURCES", "SourceKind"]

#: the values of a folder source's ``layout`` key (``feeds.sources.layouts``)
LAYOUTS = ("auto", "jekyll", "hugo", "zola", "pelican", "plain")

#: keys every source takes (besides ``name`` and ``kind``)
COMMON_KEYS = frozenset({"every", "cron"})
_REMOTE_KEYS = frozenset({"headers", "user_agent", "retention"})


@dataclass(frozen=True, slots=True)
class SourceKind:
    """One kind of source, as the table lists it."""

    kind: str
    module: str  # implements it (see the module docstring)
    keys: frozenset[str]  # the configuration keys it takes, besides name, kind and COMMON_KEYS
    required: Literal["path", "url"]  # the key it cannot do without
    remote: bool  # fetched over HTTP; else read from local files (and watched)
    path_is: Literal["dir", "file"] | None = None  # what ``path`` must be on disk
    many_feeds: bool = False  # stands for many feeds: entries keyed "<feed> <entry>", and
    #                           one feed's failure is a problem, not the source's error

    def implementation(self) -> ModuleType:
        return importlib.import_module(self.module)


#: source kind -> SourceKind
SOURCES: dict[str, SourceKind] = {
    "folder": SourceKind("folder", "feeds.sources.folder",
                         frozenset({"path", "max_size", "link_pattern", "retention",
                                    "layout", "include", "exclude"}),
                         "path", remote=False, path_is="dir"),
    "feed": SourceKind("feed", "feeds.sources.remote", frozenset({"url"}) | _REMOTE_KEYS,
                       "url", remote=True),
    "opml": SourceKind("opml", "feeds.sources.opml", frozenset({"path"}) | _REMOTE_KEYS,
                       "path", remote=True, path_is="file", many_feeds=True),
}
