"""Publishing: stored items -> feed files, one module per output format.

``FORMATS`` is the table of output formats: everything the rest of the code knows about a
format (its file name, media type and label, where its renderer and verifier live, what
its fragments and items carry) is one line here.  The format's module (``module``) is
imported only when it is used, and provides three functions::

    renderer(channel: Channel) -> render.FormatRenderer   head, tail and entry fragments
    verify(data: bytes, items: Sequence[Item]) -> None      PublishError unless it reads back
    read_back(data: bytes) -> (updated | None, entries)     what ``feeds recover`` reads

Adding a format is one new module with those functions and one line of ``FORMATS``:
config validation, the server's media types, the index page, recovery and the pool's
warm-up read this table.  (Importing this package imports no format module.)
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from feeds.model import Channel, Item
    from feeds.publish.render import FormatRenderer

__all__ = ["FORMATS", "Format", "FormatModule", "feed_url", "output_format"]


class FormatModule(Protocol):
    """What a format's module provides (see the module docstring)."""

    def renderer(self, channel: Channel) -> FormatRenderer: ...

    def verify(self, data: bytes, items: Sequence[Item]) -> None: ...

    def read_back(self, data: bytes) -> tuple[int | None, list[dict[str, Any]]]: ...


@dataclass(frozen=True, slots=True)
class Format:
    """One output format, as the table lists it."""

    name: str  # as in the configuration's ``formats``
    file_name: str  # in each feed's directory
    media_type: str  # served as, and announced by the index page
    label: str  # shown by the index page
    module: str  # the module providing renderer, verify and read_back
    item_updated: bool = True  # items carry an "updated" date (RSS: no)
    fragment_language: bool = False  # a fragment depends on the feed's language (Atom)
    recover_rank: int = 0  # ``feeds recover`` reads the lowest rank first (richest data)

    def implementation(self) -> FormatModule:
        return cast(FormatModule, importlib.import_module(self.module))


#: format name -> Format, in the canonical order (a feed's formats are kept in this order)
FORMATS: dict[str, Format] = {
    "rss": Format("rss", "rss.xml", "application/rss+xml", "RSS", "feeds.publish.rss",
                  item_updated=False, recover_rank=2),
    "atom": Format("atom", "atom.xml", "application/atom+xml", "Atom", "feeds.publish.atom",
                   fragment_language=True, recover_rank=1),
    "json": Format("json", "feed.json", "application/feed+json", "JSON Feed",
                   "feeds.publish.jsonfeed", recover_rank=0),
}


def output_format(name: str) -> Format:
    """The table's line for ``name``; ``PublishError`` for an unknown format."""
    try:
        return FORMATS[name]
    except KeyError:
        from feeds.errors import PublishError

        raise PublishError(f"unknown feed format {name!r}") from None


def feed_url(channel: Channel, fmt: str) -> str | None:
    """Absolute URL of ``channel`` in format ``fmt``, or None without ``base_url``."""
    return channel.url_of(FORMATS[fmt].file_name)
