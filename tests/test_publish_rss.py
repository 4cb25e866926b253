"""RSS 2.0 output: golden bytes, determinism, order, round-trip, fallbacks, verify()."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree  # type: ignore[import-untyped]

from feeds.errors import PublishError
from feeds.model import Author, Channel, Enclosure, Item, Origin
from feeds.publish.render import render, verify
from feeds.publish.rss import EMPTY_FEED_DATE, display_html, render_rss
from tests.golden import assert_golden
from tests.golden.sample import CHANNEL, ITEMS, MINIMAL_CHANNEL, article, item

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def parse(data: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(data))


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def test_full_channel_matches_golden_file() -> None:
    assert_golden("full.rss.xml", render("rss", CHANNEL, ITEMS))


def test_minimal_channel_matches_golden_file() -> None:
    assert_golden("minimal.rss.xml", render("rss", MINIMAL_CHANNEL, ITEMS))


def test_empty_feed_matches_golden_file_and_uses_the_fixed_fallback_date() -> None:
    data = render("rss", CHANNEL, ())
    assert_golden("empty.rss.xml", data)
    assert xml(data).findtext("channel/lastBuildDate") == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert datetime(1970, 1, 1, tzinfo=UTC) == EMPTY_FEED_DATE
    verify("rss", data, ())


def test_rendering_twice_gives_identical_bytes() -> None:
    assert render_rss(CHANNEL, ITEMS) == render_rss(CHANNEL, ITEMS)


def test_feed_dates_come_from_the_newest_item_not_the_clock() -> None:
    chan = xml(render("rss", CHANNEL, ITEMS)).find("channel")
    # newest updated is 2024-05-03 09:30:15.123456 (microseconds dropped)
    assert chan.findtext("lastBuildDate") == "Fri, 03 May 2024 09:30:15 +0000"
    # newest published is 2024-05-02 10:00 +02:00
    assert chan.findtext("pubDate") == "Thu, 02 May 2024 08:00:00 +0000"


def test_items_keep_the_given_order_not_feedgens_prepend_order() -> None:
    items = [item(f"urn:uuid:{n}", updated=T0.replace(day=n + 1), title=f"n{n}") for n in range(5)]
    for order in (items, items[::-1]):
        data = render("rss", CHANNEL, order)
        assert [e.id for e in parse(data).entries] == [i.id for i in order]


def test_round_trip_through_feedparser() -> None:
    parsed = parse(render("rss", CHANNEL, ITEMS))
    assert parsed.bozo == 0
    assert parsed.version == "rss20"
    assert len(parsed.entries) == len(ITEMS)
    for entry, it in zip(parsed.entries, ITEMS, strict=True):
        assert entry.id == it.id
        assert entry.title == it.article.title.replace("\x01", "")
        want = it.published.astimezone(UTC).replace(microsecond=0).timetuple()[:6]
        assert tuple(entry.published_parsed)[:6] == want


def test_guid_is_permalink_only_when_the_id_is_the_article_link() -> None:
    guids = xml(render("rss", CHANNEL, ITEMS)).findall("channel/item/guid")
    assert [g.get("isPermaLink") for g in guids] == ["false", "true", "false"]


def test_item_description_is_the_bullet_list_and_content_encoded_the_full_html() -> None:
    entry = parse(render("rss", CHANNEL, ITEMS)).entries[0]
    assert (
        entry.summary == "<ul><li>First &lt;point&gt; &amp; more</li><li>Second: “quoted”</li></ul>"
    )
    assert entry.content[0].value.startswith("<figure><img ")
    assert entry.content[0].value.endswith(
        '</figure><p>Full <b>content</b> &amp; a <a href="https://example.org/x?a=1&amp;b=2">'
        "link</a>]]> 🎉 مرحبا</p>"
    )


def test_plain_summary_is_escaped_as_html() -> None:
    first = xml(render("rss", CHANNEL, ITEMS[1:2])).find("channel/item")
    assert first.findtext("description") == "a &lt; b &amp;&amp; c &gt; d"


def test_rss_names_authors_once_never_author_and_dc_creator_together() -> None:
    """<author> and <dc:creator> say the same (the W3C Feed Validator's
    DuplicateItemSemantics); <author> holds one address: one author with an e-mail gets
    <author>, anything else a <dc:creator> per name."""
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    two = xml(render("rss", CHANNEL, ITEMS[:1])).find("channel/item")  # Ada (e-mail), Bob
    assert two.findall("author") == []
    assert [c.text for c in two.findall(dc)] == ["Ada Lovelace", "Bob <The Builder>"]
    with_email = item("urn:a", updated=T0,
                      authors=(Author(name="Ada Lovelace", email="ada@example.org"),))
    without = item("urn:b", updated=T0, authors=(Author(name="Bob"),))
    one, other = xml(render("rss", CHANNEL, [with_email, without])).findall("channel/item")
    assert [a.text for a in one.findall("author")] == ["ada@example.org (Ada Lovelace)"]
    assert one.findall(dc) == []
    assert other.findall("author") == []
    assert [c.text for c in other.findall(dc)] == ["Bob"]


def test_an_untitled_item_has_no_title_element_but_a_description() -> None:
    untitled = [item("urn:t", updated=T0, title="", body="Only a body."),
                item("urn:w", updated=T0, title="  ", body=""),
                item("urn:n", updated=T0, title="")]
    data = render("rss", CHANNEL, untitled)
    for node in xml(data).findall("channel/item"):
        assert node.find("title") is None
        assert node.find("description") is not None
    verify("rss", data, untitled)


def test_ampersand_and_less_than_in_plain_text_are_character_references() -> None:
    """The RSS profile's advice (the validator's CharacterData warning): "&" and "<" in
    titles and other plain-text elements as &#x26; and &#x3C;; HTML elements unchanged."""
    it = item("urn:c", updated=T0, title="Fish & chips <3", content_html="<p>a &amp; b</p>",
              tags=("R&D",), authors=(Author(name="Q & A <x>"),),
              origin=Origin(feed_url="https://o.example/?a=1&b=2", title="O & P"))
    channel = replace(CHANNEL, title="News & <views>", description="Tea & <cakes>")
    data = render("rss", channel, [it])
    text = data.decode()
    assert "<title>News &#x26; &#x3C;views&gt;</title>" in text
    assert "<description>Tea &#x26; &#x3C;cakes&gt;</description>" in text
    assert "<title>Fish &#x26; chips &#x3C;3</title>" in text
    assert "<category>R&#x26;D</category>" in text
    assert "<dc:creator>Q &#x26; A &#x3C;x&gt;</dc:creator>" in text
    assert '<source url="https://o.example/?a=1&amp;b=2">O &#x26; P</source>' in text
    assert "&lt;p&gt;a &amp;amp; b&lt;/p&gt;" in text  # HTML as before
    node = xml(data).find("channel/item")
    assert node.findtext("title") == "Fish & chips <3"
    assert parse(data).entries[0].title == "Fish & chips <3"
    verify("rss", data, [it])


