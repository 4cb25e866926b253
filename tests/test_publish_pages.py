"""index.html (autodiscovery + visible links) and OPML 2.0."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from lxml import etree  # type: ignore[import-untyped]

from feeds.publish.pages import render_index_html, render_opml
from tests.golden import assert_golden
from tests.golden.sample import CHANNEL, MINIMAL_CHANNEL

CHANNELS = (CHANNEL, MINIMAL_CHANNEL)


class Links(HTMLParser):
    """Collects <link> tags inside <head> and <a> tags inside <body>."""

    def __init__(self) -> None:
        super().__init__()
        self.where = ""
        self.head: list[dict[str, str | None]] = []
        self.body: list[dict[str, str | None]] = []
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "body", "title"):
            self.where = tag
        elif tag == "link" and self.where in ("head", "title"):
            self.head.append(dict(attrs))
        elif tag == "a" and self.where == "body":
            self.body.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        if self.where == "title":
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.where = "head"


def links(data: bytes) -> Links:
    parser = Links()
    parser.feed(data.decode("utf-8"))
    return parser


def test_index_matches_golden_file() -> None:
    assert_golden("index.html", render_index_html("My <Site> & more", CHANNELS))


def test_opml_matches_golden_file() -> None:
    assert_golden("feeds.opml", render_opml("My <Site> & more", CHANNELS))


def test_index_is_html5_with_a_title() -> None:
    data = render_index_html("My <Site> & more", CHANNELS)
    assert data.startswith(b"<!DOCTYPE html>\n<html>")
    assert b'<meta charset="utf-8">' in data
    assert links(data).title == "My <Site> & more"


def test_index_head_has_one_autodiscovery_link_per_feed_and_format() -> None:
    head = links(render_index_html("Site", CHANNELS)).head
    alternates = [(h["type"], h["href"], h["title"]) for h in head if h.get("rel") == "alternate"]
    assert alternates == [
        (
            "application/rss+xml",
            "https://feeds.example.org/all/rss.xml",
            'News & "Notes" <All> (RSS)',
        ),
        (
            "application/atom+xml",
            "https://feeds.example.org/all/atom.xml",
            'News & "Notes" <All> (Atom)',
        ),
        (
            "application/feed+json",
            "https://feeds.example.org/all/feed.json",
            'News & "Notes" <All> (JSON Feed)',
        ),
        ("application/rss+xml", "bare/rss.xml", "Bare (RSS)"),
        ("application/atom+xml", "bare/atom.xml", "Bare (Atom)"),
        ("application/feed+json", "bare/feed.json", "Bare (JSON Feed)"),
    ]


def test_index_body_links_every_feed_visibly() -> None:
    body = links(render_index_html("Site", CHANNELS)).body
    assert [a["href"] for a in body][-3:] == ["bare/rss.xml", "bare/atom.xml", "bare/feed.json"]
    assert len(body) == 8  # each feed's page, then its three documents


def test_index_links_each_feed_to_its_page() -> None:
    body = links(render_index_html("Site", CHANNELS)).body
    assert [a["href"] for a in body if "type" not in a] == ["all/", "bare/"]


def test_index_lists_only_the_formats_a_channel_publishes() -> None:
    only_atom = replace(MINIMAL_CHANNEL, formats=("atom",))
    head = links(render_index_html("Site", [only_atom])).head
    assert [h["href"] for h in head if h.get("rel") == "alternate"] == ["bare/atom.xml"]


def test_opml_lists_each_feed_with_its_rss_url_or_first_format() -> None:
    channels = [*CHANNELS, replace(MINIMAL_CHANNEL, name="j", title="J", formats=("json", "atom"))]
    root = etree.fromstring(render_opml("Site & Co", channels))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "Site & Co"
    outlines = root.findall("body/outline")
    assert [(o.get("type"), o.get("text"), o.get("xmlUrl")) for o in outlines] == [
        ("rss", 'News & "Notes" <All>', "https://feeds.example.org/all/rss.xml"),
        ("rss", "Bare", "bare/rss.xml"),
        ("rss", "J", "j/feed.json"),
    ]
    assert outlines[0].get("htmlUrl") == "https://example.org/"


def test_hostile_titles_stay_well_formed() -> None:
    bad = replace(MINIMAL_CHANNEL, title='x\x00"><script>&\ud800')
    html = render_index_html('t\x01"<', [bad]).decode()
    assert "<script>" not in html and "\x00" not in html and "\x01" not in html
    etree.fromstring(render_opml('t\x01"<', [bad]))
