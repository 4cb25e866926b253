"""Zola's content folders (``layout = "zola"``): which files are pages, and their dates and
links as Zola makes them (its ``Page::parse``): a date in front matter, else in the file's
(a page bundle's folder's) name, whose rest is the slug; ``path`` in front matter is the
page's whole path; ``[taxonomies]`` give tags and categories.

A date in a permalink (``path = "2025/06/26/Rust-1.88.0"``) dates a page that has no other
date, as the Rust blog's own feed template does, before the file's mtime.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds import normalize
from feeds.normalize import ReadContext
from feeds.normalize.markdown import read_markdown
from feeds.sources import folder
from feeds.sources.layouts import Rules, detect

BASE = "https://blog.example/"
ZOLA = ReadContext(UTC, BASE, None, "zola")
SITES = Path(__file__).resolve().parents[2] / "shared" / "sites" / "rust-blog" / "content"

ZOLA_CONFIG = 'base_url = "https://blog.example"\ntitle = "A blog"\n'
SECTION = '+++\ntitle = "Blog"\nsort_by = "date"\ngenerate_feeds = true\n+++\n'
PAGE = '+++\ntitle = "T"\n+++\n\nBody.\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def read(key: str, text: str, mtime_ns: int | None = None) -> normalize.Article:
    return read_markdown(text.encode(), source="blog", key=key, context=ZOLA,
                         mtime_ns=mtime_ns)


# --------------------------------------------------------------------------- detection

def test_a_zola_site_is_known_by_base_url_in_its_config(tmp_path: Path) -> None:
    site = write(tmp_path / "site", {"config.toml": ZOLA_CONFIG, "content/a.md": PAGE})
    assert detect(site) == "zola"
    assert detect(site / "content") == "zola"


def test_hugos_config_toml_is_not_taken_for_zolas(tmp_path: Path) -> None:
    site = write(tmp_path / "site", {"config.toml": 'baseURL = "https://x.example/"\n',
                                     "content/a.md": PAGE})
    assert detect(site) == "hugo"


def test_a_bare_content_folder_is_known_by_a_zola_section(tmp_path: Path) -> None:
    content = write(tmp_path / "content", {"_index.md": SECTION, "a.md": PAGE})
    assert detect(content) == "zola"
    (content / "_index.md").write_text('+++\ntitle = "Blog"\n+++\n', encoding="utf-8")
    assert detect(content) == "plain"  # a title alone is anybody's


# --------------------------------------------------------------------------- which files

def test_zola_publishes_markdown_pages_not_sections_nor_bundle_assets(tmp_path: Path) -> None:
    site = write(tmp_path / "site", {
        "config.toml": ZOLA_CONFIG, "templates/page.html": "x", "content/_index.md": SECTION,
        "content/a.md": PAGE, "content/notes.html": "<h1>x</h1>", "content/b.rst": "T\n=\n",
        "content/blog/_index.md": SECTION, "content/blog/2024-01-02-c.md": PAGE,
        "content/blog/trip/index.md": PAGE, "content/blog/trip/extra.md": PAGE})
    rules = Rules.build(site)
    scan = folder.scan(site, normalize.suffixes(), rules)
    assert [f.key for f in scan.files] == [
        "content/a.md", "content/blog/2024-01-02-c.md", "content/blog/trip/index.md"]
    assert dict(scan.skipped) == {
        "templates/": "outside Zola's content/ folder",
        "content/_index.md": "a Zola section (list) page",
        "content/blog/_index.md": "a Zola section (list) page",
        "content/notes.html": "not a Zola content file (.html)",
        "content/b.rst": "not a Zola content file (.rst)",
        "content/blog/trip/extra.md": "a resource of the page bundle content/blog/trip/",
    }


# --------------------------------------------------------------------------- dates and links

def test_the_date_and_slug_come_from_a_dated_file_name() -> None:
    a = read("blog/2024-01-02_Hello World.md", '+++\ntitle = "Hello"\n+++\n\nBody.\n')
    assert a.published == datetime(2024, 1, 2, tzinfo=UTC)
    assert a.date_source == "filename"
    assert a.link == BASE + "blog/hello-world/"


def test_a_page_bundle_is_dated_and_named_by_its_folder() -> None:
    a = read("blog/2023-05-06-trip/index.md", '+++\ntitle = "Trip"\n+++\n\n![x](map.png)\n')
    assert a.published == datetime(2023, 5, 6, tzinfo=UTC)
    assert a.link == BASE + "blog/trip/"
    assert 'src="https://blog.example/blog/trip/map.png"' in a.content_html


def test_front_matter_date_and_slug_win() -> None:
    a = read("blog/2024-01-02-x.md",
             '+++\ntitle = "X"\ndate = 2020-03-04T05:06:07Z\nslug = "Über Post"\n+++\n\nB.\n')
    assert a.published == datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert a.date_source == "front-matter"
    assert a.link == BASE + "blog/uber-post/"


def test_path_is_the_whole_path_and_its_date_dates_an_undated_page() -> None:
    a = read("inside/x.md", '+++\ntitle = "X"\npath = "inside/2020/07/27/x"\n+++\n\nB.\n',
             mtime_ns=1_700_000_000 * 10**9)
    assert a.link == BASE + "inside/2020/07/27/x/"
    assert a.published == datetime(2020, 7, 27, tzinfo=UTC)
    assert a.date_source == "permalink"


def test_path_is_always_a_path_on_the_site_never_another_host() -> None:
    a = read("x.md", '+++\ntitle = "X"\npath = "https://evil.example/2020/01/01/x"\n+++\nB\n')
    assert a.link is not None and a.link.startswith(BASE)


def test_a_permalink_without_a_real_date_falls_back_to_the_mtime() -> None:
    for path in ("2020/13/40/x", "v2020/01/02x/y", "notes/x"):
        a = read("x.md", f'+++\ntitle = "X"\npath = "{path}"\n+++\n\nB.\n',
                 mtime_ns=1_700_000_000 * 10**9)
        assert a.date_source == "mtime", path


def test_taxonomies_give_tags_and_categories() -> None:
    a = read("x.md", '+++\ntitle = "X"\ndate = 2024-01-01\n[taxonomies]\n'
                     'tags = ["rust", "async"]\ncategories = ["Release"]\n+++\n\nB.\n')
    assert a.categories == ("Release",)
    assert a.tags == ("Release", "rust", "async")


def test_a_draft_is_not_published() -> None:
    a = read("x.md", '+++\ntitle = "X"\ndraft = true\n+++\n\nB.\n')
    assert a.draft


# --------------------------------------------------------------------------- the Rust blog

@pytest.mark.skipif(not SITES.is_dir(), reason="../shared/sites (the Rust blog) is absent")
def test_the_rust_blog_is_read_as_zola_with_every_post_dated_and_linked() -> None:
    """750 posts that carry their date only in ``path``: none falls back to the mtime,
    and every link is the blog's own URL for the post."""
    rules = Rules.build(SITES)
    assert rules.layout == "zola"
    scan = folder.scan(SITES, normalize.suffixes(), rules)
    assert dict(scan.skipped).get("_index.md") == "a Zola section (list) page"
    sources: dict[str, int] = {}
    ctx = ReadContext(UTC, "https://blog.rust-lang.org/", None, "zola")
    read_count = 0
    for f in scan.files:
        data = (SITES / f.key).read_bytes()
        if b"\ntitle" not in data[:400]:
            continue  # a template's page without a title (releases/latest.md)
        a = read_markdown(data, source="rust", key=f.key, context=ctx,
                          mtime_ns=os.stat(SITES / f.key).st_mtime_ns)
        read_count += 1
        sources[a.date_source or "none"] = sources.get(a.date_source or "none", 0) + 1
        assert a.link is not None and a.published is not None
        assert a.link.removeprefix("https://blog.rust-lang.org/").startswith(
            a.published.strftime("%Y/%m/%d/")) or "/" + a.published.strftime(
            "%Y/%m/%d/") in a.link, (f.key, a.link, a.published)
    assert read_count >= 700
    assert "mtime" not in sources


