"""Render a feed in one format, piece by piece, and verify the pieces by reading them back.

A feed document is ``head + sep.join(entries) + tail``: the channel (head and tail, a
function of the channel and a :class:`Summary` of the items) around one fragment per
item.  A fragment is a pure function of its item (and, for Atom, of the feed's language),
so :func:`fragment_key` names it, and a fragment rendered by an earlier build can be
reused byte for byte (see ``feeds.pipeline.publish_feed``).  ``render`` is the whole
document in memory; the pipeline streams the same bytes to disk.

``verify`` parses XML with lxml (strict: no recovery, no entities resolved, no network)
and JSON with ``json``, then checks the document kind (RSS 2.0 / Atom 1.0 / JSON Feed
1.1), the item count and, per item and in order, the id, the title (trimmed) and the dates
(whole seconds, UTC).  RSS has no per-item "updated", so only ``pubDate`` is checked
there.  feedparser's reading of the same output is covered by the tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from feeds.errors import PublishError
from feeds.model import Channel, Item
from feeds.text import xml_legal

__all__ = [
    "RENDER_VERSION",
    "FormatRenderer",
    "Summary",
    "atom_renderer",
    "fragment_context",
    "fragment_key",
    "json_renderer",
    "read_back",
    "read_back_json",
    "read_back_xml",
    "render",
    "renderer",
    "rss_renderer",
    "verify",
    "verify_json",
    "verify_xml",
]

#: bump when a fragment's bytes change for the same item (a layout change): cached
#: fragments of an older layout are then never reused
RENDER_VERSION = "3"  # 2: RSS text as &#x26; &#x3C;, Atom never blank, <source><updated>;
#                         3: JSON items carry "_feeds": {"fingerprint"}

ATOM_NS = "{http://www.w3.org/2005/Atom}"
_KINDS = {"rss": "rss20", "atom": "atom10"}


@dataclass(frozen=True, slots=True)
class Summary:
    """What the channel part of a document says about its items."""

    count: int
    updated: datetime | None  # newest item.updated (None: no items)
    published: datetime | None  # newest item.published
    authorless: bool  # some item names no author (Atom then names the channel)

    @classmethod
    def of(cls, items: Sequence[Item], authorless: bool) -> Summary:
        if not items:
            return cls(0, None, None, False)
        return cls(len(items), max(i.updated for i in items), max(i.published for i in items),
                   authorless)


class FormatRenderer:
    """Head, tail and entry fragments of one channel in one format."""

    def __init__(self, fmt: str, channel: Channel,
                 entry: Callable[[Item], bytes], sep: bytes,
                 frame: Callable[[Summary], tuple[bytes, bytes]],
                 authorless: Callable[[Item], bool]) -> None:
        self.fmt = fmt
        self.channel = channel
        self.sep = sep
        self._entry = entry
        self._frame = frame
        self.authorless = authorless

    def entry(self, item: Item) -> bytes:
        try:
            return self._entry(item)
        except ValueError as exc:  # feedgen's "required fields", lxml's "not XML compatible"
            raise PublishError(
                f"cannot render {self.fmt} for feed {self.channel.name!r}: {exc}") from exc

    def frame(self, summary: Summary) -> tuple[bytes, bytes]:
        return self._frame(summary)

    def document(self, items: Sequence[Item]) -> bytes:
        summary = Summary.of(items, any(self.authorless(i) for i in items))
        head, tail = self.frame(summary)
        return head + self.sep.join(self.entry(i) for i in items) + tail


def renderer(fmt: str, channel: Channel) -> FormatRenderer:
    """The renderer of ``channel`` in ``fmt`` (a name of ``feeds.publish.FORMATS``)."""
    from feeds.publish import output_format

    return output_format(fmt).implementation().renderer(channel)


def rss_renderer(channel: Channel) -> FormatRenderer:
    from feeds.publish.rss import (
        EMPTY_FEED_DATE,
        XmlLayout,
        rss_fragment,
        rss_frame,
        rss_wrapper,
        whole_seconds,
    )

    rss_layout = XmlLayout(rss_wrapper())

    def rss_head(s: Summary) -> tuple[bytes, bytes]:
        return rss_frame(channel,
                         updated=whole_seconds(s.updated) if s.updated else EMPTY_FEED_DATE,
                         published=whole_seconds(s.published) if s.published else None)

    return FormatRenderer("rss", channel, lambda i: rss_fragment(rss_layout, i), b"",
                          rss_head, lambda i: False)


def atom_renderer(channel: Channel) -> FormatRenderer:
    from feeds.publish.atom import (
        atom_authorless,
        atom_fragment,
        atom_frame,
        atom_wrapper,
    )
    from feeds.publish.rss import EMPTY_FEED_DATE, XmlLayout, clean, whole_seconds

    atom_layout = XmlLayout(atom_wrapper())
    language = clean(channel.language) or None

    def atom_head(s: Summary) -> tuple[bytes, bytes]:
        return atom_frame(channel,
                          updated=whole_seconds(s.updated) if s.updated else EMPTY_FEED_DATE,
                          authorless=s.authorless)

    return FormatRenderer(
        "atom", channel, lambda i: atom_fragment(atom_layout, i, feed_language=language),
        b"", atom_head, atom_authorless)


def json_renderer(channel: Channel) -> FormatRenderer:
    from feeds.publish.jsonfeed import JSON_SEPARATOR, json_fragment, json_frame

    return FormatRenderer("json", channel, json_fragment, JSON_SEPARATOR,
                          lambda s: json_frame(channel, count=s.count), lambda i: False)


def fragment_context(fmt: str, channel: Channel) -> str:
    """What, besides the item, one fragment of ``channel`` in ``fmt`` depends on."""
    from feeds.publish import output_format
    from feeds.publish.rss import clean

    fragment_language = output_format(fmt).fragment_language
    language = (clean(channel.language) or "") if fragment_language else ""
    return f"{RENDER_VERSION}:{fmt}:{language}"


def fragment_key(item_id: str, content_hash: str, published: str, updated: str) -> str:
    """Names an item's fragments: every field a fragment shows is behind one of these
    (``content_hash`` covers what a reader sees; ``published`` may be a fallback date)."""
    blob = "\x1f".join((item_id, content_hash, published, updated)).encode()
    return hashlib.blake2b(blob, digest_size=12).hexdigest()


def render(fmt: str, channel: Channel, items: Sequence[Item]) -> bytes:
    """``items`` (newest first, already limited) as a ``fmt`` document: rss, atom or json."""
    return renderer(fmt, channel).document(items)


def verify(fmt: str, data: bytes, items: Sequence[Item]) -> None:
    """Raise ``PublishError`` unless ``data`` reads back as a feed of exactly ``items``."""
    from feeds.publish import output_format

    output_format(fmt).implementation().verify(data, items)


def read_back(fmt: str, data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    """What a published document says of its items, as ``verify`` reads it: the feed's
    ``updated`` date (JSON: None), and per item its id, trimmed title, ``published`` and
    (not RSS) ``updated`` dates as Unix seconds, and (JSON) the ``fingerprint`` of its
    ``_feeds`` extension object, if any.  ``PublishError`` when ``data`` is not a
    document of kind ``fmt``.  (``feeds recover`` reads the ids back with it.)"""
    from feeds.publish import output_format

    return output_format(fmt).implementation().read_back(data)


def verify_json(data: bytes, items: Sequence[Item]) -> None:
    """``verify`` for JSON Feed 1.1."""
    feed = _load_json(data)
    if _json_agrees(feed, items):
        return
    _verify_entries("json", _json_entries(feed), items)


def verify_xml(fmt: str, data: bytes, items: Sequence[Item]) -> None:
    """``verify`` for RSS 2.0 and Atom 1.0 (``fmt``)."""
    root = _parse_xml(fmt, data)
    if _xml_agrees(fmt, root, items):
        return
    _verify_entries(fmt, _xml_entries(root), items)


def _verify_entries(fmt: str, entries: list[dict[str, Any]], items: Sequence[Item]) -> None:
    """The exact reading, item by item: it decides, and names what is wrong."""
    if len(entries) != len(items):
        raise PublishError(f"{fmt}: {len(entries)} items read back, {len(items)} rendered")
    for index, (got, item) in enumerate(zip(entries, items, strict=True)):
        want = _expected(fmt, item)
        for key, value in want.items():
            if got.get(key) != value:
                raise PublishError(
                    f"{fmt}: item {index} ({item.id!r}): {key} reads back as "
                    f"{got.get(key)!r}, expected {value!r}"
                )


def read_back_json(data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    """``read_back`` for JSON Feed 1.1."""
    feed = _load_json(data)
    entries = _json_entries(feed)
    for entry, raw in zip(entries, feed["items"], strict=True):
        extension = raw.get("_feeds")
        value = extension.get("fingerprint") if isinstance(extension, dict) else None
        entry["fingerprint"] = value if isinstance(value, str) else None
    return None, entries


def read_back_xml(fmt: str, data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    """``read_back`` for RSS 2.0 and Atom 1.0 (``fmt``)."""
    root = _parse_xml(fmt, data)
    if fmt == "rss":
        channel = root.find("channel")
        updated = _rfc822(channel.findtext("lastBuildDate")) if channel is not None else None
    else:
        updated = _rfc3339(root.findtext(f"{ATOM_NS}updated"))
    return updated, _xml_entries(root)


# The quick agreement (``_xml_agrees``, ``_json_agrees``) reads each field of every item in
# one C call and compares text with text: the ids, the trimmed titles and the dates as the
# writers spell them.  It only ever says "agrees"; anything else (another spelling of the
# same date, a missing element, an empty title) goes to the exact reading above, which
# decides.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc822_text(value: datetime) -> str:
    """``value`` as feedgen writes ``pubDate`` (English names, whatever the locale)."""
    v = value.astimezone(UTC)
    return (f"{_DAYS[v.weekday()]}, {v.day:02d} {_MONTHS[v.month - 1]} {v.year:04d} "
            f"{v.hour:02d}:{v.minute:02d}:{v.second:02d} +0000")


def _rfc3339_text(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def _texts(fmt: str, items: Sequence[Item]
           ) -> tuple[list[str], list[str], list[str], list[str]] | None:
    """Ids, trimmed titles, published and updated dates as the ``fmt`` writer spells them;
    None when a title is empty (no text to compare: the exact reading decides)."""
    ids = [xml_legal(item.id) for item in items]
    titles = [_title(fmt, item) for item in items]
    if not all(titles):
        return None
    spell = _rfc822_text if fmt == "rss" else _rfc3339_text
    published = [spell(item.published) for item in items]
    updated = [] if fmt == "rss" else [spell(item.updated) for item in items]
    return ids, titles, published, updated


def _xml_agrees(fmt: str, root: Any, items: Sequence[Item]) -> bool:
    """Whether ``root`` (of kind ``fmt``) plainly holds ``items``: see ``_texts``."""
    want = _texts(fmt, items)
    if want is None:
        return False
    ids, titles, published, updated = want
    fields: tuple[tuple[str, list[str]], ...]
    if fmt == "rss":
        path, ns = "channel/item", None
        fields = (("guid", ids), ("title", titles), ("pubDate", published))
    else:
        path, ns = "a:entry", {"a": ATOM_NS[1:-1]}
        fields = (("a:id", ids), ("a:title", titles), ("a:published", published),
                  ("a:updated", updated))
    if int(root.xpath(f"count({path})", namespaces=ns)) != len(items):
        return False
    for name, expected in fields:
        # ``name[1]``: at most one per item, so one per item when there are as many
        found = root.xpath(f"{path}/{name}[1]", namespaces=ns)
        if len(found) != len(expected):
            return False
        texts = [element.text for element in found]
        if name.endswith("title"):
            texts = [(text or "").strip() for text in texts]
        if texts != expected:
            return False
    return True


def _json_agrees(feed: dict[str, Any], items: Sequence[Item]) -> bool:
    """Whether a JSON Feed object plainly holds ``items``: see ``_texts``."""
    want = _texts("json", items)
    entries = feed["items"]
    if want is None or len(entries) != len(items):
        return False
    ids, titles, published, updated = want
    return ([e.get("id") for e in entries] == ids
            and [t.strip() if isinstance(t := e.get("title"), str) else None
                 for e in entries] == titles
            and [e.get("date_published") for e in entries] == published
            and [e.get("date_modified") for e in entries] == updated)


def _expected(fmt: str, item: Item) -> dict[str, Any]:
    want: dict[str, Any] = {
        "id": xml_legal(item.id),
        "title": _title(fmt, item),
        "published": _seconds(item.published),
    }
    from feeds.publish import output_format

    if output_format(fmt).item_updated:
        want["updated"] = _seconds(item.updated)
    return want


def _title(fmt: str, item: Item) -> str:
    """The trimmed title ``item`` has in ``fmt``: Atom titles an untitled article."""
    if fmt == "atom":
        from feeds.publish.atom import atom_title

        return xml_legal(atom_title(item)).strip()
    return xml_legal(item.article.title).strip()


def _seconds(value: datetime) -> int:
    return int(value.astimezone(UTC).replace(microsecond=0).timestamp())


def _parse_xml(fmt: str, data: bytes) -> Any:
    """The document's root, checked to be of kind ``fmt``."""
    from lxml import etree

    # A parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                             load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise PublishError(f"{fmt}: not well-formed: {exc}") from exc
    kind = _kind(root)
    if kind != _KINDS[fmt]:
        raise PublishError(f"{fmt}: reads back as {kind!r}")
    return root


