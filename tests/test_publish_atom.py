"""Atom 1.0 output: golden bytes, RFC 4287 required elements, enclosures (feedgen #135),
source, authors, ids, order, round-trip and verify()."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import feedparser
import pytest
from lxml import etree  # type: ignore[import-untyped]

from feeds.errors import PublishError
from feeds.model import Author, Channel, Enclosure, Item, Origin
from feeds.publish.atom import feed_id, render_atom
from feeds.publish.render import render, verify
from tests.golden import assert_golden
from tests.golden.sample import CHANNEL, ITEMS, MINIMAL_CHANNEL, item

NS = {"a": "http://www.w3.org/2005/Atom"}
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def parse(data: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(data))


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def xp(node: etree._Element, path: str) -> list[Any]:
    result = node.xpath(path, namespaces=NS)
    assert isinstance(result, list)
    return result


def assert_rfc4287_required_elements(root: etree._Element) -> None:
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated"):
        assert len(xp(root, f"a:{name}")) == 1, name
    feed_has_author = bool(xp(root, "a:author/a:name"))
    for entry in xp(root, "a:entry"):
        assert isinstance(entry, etree._Element)
        for name in ("id", "title", "updated"):
            assert len(xp(entry, f"a:{name}")) == 1, name
        assert feed_has_author or xp(entry, "a:author/a:name"), "author on feed or every entry"
        assert xp(entry, "a:content") or xp(entry, "a:link[@rel='alternate']")
        assert len(xp(entry, "a:link[@rel='alternate']")) <= 1
    for date in xp(root, "//a:updated/text() | //a:published/text()"):
        datetime.fromisoformat(str(date))  # RFC 3339


def test_full_channel_matches_golden_file() -> None:
    assert_golden("full.atom.xml", render("atom", CHANNEL, ITEMS))


def test_minimal_channel_matches_golden_file() -> None:
    assert_golden("minimal.atom.xml", render("atom", MINIMAL_CHANNEL, ITEMS))


def test_empty_feed_matches_golden_file_and_uses_the_fixed_fallback_date() -> None:
    data = render("atom", MINIMAL_CHANNEL, ())
    assert_golden("empty.atom.xml", data)
    assert xp(xml(data), "a:updated/text()") == ["1970-01-01T00:00:00+00:00"]
    verify("atom", data, ())


@pytest.mark.parametrize("channel", [CHANNEL, MINIMAL_CHANNEL], ids=["full", "minimal"])
def test_has_the_elements_rfc_4287_requires(channel: Channel) -> None:
    for items in (ITEMS, ()):
        assert_rfc4287_required_elements(xml(render("atom", channel, items)))


def test_rendering_twice_gives_identical_bytes() -> None:
    assert render_atom(CHANNEL, ITEMS) == render_atom(CHANNEL, ITEMS)


def test_feed_updated_is_the_newest_item_updated() -> None:
    older = replace(ITEMS[0], updated=datetime(2000, 1, 1, tzinfo=UTC))
    root = xml(render("atom", CHANNEL, [older, *ITEMS[1:]]))
    assert xp(root, "a:updated/text()") == ["2024-04-20T12:00:00+00:00"]


def test_entries_keep_the_given_order_not_feedgens_prepend_order() -> None:
    items = [item(f"urn:uuid:{n}", updated=T0.replace(day=n + 1), title=f"n{n}") for n in range(5)]
    for order in (items, items[::-1]):
        assert xp(xml(render("atom", CHANNEL, order)), "a:entry/a:id/text()") == [
            i.id for i in order
        ]


def test_enclosures_are_links_with_rel_type_and_length() -> None:
    entry = xp(xml(render("atom", CHANNEL, ITEMS[:1])), "a:entry")[0]
    assert isinstance(entry, etree._Element)
    links = [dict(ln.attrib) for ln in entry.findall("a:link", NS)]
    assert links == [
        {"href": "https://example.org/posts/one", "rel": "alternate"},
        {
            "rel": "enclosure",
            "href": "https://example.org/media/one.mp3",
            "type": "audio/mpeg",
            "length": "123456",
        },
        {
            "rel": "enclosure",
            "href": "https://example.org/media/one.pdf?x=1&y=2",
            "type": "application/pdf",
        },
    ]
    assert parse(render("atom", CHANNEL, ITEMS[:1])).entries[0].enclosures == [
        {"href": "https://example.org/media/one.mp3", "type": "audio/mpeg", "length": "123456"},
        {"href": "https://example.org/media/one.pdf?x=1&y=2", "type": "application/pdf"},
    ]


def test_enclosure_on_an_entry_without_a_link() -> None:
    it = item("urn:x", updated=T0, enclosures=(Enclosure(url="https://e/x.ogg", type="audio/ogg"),))
    root = xml(render("atom", CHANNEL, [it]))
    assert xp(root, "a:entry/a:link/@rel") == ["enclosure"]


def test_source_carries_the_origin_id_title_and_links() -> None:
    root = xml(render("atom", CHANNEL, ITEMS[2:]))
    source = xp(root, "a:entry/a:source")[0]
    assert isinstance(source, etree._Element)
    assert source.findtext("a:id", namespaces=NS) == "https://elsewhere.example.net/feed.xml"
    assert source.findtext("a:title", namespaces=NS) == "Elsewhere & Co"
    assert [(ln.get("rel"), ln.get("href")) for ln in source.findall("a:link", NS)] == [
        ("alternate", "https://elsewhere.example.net/"),
        ("self", "https://elsewhere.example.net/feed.xml"),
    ]


def test_feed_links_self_hub_and_alternate() -> None:
    root = xml(render("atom", CHANNEL, ()))
    assert [(ln.get("rel"), ln.get("href")) for ln in root.findall("a:link", NS)] == [
        ("self", "https://feeds.example.org/all/atom.xml"),
        ("hub", "https://hub.example.org/"),
        ("alternate", "https://example.org/"),
    ]


def test_feed_id_is_the_self_url_with_a_base_url() -> None:
    assert feed_id(CHANNEL) == "https://feeds.example.org/all/atom.xml"


def test_feed_id_without_base_url_is_a_stable_urn_from_the_channel_name() -> None:
    first = feed_id(MINIMAL_CHANNEL)
    # pinned: a reader keys its subscription on this; it must never change
    assert first == "urn:uuid:67595b99-7343-52ef-a78e-8d65d4c8e3fe"
    assert feed_id(replace(MINIMAL_CHANNEL, title="Renamed")) == first
    assert feed_id(replace(MINIMAL_CHANNEL, name="other")) != first


def test_feed_author_falls_back_to_the_channel_title_when_an_entry_has_none() -> None:
    root = xml(render("atom", MINIMAL_CHANNEL, ITEMS))
    assert xp(root, "a:author/a:name/text()") == ["Bare"]


def test_no_feed_author_needed_when_every_entry_has_one() -> None:
    it = item("urn:a", updated=T0, authors=(Author(name="Ann"),))
    root = xml(render("atom", MINIMAL_CHANNEL, [it]))
    assert xp(root, "a:author") == []
    assert xp(root, "a:entry/a:author/a:name/text()") == ["Ann"]


def test_entry_language_differing_from_the_feed_is_marked() -> None:
    root = xml(render("atom", CHANNEL, ITEMS))
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert root.get(lang) == "en"
    assert [e.get(lang) for e in xp(root, "a:entry")] == [None, "de", None]


def test_summary_bullets_are_html_and_a_plain_summary_is_text() -> None:
    root = xml(render("atom", CHANNEL, ITEMS))
    summaries = xp(root, "a:entry/a:summary")
    assert [s.get("type") for s in summaries] == ["html", None]
    assert summaries[1].text == "a < b && c > d"


def test_entry_without_html_content_carries_its_body_as_text() -> None:
    content = xp(xml(render("atom", CHANNEL, ITEMS[2:])), "a:entry/a:content")[0]
    assert isinstance(content, etree._Element)
    assert (content.get("type"), content.text) == ("text", "Only plain text here.")


def test_round_trip_through_feedparser() -> None:
    parsed = parse(render("atom", CHANNEL, ITEMS))
    assert parsed.bozo == 0
    assert parsed.version == "atom10"
    assert len(parsed.entries) == len(ITEMS)
    for entry, it in zip(parsed.entries, ITEMS, strict=True):
        assert entry.id == it.id
        assert entry.title == it.article.title.replace("\x01", "")
        for key, value in (("published", it.published), ("updated", it.updated)):
            want = value.astimezone(UTC).replace(microsecond=0).timetuple()[:6]
            assert tuple(entry[f"{key}_parsed"])[:6] == want


def test_an_untitled_entry_is_titled_by_the_start_of_its_text_never_blank() -> None:
    """RFC 4287 requires a title, and the W3C Feed Validator warns on a blank one
    (NotBlank): an untitled entry is titled by its summary or body (cut at a word near 80
    characters), else its link, else its id."""
    long_body = "word " * 40
    items = [item("urn:s", updated=T0, title="", summary="A short summary.", body="Body."),
             item("urn:b", updated=T0, title=" ", body=long_body),
             item("urn:l", updated=T0, title="", link="https://e.example/x"),
             item("urn:i", updated=T0, title="")]
    data = render("atom", MINIMAL_CHANNEL, items)
    titles = [t.text for t in xp(xml(data), "a:entry/a:title")]
    assert titles[0] == "A short summary."
    assert titles[1].endswith("\u2026") and len(titles[1]) <= 81
    assert long_body.startswith(titles[1][:-1])
    assert titles[2:] == ["https://e.example/x", "urn:i"]
    verify("atom", data, items)


def test_no_text_construct_is_empty_content_falls_back_to_summary_then_title() -> None:
    items = [item("urn:e", updated=T0, title="Only a title", body=""),
             item("urn:s", updated=T0, title="T", body="", summary="The summary.")]
    root = xml(render("atom", MINIMAL_CHANNEL, items))
    contents = xp(root, "a:entry/a:content")
    assert [(c.get("type"), c.text) for c in contents] == [
        ("text", "Only a title"), ("html", "The summary.")]
    for node in xp(root, "//a:title | //a:subtitle | //a:summary | //a:content"):
        assert node.text, node.tag


def test_a_source_names_its_id_title_and_updated() -> None:
    """The validator's MissingSourceElement: a <source> needs id, title and updated.  The
    updated is the entry's own: a function of the item, so rebuilds are byte-identical."""
    it = item("urn:o", updated=datetime(2024, 2, 3, 4, 5, 6, 789, tzinfo=UTC),
              origin=Origin(feed_url="https://o.example/feed"))
    [source] = xp(xml(render("atom", MINIMAL_CHANNEL, [it])), "a:entry/a:source")
    assert [(etree.QName(c).localname, c.text) for c in source if c.text] == [
        ("id", "https://o.example/feed"), ("title", "https://o.example/feed"),
        ("updated", "2024-02-03T04:05:06+00:00")]
    assert render("atom", MINIMAL_CHANNEL, [it]) == render("atom", MINIMAL_CHANNEL, [it])


