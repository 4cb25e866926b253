"""The pages people read: each feed's ``index.html``, the top-level index linking them, and
the status page.  Every page parses under html5lib's strict mode (any parse error fails),
loads nothing from anywhere, escapes what it shows, and is rewritten only when its bytes
change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import html5lib
import pytest

from feeds import config as config_module
from feeds.model import Channel
from feeds.pipeline import build
from feeds.pipeline.overview import as_html, gather
from feeds.publish.feedpage import PAGE_ITEMS, render_feed_page
from feeds.publish.pageitems import PageEntry, page_entries
from tests.conftest import NOW

NS = "{http://www.w3.org/1999/xhtml}"


def strict(data: bytes) -> Any:
    """The page's tree; html5lib raises on the first parse error."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(data)


def elements(tree: Any, tag: str) -> Iterator[Any]:
    return tree.iter(f"{NS}{tag}")


def assert_self_contained(data: bytes) -> None:
    """No element makes the browser fetch anything: no src, no style sheet, icon or
    preload link, no url() or @import in the inline style; scripts are inline."""
    tree = strict(data)
    for element in tree.iter():
        assert element.get("src") is None, element.tag
        assert element.get("srcset") is None, element.tag
    for link in elements(tree, "link"):
        assert link.get("rel") == "alternate", link.attrib  # autodiscovery only
    for style in elements(tree, "style"):
        assert "url(" not in (style.text or "") and "@import" not in (style.text or "")
    for anchor in elements(tree, "a"):
        assert not anchor.get("href", "").lower().startswith(("javascript:", "data:"))


def write_site(tmp_path: Path, *, status_page: bool = False, base_url: bool = True) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(1, 4):
        (folder / f"post-{n}.md").write_text(
            f"---\ntitle: Post {n}\ndate: 2024-01-0{n}T10:00:00Z\nauthor: Ann Author\n"
            f"summary: The summary of post {n}.\n---\nBody of post {n}.\n", encoding="utf-8")
    (folder / "hostile.md").write_text(
        '---\ntitle: "<script>alert(1)</script> & <b>bold</b>"\ndate: 2024-01-05T10:00:00Z\n'
        '---\n<img src=x onerror=alert(1)> Plain words here.\n', encoding="utf-8")
    site = '[site]\ntitle = "Pages & <Co>"\n'
    if base_url:
        site += 'base_url = "https://feeds.example.org/"\n'
    (tmp_path / "feeds.toml").write_text(
        site + f'[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
        f"status_page = {'true' if status_page else 'false'}\n"
        '[[sources]]\nname = "notes"\nkind = "folder"\npath = "articles"\n'
        '[[feeds]]\nname = "all"\ntitle = "All the <notes>"\ndescription = "Everything & more"\n'
        '[[feeds]]\nname = "rss-only"\ntitle = "Only RSS"\nformats = ["rss"]\n',
        encoding="utf-8")
    return tmp_path / "feeds.toml"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    toml = write_site(tmp_path)
    build(config_module.load(toml), now=NOW)
    return tmp_path


def test_every_feed_gets_a_page_beside_its_files(site: Path) -> None:
    for feed in ("all", "rss-only"):
        data = (site / "public" / feed / "index.html").read_bytes()
        assert_self_contained(data)
    page = strict((site / "public" / "all" / "index.html").read_bytes())
    assert [h1.text for h1 in elements(page, "h1")] == ["All the <notes>"]
    assert "Everything & more" in "".join(page.itertext())


def test_a_feed_page_announces_and_links_its_documents_with_their_media_types(
        site: Path) -> None:
    page = strict((site / "public" / "all" / "index.html").read_bytes())
    alternates = [(ln.get("type"), ln.get("href")) for ln in elements(page, "link")]
    assert alternates == [
        ("application/rss+xml", "https://feeds.example.org/all/rss.xml"),
        ("application/atom+xml", "https://feeds.example.org/all/atom.xml"),
        ("application/feed+json", "https://feeds.example.org/all/feed.json"),
    ]
    typed = [(a.get("type"), a.get("href")) for a in elements(page, "a") if a.get("type")]
    assert typed == alternates
    text = "".join(page.itertext())
    for media_type, _ in alternates:
        assert media_type in text  # shown, not only in attributes
    [field] = [i for i in elements(page, "input") if i.get("id") == "feed-url"]
    assert field.get("value") == "https://feeds.example.org/all/rss.xml"
    [button] = [b for b in elements(page, "button") if b.get("id") == "copy-button"]
    assert button.get("hidden") is not None  # shown by the script; without it, the field


def test_a_feed_page_lists_the_newest_items_with_date_author_summary_and_link(
        site: Path) -> None:
    page = strict((site / "public" / "all" / "index.html").read_bytes())
    items = [li for ul in elements(page, "ul") if ul.get("class") == "items"
             for li in ul if li.tag == f"{NS}li"]
    titles = ["".join(li.find(f"{NS}h3").itertext()) for li in items]
    assert titles == ["<script>alert(1)</script> & <b>bold</b>", "Post 3", "Post 2", "Post 1"]
    post3 = items[1]
    assert [t.get("datetime") for t in post3.iter(f"{NS}time")] == ["2024-01-03T10:00:00Z"]
    assert "Ann Author" in "".join(post3.itertext())
    assert "The summary of post 3." in "".join(post3.itertext())


def test_what_articles_say_is_escaped_never_markup(site: Path) -> None:
    data = (site / "public" / "all" / "index.html").read_bytes()
    tree = strict(data)
    scripts = [s.text or "" for s in elements(tree, "script")]
    assert len(scripts) == 1 and "alert" not in scripts[0]  # only the copy button's
    assert not list(elements(tree, "b")) and not list(elements(tree, "img"))
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in data


