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

__all__ = ["FORMATS", "Format", "FormatModule", "archive_href", "document_format",
           "document_name", "document_url", "feed_url", "output_format"]


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


def document_name(fmt: str, page: int | None = None) -> str:
    """The file name of a feed's document in ``fmt``: the subscription document (``page``
    None, the table's ``file_name``), else archive page ``page`` beside it: ``rss.xml``
    -> ``rss-3.xml`` (RFC 5005 archived feeds; pages are numbered from the oldest)."""
    name = FORMATS[fmt].file_name
    if page is None:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}-{page}{dot}{ext}"


def document_format(name: str) -> tuple[str, int | None] | None:
    """The (format, page) of a file named ``name`` in a feed's directory (page None: the
    subscription document), or None when no format writes such a file."""
    for fmt, spec in FORMATS.items():
        if name == spec.file_name:
            return fmt, None
        stem, dot, ext = spec.file_name.rpartition(".")
        number = name.removeprefix(stem + "-").removesuffix(dot + ext)
        if name.startswith(stem + "-") and name.endswith(dot + ext) and number.isdigit() \
                and number.isascii() and not number.startswith("0"):
            return fmt, int(number)
    return None


def document_url(channel: Channel, fmt: str) -> str | None:
    """Absolute URL of the document ``channel`` describes (an archive page, when its
    ``archive`` says so), or None without ``base_url``: its self link."""
    return archive_href(channel, fmt, channel.archive.page) if channel.archive \
        and channel.base_url else feed_url(channel, fmt)


def archive_href(channel: Channel, fmt: str, page: int | None) -> str:
    """Link from one document of an archived feed to another (``page`` None: the
    subscription document): absolute with ``base_url``, else relative (the documents of
    a feed are in one directory)."""
    return channel.url_of(document_name(fmt, page)) or document_name(fmt, page)
