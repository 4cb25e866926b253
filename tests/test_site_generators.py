"""A Jekyll, Hugo or Pelican site becomes the feed its own generator would publish (issue 12).

The fixture sites (``tests/data/sites/{jekyll,hugo,pelican}``) are small real sites, each
with 35-40 published posts and the cases the generator does not publish (drafts,
``published: false``, future and expired dates, ``Status: draft|hidden``, section and list
pages, pages, static files).  Three lists of their posts are compared (tests/sitegen.py):

* the generator's own feed, built by running the generator (skipped where it is absent;
  Jekyll with jekyll-feed and Hugo from Debian, Pelican from PyPI);
* a list written by hand from the generators' documented rules
  (``tests/data/sites/expected``), which the generator-run tests check in turn;
* ``feeds build`` of the same folder with ``layout = "auto"`` and no link pattern (the
  layout's preset permalinks), read back from its Atom feed.

A difference is printed post by post: ``missing``/``extra`` links, then the fields that
differ.  The outputs pass the offline W3C checker and feedparser reads them with bozo 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from tests import sitegen
from tests.sitegen import BASE_URLS, FEED_FILES, SITES, Post
from tests.validator import check

GENERATORS = ["jekyll", "hugo", "pelican"]
ATOM = "{http://www.w3.org/2005/Atom}"
# Page bundles: the article's folder URL, and its images as the Markdown writes them.
BUNDLES = {"posts/bundle-post/": ["photo.png"], "posts/2020/deep-bundle/": ["img/pic.png"]}
AUTHOR_LINK = ("Jane Doe", "https://jane.example.org/")


@pytest.fixture(scope="module")
def feeds_output(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``feeds build`` of a fixture site (once per site): the folder of its feed files."""
    built: dict[str, Path] = {}

    def get(site: str) -> Path:
        if site not in built:
            built[site] = sitegen.feeds_build(site, tmp_path_factory.mktemp(f"feeds-{site}"))
        return built[site]
    return get


@pytest.fixture(scope="module")
def generator_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        Callable[[str], Path]]:
    """The generator's build of a fixture site (once per site); skips where it is absent."""
    built: dict[str, Path] = {}
    ran: dict[str, str] = {}

    def get(site: str) -> Path:
        if not sitegen.generator_available(site):
            pytest.skip(f"{site} is not installed (Debian: apt-get install hugo jekyll "
                        f"ruby-jekyll-feed; PyPI: pelican markdown)")
        if site not in built:
            built[site] = sitegen.build_with_generator(site, tmp_path_factory.mktemp(site))
            ran[site] = sitegen.generator_version(site)
        return built[site]
    yield get
    for site, version in ran.items():
        print(f"\nran {site}: {version}")


def _feeds_posts(feeds_output: Callable[[str], Path], site: str) -> dict[str, Post]:
    return sitegen.feeds_posts(feeds_output(site))


# --- (a) the generators themselves -------------------------------------------------------

@pytest.mark.parametrize("site", GENERATORS)
def test_the_expected_list_is_what_the_generator_publishes(
        generator_output: Callable[[str], Path], site: str) -> None:
    published = sitegen.generator_posts(site, generator_output(site))
    lines = sitegen.diff(sitegen.expected_posts(site), published)
    assert not lines, sitegen.report(lines, f"hand-written list -> what {site} publishes")


@pytest.mark.parametrize("site", GENERATORS)
def test_feeds_publishes_what_the_generator_publishes(
        generator_output: Callable[[str], Path], feeds_output: Callable[[str], Path],
        site: str) -> None:
    published = sitegen.generator_posts(site, generator_output(site))
    lines = sitegen.diff(published, _feeds_posts(feeds_output, site))
    assert not lines, sitegen.report(lines, f"what {site} publishes -> feeds build")


def test_hugo_publishes_the_bundles_images_beside_the_article(
        generator_output: Callable[[str], Path]) -> None:
    out = generator_output("hugo")
    for folder, images in BUNDLES.items():
        for image in images:
            assert (out / folder / image).is_file(), f"hugo did not publish {folder}{image}"


# --- (b) the hand-written lists ----------------------------------------------------------

@pytest.mark.parametrize("site", GENERATORS)
def test_feeds_publishes_the_expected_list(feeds_output: Callable[[str], Path],
                                           site: str) -> None:
    lines = sitegen.diff(sitegen.expected_posts(site), _feeds_posts(feeds_output, site))
    assert not lines, sitegen.report(lines, f"hand-written {site} list -> feeds build")


@pytest.mark.parametrize("site", GENERATORS)
def test_the_fixture_site_is_big_and_varied_enough(site: str) -> None:
    data = sitegen.expected_data(site)
    published, skipped = data["published"], data["not_published"]
    assert len(published) + len(skipped) >= 30 + 4
    assert len(published) >= 30
    for row in published:
        assert (SITES / site / row["file"]).is_file(), row["file"]
        assert row["link"].startswith(BASE_URLS[site].rstrip("/")), row["link"]
    for row in skipped:
        assert (SITES / site / row["file"]).is_file(), row["file"]
    titles = [row["title"] for row in published]
    assert "1984" in titles  # a numeric title
    assert len(titles) - len(set(titles)) >= 1  # two distinct posts share a title
    assert len({row["link"] for row in published}) == len(published)
    assert sum(row["summary"] is not None for row in published) >= 10


