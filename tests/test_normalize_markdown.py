"""What ``read_markdown`` makes of a Markdown file.

Golden cases live in ``tests/data/markdown``: ``NAME.md`` beside ``NAME.json``, which
holds either the expected fields (only those listed are compared) or ``{"error": reason}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.errors import ArticleError
from feeds.model import Article
from feeds.normalize.frontmatter import _load_yaml, _SafeLoader
from feeds.normalize.markdown import (
    MAX_FRONT_MATTER,
    decode_utf8,
    language_code,
    parse_date,
    read_markdown,
    shorten,
)

DATA = Path(__file__).parent / "data" / "markdown"
BASE = "https://news.example/posts/"
CASES = sorted(path.stem for path in DATA.glob("*.json"))


def read(data: bytes, **options: Any) -> Article:
    return read_markdown(data, source="blog", key="post.md", **options)


def fields(article: Article) -> dict[str, Any]:
    """The article as JSON would show it: datetimes in ISO 8601, tuples as lists."""
    result: dict[str, Any] = json.loads(
        json.dumps(asdict(article), default=lambda value: value.isoformat())
    )
    return result


def test_every_markdown_fixture_has_an_expectation() -> None:
    inputs = {path.stem for path in DATA.glob("*.md")}
    assert inputs == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_markdown_fixture_reads_as_expected(name: str) -> None:
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    data = (DATA / f"{name}.md").read_bytes()
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
        (b" \n\t\r\n", "empty file"),
        (b"# Title\n\x00\x01\x02body", "binary data"),
        (b"\x1f\x8b\x08\x08" + bytes(range(1, 9)) * 40, "binary data"),
        (b"# Caf\xe9 menu\n\nPrices in \x80.\n", "not UTF-8"),
        (b"\xff\xfe" + b"\x00\xd8", "not UTF-16 despite its byte-order mark"),
    ],
)
def test_bytes_that_are_not_text_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ArticleError) as caught:
        read(data)
    assert caught.value.reason == reason


def test_utf8_bom_and_utf16_bom_are_read_and_dropped() -> None:
    assert read("\ufeff# Été\n\nTexte.".encode()).title == "Été"
    utf16 = "\ufeff# Été\n\nTexte.".encode("utf-16-le")
    assert utf16.startswith(b"\xff\xfe")
    assert read(utf16).title == "Été"


def test_decoded_text_has_lf_line_endings_only() -> None:
    assert decode_utf8(b"a\r\nb\rc\n") == "a\nb\nc\n"


def test_text_is_nfc_and_xml_legal() -> None:
    article = read("# Cafe\u0301\n\nA\x0bB e\u0301.".encode())
    assert article.title == "Café"
    assert article.body == "AB é."


# --- front matter -------------------------------------------------------------------------


def test_unknown_front_matter_keys_are_ignored() -> None:
    data = b"---\ntitle: T\nweight: 3\nmenu: {main: {parent: x}}\naliases: [/a, /b]\n---\nBody.\n"
    assert read(data).title == "T"


def test_front_matter_may_end_with_yaml_document_end_marker() -> None:
    assert read(b"---\ntitle: Dots\n...\nBody.\n").body == "Body."


def test_a_thematic_break_later_in_the_file_is_not_front_matter() -> None:
    article = read(b"Title\n\nPara.\n\n---\n\nMore.\n")
    assert article.title == "Title"
    assert article.body == "Para.\n\nMore."


def test_front_matter_larger_than_the_cap_is_refused() -> None:
    padding = "".join(f"k{i}: {'x' * 60}\n" for i in range(MAX_FRONT_MATTER // 60))
    with pytest.raises(ArticleError) as caught:
        read(f"---\ntitle: Big\n{padding}---\nBody.\n".encode())
    assert "too large" in caught.value.reason


def test_any_yaml_alias_is_refused_even_a_small_one() -> None:
    with pytest.raises(ArticleError, match="YAML alias"):
        read(b"---\nname: &n Ann\nauthor: *n\ntitle: T\n---\nBody.\n")


def test_yaml_python_tags_are_not_constructed() -> None:
    data = b"---\ntitle: !!python/object/apply:os.system ['echo hacked']\n---\nBody.\n"
    with pytest.raises(ArticleError, match="not valid YAML"):
        read(data)


def test_deeply_nested_yaml_is_an_article_error_not_a_crash() -> None:
    data = b"---\ntitle: T\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n---\nBody.\n"
    with pytest.raises(ArticleError, match="not valid YAML"):
        read(data)


@pytest.mark.parametrize(
    ("yaml_value", "reason"),
    [
        ("author: 42", "author must be a string or a mapping, not a number"),
        ("author: {email: a@b.c}", "author must have a name"),
        ("authors: 7", "authors must be a list, not a number"),
        ("tags: {a: 1}", "tags must be a list or a comma-separated string, not a mapping"),
        ("tags: [[a]]", "tags must be strings, not a list"),
        ("summary: [a]", "summary must be a string, not a list"),
        ("draft: maybe", "draft must be true or false, not 'maybe'"),
        ("id: [1]", "id must be a string, not a list"),
        ("title: [a, b]", "title must be a string, not a list"),
        ("title: true", "title must be a string, not a boolean"),
    ],
)
def test_known_keys_with_the_wrong_type_are_refused(yaml_value: str, reason: str) -> None:
    data = f"---\ntitle: T\n{yaml_value}\n---\nBody.\n".replace("title: T\ntitle", "title")
    with pytest.raises(ArticleError) as caught:
        read(data.encode())
    assert caught.value.reason == reason


def test_author_list_accepts_strings_and_mappings_and_drops_duplicates() -> None:
    data = b"---\ntitle: T\nauthor: Ann\nauthors: [Ann, {name: Bob, url: 'https://b.example/'}]\n---\nx"
    article = read(data)
    assert [a.name for a in article.authors] == ["Ann", "Bob"]
    assert article.authors[1].url == "https://b.example/"
    assert article.author == "Ann"


def test_tags_as_comma_string_are_trimmed_and_deduplicated() -> None:
    assert read(b"---\ntitle: T\ntags: ' a , b,,a '\n---\nx").tags == ("a", "b")


def test_numeric_tags_and_ids_become_strings() -> None:
    article = read(b"---\ntitle: T\ntags: [2024, news]\nid: 17\n---\nx")
    assert article.tags == ("2024", "news")
    assert article.explicit_id == "17"


def test_relative_link_and_image_without_base_url_are_dropped() -> None:
    article = read(b"---\ntitle: T\nlink: /a\nimage: b.png\n---\nx")
    assert (article.link, article.image) == (None, None)


def test_absolute_link_and_image_are_kept_without_base_url() -> None:
    article = read(
        b"---\ntitle: T\nlink: https://a.example/p\nimage: http://a.example/i.png\n---\nx"
    )
    assert (article.link, article.image) == ("https://a.example/p", "http://a.example/i.png")


def test_link_with_a_dangerous_scheme_is_dropped() -> None:
    assert read(b"---\ntitle: T\nlink: 'javascript:alert(1)'\n---\nx").link is None


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("'no'", False)])
def test_draft_flag_is_reported(value: str, expected: bool) -> None:
    assert read(f"---\ntitle: T\ndraft: {value}\n---\nx".encode()).draft is expected


def test_missing_draft_means_not_a_draft() -> None:
    assert read(b"# T\n\nx").draft is False


# --- dates --------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("yaml_value", "published", "text"),
    [
        ("2024-05-01", datetime(2024, 4, 30, 22, 0, tzinfo=UTC), "2024-05-01"),
        ("'2024-05-01'", datetime(2024, 4, 30, 22, 0, tzinfo=UTC), "2024-05-01"),
        ("2024-05-01T10:30", datetime(2024, 5, 1, 8, 30, tzinfo=UTC), "2024-05-01T10:30:00"),
        ("2024-05-01 10:30:15", datetime(2024, 5, 1, 8, 30, 15, tzinfo=UTC), "2024-05-01T10:30:15"),
        ("2024-05-01T10:30:00Z", datetime(2024, 5, 1, 10, 30, tzinfo=UTC),
         "2024-05-01T10:30:00+00:00"),
        ("2024-05-01T10:30:00-05:00", datetime(2024, 5, 1, 15, 30, tzinfo=UTC),
         "2024-05-01T10:30:00-05:00"),
        ("2024-05-01 10:30:00 +0200", datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
         "2024-05-01T10:30:00+02:00"),
        ("'2024-05-01 10:30 UTC'", datetime(2024, 5, 1, 10, 30, tzinfo=UTC),
         "2024-05-01T10:30:00+00:00"),
        ("'Wed, 01 May 2024 10:30:00 GMT'", datetime(2024, 5, 1, 10, 30, tzinfo=UTC),
         "2024-05-01T10:30:00+00:00"),
        ("'1 May 2024 10:30:00 +0100'", datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
         "2024-05-01T10:30:00+01:00"),
    ],
)  # fmt: skip
def test_front_matter_date_forms(yaml_value: str, published: datetime, text: str) -> None:
    article = read(f"---\ntitle: T\ndate: {yaml_value}\n---\nx".encode(), tz=PARIS)
    assert article.published == published
    assert article.published is not None and article.published.tzinfo is UTC
    assert article.published_text == text
    assert article.date_source == "front-matter"


def test_zone_less_dates_follow_daylight_saving_in_the_given_zone() -> None:
    winter = read(b"---\ntitle: T\ndate: 2024-01-15T12:00\n---\nx", tz=PARIS)
    summer = read(b"---\ntitle: T\ndate: 2024-07-15T12:00\n---\nx", tz=PARIS)
    assert winter.published is not None and winter.published.hour == 11
    assert summer.published is not None and summer.published.hour == 10


def test_toml_local_date_and_datetime_are_read_in_the_given_zone() -> None:
    article = read(b'+++\ntitle = "T"\ndate = 2024-07-15T12:00:00\nupdated = 2024-07-16\n+++\nx',
                   tz=PARIS)  # fmt: skip
    assert article.published == datetime(2024, 7, 15, 10, 0, tzinfo=UTC)
    assert article.published_text == "2024-07-15T12:00:00"
    assert article.updated == datetime(2024, 7, 15, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize("key", ["published", "publishDate"])
def test_date_aliases_used_by_other_tools(key: str) -> None:
    article = read(f"---\ntitle: T\n{key}: 2020-02-02\n---\nx".encode())
    assert article.published_text == "2020-02-02"


@pytest.mark.parametrize("key", ["lastmod", "modified", "last_modified_at"])
def test_updated_aliases_used_by_other_tools(key: str) -> None:
    article = read(f"---\ntitle: T\n{key}: 2020-02-03T00:00:00Z\n---\nx".encode())
    assert article.updated == datetime(2020, 2, 3, tzinfo=UTC)


def test_future_dates_are_kept() -> None:
    assert read(b"---\ntitle: T\ndate: 2999-01-01\n---\nx").published_text == "2999-01-01"


def test_no_date_leaves_the_fallback_to_the_pipeline() -> None:
    article = read(b"# T\n\nx")
    assert (article.published, article.published_text, article.date_source) == (None, None, None)


def test_a_date_that_overflows_when_made_utc_is_passed_over_not_a_crash() -> None:
    article = read(b"---\ntitle: T\ndate: '0001-01-01T00:00:00+05:00'\n---\nx")
    assert (article.title, article.published, article.date_source) == ("T", None, None)


@pytest.mark.parametrize("value", ["2024", "someday", "2024-02-30", "[1, 2]"])
def test_a_date_that_does_not_read_never_rejects_the_article(value: str) -> None:
    article = read(f"---\ntitle: T\ndate: {value}\nupdated: {value}\n---\nx".encode())
    assert (article.title, article.published, article.updated) == ("T", None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 10, 0), "2024-05-01T10:00:00"),
        (datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=3))),
         "2024-05-01T10:00:00+03:00"),
    ],
)  # fmt: skip
def test_parse_date_accepts_date_objects(value: object, expected: str) -> None:
    parsed = parse_date(value)
    assert parsed is not None and parsed[1] == expected


@pytest.mark.parametrize("value", ["", "tomorrow", "2024-13-01", "32/01/2024", 5, None, "9" * 100])
def test_parse_date_says_none_for_what_is_not_a_date(value: object) -> None:
    assert parse_date(value) is None


# --- title, body, summary, language -------------------------------------------------------


def test_title_from_first_heading_which_leaves_the_body() -> None:
    article = read(b"# The *real* title\n\nBody text.")
    assert article.title == "The real title"
    assert "title" not in article.content_html
    assert article.body == "Body text."


def test_without_heading_a_multi_line_first_paragraph_gives_its_first_line_and_stays() -> None:
    article = read(b"First line of a paragraph\nthat goes on.\n\nSecond.")
    assert article.title == "First line of a paragraph"
    assert article.body.startswith("First line of a paragraph that goes on.")


def test_title_only_file_is_an_article_with_an_empty_body() -> None:
    article = read(b"# Only a title\n")
    assert (article.title, article.body, article.content_html) == ("Only a title", "", "")
    assert article.summary is None


def test_a_very_long_first_line_gives_a_shortened_title() -> None:
    article = read(("word " * 200).encode())
    assert len(article.title) <= 201 and article.title.endswith("…")


def test_summary_is_the_first_paragraph_shortened_at_a_word_boundary() -> None:
    paragraph = " ".join(f"word{i}" for i in range(100))
    article = read(f"# T\n\n## Heading\n\n{paragraph}\n\nSecond.".encode())
    assert article.summary is not None
    assert article.summary.endswith("…")
    assert len(article.summary) <= 301
    assert paragraph.startswith(article.summary[:-1])
    assert article.summary[:-1].split()[-1] in paragraph.split()


def test_summary_bullets_are_always_empty_for_markdown() -> None:
    assert read(b"# T\n\n- a\n- b\n").summary_bullets == ()


def test_tables_and_fenced_code_render() -> None:
    article = read(b"# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```\n")
    assert "<table>" in article.content_html and "<td>1</td>" in article.content_html
    assert '<pre><code class="language-python">x = 1\n</code></pre>' in article.content_html


def test_relative_links_in_the_body_become_absolute_with_base_url() -> None:
    article = read(b"# T\n\n[a](other.html) ![i](/i.png)", base_url=BASE)
    assert 'href="https://news.example/posts/other.html"' in article.content_html
    assert 'src="https://news.example/i.png"' in article.content_html


def test_relative_links_in_the_body_without_base_url_keep_their_text_only() -> None:
    article = read(b"# T\n\n[a link](other.html)")
    assert article.content_html == "<p>a link</p>"


def test_declared_language_wins_over_detection() -> None:
    article = read(b"---\ntitle: The weather today\nlanguage: de-AT\n---\nSunny and warm.")
    assert article.language == "de"


def test_language_is_detected_from_title_and_body() -> None:
    text = (
        "# La ville ouvre une nouvelle bibliothèque\n\nLes habitants pourront emprunter des livres."
    )
    assert read(text.encode()).language == "fr"


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-GB", "en"), ("pt_BR", "pt"), ("FR", "fr"), ("zh-Hant-TW", "zh"), ("english", None),
     ("", None)],
)  # fmt: skip
def test_language_code_keeps_the_primary_subtag(tag: str, code: str | None) -> None:
    assert language_code(tag) == code


def test_shorten_keeps_short_text_whole() -> None:
    assert shorten("  short   text ") == "short text"


# --- hostile input ------------------------------------------------------------------------


def test_five_megabyte_body_is_read() -> None:
    paragraph = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + b"\n\n"
    data = b"# Big\n\n" + paragraph * (5 * 1024 * 1024 // len(paragraph))
    article = read(data)
    assert article.title == "Big"
    assert len(article.body) > 4_500_000


def test_deeply_nested_markdown_and_raw_html_do_not_crash() -> None:
    nested = b"> " * 10_000 + b"quote\n\n" + b"<div>" * 10_000 + b"deep" + b"</div>" * 10_000
    article = read(b"# Nested\n\n" + nested + b"\n\n" + b"- " * 5000 + b"item\n")
    assert article.title == "Nested"
    assert "deep" in article.body


# The common front matter is read without a YAML parser: it must read as YAML reads it.
@pytest.mark.parametrize(
    "raw",
    [
        'title: "A: b # c"\ndate: 2024-06-01T04:56:00+00:00\nauthor: Kwame Rao\ntags: [a, b c]',
        "title: 'single'\nsummary: it's plain, [with] {brackets} and a#hash\ntags: []",
        "title: Ünïcode 東京 😀\nlang: en-GB\nlink: https://x.example/a?b=c#d\ntags: [ a ,b ]",
        "date: 2024-06-01\nupdated: 2024-06-01 10:30:00\npublished: Tue, 01 May 2024",
        "title: T\ntitle: second wins",
        # values YAML reads as something else than a string: the parser reads them
        "draft: yes\nid: 42\nweight: 1.5\nsummary: ~\ntime: 1:30\nhex: 0x1f\nlist: [a, 1]",
        "on: key is a boolean\ntitle: T",
        "title: T # a comment\ntags: [a, b] # another",
        "title: T\n\nauthor: after a blank line",
        "title: T\n  continued on an indented line",
        "tags:\n  - a\n  - b",
        "title: 'it''s'\nsummary: \"esc\\u00e9\"",
        "title: non\u00a0breaking\nsummary: soft\u00adhyphen",
    ],
)
def test_front_matter_reads_as_yaml_reads_it(raw: str) -> None:
    assert repr(_load_yaml(raw)) == repr(yaml.load(raw, Loader=_SafeLoader))


@pytest.mark.parametrize("raw", ["title: a: b", "title: ends with colon:", "tags: [a, b"])
def test_invalid_front_matter_is_still_worded_by_pyyaml(raw: str) -> None:
    with pytest.raises(ArticleError, match="not valid YAML: line"):
        read(f"---\n{raw}\n---\nBody.\n".encode())


# --- reading costs (issue 13): what is not used is not computed ---------------------------


def test_a_summary_in_the_metadata_spares_the_first_paragraph(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.normalize.markdown as markdown

    def unused(*_args: object) -> str:
        raise AssertionError("the first paragraph was rendered, though never used")

    monkeypatch.setattr(markdown, "_first_paragraph", unused)
    monkeypatch.setattr(markdown, "_first_html_paragraph", unused)  # (compiled parser's)
    monkeypatch.setattr(markdown, "_excerpt", unused)
    article = read(b"---\ntitle: T\nsummary: Written.\n---\nFirst *para*.\n\n<!--more-->\n\n"
                   b"Rest.\n")
    assert article.summary == "Written."
    with pytest.raises(AssertionError, match="never used"):
        read(b"---\ntitle: T\n---\nFirst *para*.\n")


_URLISH = "abwW.:/ (<\"'=_-+x1\u0130\u0131\u017f\u212a\n"


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from([*_URLISH, "://", "www.", "WWW.", "wWw.", "http"]),
                max_size=16).map("".join))
def test_bare_url_check_agrees_with_the_pattern(text: str) -> None:
    from feeds.normalize.markdown import _BARE_URL, _has_bare_url

    assert _has_bare_url(text) == (_BARE_URL.search(text) is not None)
