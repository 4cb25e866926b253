"""Atom 1.0 (RFC 4287) through feedgen 1.0.0, with the gaps feedgen leaves patched in lxml.

Built like the RSS feed (see ``feeds.publish.rss``): a feedgen skeleton for the feed, one
element per entry from the pure ``atom_entry``, appended in the order given (newest first).

What feedgen cannot do, done on the lxml tree it builds:

* Entry links lose ``rel``/``type``/``length`` (upstream issue #135), so an enclosure would
  come out as a plain alternate link.  Enclosures are added here as
  ``<link rel="enclosure" href type length>`` and the alternate link gets an explicit ``rel``.
* ``<source>`` gets ``<id>`` (the origin feed's URL: the origin's own atom:id is not kept),
  its title (else its URL), ``<updated>`` (the entry's own: see ``atom_entry``), an
  alternate link (the origin's site) and a self link (the origin feed): id, title and
  updated are what the W3C Feed Validator wants of a source (MissingSourceElement).
* The WebSub ``<link rel="hub">`` and a per-entry ``xml:lang`` when it differs from the feed's.

No text construct is blank (the validator's NotBlank).  Every entry has a ``<content>``:
``display_html`` (the image/caption figure and ``content_html``, see
``feeds.publish.rss``) as ``type="html"``, else the plain ``body`` as ``type="text"``, else
the summary, else the title, so no entry depends on having an alternate link.  An
untitled article is titled by the start of its text (``atom_title``).

Identity and authorship:

* The feed ``<id>`` is the feed's own URL when ``base_url`` is set, else
  ``urn:uuid:`` + uuid5(NAMESPACE_URL, "feeds:channel:<name>"): stable for the channel name.
* RFC 4287 wants an author on the feed or on every entry: the feed gets ``channel.author``,
  or, when some entry has no author and the channel names none, the channel title as author.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.errors import PublishError
from feeds.model import Channel, Item
from feeds.publish import FORMATS, document_url, feed_url
from feeds.publish.render import FormatRenderer, atom_renderer, read_back_xml, verify_xml
from feeds.publish.rss import (
    FH_NS,
    GENERATOR,
    XmlLayout,
    archive_links,
    character_references,
    clean,
    display_html,
    email_address,
    feed_updated,
    media_type,
    split_frame,
    summary_html,
    whole_seconds,
)
from feeds.text import one_line

__all__ = [
    "ATOM_TAIL",
    "atom_authorless",
    "atom_entry",
    "atom_fragment",
    "atom_frame",
    "atom_title",
    "atom_wrapper",
    "feed_id",
    "render_atom",
]

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def feed_id(channel: Channel) -> str:
    """The feed's permanent ``<id>`` (see the module docstring)."""
    self_url = feed_url(channel, "atom")
    if self_url:
        return self_url
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"feeds:channel:{channel.name}"))


def atom_entry(item: Item, *, feed_language: str | None = None) -> Any:
    """One ``<entry>`` element (lxml, in no namespace, as feedgen builds it).

    A pure function of its arguments: a later cache can key on
    ``(item.id, item.updated, feed_language)``.
    """
    article = item.article
    entry = FeedEntry()
    entry.id(clean(item.id))
    entry.title(atom_title(item))
    entry.updated(whole_seconds(item.updated))
    entry.published(whole_seconds(item.published))
    authors = [_person(a.name, a.email, a.url) for a in article.authors if clean(a.name)]
    if authors:
        entry.author(authors)
    content = display_html(article)
    summary = summary_html(article)
    if content:
        entry.content(content, type="html")
    elif clean(article.body).strip():
        entry.content(clean(article.body), type="text")
    elif summary:  # never an empty <content>: the summary, else the title, is the text
        entry.content(summary, type="html")
    else:
        entry.content(atom_title(item), type="text")
    link = clean(article.link)
    if link:
        entry.link(href=link)
    if article.summary_bullets:
        entry.summary(summary, type="html")
    elif clean(article.summary).strip():
        entry.summary(clean(article.summary))
    tags = [clean(t) for t in article.tags if clean(t)]
    if tags:
        entry.category([{"term": t} for t in tags])
    elem = entry.atom_entry()

    links = elem.findall("link")
    for alternate in links:
        alternate.set("rel", "alternate")
    anchor = links[-1] if links else elem.find("content")
    for enc in article.enclosures:
        enc_link = etree.Element("link", rel="enclosure", href=clean(enc.url))
        enc_link.set("type", media_type(enc.type))
        if enc.length is not None:
            enc_link.set("length", str(enc.length))
        anchor.addnext(enc_link)
        anchor = enc_link
    if article.origin:
        origin = article.origin
        source = etree.SubElement(elem, "source")
        etree.SubElement(source, "id").text = clean(origin.feed_url)
        etree.SubElement(source, "title").text = (
            clean(origin.title).strip() or clean(origin.feed_url))
        # RFC 4287 wants the source feed's updated; the latest we know of it for this
        # entry is the entry's own (the feed changed when it did): a function of the item,
        # so the fragment is too, and a rebuild writes the same bytes
        etree.SubElement(source, "updated").text = whole_seconds(item.updated).isoformat()
        if origin.link:
            etree.SubElement(source, "link", rel="alternate", href=clean(origin.link))
        etree.SubElement(source, "link", rel="self", href=clean(origin.feed_url))
    if article.language and article.language != feed_language:
        elem.set(XML_LANG, clean(article.language))
    return elem


