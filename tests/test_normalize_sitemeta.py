"""Metadata as the site generators read it (issue 12): Jekyll and Hugo front matter and
Pelican's ``Key: value`` headers, read by the Markdown (and front-matter HTML) readers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feeds.model import Article, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.fallbacks import date_from_filename
from feeds.normalize.htmlpage import read as read_html_file
from feeds.normalize.markdown import read_markdown
from feeds.normalize.sitemeta import lenient_date

SITE = "https://blog.example/"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
MTIME_NS = 1_700_000_000 * 10**9  # 2023-11-14T22:13:20Z


def read(text: str, *, key: str = "post.md", layout: str = "plain",
         pattern: str | None = None, mtime_ns: int | None = None) -> Article:
    ctx = ReadContext(base_url=SITE, link_pattern=pattern, layout=layout, now=NOW)
    return read_markdown(text.encode(), source="blog", key=key, context=ctx,
                         mtime_ns=mtime_ns)


# --- dates ---------------------------------------------------------------------------------


def test_jekyll_date_with_a_repeated_year_and_a_zone_reads_as_ruby_reads_it() -> None:
    # Jekyll 4.3.1 (Ruby's Time.parse) publishes this at 18:30:22 in the site's zone: the
    # zone after the repeated year is dropped (seen by running Jekyll on tests/data/sites)
    article = read("---\ntitle: Jekyll 4.3.2 Released\n"
                   "date: '2023-01-29 18:30:22 2023 -0800'\n---\nBody.", layout="jekyll")
    assert article.published == datetime(2023, 1, 29, 18, 30, 22, tzinfo=UTC)
    assert article.date_source == "front-matter"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-29 18:30:22 2023 -0800", datetime(2023, 1, 29, 18, 30, 22, tzinfo=UTC)),
        ("2023-01-29 18:30:22 -0800", datetime(2023, 1, 30, 2, 30, 22, tzinfo=UTC)),
        ("2016-3-7 9:05 +05:30", datetime(2016, 3, 7, 3, 35, tzinfo=UTC)),
        ("2019-08-19 UTC", datetime(2019, 8, 19, tzinfo=UTC)),
    ],
)
def test_lenient_date_takes_date_time_and_zone_and_ignores_the_rest(
        text: str, expected: datetime) -> None:
    found = lenient_date(text, UTC)
    assert found is not None and found[0] == expected


def test_a_date_that_does_not_parse_falls_back_to_the_next_date_key() -> None:
    article = read("---\ntitle: T\ndate: someday soon\npublishDate: 2024-03-02\n---\nx")
    assert article.published == datetime(2024, 3, 2, tzinfo=UTC)
    assert article.date_source == "front-matter"


def test_a_date_that_does_not_parse_falls_back_to_the_file_name_flagged() -> None:
    article = read("---\ntitle: T\ndate: not yet\n---\nx", key="_posts/2021-04-09-t.md",
                   mtime_ns=MTIME_NS)
    assert (article.published, article.date_source) == (
        datetime(2021, 4, 9, tzinfo=UTC), "filename")


def test_without_any_date_the_file_mtime_is_used_flagged() -> None:
    article = read("---\ntitle: T\ndate: 31/31/31\n---\nx", mtime_ns=MTIME_NS)
    assert article.published == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert article.date_source == "mtime"


def test_jekyll_file_names_with_one_digit_month_and_day_give_the_date() -> None:
    assert date_from_filename("_posts/2024-1-5-new-year.md", UTC) == datetime(
        2024, 1, 5, tzinfo=UTC)


def test_hugo_publish_date_is_the_date_when_date_is_absent() -> None:
    article = read("+++\ntitle = 'T'\npublishDate = 2024-02-03T10:00:00Z\n+++\nx")
    assert article.published == datetime(2024, 2, 3, 10, tzinfo=UTC)


def test_hugo_lastmod_is_the_updated_date() -> None:
    article = read("---\ntitle: T\ndate: 2024-01-01\nlastmod: 2024-01-09\n---\nx")
    assert article.updated == datetime(2024, 1, 9, tzinfo=UTC)


def test_hugo_expiry_date_is_kept_for_the_pipeline_to_judge() -> None:
    article = read("---\ntitle: T\ndate: 2024-01-01\nexpirydate: 2025-01-01\n---\nx",
                   layout="hugo")
    assert article.expires == datetime(2025, 1, 1, tzinfo=UTC)
    assert article.unpublished is None  # the same article whenever it is read


def test_hugo_publish_date_later_than_date_is_when_it_is_published() -> None:
    article = read("---\ntitle: T\ndate: 2024-01-01\npublishDate: 2031-01-01\n---\nx",
                   layout="hugo")
    assert article.published == datetime(2031, 1, 1, tzinfo=UTC)


def test_outside_hugo_the_date_stays_the_date() -> None:
    article = read("---\ntitle: T\ndate: 2024-01-01\npublishDate: 2031-01-01\n---\nx",
                   layout="jekyll")
    assert article.published == datetime(2024, 1, 1, tzinfo=UTC)


# --- what not to publish ------------------------------------------------------------------


def test_jekyll_published_false_is_unpublished_not_a_draft() -> None:
    article = read("---\nlayout: post\ntitle: T\npublished: false\n---\nx", layout="jekyll")
    assert (article.unpublished, article.draft) == ("published: false", False)


def test_draft_true_is_a_draft_and_unpublished() -> None:
    article = read("---\ntitle: T\ndraft: true\n---\nx", layout="hugo")
    assert (article.unpublished, article.draft) == ("draft", True)


@pytest.mark.parametrize(("status", "draft"), [("draft", True), ("hidden", False)])
def test_pelican_status_draft_or_hidden_is_unpublished(status: str, draft: bool) -> None:
    article = read(f"Title: T\nDate: 2024-01-01\nStatus: {status}\n\nBody.", layout="pelican")
    assert (article.unpublished, article.draft) == (f"Status: {status}", draft)


# --- terms, slug, permalink, title --------------------------------------------------------


def test_jekyll_categories_and_tags_are_space_separated_strings() -> None:
    article = read("---\ntitle: T\ncategories: release community\ntags: ruby jekyll\n---\nx",
                   layout="jekyll")
    assert article.categories == ("release", "community")
    assert article.tags == ("release", "community", "ruby", "jekyll")


def test_category_and_categories_list_come_first_in_the_published_tags() -> None:
    article = read("---\ntitle: T\ncategory: news\ncategories: [tech, news]\n"
                   "tags: [python]\n---\nx")
    assert article.categories == ("news", "tech")
    assert article.tags == ("news", "tech", "python")


def test_jekyll_folders_above_posts_are_categories() -> None:
    article = read("---\ntitle: T\n---\nx", key="releases/_posts/2024-1-5-t.md",
                   layout="jekyll")
    assert article.categories == ("releases",)


def test_pelican_category_defaults_to_the_folder() -> None:
    article = read("Title: T\nDate: 2024-01-01\n\nBody.", key="python/t.md", layout="pelican")
    assert article.categories == ("python",)


def test_slug_and_permalink_are_kept_as_written() -> None:
    article = read("---\ntitle: T\nslug: night-trains\nurl: /2024/trains/\n---\nx")
    assert (article.slug, article.permalink) == ("night-trains", "/2024/trains/")


def test_a_numeric_title_is_a_title() -> None:
    assert read("---\ntitle: 2024\n---\nA look back.").title == "2024"


def test_author_written_as_a_markdown_link_is_a_name_and_a_url() -> None:
    article = read("---\ntitle: T\nauthor: '[Ann Lee](https://ann.example/)'\n---\nx")
    assert (article.authors[0].name, article.authors[0].url) == ("Ann Lee",
                                                                 "https://ann.example/")


# --- summary ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["summary", "description", "excerpt"])
def test_front_matter_summary_description_or_excerpt_is_the_summary(key: str) -> None:
    article = read(f"---\ntitle: T\n{key}: The short one.\n---\nFirst paragraph.")
    assert article.summary == "The short one."


def test_text_before_more_is_the_summary() -> None:
    article = read("---\ntitle: T\n---\nIntro one.\n\nIntro two.\n\n<!--more-->\n\nRest.")
    assert article.summary == "Intro one. Intro two."
    assert "Rest." in article.body


def test_the_posts_excerpt_separator_ends_the_summary() -> None:
    article = read("---\ntitle: T\nexcerpt_separator: <!--cut-->\n---\n"
                   "Intro one.\n\nIntro two.\n<!--cut-->\nRest.")
    assert article.summary == "Intro one. Intro two."


def test_without_either_the_first_paragraph_is_the_summary() -> None:
    assert read("---\ntitle: T\n---\nIntro one.\n\nRest.").summary == "Intro one."


# --- Pelican headers ----------------------------------------------------------------------


def test_pelican_metadata_headers_are_read_and_left_out_of_the_body() -> None:
    article = read("Title: My super title\nDate: 2010-12-03 10:20\nModified: 2010-12-05 19:30\n"
                   "Category: Python\nTags: pelican, publishing\nSlug: my-super-post\n"
                   "Authors: Alexis Metaireau, Conan Doyle\n"
                   "Summary: Short version for index and feeds\nLang: fr\n\n"
                   "This is the content of my super blog post.\n", layout="pelican")
    assert article.title == "My super title"
    assert article.published == datetime(2010, 12, 3, 10, 20, tzinfo=UTC)
    assert article.updated == datetime(2010, 12, 5, 19, 30, tzinfo=UTC)
    assert (article.categories, article.tags) == (("Python",),
                                                  ("Python", "pelican", "publishing"))
    assert [a.name for a in article.authors] == ["Alexis Metaireau", "Conan Doyle"]
    assert (article.slug, article.summary, article.language) == (
        "my-super-post", "Short version for index and feeds", "fr")
    assert article.body == "This is the content of my super blog post."


def test_a_first_line_that_only_looks_like_a_header_stays_text_outside_pelican() -> None:
    article = read("Note: trains are late\n\nBody.")
    assert article.title == "Note: trains are late"


# --- links and relative URLs --------------------------------------------------------------


def test_the_link_comes_from_the_permalink_and_relative_images_resolve_against_it() -> None:
    article = read("---\ntitle: Trip\nurl: /2024/trip/\n---\n![](photo.png)",
                   key="posts/trip/index.md")
    assert article.link == "https://blog.example/2024/trip/"
    assert 'src="https://blog.example/2024/trip/photo.png"' in article.content_html


def test_without_a_link_relative_images_resolve_against_the_files_folder() -> None:
    article = read("---\ntitle: Trip\n---\n![](photo.png)", key="posts/trip/index.md")
    assert 'src="https://blog.example/posts/trip/photo.png"' in article.content_html


def test_a_front_matter_link_wins_but_the_body_resolves_where_the_post_lives() -> None:
    article = read("---\ntitle: T\nlink: https://elsewhere.example/story\n"
                   "url: /notes/t/\n---\n![](p.png)")
    assert article.link == "https://elsewhere.example/story"
    assert 'src="https://blog.example/notes/t/p.png"' in article.content_html


def test_the_link_pattern_uses_the_slug() -> None:
    article = read("---\ntitle: Night Trains\nslug: trains\n---\nx", pattern="{slug}.html")
    assert article.link == "https://blog.example/trains.html"


# --- HTML with front matter ---------------------------------------------------------------


def test_an_html_file_with_front_matter_is_read_like_markdown() -> None:
    data = (b"---\nlayout: post\ntitle: Jekyll 3.0 Released\ndate: 2015-10-26 12:00:00 -0700\n"
            b"categories: [release]\n---\n<p>We're <b>thrilled</b>.</p>\n<!--more-->\n"
            b"<p>{{ site.title }} and more.</p>")
    raw = RawInput(data, "_posts/2015-10-26-jekyll-3-0-released.html", "html", "blog")
    article = read_html_file(raw, ReadContext(base_url=SITE, layout="jekyll"))
    assert article.title == "Jekyll 3.0 Released"
    assert article.published == datetime(2015, 10, 26, 12, tzinfo=timezone(
        timedelta(hours=-7)))
    assert article.categories == ("release",)
    assert article.summary == "We're thrilled."
    assert "{{" not in article.content_html and "and more." in article.body


# --- HTML pages: relative URLs against the page's own folder ------------------------------


def test_an_html_page_deeper_in_the_folder_resolves_relative_urls_against_its_folder() -> None:
    data = b"<html><head><title>Trip</title></head><body><p><img src='photo.png'> x</p></body>"
    raw = RawInput(data, "posts/trip/index.html", "html", "blog")
    article = read_html_file(raw, ReadContext(base_url=SITE))
    assert 'src="https://blog.example/posts/trip/photo.png"' in article.content_html


def test_an_html_page_without_a_canonical_link_gets_the_pattern_link() -> None:
    data = b"<html><head><title>Trip</title></head><body><p>x</p></body>"
    raw = RawInput(data, "posts/trip.html", "html", "blog")
    article = read_html_file(raw, ReadContext(base_url=SITE, link_pattern="{stem}/"))
    assert article.link == "https://blog.example/posts/trip/"


def test_markdown_in_a_summary_is_read_as_text() -> None:
    article = read("Title: T\nSummary: Short version for *index* and [feeds](/f)\n\nBody.",
                   layout="pelican")
    assert article.summary == "Short version for index and feeds"


def test_a_date_with_a_month_name_is_read() -> None:
    article = read("Title: T\nDate: 14 October 2012 10:20\n\nBody.", layout="pelican")
    assert article.published == datetime(2012, 10, 14, 10, 20, tzinfo=UTC)


def test_a_hugo_page_bundle_image_resolves_into_the_bundles_url() -> None:
    article = read('+++\ntitle = "Trip to the coast"\ndate = 2024-05-01\n+++\n'
                   "![The bay](bay.jpg)\n", key="posts/coast-trip/index.md", layout="hugo")
    assert article.link == "https://blog.example/posts/coast-trip/"
    assert 'src="https://blog.example/posts/coast-trip/bay.jpg"' in article.content_html


def test_a_jekyll_post_without_a_title_is_titled_by_its_file_name() -> None:
    article = read("No title here, only a first line of text.\n\nMore.",
                   key="_posts/2021-04-05-untitled-post-here.md", layout="jekyll")
    assert article.title == "Untitled Post Here"
    plain = read("No title here, only a first line of text.\n\nMore.",
                 key="_posts/2021-04-05-untitled-post-here.md")
    assert plain.title == "No title here, only a first line of text."


def test_a_pelican_post_at_the_top_of_content_is_in_the_default_category() -> None:
    headers = "Title: T\nDate: 2020-01-02\n\nText."
    assert read(headers, key="content/t.md", layout="pelican").categories == ("misc",)
    assert read(headers, key="t.md", layout="pelican").categories == ("misc",)
    assert read(headers, key="content/travel/t.md", layout="pelican").categories == ("travel",)
