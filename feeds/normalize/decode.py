"""Bytes of a text file -> normalized ``str``, or ``ArticleError`` when the bytes are not text.

The order of the decisions matters::

    empty?  ──► UTF-32 / UTF-16 BOM (strict)  ──► UTF-8 BOM (strict)
            ──► NUL byte? binary  ──► strict UTF-8  ──► windows-1252 (strict)
            ──► too many control characters? binary
            ──► CRLF/CR -> LF, NFC, XML-illegal characters dropped

A file that mixes encodings (UTF-8 text with a few stray windows-1252 bytes, as happens when
two files are pasted together) keeps its UTF-8 characters: only the bytes that are not UTF-8
are read as windows-1252.  Latin-1 is never used: it would turn byte 0x85 into U+0085 (NEL),
a line break for ``str.splitlines()``; windows-1252 reads it as "…".

Line structure: the result contains LF only.  Split it on ``"\\n"``, never with
``str.splitlines()``, which also breaks on U+0085, U+2028, U+001C ...
"""

from __future__ import annotations

import codecs
import re

from feeds.errors import ArticleError
from feeds.text import clean_text

__all__ = ["decode_text"]

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
)

# C0 controls other than TAB, LF, VT, FF, CR; DEL; C1 controls.  More than 1 % of them: binary.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x20), 0x7F])  # those but C1
_MAX_CONTROL_RATIO = 0.01
_NEWLINES = re.compile("\r\n?")

_FALLBACK = "feeds-windows-1252"


def _windows_1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read the bytes that are not UTF-8 as windows-1252 (strictly)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    try:
        return bytes(chunk).decode("cp1252"), error.end
    except UnicodeDecodeError:
        raise error from None


codecs.register_error(_FALLBACK, _windows_1252_fallback)

# A multi-byte UTF-8 sequence: its presence in a file that is not valid UTF-8 means "mixed".
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decode_unmarked(data: bytes) -> str:
    if b"\x00" in data:
        raise ArticleError("binary data (NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        if _UTF8_MULTIBYTE.search(data):
            return data.decode("utf-8", errors=_FALLBACK)
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ArticleError("not text: undecodable as UTF-8 or windows-1252") from None


def decode_text(data: bytes) -> str:
    """Decode the bytes of a text file and normalize them (LF, NFC, XML-legal, no BOM).

    Raises ``ArticleError`` with a short reason for empty files and for anything that is
    not text.  Whitespace-only text is returned as is: whether that is an article is the
    reader's decision.
    """
    if not data:
        raise ArticleError("empty file")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise ArticleError(f"not text: invalid {name} after its byte-order mark") from None
            break
    else:
        text = _decode_unmarked(data)
    text = text.removeprefix("\ufeff")
    if text and _count_controls(text) > _MAX_CONTROL_RATIO * len(text):
        raise ArticleError("binary data (control characters)")
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    return clean_text(text)


def _count_controls(text: str) -> int:
    """How many characters of ``text`` ``_CONTROL`` matches.

    Counted in UTF-8 with ``bytes.translate`` (a C loop, several times faster than the
    regular expression) when no C1 control can be there: those are the only ones that
    are not one byte of their own, and they all begin with the byte C2.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: count with the regular expression
        data = None
    if data is None or b"\xc2" in data:
        return len(text) - len(_CONTROL.sub("", text))
    return count_ascii_controls(data)


def count_ascii_controls(data: bytes) -> int:
    """How many bytes of ``data`` are C0 controls other than TAB, LF, VT, FF, CR, or DEL.

    They are ASCII, so the count is the same for the text in UTF-8 (no byte of a longer
    sequence is below 0x80) and in any ASCII-compatible encoding; ``bytes.translate`` is
    a C loop.  The readers' "more than 1 % control characters: binary" rule."""
    return len(data) - len(data.translate(None, _CONTROL_BYTES))
