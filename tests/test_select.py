"""Merging and filtering published feeds: a pure function over stored items."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from feeds.errors import ConfigError
from feeds.model import Article, Item
from feeds.select import select_items, validate_pattern


def item(
    id: str,
    title: str,
    age: timedelta,
    now: datetime,
    *,
    source: str = "a",
    link: str | None = None,
    summary: str | None = None,
    tags: tuple[str, ...] = (),
) -> Item:
    published = now - age
    article = Article(
        source=source,
        key=id,
        title=title,
        summary=summary,
        tags=tags,
        link=link,
        published=published,
        date_source="feed",
    )
    return Item(id=id, article=article, first_seen=published, updated=published)


@pytest.fixture
def items(now: datetime) -> list[Item]:
    h = timedelta(hours=1)
    return [
        item(
            "1",
            "Python 3.14 released",
            1 * h,
            now,
            tags=("python",),
            link="https://news.example/py314",
        ),
        item("2", "Sponsored: buy things", 2 * h, now, summary="An advert"),
        item("3", "Rust and Python together", 3 * h, now, tags=("rust",)),
        item("4", "Gardening notes", 30 * h, now, summary="Tomatoes love python? no"),
        item("5", "Old news", 24 * 10 * h, now),
    ]


def ids(selected: list[Item]) -> list[str]:
    return [i.id for i in selected]


def test_no_filters_keeps_order(items: list[Item], now: datetime) -> None:
    assert ids(select_items(items, now=now, limit=None)) == ["1", "2", "3", "4", "5"]


def test_limit_and_since(items: list[Item], now: datetime) -> None:
    assert ids(select_items(items, now=now, limit=2)) == ["1", "2"]
    assert ids(select_items(items, now=now, since=timedelta(days=1), limit=None)) == ["1", "2", "3"]


def test_include_matches_title_summary_and_tags(items: list[Item], now: datetime) -> None:
    assert ids(select_items(items, include=["python"], now=now, limit=None)) == ["1", "3", "4"]
    assert ids(select_items(items, include=["^rust$"], now=now, limit=None)) == ["3"]  # tag


def test_exclude_wins(items: list[Item], now: datetime) -> None:
    chosen = select_items(
        items,
        include=["python", "advert"],
        exclude=[r"^sponsored\b", "garden"],
        now=now,
        limit=None,
    )
    assert ids(chosen) == ["1", "3"]


def test_same_story_from_two_sources_appears_once(now: datetime) -> None:
    h = timedelta(hours=1)
    items = [
        item("a1", "Big News!", 1 * h, now, source="a", link="https://news.example/big/"),
        item("b1", "Other headline", 2 * h, now, source="b", link="http://news.example/big"),
        item("b2", "big   news", 3 * h, now, source="b"),  # same title, same day
        item("c1", "Big News", 48 * h, now, source="c"),  # same title, another day
    ]
    assert ids(select_items(items, now=now, limit=None)) == ["a1", "c1"]


def test_two_posts_of_one_folder_sharing_a_title_and_day_are_both_shown(now: datetime) -> None:
    h = timedelta(hours=1)
    items = [
        item("p1", "Weekly notes", 1 * h, now, source="posts", link="https://ex.org/weekly-notes/"),
        item("p2", "Weekly notes", 2 * h, now, source="posts",
             link="https://ex.org/weekly-notes-2/"),
        item("r1", "Weekly notes", 3 * h, now, source="remote"),  # another source: same story
        item("r2", "Weekly notes", 4 * h, now, source="remote2"),
    ]
    assert ids(select_items(items, now=now, limit=None, folders={"posts"})) == ["p1", "p2"]
    # without knowing it is a folder, the rule merges them as before
    assert ids(select_items(items, now=now, limit=None)) == ["p1"]


def test_a_remote_copy_shown_first_still_hides_the_folder_post(now: datetime) -> None:
    h = timedelta(hours=1)
    items = [
        item("r1", "Weekly notes", 1 * h, now, source="remote"),
        item("p1", "Weekly notes", 2 * h, now, source="posts"),
        item("p2", "Weekly notes", 3 * h, now, source="posts"),
    ]
    assert ids(select_items(items, now=now, limit=None, folders={"posts"})) == ["r1"]


def test_dedup_happens_before_limit(now: datetime) -> None:
    h = timedelta(hours=1)
    items = [item("1", "Same", h, now), item("2", "Same", h, now), item("3", "Other", h, now)]
    assert ids(select_items(items, now=now, limit=2)) == ["1", "3"]


@pytest.mark.parametrize(
    "pattern", [r"(.)\1", r"(?P<w>x)(?P=w)", r"(?=x)", r"(?<!x)y", "a" * 400, "(unclosed",
                r".{1000}"]
)
def test_bad_or_too_complex_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ConfigError):
        validate_pattern(pattern)


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w+\s?)*$", r"(x*){2,9}", r"(a|a)*b"])
def test_shapes_that_backtrack_elsewhere_are_accepted_and_match_in_linear_time(
    pattern: str, now: datetime
) -> None:
    """RE2 never backtracks: the classic catastrophic shapes are harmless, so they are
    accepted (they used to be refused) and a long adversarial title still takes milliseconds."""
    adversarial = item("x", "a" * 499 + "!", timedelta(hours=1), now, summary="a b " * 500)
    started = time.perf_counter()
    select_items([adversarial], include=[pattern], now=now, limit=None)
    assert time.perf_counter() - started < 1  # generous bound: it takes well under 10 ms


def test_filters_are_case_insensitive_also_beyond_ascii(now: datetime) -> None:
    items = [item("1", "Une ÉCOLE ouvre", timedelta(hours=1), now),
             item("2", "PYTHON news", timedelta(hours=2), now)]
    assert ids(select_items(items, include=["école", "python"], now=now, limit=None)) == ["1", "2"]


def test_a_title_with_a_lone_surrogate_is_matched_not_crashed_on(now: datetime) -> None:
    odd = item("1", "broken \ud800 python", timedelta(hours=1), now)
    assert ids(select_items([odd], include=["python"], now=now, limit=None)) == ["1"]


def test_matching_time_is_bounded_by_field_caps(now: datetime) -> None:
    long = item("x", "a" * 100_000, timedelta(hours=1), now, summary="b" * 1_000_000)
    started = time.perf_counter()
    assert select_items([long], include=[r"a.*a.*c"], now=now, limit=None) == []
    assert time.perf_counter() - started < 10  # generous bound: it takes milliseconds
