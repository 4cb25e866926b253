"""Feed autodiscovery and OPML: local bytes in, feed URLs and specs out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feeds.errors import SourceError
from feeds.sources.discover import feed_links, looks_like_html, pick_feed_url
from feeds.sources.opml import opml_specs, read_opml

DATA = Path(__file__).parent / "data" / "remote"


def test_feed_links_in_document_order_resolved_against_base() -> None:
    page = (DATA / "page.html").read_bytes()
    links = feed_links(page, "https://example.com/index.html")
    assert [(link.url, link.type) for link in links] == [
        ("https://example.com/blog/feed.atom", "application/atom+xml"),
        ("https://example.com/rss.xml", "application/rss+xml"),
    ]  # the <link> inside <body> is not the page's announcement
    assert pick_feed_url(page, "https://example.com/") == "https://example.com/blog/feed.atom"


def test_generic_xml_links_only_as_a_last_resort() -> None:
    page = (
        '<html><head><link rel="alternate" type="text/xml" href="/x.xml">'
        '<link rel="Alternate Home" type="application/feed+json" href="j.json">'
        "</head></html>"
    )
    assert pick_feed_url(page, "https://e.example/a/") == "https://e.example/a/j.json"
    assert pick_feed_url("<html><head></head></html>", "https://e.example/") is None
    javascript = (
        '<html><head><link rel="alternate" type="application/rss+xml" '
        'href="javascript:alert(1)"></head></html>'
    )
    assert pick_feed_url(javascript, "https://e.example/") is None


@pytest.mark.parametrize(
    ("body", "content_type", "html"),
    [
        (b"<!DOCTYPE html><html><head>", None, True),
        (b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "x"><rss version="2.0">', None, False),
        (b"<rss version='2.0'><channel>", "text/html", False),
        (b'{"version": 1}', "text/html", False),
        (b"", "text/html", True),
        (b"\n<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>", None, True),
    ],
)
def test_looks_like_html(body: bytes, content_type: str | None, html: bool) -> None:
    assert looks_like_html(body, content_type) is html


def test_opml_outlines_become_feed_specs() -> None:
    path = DATA / "subscriptions.opml"
    outlines = read_opml(path)
    assert [o.url for o in outlines] == [
        "https://www.example.com/feed.xml",
        "https://other.example.net/blog/atom?x=1",
    ]  # the repeat and the file: URL are dropped
    assert outlines[0].title == "Example Blog" and outlines[0].categories == ("Tech",)
    specs = opml_specs(path, source="subs", every=timedelta(hours=1), headers={"X-A": "1"})
    assert [s.name for s in specs] == ["subs.example.com", "subs.other.example.net-blog-x-1"]
    assert all(s.every == timedelta(hours=1) and s.headers == {"X-A": "1"} for s in specs)


def test_opml_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    evil = tmp_path / "evil.opml"
    evil.write_text(
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<opml version="2.0"><body><outline text="&x;" '
        'xmlUrl="https://e.example/feed"/></body></opml>'
    )
    with pytest.raises(SourceError, match="external entity") as caught:
        read_opml(evil)
    assert "top secret" not in str(caught.value)


@pytest.mark.parametrize("text", ["<opml><body>", "<rss version='2.0'/>"])
def test_bad_opml_is_a_source_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.opml"
    path.write_text(text)
    with pytest.raises(SourceError):
        read_opml(path)
    with pytest.raises(SourceError):
        read_opml(tmp_path / "missing.opml")
