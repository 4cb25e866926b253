"""Small pieces of reading an XML feed for ``entries``: the repairs made before parsing,
what a non-feed body starts with, and how long a feed says it stays fresh."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

__all__ = ["feed_ttl", "prepare_body", "sniff"]


def prepare_body(body: bytes) -> bytes:
    """Two repairs expat will not make and careful readers do.

    * Whitespace before the XML declaration (a PHP template's stray newline).
    * UTF-16 with neither byte order mark nor XML declaration: the first character is
      ``<`` and the next is not ``?``, so the byte pattern names the encoding (XML 1.0
      appendix F).  Such a body is transcoded to UTF-8.
    """
    stripped = body.lstrip(b" \t\r\n")
    if stripped[:5] == b"<?xml" and stripped is not body:
        return stripped
    bom = b"\xef\xbb\xbf"
    if body.startswith(bom) and body[3:].lstrip(b" \t\r\n")[:5] == b"<?xml":
        return bom + body[3:].lstrip(b" \t\r\n")
    for codec, pattern in (("utf-16-be", _UTF16BE), ("utf-16-le", _UTF16LE)):
        if pattern.match(body):
            try:
                return body.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                return body
    return body


_UTF16BE = re.compile(rb"^(?:\x00[ \t\r\n])*\x00<\x00[^?\x00]")
_UTF16LE = re.compile(rb"^(?:[ \t\r\n]\x00)*<\x00[^?\x00]\x00")


def sniff(body: bytes) -> str:
    start = body.lstrip()[:60].decode("utf-8", "replace")
    return repr(start) if start else "empty document"


_PERIODS = {"hourly": 1, "daily": 24, "weekly": 24 * 7, "monthly": 24 * 30, "yearly": 24 * 365}


def feed_ttl(feed: Mapping[str, Any]) -> timedelta | None:
    """How long the feed says it stays fresh: ``<ttl>`` (minutes), or the syndication
    module's ``updatePeriod`` / ``updateFrequency``; the longer of the two."""
    found: list[timedelta] = []
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit():
        found.append(timedelta(minutes=min(int(ttl), 10**6)))
    period = str(feed.get("sy_updateperiod") or "").strip().lower()
    if period in _PERIODS:
        frequency_text = str(feed.get("sy_updatefrequency") or "1").strip()
        frequency = int(frequency_text) if frequency_text.isdigit() else 1
        found.append(timedelta(hours=_PERIODS[period]) / max(1, min(frequency, 10**6)))
    return max(found) if found else None
