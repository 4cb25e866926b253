"""The pages beside the feeds: ``index.html`` (with autodiscovery links) and an OPML list.

Both list every channel in every format it is published in.  Hrefs are absolute
(``feeds.publish.feed_url``) when ``base_url`` is set, else relative to the output directory
(``all/rss.xml``), which is where both pages are written.  Output is deterministic: no
dates (OPML's ``dateCreated`` is optional and left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from xml.etree import ElementTree as etree

from feeds.model import Channel
from feeds.publish import FORMATS, archive_href, feed_url
from feeds.text import xml_legal

__all__ = ["feed_href", "render_index_html", "render_opml"]

def feed_href(channel: Channel, fmt: str) -> str:
    """The feed's absolute URL, or its path relative to the output directory."""
    return feed_url(channel, fmt) or f"{channel.name}/{FORMATS[fmt].file_name}"


def render_index_html(site_title: str, channels: Sequence[Channel],
                      archives: Mapping[str, Sequence[int]] | None = None) -> bytes:
    """A small HTML5 page: autodiscovery ``<link rel="alternate">`` tags and visible links.

    ``archives``: an archived feed's archive pages by channel name (RFC 5005): linked
    below its subscription documents, per format, oldest first (not announced for
    autodiscovery: one subscribes to the subscription document)."""
    title = _h(site_title)
    head: list[str] = []
    body: list[str] = []
    for channel in channels:
        name = _h(channel.title or channel.name)
        links: list[str] = []
        for fmt in _formats(channel):
            href = _h(feed_href(channel, fmt))
            label = FORMATS[fmt].label
            head.append(
                f'<link rel="alternate" type="{FORMATS[fmt].media_type}" href="{href}"'
                f' title="{name} ({label})">'
            )
            links.append(f'<a href="{href}" type="{FORMATS[fmt].media_type}">{label}</a>')
        about = f" <span>{_h(channel.description)}</span>" if channel.description else ""
        pages = _archive_list(channel, (archives or {}).get(channel.name, ()))
        page = f'<a href="{_h(channel.name)}/">{name}</a>'  # its page: feedpage.py
        body.append(f"<li><strong>{page}</strong>:{about} {' · '.join(links)}{pages}</li>")
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        *head,
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
        "<ul>",
        *body,
        "</ul>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_opml(site_title: str, channels: Sequence[Channel]) -> bytes:
    """OPML 2.0: one ``<outline type="rss">`` per channel (xmlUrl: RSS, else its first format)."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = xml_legal(site_title)
    body = etree.SubElement(opml, "body")
    for channel in channels:
        formats = _formats(channel)
        if not formats:
            continue
        fmt = "rss" if "rss" in formats else formats[0]
        text = xml_legal(channel.title or channel.name)
        outline = etree.SubElement(body, "outline", type="rss", text=text, title=text)
        outline.set("xmlUrl", xml_legal(feed_href(channel, fmt)))
        if channel.home_url:
            outline.set("htmlUrl", xml_legal(channel.home_url))
        if channel.description:
            outline.set("description", xml_legal(channel.description))
        if channel.language:
            outline.set("language", xml_legal(channel.language))
    etree.indent(opml)
    data: bytes = etree.tostring(opml, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"


def _archive_list(channel: Channel, pages: Sequence[int]) -> str:
    """The archive pages of one channel, a line per format, oldest first."""
    if not pages:
        return ""
    lines = [
        f"<li>{FORMATS[fmt].label} archive: " + " ".join(
            f'<a href="{_h(archive_href(channel, fmt, page))}" '
            f'type="{FORMATS[fmt].media_type}">{page}</a>' for page in pages) + "</li>"
        for fmt in _formats(channel)
    ]
    return "\n<ul>\n" + "\n".join(lines) + "\n</ul>\n"


def _formats(channel: Channel) -> list[str]:
    if channel.formats is None:
        return list(FORMATS)
    return [fmt for fmt in channel.formats if fmt in FORMATS]


def _h(text: str) -> str:
    return escape(xml_legal(text), quote=True)