# --------------------------------------------------------------------------- feeds inspect

def inspect(path: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feeds", "inspect", "--json", *extra,
                           str(path)], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_inspect_reads_a_file_of_a_site_with_the_sites_layout(tmp_path: Path) -> None:
    """Without a config, the site's own files (here Zola's) tell how ``feeds build`` would
    read the file: its date and slug come from the bundle's name, not the mtime."""
    site = write(tmp_path / "site", {
        "config.toml": ZOLA_CONFIG, "content/_index.md": SECTION,
        "content/blog/2023-05-06-trip/index.md": '+++\ntitle = "Trip"\n+++\n\nBody.\n'})
    result = inspect(site / "content/blog/2023-05-06-trip/index.md", tmp_path)
    data = json.loads(result.stdout)
    assert (data["published_at"], data["date_source"]) == ("2023-05-06T00:00:00+00:00",
                                                           "filename")
    assert result.stderr == ""


def test_inspect_says_when_the_build_leaves_the_file_out(tmp_path: Path) -> None:
    site = write(tmp_path / "site", {"config.toml": ZOLA_CONFIG, "content/_index.md": SECTION})
    result = inspect(site / "content/_index.md", tmp_path)
    assert result.returncode == 0  # it is still shown as it would read
    assert result.stderr.strip() == ("feeds: note: _index.md: feeds build leaves it "
                                     "out (zola layout): a Zola section (list) page")


def test_inspect_uses_the_layout_and_link_pattern_of_the_source_that_holds_the_file(
        tmp_path: Path) -> None:
    site = write(tmp_path / "site", {
        "config.toml": ZOLA_CONFIG,
        "content/blog/2024-01-02-hello.md": '+++\ntitle = "Hello"\n+++\n\nBody.\n'})
    (tmp_path / "feeds.toml").write_text(
        '[site]\ntitle = "t"\nlink = "https://blog.example/"\n'
        'base_url = "https://blog.example/"\n'
        f'[[sources]]\nname = "blog"\nkind = "folder"\npath = "{site}"\n'
        '[[feeds]]\nname = "all"\ntitle = "all"\n', encoding="utf-8")
    result = inspect(site / "content/blog/2024-01-02-hello.md", tmp_path,
                     "-c", str(tmp_path / "feeds.toml"))
    assert json.loads(result.stdout)["link"] == "https://blog.example/blog/hello/"


def test_inspect_of_a_symlink_loop_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    result = inspect(tmp_path / "a.md", tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"feeds: {tmp_path / 'a.md'}: ")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
