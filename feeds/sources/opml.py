"""An OPML subscription list -> feed sources.  Reads one local file; no network.

Every ``<outline>`` with an ``xmlUrl`` (at any depth: folders nest) becomes a
:class:`~feeds.sources.remote.FeedSpec` named ``<opml source>.<slug>``, the slug made
from the feed URL's host and path, so that retitling an outline does not rename the
source (a source's name is part of every stored article's identity).  Repeated URLs
count once.  lxml parses with entity resolution, DTD loading and network access off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from feeds.errors import SourceError
from feeds.sources.remote import FeedSpec
from feeds.text import one_line

__all__ = ["MAX_OPML_BYTES", "OpmlOutline", "feed_specs", "opml_specs", "read_opml"]

MAX_OPML_BYTES = 10 * 2**20
_NAME_MAX = 64
_SLUG_JUNK = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    url: str
    title: str | None = None
    html_url: str | None = None
    categories: tuple[str, ...] = field(default=())  # the folders it sits in


def read_opml(path: Path) -> list[OpmlOutline]:
    """The feed outlines of an OPML file, in document order, without repeated URLs.

    Raises SourceError when the file cannot be read or is not OPML.
    """
    try:
        size = path.stat().st_size
        if size > MAX_OPML_BYTES:
            raise SourceError(f"{path}: OPML file larger than {MAX_OPML_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read OPML file: {exc.strerror or exc}") from exc
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{path}: not well-formed XML: {exc}") from exc
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise SourceError(f"{path}: not an OPML file (root element is not <opml>)")
    out: list[OpmlOutline] = []
    seen: set[str] = set()
    _walk(root, (), out, seen)
    return out


def _walk(
    element: etree._Element, folders: tuple[str, ...], out: list[OpmlOutline], seen: set[str]
) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname.lower()
        if name in ("head",):
            continue
        if name not in ("body", "outline"):
            continue
        attributes = {k.lower(): v for k, v in child.attrib.items() if isinstance(k, str)}
        url = str(attributes.get("xmlurl") or "").strip()
        title = one_line(str(attributes.get("title") or attributes.get("text") or "")) or None
        scheme = urlsplit(url).scheme.lower() if url else ""
        if url and scheme in ("http", "https") and url not in seen:
            seen.add(url)
            html_url = str(attributes.get("htmlurl") or "").strip() or None
            out.append(OpmlOutline(url=url, title=title, html_url=html_url, categories=folders))
        inner = folders if name == "body" or url or not title else (*folders, title)
        _walk(child, inner, out, seen)


def opml_specs(
    path: Path,
    *,
    source: str,
    every: timedelta | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = None,
) -> list[FeedSpec]:
    """One FeedSpec per outline; ``every``, ``headers`` and ``user_agent`` apply to all."""
    specs: list[FeedSpec] = []
    used: set[str] = set()
    for outline in read_opml(path):
        name = _unique(f"{source}.{_slug(outline.url)}", used)
        used.add(name)
        specs.append(
            FeedSpec(
                name=name,
                url=outline.url,
                every=every,
                headers=dict(headers or {}),
                user_agent=user_agent,
            )
        )
    return specs


def _slug(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "feed").lower().removeprefix("www.")
    path = parts.path.strip("/")
    for suffix in ("/feed", "/rss", "/atom", ".xml", ".rss", ".atom", ".json"):
        if path.endswith(suffix) and path != suffix.strip("/"):
            path = path[: -len(suffix)]
    raw = f"{host}-{path}" if path and path not in ("feed", "rss", "atom") else host
    if parts.query:
        raw += "-" + parts.query
    return _SLUG_JUNK.sub("-", raw).strip("-.") or "feed"


def _unique(name: str, used: set[str]) -> str:
    name = name[:_NAME_MAX].rstrip("-.")
    if name not in used:
        return name
    for n in range(2, 10_000):
        candidate = f"{name[: _NAME_MAX - len(str(n)) - 1]}-{n}"
        if candidate not in used:
            return candidate
    raise SourceError(f"too many feeds named like {name!r}")  # pragma: no cover


def feed_specs(name: str, *, url: str | None, path: Path | None, every: timedelta | None,
               headers: Mapping[str, str], user_agent: str | None) -> list[FeedSpec]:
    """``feeds.sources.SOURCES``' entry point for the ``opml`` kind: every outline of the
    file at ``path``."""
    assert path is not None  # required by the table: config validation makes sure
    return opml_specs(path, source=name, every=every, headers=headers, user_agent=user_agent)