def test_hostile_text_gives_well_formed_xml() -> None:
    bad = "a\x00b\x0bc<d>&e\"f'g\udfff\uffff 😀 \u05e9\u05dc\u05d5\u05dd ]]>"
    it = item(
        "urn:h",
        updated=T0,
        title=bad,
        content_html=bad * 1000,
        summary_bullets=(bad,),
        authors=(Author(name=bad, email=bad, url=bad),),
        tags=(bad,),
        link="https://e.example/?a=1&b=2",
        enclosures=(Enclosure(url=bad, type=bad, length=1),),
        language=bad,
    )
    data = render("atom", replace(CHANNEL, title=bad, description=bad, language=bad), [it])
    assert parse(data).bozo == 0
    assert_rfc4287_required_elements(xml(data))
    verify("atom", data, [it])


def test_verify_rejects_a_changed_updated_date() -> None:
    data = render("atom", CHANNEL, ITEMS)
    other: list[Item] = list(ITEMS)
    other[0] = replace(ITEMS[0], updated=datetime(2024, 5, 3, 9, 30, 16, tzinfo=UTC))
    with pytest.raises(PublishError, match="updated reads back"):
        verify("atom", data, other)


def test_verify_rejects_broken_xml() -> None:
    data = render("atom", CHANNEL, ITEMS).replace(b"</entry>", b"</entryx>", 1)
    with pytest.raises(PublishError, match="not well-formed"):
        verify("atom", data, ITEMS)


