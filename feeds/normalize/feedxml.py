"""The ``feed`` reader kind: an RSS / Atom / RDF document, read by :mod:`.entries`."""

from __future__ import annotations

from feeds.model import RawInput
from feeds.normalize import ReadContext
from feeds.normalize.entries import ParsedFeed, parse_feed


def read_feed(raw: RawInput, ctx: ReadContext) -> ParsedFeed:
    """``feeds.normalize.READERS``' entry point for the ``feed`` kind (``raw.headers``:
    the HTTP response headers, whose Content-Type gives the charset)."""
    return parse_feed(raw.data, source=raw.source, feed_url=raw.url or "", headers=raw.headers)
