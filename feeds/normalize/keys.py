"""Entry keys: an id made comparable across harmless changes (pure, no third-party import)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

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


def hash_key(*parts: str | None) -> str:
    blob = "\x1f".join(p or "" for p in parts)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


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