def test_verify_rejects_a_changed_id_title_or_published_date() -> None:
    data = render("atom", CHANNEL, ITEMS)
    other: list[Item] = list(ITEMS)
    other[1] = replace(ITEMS[1], id="urn:other")
    with pytest.raises(PublishError, match="id reads back"):
        verify("atom", data, other)
    other[1] = replace(ITEMS[1], article=replace(ITEMS[1].article, title="Other"))
    with pytest.raises(PublishError, match="title reads back"):
        verify("atom", data, other)
    moved = replace(ITEMS[1].article, published=datetime(2020, 1, 1, tzinfo=UTC))
    other[1] = replace(ITEMS[1], article=moved)
    with pytest.raises(PublishError, match="published reads back"):
        verify("atom", data, other)


def test_verify_rejects_a_wrong_count_truncation_and_rss_passed_as_atom() -> None:
    data = render("atom", CHANNEL, ITEMS)
    with pytest.raises(PublishError, match="3 items read back, 2 rendered"):
        verify("atom", data, ITEMS[:2])
    with pytest.raises(PublishError, match="not well-formed"):
        verify("atom", data[:-20], ITEMS)
    with pytest.raises(PublishError, match="reads back as 'rss20'"):
        verify("atom", render("rss", CHANNEL, ITEMS), ITEMS)


def test_verify_resolves_no_entity_and_fetches_nothing() -> None:
    """The check is strict XML: a document with an entity it would have to expand from a
    DTD (here a local file) is refused, not read."""
    head = b'<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
    doc = head + b'<feed xmlns="http://www.w3.org/2005/Atom"><id>&x;</id></feed>'
    with pytest.raises(PublishError):
        verify("atom", doc, ITEMS)
