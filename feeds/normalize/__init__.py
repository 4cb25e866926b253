"""Pure normalization steps: raw input -> ``Article``.  No I/O here.

``READERS`` is the table of input kinds: one line per kind names the module that reads it
and the file suffixes it claims in a folder.  The module is imported only when it is used
(``warm`` imports the ones a pool will need before it forks), and provides::

    read(raw: RawInput, ctx: ReadContext) -> Article          one input, one article
    read_feed(raw: RawInput, ctx: ReadContext) -> ParsedFeed  a feed document: many

Adding a reader kind is one new module and one line here: the folder source is handed
``suffixes()``, the pipeline dispatches through ``read`` / ``read_feed``.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from types import ModuleType
from typing import TYPE_CHECKING

from feeds.errors import ArticleError, FeedsError, ParseError

if TYPE_CHECKING:
    from feeds.model import Article, RawInput
    from feeds.normalize.entries import ParsedFeed

__all__ = ["READERS", "ReadContext", "Reader", "read", "read_feed", "suffixes", "warm"]


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What reading needs besides the input: the zone of times written without one, the
    site's URL (``site.base_url``), and for a folder source its ``link_pattern``, its
    ``layout`` (``feeds.sources.layouts``) and the time of the build (what is scheduled
    or expired is decided against it)."""

    tz: tzinfo = UTC
    base_url: str | None = None
    link_pattern: str | None = None
    layout: str = "plain"
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reader:
    """One input kind, as the table lists it."""

    kind: str
    module: str  # provides ``read`` (one article) or, ``feed``, ``read_feed``
    suffixes: tuple[str, ...] = ()  # the file names it claims in a folder (lower case)
    feed: bool = False  # a feed document: many articles (``read_feed``)

    def implementation(self) -> ModuleType:
        return importlib.import_module(self.module)


#: input kind -> Reader
READERS: dict[str, Reader] = {
    "text": Reader("text", "feeds.normalize.plaintext", (".txt", ".text")),
    "markdown": Reader("markdown", "feeds.normalize.markdown",
                       (".md", ".markdown", ".mkd", ".mdown")),  # as Pelican and Hugo
    "html": Reader("html", "feeds.normalize.htmlpage", (".html", ".htm")),
    "rst": Reader("rst", "feeds.normalize.rst", (".rst",)),  # Pelican's reStructuredText
    "feed": Reader("feed", "feeds.normalize.feedxml", feed=True),  # RSS, Atom, RDF
    "jsonfeed": Reader("jsonfeed", "feeds.normalize.jsonfeed_in", feed=True),
}


def suffixes() -> dict[str, str]:
    """File suffix (``".md"``) -> the kind that claims it: what a folder source picks."""
    return {suffix: r.kind for r in READERS.values() for suffix in r.suffixes}


def _reader(raw: RawInput, *, feed: bool) -> Reader:
    found = READERS.get(raw.kind)
    if found is None or found.feed != feed:
        what = "feed documents" if feed else "files"
        raise ArticleError(f"no reader for {raw.kind!r} {what}", path=raw.key)
    return found


def read(raw: RawInput, ctx: ReadContext) -> Article:
    """The article in ``raw``.  ``ArticleError`` when it is not one."""
    article: Article = _reader(raw, feed=False).implementation().read(raw, ctx)
    return article


def read_feed(raw: RawInput, ctx: ReadContext) -> ParsedFeed:
    """The articles of the feed document in ``raw`` (a fetched body).

    ``ParseError`` when it is not a feed we can read, also when a parser fails on it in a
    way we did not foresee (:func:`feeds.normalize.failures.input_failure` sorts that from
    our own bugs, which propagate): that source's error, never the build's."""
    url = raw.url or ""
    try:
        parsed: ParsedFeed = _reader(raw, feed=True).implementation().read_feed(raw, ctx)
    except FeedsError:
        raise
    except Exception as exc:
        from feeds.normalize.failures import input_failure

        reason = input_failure(exc)
        if reason is None:
            raise
        raise ParseError(reason, source=raw.source, url=url) from None
    return parsed


def warm(kinds: Collection[str]) -> None:
    """Import the readers of ``kinds`` (before a pool forks: every worker then has them)."""
    for kind in kinds:
        if kind in READERS:
            READERS[kind].implementation()
