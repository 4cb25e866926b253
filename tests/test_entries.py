"""Feed bodies -> Articles: feedparser's dict, JSON Feed, keys, XML safety."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.errors import ParseError
from feeds.model import Author, Enclosure, Origin
from feeds.normalize.entries import check_xml_safety, parse_feed
from feeds.normalize.jsonfeed_in import parse_json_feed
from feeds.text import canonical_key
from tests.conftest import parse_body

DATA = Path(__file__).parent / "data" / "remote"
XML = {"content-type": "application/rss+xml; charset=utf-8"}


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("http://example.com/a/", "example.com/a"),
        ("https://Example.COM/a", "example.com/a"),
        ("https://example.com:443/a//", "example.com/a"),
        ("http://example.com:8080/a", "example.com:8080/a"),
        ("https://example.com/?p=1", "example.com?p=1"),
        ("http://example.com/?p=1", "example.com?p=1"),
        ("https://example.com/page#entry-2", "example.com/page#entry-2"),
        ("  tag:example.com,2026:1 ", "tag:example.com,2026:1"),
        (
            "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        ),
    ],
)
def test_canonical_key(raw: str, key: str) -> None:
    assert canonical_key(raw) == key


def test_guid_scheme_change_gives_the_same_keys() -> None:
    before = read("rss_basic.xml")
    after = before.replace(b"http://example.com/posts/fish/", b"https://example.com/posts/fish")
    assert after != before
    keys_before = [
        a.key
        for a in parse_feed(
            before, source="s", feed_url="http://example.com/f", headers=XML
        ).articles
    ]
    keys_after = [
        a.key
        for a in parse_feed(
            after, source="s", feed_url="https://example.com/f", headers=XML
        ).articles
    ]
    assert keys_before == keys_after
    assert len(set(keys_after)) == len(keys_after)


# --- RSS ------------------------------------------------------------------------------


def test_rss_entries_are_normalized() -> None:
    parsed = parse_feed(
        read("rss_basic.xml"), source="blog", feed_url="https://example.com/feed.xml", headers=XML
    )
    assert parsed.version == "rss20" and parsed.warnings == ()
    assert parsed.title == "Example & Co" and parsed.link == "https://example.com/"
    assert parsed.ttl == timedelta(minutes=90)
    first, undated, bare = parsed.articles

    assert first.source == "blog"
    assert first.key == "example.com/posts/fish"
    assert first.title == "Fish & Chips"  # markup stripped, entities unescaped
    assert first.published == datetime(2021, 9, 6, 14, 45, tzinfo=UTC)
    assert first.published_text == "2021-09-06T14:45:00Z"
    assert first.date_source == "feed"
    assert first.link == "https://example.com/posts/fish"
    assert first.authors == (Author("Jane Doe"),)
    assert first.tags == ("Food", "UK")
    assert first.summary == "A short summary."
    assert "<script" not in first.content_html and "alert" not in first.content_html
    assert 'href="https://example.com/about"' in first.content_html
    assert 'src="https://example.com/img/x.png"' in first.content_html
    assert first.enclosures == (
        Enclosure("https://example.com/media/fish.mp3", "audio/mpeg", 1234),
    )
    assert first.image == "https://example.com/thumbs/fish.jpg"
    assert first.language == "en"
    assert first.origin == Origin(
        "https://example.com/feed.xml", "Example & Co", "https://example.com/"
    )

    assert undated.published is None and undated.date_source == "first-seen"
    assert undated.content_html == "Only a description, <b>bold</b>."
    assert undated.body == "Only a description, bold."

    assert bare.key.startswith("sha256:")
    assert bare.title.startswith("An item with neither title")


def test_atom_xml_base_and_inheritance() -> None:
    parsed = parse_feed(
        read("atom_base.xml"),
        source="a",
        feed_url="https://example.org/feed.atom",
        headers={"content-type": "application/atom+xml"},
    )
    first, second = parsed.articles
    assert parsed.title == "Le blog"
    assert first.link == "https://example.org/blog/2026/premier.html"
    assert 'href="https://example.org/blog/2026/autre.html"' in first.content_html
    assert first.enclosures == (
        Enclosure("https://example.org/blog/2026/media/a.ogg", "audio/ogg", 99),
    )
    assert first.published == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # from <updated>
    assert first.authors == (Author("Feed Author", "feed@example.org"),)  # inherited
    assert first.tags == ("Notes",)
    assert first.language == "fr"
    assert first.summary == "Résumé"
    assert second.published == datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    assert second.updated == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert second.authors == (Author("Entry Author"),)
    assert second.content_html == "<p>Plain &lt;text&gt; content</p>"
    assert second.summary is None  # feedparser's copy of the content is not a summary


# --- JSON Feed ------------------------------------------------------------------------


def test_json_feed() -> None:
    parsed = parse_json_feed(
        read("feed.json"), source="j", feed_url="https://json.example.com/feed.json"
    )
    assert parsed.version == "json1.1" and parsed.title == "JSON Example"
    first, second = parsed.articles
    assert first.key == "json.example.com/posts/1"
    assert first.link == "https://json.example.com/posts/1"
    assert first.published == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert "bad()" not in first.content_html
    assert first.tags == ("a", "b")
    assert first.image == "https://json.example.com/img/1.png"
    assert first.enclosures == (Enclosure("https://json.example.com/a/1.mp3", "audio/mpeg", 42),)
    assert first.authors == (Author("Site Author"),)
    assert first.language == "en"
    assert second.key == "2"
    assert second.authors == (Author("Old Style"),)  # JSON Feed 1.0 "author"
    assert second.content_html == "<p>No title, just text.</p><p>Second paragraph.</p>"
    assert second.published is None and second.date_source == "first-seen"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[1, 2]",
        b'{"version": "https://jsonfeed.org/version/1.1"}',
        b"[" * 100_000,
    ],
)
def test_bad_json_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_json_feed(body, source="j", feed_url="https://x.example/feed.json")
    assert caught.value.source == "j"


def test_dispatch_by_content(now: datetime) -> None:
    assert (
        parse_body(
            read("feed.json"),
            source="s",
            feed_url="https://x.example/f",
            headers={"content-type": "text/plain"},
        ).version
        == "json1.1"
    )
    with pytest.raises(ParseError, match="HTML page"):
        parse_body(read("page.html"), source="s", feed_url="https://x.example/")
    # a feed served as text/html is still a feed
    rss = parse_body(
        read("rss_basic.xml"),
        source="s",
        feed_url="https://x.example/f",
        headers={"content-type": "text/html"},
    )
    assert len(rss.articles) == 3


# --- bozo triage ----------------------------------------------------------------------


def test_survivable_bozo_is_a_warning() -> None:
    body = read("rss_basic.xml").replace(b'encoding="utf-8"', b'encoding="bogus-enc"')
    no_charset = {"content-type": "application/rss+xml"}
    parsed = parse_feed(body, source="s", feed_url="https://example.com/f", headers=no_charset)
    assert len(parsed.articles) == 3
    assert parsed.warnings == (
        "CharacterEncodingOverride: document declared as bogus-enc, but parsed as utf-8",
    )


def test_ill_formed_with_entries_is_read_with_a_warning() -> None:
    body = (
        b"<rss version='2.0'><channel><item><title>A & B</title><link>http://x/1</link>"
        b"</item></channel></rss>"
    )
    parsed = parse_feed(body, source="s", feed_url="https://x.example/f", headers=XML)
    assert [a.title for a in parsed.articles] == ["A & B"]
    assert any("not well-formed" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    "body",
    [
        b"<rss version='2.0'><channel><title>broken</title></channel",
        b"<note><to>Tove</to></note>",
        b"just some text",
        b"",
    ],
)
def test_fatal_documents_are_one_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, source="s", feed_url="https://x.example/f", headers=XML)
    assert caught.value.source == "s" and caught.value.url == "https://x.example/f"


def test_feedparser_never_reads_a_body_as_a_path(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(
        b"<rss version='2.0'><channel><item><title>LEAK</title></item></channel></rss>"
    )
    with pytest.raises(ParseError):
        parse_feed(str(secret).encode(), source="s", feed_url="https://x.example/f")


# --- XML safety -----------------------------------------------------------------------


def test_billion_laughs_is_rejected_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(ParseError, match="entity"):
        parse_feed(read("billion_laughs.xml"), source="s", feed_url="https://x.example/f")
    with pytest.raises(ParseError, match="entity"):  # all on one line, UTF-16 too
        one_line = read("billion_laughs.xml").replace(b"\n<!ENTITY", b"<!ENTITY")
        parse_feed(one_line.decode().encode("utf-16"), source="s", feed_url="https://x.example/f")
    assert time.perf_counter() - started < 5  # generous: it takes milliseconds


def test_quadratic_blowup_is_rejected() -> None:
    big = "A" * 100_000
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{big}">\n]>\n'
        "<rss version='2.0'><channel><item><title>"
        + "&a;" * 20_000
        + "</title></item></channel></rss>"
    ).encode()
    with pytest.raises(ParseError, match="1 MiB"):
        parse_feed(body, source="s", feed_url="https://x.example/f")


def test_harmless_entities_and_external_dtds_pass() -> None:
    body = (
        b'<!DOCTYPE rss [\n  <!ENTITY id "tag:example.com,">\n'
        b'<!ENTITY % HTMLlat1 PUBLIC "-//W3C//ENTITIES Latin 1//EN" '
        b'"http://127.0.0.1:9/never-fetched.ent">\n]>\n'
        b"<rss version='2.0'><channel><item><guid isPermaLink='false'>&id;2006:/blog/</guid>"
        b"</item></channel></rss>"
    )
    check_xml_safety(body)
    parsed = parse_feed(body, source="s", feed_url="https://x.example/f", headers=XML)
    assert [a.key for a in parsed.articles] == ["tag:example.com,2006:/blog/"]


def test_internal_parameter_entities_are_refused() -> None:
    body = b"<!DOCTYPE x [<!ENTITY % p \"<!ENTITY q 'x'>\"> %p;]><rss/>"
    with pytest.raises(ParseError):
        check_xml_safety(body)


def test_repairs_whitespace_before_declaration_and_bomless_utf16() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b"<id>urn:x</id><title>t</title></entry></feed>"
    )
    parsed = parse_feed(b"\n\n  " + atom, source="s", feed_url="https://x.example/f")
    assert [a.key for a in parsed.articles] == ["urn:x"]
    rss = "<rss version='2.0'><channel><item><title>é</title><guid>1</guid></item></channel></rss>"
    for codec in ("utf-16-be", "utf-16-le"):
        parsed = parse_feed(rss.encode(codec), source="s", feed_url="https://x.example/f")
        assert [a.title for a in parsed.articles] == ["é"]


def test_entity_screening_cannot_be_dodged() -> None:
    bomb = read("billion_laughs.xml").decode()
    # a "<a" inside a quoted value would end a naive prolog scan before the bomb
    early = bomb.replace('<!ENTITY lol "lol">', '<!ENTITY lol "lol">\n<!ENTITY t "<a">')
    # UTF-7 hides "<!ENTITY" from a byte scan; feedparser transcodes it back
    utf7 = bomb.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-7"?>')
    utf7 = utf7.replace("<!ENTITY", "+ADw-!ENTITY")
    for body in (early.encode(), utf7.encode()):
        with pytest.raises(ParseError, match="entit"):
            parse_feed(body, source="s", feed_url="https://x.example/f")


def test_html_escaped_twice_is_read_as_the_markup_it_spells() -> None:
    """``&lt;p&gt;Title&lt;/p&gt;`` typed as HTML: the text would be "<p>Title</p>" (and the
    W3C Feed Validator warns of HTML in a published title); the feed meant a paragraph."""
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>F</title>
<updated>2024-01-01T00:00:00Z</updated>
<entry><id>urn:e1</id><updated>2024-01-01T00:00:00Z</updated>
<title type="html">&amp;lt;p&amp;gt;Item Title&amp;lt;/p&amp;gt;</title>
<content type="html">&amp;lt;p&amp;gt;Entry &amp;amp;amp; Content&amp;lt;/p&amp;gt;</content>
</entry>
<entry><id>urn:e2</id><updated>2024-01-01T00:00:00Z</updated>
<title type="html">Use &amp;lt;p&amp;gt; for paragraphs</title>
<content type="text">Plain &lt;p&gt;text&lt;/p&gt;</content></entry></feed>"""
    twice, once = parse_feed(body, source="s", feed_url="https://example.com/f",
                             headers=XML).articles
    assert twice.title == "Item Title"
    assert twice.body == "Entry & Content"
    assert once.title == "Use <p> for paragraphs"  # one element's text, not an element
    assert once.body == "Plain <p>text</p>"  # text is text
