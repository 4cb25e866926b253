"""Small pure helpers the file readers share: bytes to text, dates as front matter and
page metadata write them, language tags, and shortening text for a summary.

(They were first written for :mod:`feeds.normalize.markdown`, which still exports them.)
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, date, datetime, tzinfo

from feeds.errors import ArticleError
from feeds.normalize.decode import count_ascii_controls
from feeds.text import one_line

__all__ = ["SUMMARY_CHARS", "TITLE_CHARS", "decode_utf8", "language_code", "parse_date", "shorten"]

SUMMARY_CHARS = 300
TITLE_CHARS = 200  # a title taken from the first line of a paragraph is shortened to this


# --- bytes -> text ------------------------------------------------------------------------

_NEWLINES = re.compile(r"\r\n?")


def decode_utf8(data: bytes) -> str:
    """UTF-8 (BOM dropped; a UTF-16 BOM is honoured) -> LF-only text, or ArticleError.

    Reasons: ``empty file`` (no bytes or only whitespace), ``binary data`` (a NUL byte
    without a UTF-16 BOM, or more than 1 % control characters), ``not UTF-8``.
    """
    if not data:
        raise ArticleError("empty file")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleError("not UTF-16 despite its byte-order mark") from None
        text = text.removeprefix("\ufeff")
    else:
        if b"\x00" in data:
            raise ArticleError("binary data")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if count_ascii_controls(data) * 100 > len(data):
                raise ArticleError("binary data") from None
            raise ArticleError("not UTF-8") from None
    if not text.strip():
        raise ArticleError("empty file")
    if count_ascii_controls(text.encode("utf-8", "surrogatepass")) * 100 > len(text):
        raise ArticleError("binary data")
    return _NEWLINES.sub("\n", text) if "\r" in text else text


# --- dates --------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_SPACED_ZONE = re.compile(r"(.*\d)\s*(?:([+-]\d{2}(?::?\d{2})?)|(Z|UTC|GMT))", re.IGNORECASE)


def parse_date(value: object, tz: tzinfo = UTC) -> tuple[datetime, str] | None:
    """Read a date from front matter or metadata: ``(aware UTC datetime, text)`` or None.

    Accepts ``date``/``datetime`` objects and strings in ISO 8601 (date, or date-time
    with or without a zone; ``T`` or a space; ``Z``, ``UTC``, ``GMT`` or an offset, also
    after a space) or RFC 2822.  Zone-less values are read in ``tz``.  ``text`` is the
    value in ISO 8601 at its written precision: ``2024-05-01``, ``2024-05-01T10:30:00``
    (no zone written) or ``2024-05-01T10:30:00+02:00``.
    """
    try:
        if isinstance(value, datetime):
            return _from_datetime(value, tz)
        if isinstance(value, date):
            text = value.isoformat()
            return datetime(value.year, value.month, value.day, tzinfo=tz).astimezone(UTC), text
        if isinstance(value, str):
            return _from_string(value.strip(), tz)
    except (ValueError, OverflowError):
        return None
    return None


def _from_datetime(value: datetime, tz: tzinfo) -> tuple[datetime, str]:
    text = value.isoformat(timespec="seconds")
    if value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC), text


def _from_string(text: str, tz: tzinfo) -> tuple[datetime, str] | None:
    if not text or len(text) > 64:
        return None
    if _DATE_ONLY.fullmatch(text):
        return parse_date(date.fromisoformat(text), tz)
    iso = text
    spaced = _SPACED_ZONE.fullmatch(text)
    if spaced and ("-" in spaced.group(1)[:10]):
        iso = spaced.group(1) + (spaced.group(2) or "+00:00")
    try:
        return _from_datetime(datetime.fromisoformat(iso), tz)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _from_datetime(parsed, tz)


# --- small text helpers -------------------------------------------------------------------

_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")


def language_code(value: str) -> str | None:
    """``en-GB`` / ``en_US`` / ``EN`` -> ``en``; None for anything that is not a tag."""
    found = _LANGUAGE.fullmatch(value.strip())
    return found.group(1).lower() if found else None


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` on one line, cut at a word boundary near ``limit`` with an ellipsis."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"
