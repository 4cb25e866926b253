"""RSS 2.0 through feedgen 1.0.0, plus the helpers the RSS and Atom writers share.

Output is byte-deterministic: every date comes from the items (never the clock), the
generator carries no version, and the XML is serialized by lxml with a fixed layout.

How one feed is built::

    feedgen FeedGenerator (channel only) ──► lxml tree ◄── append ── rss_item(item) per item
                                                 │
                                  post-process (hub link) ──► bytes

``rss_item`` is a pure function of the item: a later cache of per-entry fragments can key
on ``(item.id, item.updated)``.  Entries are appended in the order given (newest first),
which sidesteps ``FeedGenerator.add_entry()``'s default of *prepending*.

Choices worth knowing:

* The channel ``<link>`` is ``home_url``, else ``base_url``, else the relative ``../``
  (the output directory's index page, seen from ``<name>/rss.xml``): RSS requires one.
* ``<description>`` of the channel falls back to its title (RSS requires one).
* An item's ``<description>`` is its summary as HTML (bullets as ``<ul>``), or, without a
  summary, its content; ``<content:encoded>`` carries the full content next to a summary.
  Content is ``display_html`` (image/caption figure + ``content_html``), else the plain
  ``body`` HTML-escaped.
* ``<guid isPermaLink="true">`` only when the id *is* the article's link.
* Authors: ``<author>`` (``address (Name)``) for a single author with an e-mail address,
  else ``<dc:creator>`` for every name: never both, which say the same (the W3C Feed
  Validator's DuplicateItemSemantics), and never two ``<author>``.
* No empty ``<title/>``: an untitled item has a ``<description>`` (RSS wants one of them).
* ``&`` and ``<`` in plain-text elements (titles, channel description, category, author,
  source) are written as ``&#x26;`` and ``&#x3C;``, as the RSS profile asks.
* Only the first enclosure is written: RSS readers disagree about several per item.
* ``<source url>`` names the origin feed; its text is the origin title, else its URL.
* Dates are truncated to whole seconds in every format, so they round-trip exactly.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.errors import PublishError
from feeds.model import Article, Channel, Item
from feeds.publish import FORMATS, archive_href, document_url
from feeds.publish.render import FormatRenderer, read_back_xml, rss_renderer, verify_xml
from feeds.text import xml_legal

__all__ = [
    "EMPTY_FEED_DATE",
    "FH_NS",
    "GENERATOR",
    "XmlLayout",
    "archive_links",
    "character_references",
    "clean",
    "display_html",
    "email_address",
    "feed_published",
    "feed_updated",
    "media_type",
    "render_rss",
    "rss_fragment",
    "rss_frame",
    "rss_item",
    "rss_wrapper",
    "serialize",
    "split_frame",
    "summary_html",
    "whole_seconds",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
# The generator name written to RSS and Atom: fixed, without a version, so an upgrade of
# this program does not rewrite every feed.
GENERATOR = "feeds"
# The date an empty feed reports for ``lastBuildDate`` / ``updated``: fixed so that an empty
# feed is as deterministic as any other.  It is the Unix epoch; readers treat it as "old".
EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=UTC)
# A fallback channel link when neither ``home_url`` nor ``base_url`` is configured: the
# output directory (its index.html), relative to ``<name>/rss.xml``.
RELATIVE_HOME = "../"


@functools.lru_cache(maxsize=4096)
def clean(text: str | None) -> str:
    """Text that lxml accepts: characters XML 1.0 forbids are dropped, None becomes ''.

    Kept for the last few thousand texts: a chunk of items is rendered in every format in
    turn, and each format cleans the same (interned by the item, so hashed once) texts;
    scanning the bodies once instead of three times was ~10% of rendering."""
    return xml_legal(text) if text else ""


def whole_seconds(value: datetime) -> datetime:
    """``value`` in UTC without microseconds: the precision every format round-trips."""
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime: {value!r}")
    return value.astimezone(UTC).replace(microsecond=0)


def feed_updated(items: Sequence[Item]) -> datetime:
    """The newest ``item.updated``, or ``EMPTY_FEED_DATE`` for an empty feed."""
    if not items:
        return EMPTY_FEED_DATE
    return whole_seconds(max(item.updated for item in items))


def feed_published(items: Sequence[Item]) -> datetime:
    """The newest ``item.published``, or ``EMPTY_FEED_DATE`` for an empty feed."""
    if not items:
        return EMPTY_FEED_DATE
    return whole_seconds(max(item.published for item in items))


def summary_html(article: Article) -> str | None:
    """The summary as an HTML fragment: bullets as a ``<ul>`` list, else the escaped text."""
    if article.summary_bullets:
        lis = "".join(
            f"<li>{html.escape(clean(b), quote=False)}</li>" for b in article.summary_bullets
        )
        return f"<ul>{lis}</ul>"
    if article.summary:
        return html.escape(clean(article.summary), quote=False)
    return None


def display_html(article: Article) -> str:
    """The HTML a reader shows: the image with its caption and credit, then the content.

    The caption block is a ``<figure>``: ``<img>`` when there is an image, ``<figcaption>``
    with the caption, plus ``(credit)`` unless the caption already ends with it.
    Empty when the article has neither ``content_html`` nor an image or caption.
    Every format shows it, so the last few are kept (an article is frozen, so hashable;
    one built with a list somewhere is not, and is simply not kept).
    """
    try:
        return _display_html_kept(article)
    except TypeError:  # unhashable
        return _display_html(article)


def _display_html(article: Article) -> str:
    image, caption, credit = clean(article.image), clean(article.caption), clean(article.credit)
    figure = ""
    if image or caption or credit:
        if credit and caption.rstrip().endswith(f"({credit})"):
            credit = ""
        text = " ".join(p for p in (caption, f"({credit})" if credit else "") if p)
        img = f'<img src="{html.escape(image)}" alt="">' if image else ""
        cap = f"<figcaption>{html.escape(text, quote=False)}</figcaption>" if text else ""
        figure = f"<figure>{img}{cap}</figure>"
    return figure + clean(article.content_html)


_display_html_kept = functools.lru_cache(maxsize=64)(_display_html)


_ADDRESS = re.compile(r"[A-Za-z0-9_\-+.']+@([A-Za-z0-9\-]+\.)+[A-Za-z0-9][-A-Za-z0-9]*")
_MEDIA_TYPE = re.compile(r'[^\s()<>,;:\\"/\[\]?=]+/[^\s()<>,;:\\"/\[\]?=]+')


def email_address(text: str | None) -> str | None:
    """``text`` when it is an e-mail address (an addr-spec), else None: what a feed gives
    as an author's e-mail is not always one, and RSS and Atom want one or nothing."""
    address = clean(text).strip()
    return address if _ADDRESS.fullmatch(address) else None


