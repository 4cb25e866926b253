"""Folder articles without a date in their content, and links under site.base_url."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feeds.model import Article
from feeds.normalize.fallbacks import apply_folder_fallbacks, date_from_filename, slugify

MTIME_NS = 1_700_000_000 * 10**9  # 2023-11-14T22:13:20Z


def article(key: str = "a.txt", **kwargs: object) -> Article:
    return Article(source="s", key=key, title="Harbour ferry: new times!", **kwargs)  # type: ignore[arg-type]


def test_a_content_date_is_kept() -> None:
    when = datetime(2020, 1, 2, tzinfo=UTC)
    out = apply_folder_fallbacks(article(published=when, date_source="content"),
                                 mtime_ns=MTIME_NS, tz=UTC)
    assert (out.published, out.date_source) == (when, "content")


def test_a_date_in_the_file_name_comes_next_in_the_site_zone() -> None:
    out = apply_folder_fallbacks(article("2024/2024-03-18-ferry.md"), mtime_ns=MTIME_NS,
                                 tz=ZoneInfo("Europe/Paris"))
    assert out.published == datetime(2024, 3, 17, 23, 0, tzinfo=UTC)
    assert out.date_source == "filename"
    assert out.published_text is None  # the content itself has no date


def test_the_mtime_is_the_last_resort_and_is_flagged() -> None:
    out = apply_folder_fallbacks(article(), mtime_ns=MTIME_NS, tz=UTC)
    assert out.published == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert out.date_source == "mtime"


def test_impossible_dates_in_file_names_are_ignored() -> None:
    assert date_from_filename("2024-02-30-x.md", UTC) is None
    assert date_from_filename("v12024-01-01.md", UTC) is None


def test_no_link_is_made_up_without_a_pattern() -> None:
    out = apply_folder_fallbacks(article(), mtime_ns=MTIME_NS, tz=UTC,
                                 base_url="https://ex.org/")
    assert out.link is None


def test_a_configured_pattern_gives_links_under_base_url() -> None:
    out = apply_folder_fallbacks(article("news/ferry times.txt"), mtime_ns=MTIME_NS, tz=UTC,
                                 base_url="https://ex.org/site/",
                                 link_pattern="articles/{stem}.html")
    assert out.link == "https://ex.org/site/articles/news/ferry%20times.html"
    out = apply_folder_fallbacks(article(), mtime_ns=MTIME_NS, tz=UTC,
                                 base_url="https://ex.org/", link_pattern="{slug}/")
    assert out.link == "https://ex.org/harbour-ferry-new-times/"


def test_a_pattern_without_base_url_makes_no_link() -> None:
    out = apply_folder_fallbacks(article(), mtime_ns=MTIME_NS, tz=UTC, link_pattern="{slug}/")
    assert out.link is None


def test_slugs_are_ascii() -> None:
    assert slugify("Zoë’s “café” — à Nîmes!") == "zoes-cafe-a-nimes"
