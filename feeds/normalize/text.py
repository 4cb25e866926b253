"""Small text utilities shared by every reader: NFC, XML-legal characters, whitespace."""

from __future__ import annotations

import re
import unicodedata

# Characters XML 1.0 forbids (C0 controls but TAB/LF/CR, surrogates, U+FFFE/U+FFFF).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def xml_legal(text: str) -> str:
    """Drop characters that may not appear in an XML 1.0 document."""
    return _XML_ILLEGAL.sub("", text)


def clean_text(text: str) -> str:
    """NFC-normalize and drop XML-illegal characters (line structure kept)."""
    return xml_legal(unicodedata.normalize("NFC", text))


def one_line(text: str) -> str:
    """A title-like string: cleaned, runs of whitespace collapsed, trimmed."""
    return _SPACES.sub(" ", clean_text(text)).strip()