def media_type(text: str | None) -> str:
    """``text`` when it is a media type (``type/subtype``), else the generic
    ``application/octet-stream``: an enclosure's type is required and must be one."""
    value = clean(text).strip()
    return value if _MEDIA_TYPE.fullmatch(value) else "application/octet-stream"


def rss_item(item: Item) -> Any:
    """One ``<item>`` element (an lxml element): a pure function of ``item``."""
    article = item.article
    entry = FeedEntry()
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    title = clean(article.title)
    if title.strip():  # an empty <title/> is "blank": the item has a description instead
        entry.title(title)
    link = clean(article.link)
    if link:
        entry.link(href=link, rel="alternate")
    entry.guid(clean(item.id), permalink=bool(link) and item.id == article.link)
    summary = summary_html(article)
    content = display_html(article) or html.escape(clean(article.body), quote=False)
    if summary:
        entry.summary(summary)
    if content:
        entry.content(content, type="html")
    if not (title.strip() or summary or content):
        entry.content("")  # RSS needs a title or a description: an empty <description>
    authors = [a for a in article.authors if clean(a.name)]
    address = email_address(authors[0].email) if len(authors) == 1 else None
    if address:  # <author> is one e-mail address with the name: one author with an address
        entry.author({"name": clean(authors[0].name), "email": address})
    elif authors:  # no address, or several authors: each name as <dc:creator>
        entry.dc.dc_creator([clean(a.name) for a in authors])
    tags = [clean(t) for t in article.tags if clean(t)]
    if tags:
        entry.category([{"term": t} for t in tags])
    if article.enclosures:
        first = article.enclosures[0]
        entry.enclosure(clean(first.url), first.length or 0, media_type(first.type))
    entry.published(whole_seconds(item.published))
    if article.origin:
        origin = article.origin
        entry.source(
            url=clean(origin.feed_url), title=clean(origin.title) or clean(origin.feed_url)
        )
    return entry.rss_entry()