def test_first_enclosure_categories_and_source_are_written() -> None:
    items = [
        ITEMS[0],
        item("urn:x:2", updated=T0, origin=Origin(feed_url="https://o.example/feed")),
    ]
    nodes = xml(render("rss", CHANNEL, items)).findall("channel/item")
    enclosures = nodes[0].findall("enclosure")
    assert [dict(e.attrib) for e in enclosures] == [
        {"url": "https://example.org/media/one.mp3", "length": "123456", "type": "audio/mpeg"}
    ]
    assert [c.text for c in nodes[0].findall("category")] == [
        "python",
        "feeds & syndication",
        "עברית",
    ]
    source = nodes[1].find("source")
    assert source.get("url") == "https://o.example/feed"
    assert source.text == "https://o.example/feed"  # no origin title: its URL


def test_enclosure_without_length_says_zero() -> None:
    it = item("urn:x", updated=T0, enclosures=(Enclosure(url="https://e/x.ogg", type="audio/ogg"),))
    enc = xml(render("rss", CHANNEL, [it])).find("channel/item/enclosure")
    assert enc.get("length") == "0"


def test_channel_has_self_and_hub_atom_links() -> None:
    chan = xml(render("rss", CHANNEL, ITEMS)).find("channel")
    links = chan.findall("{http://www.w3.org/2005/Atom}link")
    assert [(ln.get("rel"), ln.get("href")) for ln in links] == [
        ("self", "https://feeds.example.org/all/rss.xml"),
        ("hub", "https://hub.example.org/"),
    ]


def test_hub_link_without_a_self_link() -> None:
    chan = xml(render("rss", replace(MINIMAL_CHANNEL, hub="https://hub.example/"), ())).find(
        "channel"
    )
    links = chan.findall("{http://www.w3.org/2005/Atom}link")
    assert [(ln.get("rel"), ln.get("href")) for ln in links] == [("hub", "https://hub.example/")]


@pytest.mark.parametrize(
    ("channel", "link"),
    [
        (CHANNEL, "https://example.org/"),
        (replace(CHANNEL, home_url=None), "https://feeds.example.org"),
        (MINIMAL_CHANNEL, "../"),
    ],
)
def test_channel_link_falls_back_to_base_url_then_the_output_directory(
    channel: Channel, link: str
) -> None:
    assert xml(render("rss", channel, ())).findtext("channel/link") == link


def test_channel_description_falls_back_to_the_title() -> None:
    assert xml(render("rss", MINIMAL_CHANNEL, ())).findtext("channel/description") == "Bare"


def test_generator_is_fixed_and_carries_no_version() -> None:
    assert xml(render("rss", CHANNEL, ())).findtext("channel/generator") == "feeds"