def atom_title(item: Item) -> str:
    """The entry's ``<title>``: RFC 4287 requires one, and a blank one is a warning of the
    W3C Feed Validator.  An untitled article is titled by the start of its text (summary,
    else body), else by its link, else by its id."""
    article = item.article
    title = clean(article.title)
    if title.strip():
        return title
    text = one_line(clean(article.summary) or clean(" ".join(article.summary_bullets))
                    or clean(article.body))
    if len(text) > _UNTITLED_CHARS:
        cut = text[:_UNTITLED_CHARS].rsplit(" ", 1)[0] or text[:_UNTITLED_CHARS]
        text = cut.rstrip(" ,;:.-") + "\u2026"
    return text or clean(article.link).strip() or clean(item.id)


_UNTITLED_CHARS = 80


def render_atom(channel: Channel, items: Sequence[Item]) -> bytes:
    """The Atom 1.0 document for ``channel`` with ``items`` in the order given."""
    language = clean(channel.language) or None
    head, tail = atom_frame(channel, updated=feed_updated(items),
                            authorless=any(atom_authorless(item) for item in items))
    layout = XmlLayout(atom_wrapper())
    try:
        entries = [atom_fragment(layout, item, feed_language=language) for item in items]
    except ValueError as exc:  # feedgen's "required fields", lxml's "not XML compatible"
        raise PublishError(f"cannot render Atom for feed {channel.name!r}: {exc}") from exc
    return head + b"".join(entries) + tail


def atom_authorless(item: Item) -> bool:
    """Whether the entry names no author (then the feed must name one: RFC 4287)."""
    return not any(clean(a.name) for a in item.article.authors)


def atom_frame(channel: Channel, *, updated: datetime, authorless: bool) -> tuple[bytes, bytes]:
    """(head, tail) of the Atom document, cut where the entries go.

    ``updated``: the newest entry's; ``authorless``: some entry names no author.
    """
    try:
        root = _atom_skeleton(channel, updated=updated, authorless=authorless)
    except ValueError as exc:
        raise PublishError(f"cannot render Atom for feed {channel.name!r}: {exc}") from exc
    head, tail = split_frame(root, ATOM_TAIL)
    return character_references(head, _TEXT), tail


def atom_fragment(layout: XmlLayout, item: Item, *, feed_language: str | None) -> bytes:
    """The bytes of ``item``'s ``<entry>`` inside the document laid out by ``layout``."""
    return character_references(
        layout.fragment(atom_entry(item, feed_language=feed_language)), _TEXT)


# Text constructs of type text: "&" and "<" as &#x26; and &#x3C; (as in RSS), so that an
# "&amp;" in the text itself is not taken for an entity left in it (the W3C Feed
# Validator's ContainsUndeclaredHTML).
_TEXT = re.compile(rb'(<(title|subtitle|summary|content|rights)(?: type="text")?>)'
                   rb"([^<&]*&[^<]*)(</\2>)")


def atom_wrapper() -> Any:
    """An empty ``<feed>`` (entries are in no namespace, as feedgen builds them)."""
    return etree.Element("feed")


ATOM_TAIL = b"</feed>\n"


def _atom_skeleton(channel: Channel, *, updated: datetime, authorless: bool) -> Any:
    fg = FeedGenerator()
    fg.id(clean(feed_id(channel)))
    fg.title(clean(channel.title) or clean(channel.name))
    fg.updated(updated)
    author = channel.author
    if author and clean(author.name):
        fg.author(_person(author.name, author.email, author.url))
    elif authorless:
        fg.author({"name": clean(channel.title) or clean(channel.name)})
    self_url = document_url(channel, "atom")
    if self_url:
        fg.link(href=clean(self_url), rel="self", type=FORMATS["atom"].media_type)
    for rel, href in archive_links(channel, "atom"):
        fg.link(href=clean(href), rel=rel, type=FORMATS["atom"].media_type)
    if channel.hub:
        fg.link(href=clean(channel.hub), rel="hub")
    if channel.home_url:
        fg.link(href=clean(channel.home_url), rel="alternate", type="text/html")
    if channel.description:
        fg.subtitle(clean(channel.description))
    if channel.language:
        fg.language(clean(channel.language))
    fg.generator(GENERATOR)
    # _create_atom is what atom_str() serializes; we need the tree to append entries to.
    root, _doc = fg._create_atom()
    if channel.archive is not None and channel.archive.page is not None:
        etree.SubElement(root, f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS})
    return root


def _person(name: str, email: str | None, url: str | None) -> dict[str, str]:
    person = {"name": clean(name)}
    address = email_address(email)
    if address:
        person["email"] = address
    if url:
        person["uri"] = clean(url)
    return person


# --------------------------------------------------------------------------- the table's hooks
# (``feeds.publish.FORMATS`` names this module for the 'atom' format)


def renderer(channel: Channel) -> FormatRenderer:
    return atom_renderer(channel)


def verify(data: bytes, items: Sequence[Item]) -> None:
    verify_xml("atom", data, items)


def read_back(data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    return read_back_xml("atom", data)