@pytest.mark.parametrize("site", GENERATORS)
def test_what_the_generator_does_not_publish_stays_out(feeds_output: Callable[[str], Path],
                                                       site: str) -> None:
    # Every post the generator leaves out is titled "Never published ..."; the pages and
    # files it does not list as posts are named in the list too.
    titles = {post.title for post in _feeds_posts(feeds_output, site).values()}
    leaked = sorted(t for t in titles if t.startswith("Never published"))
    assert not leaked, f"{site}: published what the generator does not: {leaked}"
    expected = {row["title"] for row in sitegen.expected_data(site)["published"]}
    assert not titles - expected, f"{site}: not posts of the site: {sorted(titles - expected)}"


def _entries(folder: Path) -> list[etree._Element]:
    root = etree.parse(str(folder / FEED_FILES["atom"])).getroot()
    return list(root.iter(f"{ATOM}entry"))


def _link(entry: etree._Element) -> str:
    for link in entry.iter(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate":
            return str(link.get("href", ""))
    return ""


def _content(entry: etree._Element) -> str:
    content = entry.find(f"{ATOM}content")
    return str(content.text or "") if content is not None else ""


def test_bundle_images_resolve_against_the_articles_own_url(
        feeds_output: Callable[[str], Path]) -> None:
    by_link = {_link(e): _content(e) for e in _entries(feeds_output("hugo"))}
    for folder, images in BUNDLES.items():
        link = BASE_URLS["hugo"] + folder
        assert link in by_link, f"no item {link}"
        sources = re.findall(r'<img[^>]*\bsrc="([^"]*)"', by_link[link])
        for image in images:
            assert link + image in sources, f"{link}: image {image} is {sources}"


@pytest.mark.parametrize("site", GENERATORS)
def test_no_template_syntax_is_left_raw(feeds_output: Callable[[str], Path],
                                        site: str) -> None:
    raw = re.compile(r"\{\{|\{%|%\}|\}\}|\[\^\d+\]")
    for entry in _entries(feeds_output(site)):
        text = _content(entry) + " ".join(s.text or "" for s in entry.iter(f"{ATOM}summary"))
        found = raw.findall(text)
        assert not found, f"{_link(entry)}: raw {found} in {text[:300]!r}"


@pytest.mark.parametrize("site", GENERATORS)
def test_tables_footnotes_and_strikethrough_render(feeds_output: Callable[[str], Path],
                                                   site: str) -> None:
    contents = {_link(e): _content(e) for e in _entries(feeds_output(site))}
    table = [c for c in contents.values() if "<table" in c and "<td>1</td>" in c]
    assert table, f"{site}: no table rendered"
    notes = [c for c in contents.values() if "The note itself." in c]
    assert notes and all("[^1]" not in c for c in notes), f"{site}: footnote not rendered"
    if site != "pelican":  # Python-Markdown, Pelican's reader, has no strikethrough
        struck = [c for c in contents.values() if re.search(r"<(del|s)>struck</\1>", c)]
        assert struck, f"{site}: ~~struck~~ not rendered"


@pytest.mark.parametrize("site", GENERATORS)
def test_an_author_written_as_a_markdown_link_is_a_name_and_a_url(
        feeds_output: Callable[[str], Path], site: str) -> None:
    entries = [e for e in _entries(feeds_output(site))
               if (e.findtext(f"{ATOM}title") or "") == "Author as a link"]
    assert len(entries) == 1, f"{site}: the post 'Author as a link' is not published"
    authors = [(a.findtext(f"{ATOM}name"), a.findtext(f"{ATOM}uri"))
               for a in entries[0].iter(f"{ATOM}author")]
    assert authors == [AUTHOR_LINK], f"{site}: authors {authors}"


# --- (c) the outputs validate -------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(FEED_FILES))
@pytest.mark.parametrize("site", GENERATORS)
def test_the_outputs_validate(feeds_output: Callable[[str], Path], site: str,
                              fmt: str) -> None:
    data = (feeds_output(site) / FEED_FILES[fmt]).read_bytes()
    found = check(fmt, data)
    assert not found, f"{site} {fmt}: " + "; ".join(str(f) for f in found[:10])
    if fmt == "json":
        items = json.loads(data)["items"]
    else:
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, f"{site} {fmt}: {parsed.get('bozo_exception')}"
        items = parsed.entries
    assert len(items) >= 30, f"{site} {fmt}: only {len(items)} items were checked"


# --- a config change reaches the published items ------------------------------------------

@pytest.mark.parametrize("site", GENERATORS)
def test_a_new_base_url_moves_every_link_and_keeps_every_id(
        tmp_path: Path, site: str) -> None:
    from feeds import config as config_module
    from feeds.pipeline import build

    def published(config: Path) -> dict[str, tuple[str, str]]:
        build(config_module.load(config), now=sitegen.NOW)
        return {str(e.findtext(f"{ATOM}id")): (_link(e), _content(e))
                for e in _entries(tmp_path / f"{site}-public" / "all")}

    config = sitegen.feeds_config(site, tmp_path)
    before = published(config)
    old, new = BASE_URLS[site], "https://moved.example.net/blog/"
    config.write_text(config.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    after = published(config)
    assert set(after) == set(before), f"{site}: ids changed with the base URL"
    for item_id, (link, content) in after.items():
        assert link == before[item_id][0].replace(old, new), f"{site} {item_id}: {link}"
        assert old not in content, f"{site} {link}: the old base URL is still in the content"
    assert len(after) == len(sitegen.expected_data(site)["published"])
