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
* Authors: ``<dc:creator>`` for every name; ``<author>`` only for those with an e-mail.
* Only the first enclosure is written: RSS readers disagree about several per item.
* ``<source url>`` names the origin feed; its text is the origin title, else its URL.
* Dates are truncated to whole seconds in every format, so they round-trip exactly.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.errors import PublishError
from feeds.model import MEDIA_TYPES, Article, Channel, Item
from feeds.normalize.text import xml_legal

__all__ = [
    "EMPTY_FEED_DATE",
    "GENERATOR",
    "clean",
    "display_html",
    "feed_published",
    "feed_updated",
    "render_rss",
    "rss_item",
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


def clean(text: str | None) -> str:
    """Text that lxml accepts: characters XML 1.0 forbids are dropped, None becomes ''."""
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
    """
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


def rss_item(item: Item) -> Any:
    """One ``<item>`` element (an lxml element): a pure function of ``item``."""
    article = item.article
    entry = FeedEntry()
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    title = clean(article.title)
    if title:
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
    if not (title or summary or content):
        entry.content("")  # RSS needs a title or a description: an empty <description>
    emails = [{"name": clean(a.name), "email": clean(a.email)} for a in article.authors if a.email]
    if emails:
        entry.author(emails)
    names = [clean(a.name) for a in article.authors if clean(a.name)]
    if names:
        entry.dc.dc_creator(names)
    tags = [clean(t) for t in article.tags if clean(t)]
    if tags:
        entry.category([{"term": t} for t in tags])
    if article.enclosures:
        first = article.enclosures[0]
        entry.enclosure(clean(first.url), first.length or 0, clean(first.type))
    entry.published(whole_seconds(item.published))
    if article.origin:
        origin = article.origin
        entry.source(
            url=clean(origin.feed_url), title=clean(origin.title) or clean(origin.feed_url)
        )
    return entry.rss_entry()


def render_rss(channel: Channel, items: Sequence[Item]) -> bytes:
    """The RSS 2.0 document for ``channel`` with ``items`` in the order given."""
    try:
        root = _rss_skeleton(channel, items)
        chan = root[0]
        for item in items:
            chan.append(rss_item(item))
    except ValueError as exc:  # feedgen's "required fields", lxml's "not XML compatible"
        raise PublishError(f"cannot render RSS for feed {channel.name!r}: {exc}") from exc
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def _rss_skeleton(channel: Channel, items: Sequence[Item]) -> Any:
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.title(clean(channel.title))
    fg.description(clean(channel.description) or clean(channel.title))
    self_url = channel.url_for("rss")
    if self_url:
        fg.link(href=clean(self_url), rel="self", type=MEDIA_TYPES["rss"])
    # feedgen takes the *last* link for the RSS <link>: the site's home comes last.
    fg.link(href=clean(channel.home_url or channel.base_url) or RELATIVE_HOME, rel="alternate")
    if channel.language:
        fg.language(clean(channel.language))
    if channel.author and channel.author.email:
        fg.managingEditor(f"{clean(channel.author.email)} ({clean(channel.author.name)})")
    fg.generator(GENERATOR)
    fg.lastBuildDate(feed_updated(items))
    if items:
        fg.pubDate(feed_published(items))
    # _create_rss is what rss_str() serializes; we need the tree to append entries to.
    root, _doc = fg._create_rss()
    if channel.hub:
        _add_hub(root[0], clean(channel.hub))
    return root


def _add_hub(chan: Any, hub: str) -> None:
    """WebSub: ``<atom:link rel="hub">`` right after the self link (or the description)."""
    link = etree.Element(f"{{{ATOM_NS}}}link", href=hub, rel="hub")
    anchor = chan.find(f"{{{ATOM_NS}}}link")
    if anchor is None:
        anchor = chan.find("description")
    anchor.addnext(link)