def _xml_entries(root: Any) -> list[dict[str, Any]]:
    """Per item of an RSS 2.0 or Atom 1.0 root: its id, trimmed title and dates."""
    if root.tag == "rss":
        channel = root.find("channel")
        return [
            {
                "id": item.findtext("guid"),
                "title": (item.findtext("title") or "").strip(),
                "published": _rfc822(item.findtext("pubDate")),
            }
            for item in (channel.iterchildren("item") if channel is not None else ())
        ]
    return [
        {
            "id": entry.findtext(f"{ATOM_NS}id"),
            "title": (entry.findtext(f"{ATOM_NS}title") or "").strip(),
            "published": _rfc3339(entry.findtext(f"{ATOM_NS}published")),
            "updated": _rfc3339(entry.findtext(f"{ATOM_NS}updated")),
        }
        for entry in root.iterchildren(f"{ATOM_NS}entry")
    ]


def _kind(root: Any) -> str:
    """The document kind, in feedparser's names ('rss20', 'atom10'), else its root tag."""
    tag = root.tag
    if tag == "rss":
        channels = root.findall("channel")
        if root.get("version") == "2.0" and len(channels) == 1:
            return "rss20"
        return f"rss {root.get('version')!r} with {len(channels)} channel(s)"
    if tag == f"{ATOM_NS}feed":
        return "atom10"
    return str(tag)


def _rfc822(value: str | None) -> int | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.utcoffset() is None:
        return None
    return int(parsed.timestamp())


def _load_json(data: bytes) -> dict[str, Any]:
    """The JSON Feed 1.1 object in ``data``, its ``items`` a list of objects."""
    try:
        feed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(f"json: not valid JSON: {exc}") from exc
    if not isinstance(feed, dict) or feed.get("version") != VERSION:
        raise PublishError("json: not a JSON Feed 1.1 document")
    items = feed.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PublishError("json: 'items' is not a list of objects")
    return feed


def _json_entries(feed: dict[str, Any]) -> list[dict[str, Any]]:
    """Per item of a JSON Feed object: its id, trimmed title and dates."""
    return [
        {
            "id": i.get("id"),
            "title": (i.get("title") or "").strip(),
            "published": _rfc3339(i.get("date_published")),
            "updated": _rfc3339(i.get("date_modified")),
        }
        for i in feed["items"]
    ]


VERSION = "https://jsonfeed.org/version/1.1"  # as in feeds.publish.jsonfeed (not imported)


def _rfc3339(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.utcoffset() is None:
        return None
    return int(parsed.timestamp())