def test_the_top_level_index_links_each_feed_page(site: Path) -> None:
    data = (site / "public" / "index.html").read_bytes()
    assert_self_contained(data)
    hrefs = [a.get("href") for a in elements(strict(data), "a") if not a.get("type")]
    assert hrefs == ["all/", "rss-only/"]


def test_pages_are_rewritten_only_when_their_bytes_change(site: Path) -> None:
    pages = [site / "public" / "all" / "index.html", site / "public" / "rss-only" / "index.html"]
    before = [p.stat().st_mtime_ns for p in pages]
    build(config_module.load(site / "feeds.toml"), now=NOW)
    assert [p.stat().st_mtime_ns for p in pages] == before
    (site / "articles" / "post-9.md").write_text(
        "---\ntitle: Post 9\ndate: 2024-01-09T10:00:00Z\n---\nNew.\n", encoding="utf-8")
    build(config_module.load(site / "feeds.toml"), now=NOW)
    assert "Post 9" in pages[0].read_text(encoding="utf-8")
    assert "Post 9" in pages[1].read_text(encoding="utf-8")  # read back from its RSS


def test_a_deleted_page_comes_back_at_the_next_build(site: Path) -> None:
    page = site / "public" / "all" / "index.html"
    data = page.read_bytes()
    page.unlink()
    build(config_module.load(site / "feeds.toml"), now=NOW)
    assert page.read_bytes() == data


def test_without_base_url_links_are_relative_to_the_page(tmp_path: Path) -> None:
    build(config_module.load(write_site(tmp_path, base_url=False)), now=NOW)
    page = strict((tmp_path / "public" / "all" / "index.html").read_bytes())
    assert [ln.get("href") for ln in elements(page, "link")] == [
        "rss.xml", "atom.xml", "feed.json"]


def test_status_html_is_written_only_when_asked(site: Path, tmp_path_factory: Any) -> None:
    assert not (site / "public" / "status.html").exists()  # it shows source URLs and paths
    other = tmp_path_factory.mktemp("asked")
    build(config_module.load(write_site(other, status_page=True)), now=NOW)
    data = (other / "public" / "status.html").read_bytes()
    assert_self_contained(data)
    tree = strict(data)
    assert not list(elements(tree, "script"))  # works without JavaScript
    text = "".join(tree.itertext())
    assert "notes" in text and str(other / "articles") in text and "All the <notes>" in text
    assert [a.get("href") for a in elements(tree, "a") if a.get("href", "").endswith("/")
            ] == ["./", "all/", "rss-only/"]


def test_the_status_page_escapes_hostile_errors(tmp_path: Path) -> None:
    config = config_module.load(write_site(tmp_path))
    doc_overview = gather(config, now=NOW)
    doc_overview.errors.append(("evil", '<script>alert("x")</script>'))
    data = as_html(doc_overview, health="the last publication failed: <b>disk</b>")
    assert_self_contained(data)
    assert b"<script>" not in data and b"<b>disk" not in data


CHANNEL = Channel(name="c", title="C")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", " JAVASCRIPT:x",
                                  "vbscript:x", "//evil.example/"])
def test_only_http_links_become_hrefs(link: str) -> None:
    entry = PageEntry("T", link, None, "", "")
    tree = strict(render_feed_page(CHANNEL, [entry], site_title="S"))
    assert all(a.get("href") != link for a in elements(tree, "a"))


@pytest.mark.parametrize("text", ["", "\x00\x01\ufffe", "x" * 100_000, "\ud800", "]]>--><!--"])
def test_hostile_texts_still_give_a_strict_page(text: str) -> None:
    entry = PageEntry(text, "https://ok.example/" + text[:10], datetime(2024, 1, 1, tzinfo=UTC),
                      text, text)
    data = render_feed_page(Channel(name="c", title=text, description=text), [entry],
                            site_title=text)
    assert_self_contained(data)


def test_the_page_shows_at_most_its_number_of_items() -> None:
    entries = [PageEntry(f"T{n}", None, None, "", "") for n in range(PAGE_ITEMS + 5)]
    tree = strict(render_feed_page(CHANNEL, entries, site_title="S"))
    assert len(list(elements(tree, "h3"))) == PAGE_ITEMS


@pytest.mark.parametrize(("fmt", "data"), [
    ("json", b"{not json"), ("atom", b"<feed"), ("rss", b"\x00\xff"), ("json", b"[]"),
])
def test_an_unreadable_document_is_a_value_error(fmt: str, data: bytes) -> None:
    with pytest.raises(ValueError):
        page_entries(fmt, data, 5)


def test_an_empty_feed_page_says_so() -> None:
    tree = strict(render_feed_page(CHANNEL, [], site_title="S"))
    assert "No items yet." in "".join(tree.itertext())


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_a_feeds_page_reads_its_document_only_as_far_as_its_items(fmt: str) -> None:
    """An every-item feed's document may hold 50,000 items: the page reads its first ones
    and stops (what follows them here is not even well-formed)."""
    if fmt == "atom":
        head = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        item = b"<entry><title>T%d</title><summary>S</summary></entry>"
    else:
        head = b"<rss version=\"2.0\"><channel><title>t</title>"
        item = b"<item><title>T%d</title><description>S</description></item>"
    body = head + b"".join(item % n for n in range(PAGE_ITEMS + 5)) + b"<broken" * 10_000
    entries = page_entries(fmt, body, PAGE_ITEMS)
    assert [e.title for e in entries] == [f"T{n}" for n in range(PAGE_ITEMS)]
    with pytest.raises(ValueError):  # read to the end, the same bytes are an error
        page_entries(fmt, body, 10 * PAGE_ITEMS)