def test_hostile_text_gives_well_formed_xml_without_illegal_characters() -> None:
    bad = "a\x00b\x08c\x1f<d>&e\"f'g\ud800\ufffe 😀 \u202eRTL"
    long = "<p>" + "x&amp;y " * 200_000 + "</p>"
    it = item(
        f"urn:{bad}",
        updated=T0,
        title=bad,
        content_html=long,
        summary=bad,
        authors=(Author(name=bad, email=bad),),
        tags=(bad,),
        link=f"https://e.example/{bad}",
        enclosures=(Enclosure(url=f"https://e.example/{bad}", type=bad),),
        origin=Origin(feed_url=f"https://o.example/{bad}", title=bad),
    )
    ch = replace(CHANNEL, title=bad, description=bad, hub=f"https://h/{bad}")
    data = render("rss", ch, [it])
    xml(data)  # well-formed
    assert parse(data).bozo == 0
    assert b"\x00" not in data and b"\x08" not in data
    assert parse(data).entries[0].title == "abc<d>&e\"f'g 😀 \u202eRTL"
    verify("rss", data, [it])


def test_item_with_only_an_id_still_renders() -> None:
    it = item("urn:only", updated=T0, title="")
    data = render("rss", MINIMAL_CHANNEL, [it])
    assert xml(data).find("channel/item/description") is not None
    verify("rss", data, [it])


def test_unknown_format_is_a_publish_error() -> None:
    with pytest.raises(PublishError, match="unknown feed format"):
        render("rdf", CHANNEL, ITEMS)
    with pytest.raises(PublishError, match="unknown feed format"):
        verify("rdf", b"", ITEMS)


def test_verify_accepts_what_render_produced() -> None:
    verify("rss", render("rss", CHANNEL, ITEMS), ITEMS)


def test_verify_rejects_truncated_xml() -> None:
    data = render("rss", CHANNEL, ITEMS)
    with pytest.raises(PublishError, match="not well-formed"):
        verify("rss", data[: len(data) // 2], ITEMS)


def test_verify_rejects_a_wrong_item_count() -> None:
    data = render("rss", CHANNEL, ITEMS)
    with pytest.raises(PublishError, match="3 items read back, 2 rendered"):
        verify("rss", data, ITEMS[:2])


def test_verify_rejects_a_changed_id_title_or_date() -> None:
    data = render("rss", CHANNEL, ITEMS)
    other = list(ITEMS)
    other[1] = replace(ITEMS[1], id="https://example.org/posts/other")
    with pytest.raises(PublishError, match="id reads back"):
        verify("rss", data, other)
    other[1] = replace(ITEMS[1], article=replace(ITEMS[1].article, title="Other"))
    with pytest.raises(PublishError, match="title reads back"):
        verify("rss", data, other)
    moved = replace(ITEMS[1].article, published=datetime(2020, 1, 1, tzinfo=UTC))
    other[1] = replace(ITEMS[1], article=moved)
    with pytest.raises(PublishError, match="published reads back"):
        verify("rss", data, other)


def test_verify_rejects_an_atom_document_passed_as_rss() -> None:
    with pytest.raises(PublishError, match="reads back as 'atom10'"):
        verify("rss", render("atom", CHANNEL, ITEMS), ITEMS)


def test_published_falls_back_to_first_seen() -> None:
    it: Item = ITEMS[2]
    assert it.article.published is None
    pub = xml(render("rss", CHANNEL, [it])).findtext("channel/item/pubDate")
    assert pub == "Sun, 31 Mar 2024 23:59:59 +0000"


@pytest.mark.parametrize(
    ("fields", "html"),
    [
        ({}, "<p>x</p>"),
        (
            {"caption": "Cap <1>."},
            "<figure><figcaption>Cap &lt;1&gt;.</figcaption></figure><p>x</p>",
        ),
        (
            {"caption": "Cap. (AP)", "credit": "AP"},
            "<figure><figcaption>Cap. (AP)</figcaption></figure><p>x</p>",
        ),
        (
            {"caption": "Cap.", "credit": "AP"},
            "<figure><figcaption>Cap. (AP)</figcaption></figure><p>x</p>",
        ),
        ({"credit": "AP"}, "<figure><figcaption>(AP)</figcaption></figure><p>x</p>"),
        (
            {"image": "https://i/a.png?a=1&b=2"},
            '<figure><img src="https://i/a.png?a=1&amp;b=2" alt=""></figure><p>x</p>',
        ),
    ],
)
def test_content_shows_image_caption_and_credit_before_the_article_html(
    fields: dict[str, object], html: str
) -> None:
    it = Item(
        id="urn:c", article=article(content_html="<p>x</p>", **fields), first_seen=T0, updated=T0
    )
    assert display_html(it.article) == html
    assert xml(render("rss", CHANNEL, [it])).findtext("channel/item/description") == html


def test_verify_rejects_another_rss_version_and_missing_dates() -> None:
    data = render("rss", CHANNEL, ITEMS)
    with pytest.raises(PublishError, match="reads back as"):
        verify("rss", data.replace(b'version="2.0"', b'version="0.91"', 1), ITEMS)
    start = data.index(b"<pubDate>", data.index(b"<item>"))
    end = data.index(b"</pubDate>", start) + len(b"</pubDate>")
    with pytest.raises(PublishError, match="published reads back as None"):
        verify("rss", data[:start] + data[end:], ITEMS)
