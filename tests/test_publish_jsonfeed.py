"""JSON Feed 1.1 output: golden bytes, omitted empties, key order, encoding, verify()."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from feeds.errors import PublishError
from feeds.model import Author, Item
from feeds.publish.jsonfeed import VERSION, render_json
from feeds.publish.render import render, verify
from tests.golden import assert_golden
from tests.golden.sample import CHANNEL, ITEMS, MINIMAL_CHANNEL, item

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def load(data: bytes) -> dict[str, Any]:
    feed = json.loads(data)
    assert isinstance(feed, dict)
    return feed


def walk(value: object) -> list[object]:
    """Every value nested in ``value``."""
    if isinstance(value, dict):
        return [value, *(v for x in value.values() for v in walk(x))]
    if isinstance(value, list):
        return [value, *(v for x in value for v in walk(x))]
    return [value]


def test_full_channel_matches_golden_file() -> None:
    assert_golden("full.feed.json", render("json", CHANNEL, ITEMS))


def test_minimal_channel_matches_golden_file() -> None:
    assert_golden("minimal.feed.json", render("json", MINIMAL_CHANNEL, ITEMS))


def test_empty_feed_keeps_an_empty_items_list() -> None:
    data = render("json", MINIMAL_CHANNEL, ())
    assert_golden("empty.feed.json", data)
    assert load(data) == {"version": VERSION, "title": "Bare", "items": []}
    verify("json", data, ())


def test_rendering_twice_gives_identical_bytes() -> None:
    assert render_json(CHANNEL, ITEMS) == render_json(CHANNEL, ITEMS)


def test_utf8_not_ascii_escaped_with_a_trailing_newline() -> None:
    data = render("json", CHANNEL, ITEMS)
    assert "🎉 שלום".encode() in data
    assert b"\\u" not in data
    assert data.endswith(b"}\n") and not data.endswith(b"\n\n")


def test_keys_follow_the_spec_order() -> None:
    feed = load(render("json", CHANNEL, ITEMS))
    assert list(feed) == [
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "language",
        "authors",
        "hubs",
        "items",
    ]
    assert list(feed["items"][0]) == [
        "id",
        "url",
        "title",
        "content_html",
        "summary",
        "image",
        "date_published",
        "date_modified",
        "authors",
        "tags",
        "language",
        "attachments",
        "_feeds",
    ]


def test_null_and_empty_values_are_left_out() -> None:
    feed = load(render("json", MINIMAL_CHANNEL, ITEMS))
    for value in walk({k: v for k, v in feed.items() if k != "items"} | {"i": feed["items"]}):
        assert value is not None
        assert value not in ("", [], {}) or value == ""  # "" only as content_text, below
    assert [i.get("content_text") for i in feed["items"]] == [None, None, "Only plain text here."]
    assert "hubs" not in feed and "feed_url" not in feed and "authors" not in feed


def test_item_without_any_content_keeps_an_empty_content_text() -> None:
    it = item("urn:e", updated=T0, title="t")
    assert load(render("json", CHANNEL, [it]))["items"][0]["content_text"] == ""


def test_dates_are_rfc3339_utc_whole_seconds() -> None:
    first = load(render("json", CHANNEL, ITEMS))["items"][0]
    assert first["date_published"] == "2024-05-02T08:00:00+00:00"
    assert first["date_modified"] == "2024-05-03T09:30:15+00:00"


def test_attachments_authors_tags_and_hub() -> None:
    feed = load(render("json", CHANNEL, ITEMS))
    assert feed["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
    assert feed["authors"] == [{"name": "Site Owner", "url": "https://example.org/about"}]
    first = feed["items"][0]
    assert first["attachments"] == [
        {
            "url": "https://example.org/media/one.mp3",
            "mime_type": "audio/mpeg",
            "size_in_bytes": 123456,
        },
        {"url": "https://example.org/media/one.pdf?x=1&y=2", "mime_type": "application/pdf"},
    ]
    assert [a["name"] for a in first["authors"]] == ["Ada Lovelace", "Bob <The Builder>"]
    assert first["tags"] == ["python", "feeds & syndication", "עברית"]
    assert first["summary"] == "• First <point> & more\n• Second: “quoted”"


def test_items_keep_the_given_order() -> None:
    items = [item(f"urn:{n}", updated=T0.replace(day=n + 1)) for n in range(4)]
    for order in (items, items[::-1]):
        assert [i["id"] for i in load(render("json", CHANNEL, order))["items"]] == [
            i.id for i in order
        ]


def test_lone_surrogates_and_controls_are_dropped() -> None:
    it = item("urn:s", updated=T0, title="a\ud800b\x00c", authors=(Author(name="\udfff"),))
    feed = load(render("json", CHANNEL, [it]))
    assert feed["items"][0]["title"] == "abc"
    assert "authors" not in feed["items"][0]  # a nameless author is empty, so left out
    verify("json", render("json", CHANNEL, [it]), [it])


def test_verify_accepts_what_render_produced() -> None:
    verify("json", render("json", CHANNEL, ITEMS), ITEMS)


def test_verify_rejects_invalid_json() -> None:
    with pytest.raises(PublishError, match="not valid JSON"):
        verify("json", render("json", CHANNEL, ITEMS)[:-10], ITEMS)


def test_verify_rejects_another_version() -> None:
    data = render("json", CHANNEL, ITEMS).replace(b"version/1.1", b"version/1")
    with pytest.raises(PublishError, match=r"not a JSON Feed 1\.1"):
        verify("json", data, ITEMS)


def test_verify_rejects_wrong_count_and_changed_dates() -> None:
    data = render("json", CHANNEL, ITEMS)
    with pytest.raises(PublishError, match="3 items read back, 1 rendered"):
        verify("json", data, ITEMS[:1])
    other: list[Item] = list(ITEMS)
    other[2] = replace(ITEMS[2], updated=datetime(2024, 4, 1, 0, 0, 2, tzinfo=UTC))
    with pytest.raises(PublishError, match="updated reads back"):
        verify("json", data, other)


def test_the_fingerprint_is_the_stored_content_hash_when_the_item_carries_it() -> None:
    """The store hands items their content hash: the renderer publishes it as the item's
    fingerprint instead of hashing the article again, and without it hashes the article."""
    plain = ITEMS[0]
    assert plain.content_hash is None
    computed = load(render_json(CHANNEL, [plain]))["items"][0]["_feeds"]["fingerprint"]
    assert computed == plain.article.content_hash()
    carried = replace(plain, content_hash="0123456789abcdef0123456789abcdef")
    got = load(render_json(CHANNEL, [carried]))["items"][0]["_feeds"]["fingerprint"]
    assert got == "0123456789abcdef0123456789abcdef"
