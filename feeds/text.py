"""Text helpers shared by the readers, the writers and recovery: NFC, XML-legal characters,
whitespace, one-line strings, absolute http(s) URLs (no stage of its own: every stage may
use it)."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

_D = TypeVar("_D")

# Characters XML 1.0 forbids (C0 controls but TAB/LF/CR, surrogates, U+FFFE/U+FFFF).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The C0 controls among them, as UTF-8 bytes: no other character's encoding holds these bytes.
_C0_ILLEGAL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def xml_legal(text: str) -> str:
    """Drop characters that may not appear in an XML 1.0 document."""
    # Text is nearly always legal: find that out with C loops (encode, translate, find)
    # rather than the regular expression, which is several times slower per character.
    try:
        data = text.encode("utf-8")  # lone surrogates do not encode
    except UnicodeEncodeError:
        return _XML_ILLEGAL.sub("", text)
    if len(data.translate(None, _C0_ILLEGAL)) == len(data) and (
        text.isascii() or ("\ufffe" not in text and "\uffff" not in text)
    ):
        return text
    return _XML_ILLEGAL.sub("", text)


def legal_fields(value: _D) -> _D:
    """``value`` (a frozen dataclass such as ``Article``), with every string in it, in its
    tuples and in the dataclasses it holds, made XML-legal; the same object when nothing
    had to change.  For values built from foreign data (a remote feed's entry)."""
    changes: dict[str, object] = {}
    for field in dataclasses.fields(value):  # type: ignore[arg-type]
        old = getattr(value, field.name)
        new = _legal(old)
        if new is not old:
            changes[field.name] = new
    return dataclasses.replace(value, **changes) if changes else value  # type: ignore[type-var]


def _legal(value: object) -> object:
    if isinstance(value, str):
        legal = xml_legal(value)
        return value if legal == value else legal
    if isinstance(value, tuple):
        parts = tuple(_legal(part) for part in value)
        return value if all(a is b for a, b in zip(parts, value, strict=True)) else parts
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return legal_fields(value)
    return value


def clean_text(text: str) -> str:
    """NFC-normalize and drop XML-illegal characters (line structure kept)."""
    return xml_legal(unicodedata.normalize("NFC", text))


# Invisible bidirectional formatting: LRM, RLM, ALM, the embeddings and overrides
# (LRE RLE PDF LRO RLO) and the isolates (LRI RLI FSI PDI).  Scraped right-to-left pages
# often start lines with them; they carry no content.
DIRECTION_MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_MARK = re.compile(f"[{DIRECTION_MARKS}]")
_EDGE = re.compile(f"[\\s{DIRECTION_MARKS}]*")


def drop_marks(text: str) -> str:
    """``text`` without direction marks."""
    if text.isascii() or _MARK.search(text) is None:  # both far faster than a substitution
        return text
    return _MARK.sub("", text)


def strip_marks(text: str) -> str:
    """``text`` with whitespace and direction marks trimmed from both ends."""
    text = text.strip()
    if text and (text[0] in DIRECTION_MARKS or text[-1] in DIRECTION_MARKS):
        lead = _EDGE.match(text)
        start = lead.end() if lead else 0
        end = len(text)  # a loop, not a "...$" pattern: that would retry every inner run
        while end > start and (text[end - 1] in DIRECTION_MARKS or text[end - 1].isspace()):
            end -= 1
        return text[start:end]
    return text


def one_line(text: str) -> str:
    """A title-like string: cleaned, runs of whitespace collapsed, trimmed."""
    return " ".join(clean_text(text).split())  # split() and re's \s both mean str.isspace()


_URL_JUNK = re.compile("[\t\n\r]")  # browsers drop these anywhere inside a URL
_URL_EDGES = re.compile("^[\x00-\x20]+|[\x00-\x20]+$")  # and trim C0 controls and spaces
_URL_CONTROL = re.compile("[\x00-\x1f\x7f]")


def absolutize(url: str, base_url: str | None) -> str | None:
    """Return ``url`` as an absolute http(s) URL, or None when that is not possible.

    Relative URLs are resolved against ``base_url`` (itself absolute http(s), else
    ignored).  Other schemes (``javascript:``, ``data:``, ``mailto:`` ...) give None.
    """
    candidate = _URL_EDGES.sub("", _URL_JUNK.sub("", url))
    if _URL_CONTROL.search(candidate):  # percent-encoded, as a browser does
        candidate = _URL_CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", candidate)
    candidate = xml_legal(candidate)  # lone surrogates, U+FFFE, U+FFFF
    if not candidate:
        return None
    candidate = _slashes(candidate)
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme:
        return _http_url(candidate)
    base = _http_url(base_url) if base_url else None
    if base is None:
        if candidate.startswith("//"):
            return _http_url("https:" + candidate)
        return None
    try:
        return _http_url(urljoin(base, candidate))
    except ValueError:
        return None


def _slashes(url: str) -> str:
    """Backslashes before the query mean ``/`` to a browser (``/\\evil.example``)."""
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    return url[:cut].replace("\\", "/") + url[cut:]


def _http_url(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((scheme, parts.netloc, quote(parts.path, safe=_PATH_SAFE),
                       quote(parts.query, safe=_QUERY_SAFE),
                       quote(parts.fragment, safe=_QUERY_SAFE)))


# Characters a URI may hold as they are (RFC 3986); anything else in the path, query or
# fragment (a space, "^", "[", a non-ASCII letter ...) is percent-encoded, so that every
# link we publish is a valid URI.  "%" stays: the URL is already percent-encoded.
_PATH_SAFE = "/;:@&=+$,!~*'()%"
_QUERY_SAFE = _PATH_SAFE + "?"


_URLISH = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_key(raw: str) -> str:
    """An entry id made comparable across harmless changes.

    URL-like ids lose their scheme, a default port, the case of the host and trailing
    slashes: ``http://Example.com/a/`` and ``https://example.com/a`` are both
    ``example.com/a``.  Other ids (``tag:``, ``urn:uuid:``) are only trimmed.
    """
    text = raw.strip()
    if not _URLISH.match(text):
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.netloc.rsplit('@', 1)[0]}@{host}"
    path = parts.path.rstrip("/")
    return urlunsplit(("", host, path, parts.query, parts.fragment)).lstrip("/")


_NOT_WORD = re.compile(r"[\W_]+")

#: joins the keys of one story in the store's ``story`` column (no key contains a newline:
#: titles are one line, and a link with one is never a URL)
STORY_SEP = "\n"


def story_keys_of(link: str | None, title: str, day: str) -> tuple[str, ...]:
    """What makes two items the same story: their link, their title and day.

    ``day`` is the publication day in UTC as ``YYYY-MM-DD`` (the first ten characters of
    a stored date).  The store keeps the result per article, so selecting a feed never
    computes it again (``feeds.select``).
    """
    keys: list[str] = []
    if link:
        keys.append("link:" + canonical_key(link).replace(STORY_SEP, " "))
    words = _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", title).casefold()).strip()
    if words:
        keys.append(f"title:{day}:{words}")
    return tuple(keys)
