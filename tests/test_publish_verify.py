"""verify(): the quick agreement only ever accepts; whatever it cannot settle, the exact
reading (item by item, dates parsed) decides, with the same answers and messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feeds.errors import PublishError
from feeds.publish import render as R
from feeds.publish.render import render, verify
from tests.golden.sample import CHANNEL, ITEMS


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_the_quick_agreement_accepts_what_the_writers_wrote(fmt: str) -> None:
    data = render(fmt, CHANNEL, ITEMS)
    if fmt == "json":
        assert R._json_agrees(R._load_json(data), ITEMS)
    else:
        assert R._xml_agrees(fmt, R._parse_xml(fmt, data), ITEMS)
    verify(fmt, data, ITEMS)


def test_another_spelling_of_the_same_date_is_left_to_the_exact_reading() -> None:
    data = render("rss", CHANNEL, ITEMS)
    spelled = R._rfc822_text(ITEMS[0].published).encode()
    gmt = data.replace(spelled, spelled.replace(b"+0000", b"GMT"))  # channel dates too
    assert gmt != data
    assert not R._xml_agrees("rss", R._parse_xml("rss", gmt), ITEMS)
    verify("rss", gmt, ITEMS)  # the same instant: accepted

    atom = render("atom", CHANNEL, ITEMS)
    iso = R._rfc3339_text(ITEMS[0].published).encode()
    zulu = atom.replace(b"<published>" + iso, b"<published>" + iso.replace(b"+00:00", b"Z"), 1)
    assert zulu != atom
    verify("atom", zulu, ITEMS)


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_an_item_with_an_empty_title_still_verifies(fmt: str) -> None:
    untitled = [replace(ITEMS[0], article=replace(ITEMS[0].article, title="")), *ITEMS[1:]]
    verify(fmt, render(fmt, CHANNEL, untitled), untitled)


def test_a_missing_guid_is_not_made_up_for_by_another_items_second_guid() -> None:
    data = render("rss", CHANNEL, ITEMS[:2]).decode()
    first, second = (f"<guid isPermaLink=\"false\">{i.id}</guid>" for i in ITEMS[:2])
    if first not in data:  # a permalink guid
        first = first.replace('"false"', '"true"')
    if second not in data:
        second = second.replace('"false"', '"true"')
    assert first in data and second in data
    # item 0 carries both guids, item 1 none: the guid texts in order are still the ids
    moved = data.replace(second, "").replace(first, first + second)
    with pytest.raises(PublishError, match=r"item 1 .*id reads back as"):
        verify("rss", moved.encode(), ITEMS[:2])


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_date_a_second_off_is_rejected_with_the_item_named(fmt: str) -> None:
    data = render(fmt, CHANNEL, ITEMS)
    moved = ITEMS[1].published + timedelta(seconds=1)
    later = replace(ITEMS[1], article=replace(ITEMS[1].article, published=moved))
    with pytest.raises(PublishError, match=r"item 1 .*published reads back as"):
        verify(fmt, data, [ITEMS[0], later, *ITEMS[2:]])


def test_json_whose_items_disagree_in_title_type_is_rejected() -> None:
    feed = json.loads(render("json", CHANNEL, ITEMS))
    feed["items"][0]["title"] = "Something else"
    with pytest.raises(PublishError, match=r"item 0 .*title reads back as"):
        verify("json", json.dumps(feed).encode(), ITEMS)


def test_the_rss_date_spelling_ignores_the_locale() -> None:
    when = datetime(2024, 3, 9, 7, 5, 3, 999, tzinfo=UTC)
    assert R._rfc822_text(when) == "Sat, 09 Mar 2024 07:05:03 +0000"
    assert R._rfc3339_text(when) == "2024-03-09T07:05:03+00:00"
