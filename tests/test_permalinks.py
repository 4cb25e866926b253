"""Permalinks of folder articles (``feeds.normalize.permalink``): placeholders, front matter,
the generators' default permalinks, and what relative URLs resolve against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from feeds import config
from feeds.configcheck import LINK_FIELDS, link_pattern_problem
from feeds.errors import ConfigError
from feeds.normalize.permalink import FIELDS, PostFacts, link_for, url_base

BASE = "https://ex.org/blog/"
WHEN = datetime(2024, 3, 5, 23, 30, tzinfo=UTC)


def facts(key: str = "2024/2024-03-05-ferry-times.md", title: str = "Ferry: New Times!",
          **more: object) -> PostFacts:
    return PostFacts(key, title, more.pop("published", WHEN), **more)  # type: ignore[arg-type]


def link(pattern: str | None, f: PostFacts | None = None, layout: str = "plain",
         **kw: object) -> str | None:
    return link_for(f or facts(), base_url=BASE, pattern=pattern, layout=layout,
                    **kw)  # type: ignore[arg-type]


# --- link_pattern placeholders -----------------------------------------------------------

def test_the_year_and_slug_pattern_that_used_to_crash_makes_a_link() -> None:
    assert link("{year}/{slug}/") == BASE + "2024/ferry-new-times/"


def test_dates_are_two_digit_and_read_in_the_site_zone() -> None:
    assert link("{year}/{month}/{day}/{slug}.html") == BASE + "2024/03/05/ferry-new-times.html"
    east = timezone(timedelta(hours=2))
    assert link("{year}/{month}/{day}/", tz=east) == BASE + "2024/03/06/"


def test_stem_path_and_section_come_from_the_key() -> None:
    f = facts("news/local/a b.md")
    assert link("{stem}.html", f) == BASE + "news/local/a%20b.html"
    assert link("{path}/{slug}/", f) == BASE + "news/local/ferry-new-times/"
    assert link("{section}/{slug}/", f) == BASE + "news/ferry-new-times/"


def test_an_empty_placeholder_leaves_no_double_slash() -> None:
    assert link("{section}/{category}/{slug}/", facts("a.md")) == BASE + "ferry-new-times/"


def test_category_is_the_first_slugified_and_categories_all_lower_cased() -> None:
    f = facts(categories=("Release Notes", "Ruby"))
    assert link("{category}/{slug}/", f) == BASE + "release-notes/ferry-new-times/"
    assert link("{categories}/{slug}/", f) == BASE + "release%20notes/ruby/ferry-new-times/"


def test_front_matter_slug_wins_over_the_title() -> None:
    assert link("{slug}/", facts(slug="ferries")) == BASE + "ferries/"


def test_a_dated_pattern_without_a_date_makes_no_link() -> None:
    assert link("{year}/{slug}/", facts(published=None)) is None
    assert link("{slug}/", facts(published=None)) == BASE + "ferry-new-times/"


def test_no_base_url_no_link() -> None:
    assert link_for(facts(), base_url=None, pattern="{slug}/") is None


def test_plain_layout_without_a_pattern_has_no_link() -> None:
    assert link(None) is None


# --- front matter url / permalink --------------------------------------------------------

@pytest.mark.parametrize(("written", "expected"), [
    ("https://other.org/x/", "https://other.org/x/"),
    ("/about/ferries/", BASE + "about/ferries/"),
    ("about/ferries.html", BASE + "about/ferries.html"),
    ("/:year/:month/:title/", BASE + "2024/03/ferry-times/"),
    ("/:categories/:i_month/:slug:output_ext", BASE + "news/3/ferry-times.html"),
])
def test_front_matter_permalink_wins_over_pattern_and_preset(written: str,
                                                              expected: str) -> None:
    f = facts("_posts/2024-03-05-ferry-times.md", permalink=written, categories=("News",))
    assert link("{stem}.html", f, layout="jekyll") == expected


def test_a_hugo_url_is_the_whole_path() -> None:
    f = facts("content/posts/trip/index.md", permalink="/special/trip/", slug="x")
    assert link(None, f, layout="hugo") == BASE + "special/trip/"


# --- presets: the generators' default permalinks -----------------------------------------

def test_jekyll_default_is_categories_date_and_file_title() -> None:
    f = facts("_posts/2024-03-05-ferry-times.md", categories=("Release", "Ruby"))
    assert link(None, f, layout="jekyll") == BASE + "release/ruby/2024/03/05/ferry-times.html"
    f = facts("_posts/2024-3-5-ferry-times.md")
    assert link(None, f, layout="jekyll") == BASE + "2024/03/05/ferry-times.html"
    f = facts("_posts/2024-03-05-ferry-times.md", slug="boats")
    assert link(None, f, layout="jekyll") == BASE + "2024/03/05/boats.html"


@pytest.mark.parametrize(("key", "slug", "expected"), [
    ("content/posts/Post-1.md", None, "posts/post-1/"),
    ("posts/post-1.md", None, "posts/post-1/"),
    ("content/posts/my-trip/index.md", None, "posts/my-trip/"),
    ("content/posts/my-trip/index.md", "my-first-post", "posts/my-first-post/"),
    ("content/about.md", None, "about/"),
])
def test_hugo_default_is_the_content_path(key: str, slug: str | None, expected: str) -> None:
    assert link(None, facts(key, slug=slug), layout="hugo") == BASE + expected


def test_pelican_default_is_the_slug_dot_html() -> None:
    assert link(None, facts("content/ferry.md"), layout="pelican") == BASE + \
        "ferry-new-times.html"
    assert link(None, facts("ferry.rst", slug="my-super-post"), layout="pelican") == BASE + \
        "my-super-post.html"


def test_a_pattern_overrides_the_preset() -> None:
    assert link("{year}/{slug}/", facts("content/posts/x.md"), layout="hugo") == \
        BASE + "2024/x/"


# --- url_base ----------------------------------------------------------------------------

def test_relative_urls_resolve_against_the_article_folder() -> None:
    assert url_base("https://ex.org/posts/trip/", "posts/trip/index.md", BASE) == \
        "https://ex.org/posts/trip/"
    assert url_base("https://ex.org/2024/01/01/x.html", "x.md", BASE) == \
        "https://ex.org/2024/01/01/"


def test_without_a_link_the_file_folder_under_base_url() -> None:
    assert url_base(None, "posts/trip/index.md", BASE) == BASE + "posts/trip/"
    assert url_base(None, "index.md", BASE) == BASE
    assert url_base(None, "a b/x.md", BASE) == BASE + "a%20b/"
    assert url_base(None, "x.md", None) is None


# --- config ------------------------------------------------------------------------------

def test_config_check_knows_every_placeholder() -> None:
    assert set(LINK_FIELDS) == set(FIELDS)
    for name in FIELDS:
        assert link_pattern_problem(f"{{{name}}}/x") is None


@pytest.mark.parametrize("pattern", ["{year}/{titel}/", "{year/{slug}", "{slug}}", "{slug!r}"])
def test_a_bad_pattern_is_a_config_error_naming_source_and_key(tmp_path: Path,
                                                                pattern: str) -> None:
    (tmp_path / "posts").mkdir()
    (tmp_path / "feeds.toml").write_text(
        '[site]\nbase_url = "https://ex.org/"\n[[sources]]\nname = "posts"\nkind = "folder"\n'
        f'path = "posts"\nlink_pattern = "{pattern}"\n[[feeds]]\nname = "all"\n'
        'sources = ["posts"]\n')
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "feeds.toml")
    assert "sources[0].link_pattern" in str(info.value)


def test_hugo_makes_spaces_in_a_content_path_hyphens_as_hugo_does() -> None:
    facts = PostFacts("content/posts/Mixed Case.md", "Mixed case file name",
                      datetime(2024, 1, 2, tzinfo=UTC))
    assert link_for(facts, base_url="https://h.example/", pattern=None, layout="hugo") == \
        "https://h.example/posts/mixed-case/"


def test_literal_braces_and_spaces_of_a_pattern_are_percent_encoded() -> None:
    # "{{" is a literal brace, but "{" is not allowed in a URL: the validator and
    # feedparser (bozo) refused the feeds
    made = link("x {{v}}/{slug}.html")
    assert made is not None and made.startswith(BASE)
    assert "{" not in made and " " not in made and "x%20%7Bv%7D/" in made


def test_a_slug_never_climbs_out_of_its_pattern_with_dot_segments() -> None:
    # slug "../../x" used to eat {month}/{day}: 2020/x.html instead of 2020/03/05/...
    made = link("{year}/{month}/{day}/{slug}.html", facts(slug="../../x"))
    assert made is not None and "/2024/03/05/" in made and "/x.html" in made
    assert link("{slug}/", facts(slug="..")) != BASE