def render_rss(channel: Channel, items: Sequence[Item]) -> bytes:
    """The RSS 2.0 document for ``channel`` with ``items`` in the order given."""
    head, tail = rss_frame(channel, updated=feed_updated(items),
                           published=feed_published(items) if items else None)
    layout = XmlLayout(rss_wrapper())
    try:
        entries = [rss_fragment(layout, item) for item in items]
    except ValueError as exc:  # feedgen's "required fields", lxml's "not XML compatible"
        raise PublishError(f"cannot render RSS for feed {channel.name!r}: {exc}") from exc
    return head + b"".join(entries) + tail


def rss_frame(channel: Channel, *, updated: datetime,
              published: datetime | None) -> tuple[bytes, bytes]:
    """(head, tail) of the RSS document: the channel without items, cut where they go.

    ``updated``/``published``: the newest item dates (``lastBuildDate``, ``pubDate``;
    no ``pubDate`` when None, i.e. an empty feed).
    """
    try:
        root = _rss_skeleton(channel, updated=updated, published=published)
    except ValueError as exc:
        raise PublishError(f"cannot render RSS for feed {channel.name!r}: {exc}") from exc
    head, tail = split_frame(root, RSS_TAIL)
    return character_references(head, _CHANNEL_TEXT), tail


def rss_fragment(layout: XmlLayout, item: Item) -> bytes:
    """The bytes of ``item``'s ``<item>`` inside the document laid out by ``layout``."""
    return character_references(layout.fragment(rss_item(item)), _ITEM_TEXT)


# The plain-text elements of RSS (no HTML in them), of the channel and of an item.  The
# RSS profile (and the W3C Feed Validator's "CharacterData" warning) wants "&" and "<" in
# them written as the character references &#x26; and &#x3C;, which readers cannot take
# for markup; lxml writes &amp; and &lt;, the same characters to an XML parser.  (The
# patterns match only a text holding "&": the others are left as they are without a call.)
_CHANNEL_TEXT = re.compile(rb"(<(title|description)>)([^<&]*&[^<]*)(</\2>)")
_ITEM_TEXT = re.compile(rb"(<(title|category|author|dc:creator|source)(?: url=\"[^\"]*\")?>)"
                        rb"([^<&]*&[^<]*)(</\2>)")


def character_references(data: bytes, elements: re.Pattern[bytes]) -> bytes:
    """``data`` with ``&amp;`` and ``&lt;`` in the text of ``elements`` written as
    ``&#x26;`` and ``&#x3C;``."""

    def refs(match: re.Match[bytes]) -> bytes:
        text = match[3].replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
        return match[1] + text + match[4]

    return elements.sub(refs, data)


def rss_wrapper() -> Any:
    """An empty ``<rss><channel>`` with the namespaces of the real one: entries are
    serialized inside it, at the depth and under the declarations they have in the feed."""
    root = _rss_skeleton(Channel(name="x", title="x"), updated=EMPTY_FEED_DATE, published=None)
    wrapper = etree.Element(root.tag, nsmap=root.nsmap)
    return etree.SubElement(wrapper, "channel")


RSS_TAIL = b"  </channel>\n</rss>\n"


def serialize(root: Any) -> bytes:
    """The one XML layout of every feed: UTF-8, declaration, pretty-printed by lxml."""
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def split_frame(root: Any, tail: bytes) -> tuple[bytes, bytes]:
    """``root`` (without entries) serialized and cut in two where entries are appended."""
    data = serialize(root)
    if not data.endswith(tail):  # pragma: no cover - a change in lxml's layout
        raise PublishError(f"unexpected XML layout: ends with {data[-40:]!r}")
    return data[: len(data) - len(tail)], tail


