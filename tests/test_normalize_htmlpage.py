"""What ``read_html`` makes of an HTML page.

Golden cases live in ``tests/data/html``: ``NAME.html`` beside ``NAME.json``, which holds
either the expected fields (only those listed are compared) or ``{"error": reason}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feeds.errors import ArticleError
from feeds.model import Article
from feeds.normalize.htmlpage import read_html

DATA = Path(__file__).parent / "data" / "html"
BASE = "https://coastal.example/news/"
CASES = sorted(path.stem for path in DATA.glob("*.json"))


def read(data: bytes | str, **options: Any) -> Article:
    raw = data.encode() if isinstance(data, str) else data
    return read_html(raw, source="site", key="page.html", **options)


def fields(article: Article) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        json.dumps(asdict(article), default=lambda value: value.isoformat())
    )
    return result


def page(head: str = "", body: str = "<p>Body text.</p>", html_attrs: str = "") -> str:
    return f"<!doctype html><html {html_attrs}><head>{head}</head><body>{body}</body></html>"


def test_every_html_fixture_has_an_expectation() -> None:
    assert {path.stem for path in DATA.glob("*.html")} == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_html_fixture_reads_as_expected(name: str) -> None:
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    data = (DATA / f"{name}.html").read_bytes()
    if "error" in expected:
        with pytest.raises(ArticleError) as caught:
            read(data, base_url=BASE)
        assert caught.value.reason == expected["error"]
        return
    got = fields(read(data, base_url=BASE))
    assert {key: got[key] for key in expected} == expected


# --- bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n ", "empty file"),
        (b"<html>\x00\x00<title>x</title>", "binary data"),
        (b"\x1f\x8b\x08\x08" + bytes(range(1, 9)) * 40, "binary data"),
        (b"<!-- only a comment -->", "empty document"),
    ],
)
def test_pages_that_are_not_articles_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ArticleError) as caught:
        read(data)
    assert caught.value.reason == reason


def test_meta_charset_is_honoured() -> None:
    data = page('<meta charset="koi8-r"><title>T</title>', "<p>Привет</p>").encode("koi8-r")
    assert read(data).body == "Привет"


def test_utf8_bom_wins_over_a_wrong_declaration() -> None:
    data = b"\xef\xbb\xbf" + page('<meta charset="iso-8859-1"><title>Caf\u00e9</title>').encode()
    assert read(data).title == "Café"


def test_utf16_with_bom_is_read() -> None:
    assert read(page("<title>Wide</title>").encode("utf-16")).title == "Wide"


def test_an_unknown_charset_label_falls_back_to_utf8() -> None:
    assert read(page('<meta charset="x-klingon"><title>Été</title>').encode()).title == "Été"


# --- title --------------------------------------------------------------------------------


def test_og_title_comes_first() -> None:
    head = '<title>Other | Site</title><meta property="og:title" content="From OG">'
    assert read(page(head, "<article><h1>From H1</h1></article>")).title == "From OG"


def test_h1_inside_article_comes_before_the_title_element() -> None:
    body = "<h1>Site banner</h1><article><h1>Story  headline</h1><p>x</p></article>"
    assert read(page("<title>Whatever</title>", body)).title == "Story headline"


def test_site_name_suffix_is_stripped_when_it_matches_og_site_name() -> None:
    head = (
        "<title>Rail strike ends | The Courier</title>"
        '<meta property="og:site_name" content="The Courier">'
    )
    assert read(page(head)).title == "Rail strike ends"


def test_suffix_is_stripped_when_the_rest_matches_the_page_h1() -> None:
    body = "<div><h1>Rail strike ends</h1><p>x</p></div>"
    assert read(page("<title>Rail strike ends — Courier</title>", body)).title == (
        "Rail strike ends"
    )


def test_title_with_a_dash_but_no_evidence_of_a_suffix_is_kept_whole() -> None:
    assert read(page("<title>Spider-Man - A Review</title>")).title == "Spider-Man - A Review"


def test_h1_anywhere_is_the_last_resort() -> None:
    assert read(page("", "<div><h1>Lonely heading</h1><p>x</p></div>")).title == "Lonely heading"


def test_the_title_h1_is_not_repeated_in_the_body() -> None:
    article = read(page("<title>T</title>", "<article><h1>T</h1><p>Text.</p></article>"))
    assert article.body == "Text."


def test_an_svg_title_in_the_body_is_not_the_page_title() -> None:
    body = "<svg><title>icon</title></svg><main><h1>Real</h1><p>x</p></main>"
    assert read(page("", body)).title == "Real"


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "body", "text"),
    [
        ('<meta property="article:published_time" content="2024-01-02T03:04:05Z">', "",
         "2024-01-02T03:04:05+00:00"),
        ("", '<article><time datetime="2024-01-02">2 Jan</time><p>x</p></article>', "2024-01-02"),
        ("", '<header><time datetime="2024-01-03T10:00">x</time></header><p>x</p>',
         "2024-01-03T10:00:00"),
        ('<meta name="date" content="2024-01-04">', "", "2024-01-04"),
        ('<meta name="DC.date" content="2024-01-05">', "", "2024-01-05"),
        ('<script type="application/ld+json">{"datePublished": "2024-01-06"}</script>', "",
         "2024-01-06"),
    ],
)  # fmt: skip
def test_published_date_sources(head: str, body: str, text: str) -> None:
    article = read(page("<title>T</title>" + head, body + "<p>x</p>"))
    assert article.published_text == text
    assert article.date_source == "content"


def test_published_time_meta_wins_over_time_elements() -> None:
    head = '<title>T</title><meta property="article:published_time" content="2024-02-02">'
    body = '<article><time datetime="2020-01-01">old</time><p>x</p></article>'
    assert read(page(head, body)).published_text == "2024-02-02"


def test_a_time_element_outside_article_and_header_is_not_the_date() -> None:
    body = '<p>Event on <time datetime="2030-01-01">1 Jan 2030</time></p>'
    assert read(page("<title>T</title>", body)).published is None


def test_unreadable_date_is_skipped_for_the_next_source() -> None:
    head = (
        '<title>T</title><meta property="article:published_time" content="yesterday">'
        '<meta name="date" content="2024-03-03">'
    )
    assert read(page(head)).published_text == "2024-03-03"


def test_zone_less_page_dates_are_read_in_the_given_zone() -> None:
    head = '<title>T</title><meta property="article:published_time" content="2024-07-01T12:00">'
    article = read(page(head), tz=ZoneInfo("America/New_York"))
    assert article.published == datetime(2024, 7, 1, 16, 0, tzinfo=UTC)


def test_updated_from_og_updated_time() -> None:
    head = '<title>T</title><meta property="og:updated_time" content="2024-04-04T04:04:04+00:00">'
    assert read(page(head)).updated == datetime(2024, 4, 4, 4, 4, 4, tzinfo=UTC)


def test_a_page_without_dates_leaves_them_to_the_pipeline() -> None:
    article = read(page("<title>T</title>"))
    assert (article.published, article.date_source, article.updated) == (None, None, None)


# --- authors, tags, links, language -------------------------------------------------------


def test_article_author_that_is_a_profile_url_is_not_a_name() -> None:
    head = '<title>T</title><meta property="article:author" content="https://fb.example/ann">'
    assert read(page(head)).authors == ()


def test_article_author_name_is_used() -> None:
    head = '<title>T</title><meta property="article:author" content="Ann Lee">'
    assert read(page(head)).author == "Ann Lee"


def test_keywords_become_tags_when_there_are_no_article_tags() -> None:
    head = '<title>T</title><meta name="keywords" content="a, b ,,a">'
    assert read(page(head)).tags == ("a", "b")


def test_relative_canonical_and_image_resolve_against_base_url() -> None:
    head = (
        '<title>T</title><link rel="canonical" href="/p/1">'
        '<meta property="og:image" content="i.png">'
    )
    article = read(page(head), base_url=BASE)
    assert (article.link, article.image) == ("https://coastal.example/p/1", BASE + "i.png")


def test_relative_canonical_without_any_base_is_dropped() -> None:
    assert read(page('<title>T</title><link rel="canonical" href="/p/1">')).link is None


def test_og_url_is_the_link_without_canonical() -> None:
    head = '<title>T</title><meta property="og:url" content="https://c.example/x">'
    assert read(page(head)).link == "https://c.example/x"


def test_base_href_wins_over_the_given_base_url_for_body_links() -> None:
    head = '<title>T</title><base href="https://other.example/dir/">'
    article = read(page(head, '<p><a href="x">x</a></p>'), base_url=BASE)
    assert 'href="https://other.example/dir/x"' in article.content_html


@pytest.mark.parametrize(("attrs", "code"), [('lang="en-GB"', "en"), ('lang="pt_BR"', "pt"),
                                             ('xml:lang="de"', "de")])  # fmt: skip
def test_html_lang_gives_the_language(attrs: str, code: str) -> None:
    assert read(page("<title>Good morning</title>", html_attrs=attrs)).language == code


def test_og_locale_gives_the_language_when_html_has_no_lang() -> None:
    head = '<title>Good morning</title><meta property="og:locale" content="nl_NL">'
    assert read(page(head)).language == "nl"


# --- body ---------------------------------------------------------------------------------


def test_body_is_the_article_without_page_furniture() -> None:
    body = (
        "<nav>Menu</nav><header>Masthead</header><article><p>Story.</p>"
        "<aside>Ad</aside><footer>Share</footer></article><footer>Legal</footer>"
    )
    article = read(page("<title>T</title>", body))
    assert article.body == "Story."


def test_main_is_the_body_when_there_is_no_article() -> None:
    body = "<div>Sidebar</div><main><p>Main text.</p></main>"
    assert read(page("<title>T</title>", body)).body == "Main text."


def test_summary_falls_back_to_the_first_paragraph() -> None:
    body = "<p>" + "word " * 100 + "</p><p>Second.</p>"
    summary = read(page("<title>T</title>", body)).summary
    assert summary is not None and summary.endswith("…") and len(summary) <= 301


def test_external_entities_are_not_resolved() -> None:
    data = (
        '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<html><head><title>XXE</title></head><body><p>&xxe;</p></body></html>"
    )
    article = read(data)
    assert article.title == "XXE"
    assert "root:" not in article.body
    assert "&amp;xxe;" in article.content_html


def test_deeply_nested_page_does_not_crash() -> None:
    body = "<div>" * 10_000 + "deep" + "</div>" * 10_000
    article = read(page("<title>Deep</title>", body))
    assert article.title == "Deep"


def test_broken_json_ld_is_ignored() -> None:
    head = '<title>T</title><script type="application/ld+json">' + "[" * 100_000 + "</script>"
    assert read(page(head)).published is None


def test_five_megabyte_page_is_read() -> None:
    body = "<article>" + "<p>Lorem ipsum dolor sit amet.</p>\n" * 150_000 + "</article>"
    article = read(page("<title>Big</title>", body))
    assert len(article.body) > 4_000_000
