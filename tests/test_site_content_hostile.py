"""Real site content a new user brings, and hostile metadata: each case here was found by
building real sites (Jekyll's news posts, Pelican's sample and test content, the Rust blog,
the OpenTelemetry blog) and comparing with what their generator publishes."""

from __future__ import annotations

from pathlib import Path

from feeds import config as config_module
from feeds.normalize.siteread import authors_of
from feeds.pipeline import build
from tests.conftest import NOW
from tests.test_folder_layouts_build import make_site, post, titles


def pelican_post(title: str, extra: str = "") -> str:
    return f"Title: {title}\nDate: 2024-01-01\n{extra}\nBody of {title}.\n"


def test_pelican_reads_every_markdown_suffix_it_claims(tmp_path: Path) -> None:
    # Pelican's Markdown reader takes .md, .markdown, .mkd and .mdown (Hugo .mdown too)
    toml = make_site(tmp_path, {"pelicanconf.py": "", "content/a.md": pelican_post("A"),
                                "content/b.mkd": pelican_post("B"),
                                "content/c.mdown": pelican_post("C")})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert titles(toml) == ["A", "B", "C"]
    assert dict(report.skips) == {"pelicanconf.py": "no reader for .py files"}


def test_pelican_status_skip_is_never_published(tmp_path: Path) -> None:
    # Pelican's reader drops "Status: skip" files before any generator sees them
    toml = make_site(tmp_path, {"pelicanconf.py": "", "content/a.md": pelican_post("A"),
                                "content/s.md": pelican_post("Skipped", "Status: skip\n")})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert titles(toml) == ["A"]
    assert report.not_published == [("content/s.md", "Status: skip")]


def test_authors_written_as_markdown_links_with_their_affiliation() -> None:
    # the OpenTelemetry blog's form: "[Name](url) (Company)", several joined by "," / "and"
    def names(value: str) -> list[tuple[str, str | None]]:
        return [(a.name, a.url) for a in authors_of({"author": value}, "https://example.org/")]

    assert names("[Alex Boten](https://github.com/codeboten) (Honeycomb)") == [
        ("Alex Boten (Honeycomb)", "https://github.com/codeboten")]
    assert names("[Debajit Das](https://github.com/debajitdas), [Kumar Pratyus]"
                 "(https://github.com/kpratyus) and [Severin Neumann](https://github.com/svrnm)"
                 ) == [("Debajit Das", "https://github.com/debajitdas"),
                       ("Kumar Pratyus", "https://github.com/kpratyus"),
                       ("Severin Neumann", "https://github.com/svrnm")]
    assert names("[Patrice Chalin](https://github.com/chalin) ([CNCF](https://www.cncf.io/))"
                 ) == [("Patrice Chalin (CNCF)", "https://github.com/chalin")]
    # a plain name is one author, commas and all (Hugo's author is one string)
    assert names("Ann Lee (X, Inc.)") == [("Ann Lee (X, Inc.)", None)]
    assert names("[Ann Lee](/about/)") == [("Ann Lee", "https://example.org/about/")]
    # hostile: long runs of spaces and separators cost linear time, and never an error
    assert len(names("[A](https://a.example)" + " " * 200_000 + "and [B](https://b.example)")) \
        == 2
    assert names("[A](https://a.example)" + ",;" * 50_000) == [("A", "https://a.example")]


def test_a_jekyll_posts_folder_linked_to_another_folder_publishes_its_posts(
        tmp_path: Path) -> None:
    # "_posts -> archive": the folder is a page folder as "archive/" and the posts as
    # "_posts/"; it was walked once, by name order, and its posts lost when "archive" came
    # first ("folder already visited (symlink cycle)", a rejection: exit 1)
    toml = make_site(tmp_path, {"_config.yml": "", "archive/2020-01-01-a.md": post("A"),
                                "_drafts/x.md": post("Draft")})
    (tmp_path / "site" / "_posts").symlink_to("archive")
    (tmp_path / "site" / "zz").symlink_to("archive")  # the same folder, seen the same way
    [report] = build(config_module.load(toml), now=NOW).sources
    assert titles(toml) == ["A"]
    assert report.rejected == 0
    assert dict(report.skips)["zz/"] == "the same folder as archive/"