class XmlLayout:
    """Serializes single entries exactly as they appear inside the whole document.

    lxml's pretty printer lays out an element by its depth and its own content only, so
    an entry serialized alone inside ``parent`` (an empty copy of the document's outer
    elements, same namespace declarations) gives the very bytes it has in the full
    document: concatenating ``head``, the entries and ``tail`` is the document.
    """

    def __init__(self, parent: Any) -> None:
        self.parent = parent
        root = parent.getroottree().getroot()
        probe = etree.SubElement(parent, "x")
        data = serialize(root)
        parent.remove(probe)
        start = data.rindex(b"\n", 0, data.index(b"<x/>")) + 1
        self.head_len = start
        self.head = data[:start]
        self.tail = data[data.index(b"<x/>") + len(b"<x/>\n"):]

    def fragment(self, elem: Any) -> bytes:
        """The bytes of ``elem`` as a child of the parent, with indentation and newline."""
        self.parent.append(elem)
        try:
            data = serialize(self.parent.getroottree().getroot())
        finally:
            self.parent.remove(elem)
        if not (data.startswith(self.head) and data.endswith(self.tail)):  # pragma: no cover
            raise PublishError("unexpected XML layout of an entry")
        return data[self.head_len : len(data) - len(self.tail)]


def _rss_skeleton(channel: Channel, *, updated: datetime, published: datetime | None) -> Any:
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.title(clean(channel.title))
    fg.description(clean(channel.description) or clean(channel.title))
    self_url = document_url(channel, "rss")
    if self_url:
        fg.link(href=clean(self_url), rel="self", type=FORMATS["rss"].media_type)
    # feedgen takes the *last* link for the RSS <link>: the site's home comes last.
    fg.link(href=clean(channel.home_url or channel.base_url) or RELATIVE_HOME, rel="alternate")
    if channel.language:
        fg.language(clean(channel.language))
    if channel.author and channel.author.email:
        fg.managingEditor(f"{clean(channel.author.email)} ({clean(channel.author.name)})")
    fg.generator(GENERATOR)
    fg.lastBuildDate(updated)
    if published is not None:
        fg.pubDate(published)
    # _create_rss is what rss_str() serializes; we need the tree to append entries to.
    root, _doc = fg._create_rss()
    if channel.hub:
        _add_hub(root[0], clean(channel.hub))
    if channel.archive:
        _add_archive(root[0], channel, "rss")
    return root


def _add_hub(chan: Any, hub: str) -> None:
    """WebSub: ``<atom:link rel="hub">`` right after the self link (or the description)."""
    link = etree.Element(f"{{{ATOM_NS}}}link", href=hub, rel="hub")
    anchor = chan.find(f"{{{ATOM_NS}}}link")
    if anchor is None:
        anchor = chan.find("description")
    anchor.addnext(link)


#: RFC 5005's namespace: ``<fh:archive/>`` marks an archive document
FH_NS = "http://purl.org/syndication/history/1.0"


def archive_links(channel: Channel, fmt: str) -> list[tuple[str, str]]:
    """(rel, href) of an archived feed's document (RFC 5005 section 4): the subscription
    document links its newest archive page (``prev-archive``); a page links the
    subscription document (``current``) and its older and newer pages."""
    links = channel.archive
    if links is None:
        return []
    out = [("current", archive_href(channel, fmt, None))] if links.page is not None else []
    for rel, page in (("prev-archive", links.prev), ("next-archive", links.next)):
        if page is not None:
            out.append((rel, archive_href(channel, fmt, page)))
    return out


def _add_archive(chan: Any, channel: Channel, fmt: str) -> None:
    """The archive links as ``<atom:link>`` (RFC 5005 appendix B) after the channel's
    other atom links (or its description), and ``<fh:archive/>`` on an archive page."""
    anchor = chan.findall(f"{{{ATOM_NS}}}link")
    after = anchor[-1] if anchor else chan.find("description")
    for rel, href in archive_links(channel, fmt):
        link = etree.Element(f"{{{ATOM_NS}}}link", href=clean(href), rel=rel,
                             type=FORMATS[fmt].media_type)
        after.addnext(link)
        after = link
    if channel.archive is not None and channel.archive.page is not None:
        after.addnext(etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS}))


# --------------------------------------------------------------------------- the table's hooks
# (``feeds.publish.FORMATS`` names this module for the 'rss' format)


def renderer(channel: Channel) -> FormatRenderer:
    return rss_renderer(channel)


def verify(data: bytes, items: Sequence[Item]) -> None:
    verify_xml("rss", data, items)


def read_back(data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    return read_back_xml("rss", data)
