"""A reStructuredText reader kind: the file read as plain text."""

from __future__ import annotations

from feeds.model import Article, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.plaintext import read_plaintext


def read(raw: RawInput, ctx: ReadContext) -> Article:
    return read_plaintext(raw.data, source=raw.source, key=raw.key, tz=ctx.tz)
