"""What a folder source reads, by its layout and globs: the scan's side (``feeds.sources``).

Each layout follows its generator's documented defaults (see ``feeds.sources.layouts``);
every file left out is named with a reason, never dropped silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feeds import normalize
from feeds.sources import folder
from feeds.sources.layouts import Rules, detect, glob_problem, glob_regex


def make(root: Path, *paths: str) -> Path:
    for path in paths:
        target = root / path
        if path.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("---\ntitle: T\n---\n\nBody.\n", encoding="utf-8")
    return root


def scanned(root: Path, layout: str = "auto", include: tuple[str, ...] = (),
            exclude: tuple[str, ...] = ()) -> tuple[list[str], dict[str, str]]:
    """(the keys read, {key skipped: reason})."""
    rules = Rules.build(root, layout, include, exclude)
    scan = folder.scan(root, normalize.suffixes(), rules)
    return [f.key for f in scan.files], dict(scan.skipped)


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(("files", "expected"), [
    (("_config.yml", "_posts/2024-01-01-a.md"), "jekyll"),
    (("_posts/2024-01-01-a.md",), "jekyll"),
    (("hugo.toml", "content/posts/a.md"), "hugo"),
    (("config.toml", "content/posts/a.md"), "hugo"),
    (("config.toml", "archetypes/default.md"), "hugo"),
    (("config/_default/hugo.toml", "content/a.md"), "hugo"),
    (("pelicanconf.py", "content/a.md"), "pelican"),
    (("content/a.rst",), "pelican"),
    (("config.toml", "notes/a.md"), "plain"),  # a config.toml alone is anybody's
    (("a.md", "b.txt"), "plain"),
])
def test_the_layout_is_detected_from_the_generators_own_files(
        tmp_path: Path, files: tuple[str, ...], expected: str) -> None:
    assert detect(make(tmp_path / "site", *files)) == expected


def test_a_pelican_content_folder_is_known_by_its_title_headers(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "content" / "a.md").write_text("Title: Hello\nDate: 2024-01-01\n\nBody.\n")
    assert detect(site) == "pelican"
    (site / "content" / "a.md").write_text("# Hello\n\nBody.\n")
    assert detect(site) == "plain"


def test_a_source_that_is_a_sites_content_folder_takes_the_sites_layout(
        tmp_path: Path) -> None:
    site = make(tmp_path / "site", "hugo.toml", "content/posts/a.md", "content/_index.md")
    assert detect(site / "content") == "hugo"
    read, skipped = scanned(site / "content")
    assert read == ["posts/a.md"]
    assert skipped == {"_index.md": "a Hugo section (list) page"}


# --------------------------------------------------------------------------- the layouts


def test_jekyll_publishes_dated_files_in_posts_folders_only(tmp_path: Path) -> None:
    site = make(tmp_path / "site", "_config.yml",
                "_posts/2024-01-05-first.md", "_posts/2024-1-5-one-digit.markdown",
                "_posts/2023/2023-12-31-nested.md", "blog/_posts/2024-02-01-category.md",
                "_posts/undated.md", "_drafts/2024-03-01-draft.md", "_site/index.html",
                "_layouts/post.html", "about.md", "index.html", "README.md",
                "node_modules/pkg/readme.md")
    read, skipped = scanned(site)
    assert read == ["_posts/2023/2023-12-31-nested.md", "_posts/2024-01-05-first.md",
                    "_posts/2024-1-5-one-digit.markdown", "blog/_posts/2024-02-01-category.md"]
    assert skipped == {
        "_posts/undated.md": "not named YEAR-MONTH-DAY-title as Jekyll posts must be",
        "_drafts/": "Jekyll drafts (not published)",
        "_site/": "Jekyll folder _site/ (not posts)",
        "_layouts/": "Jekyll folder _layouts/ (not posts)",
        "about.md": "a Jekyll page, not a post (not in a _posts folder)",
        "index.html": "a Jekyll page, not a post (not in a _posts folder)",
        "README.md": "not an article (a repository file)",
        "node_modules/": "excluded by Jekyll's defaults",
    }


def test_hugo_publishes_regular_pages_of_content_not_sections_resources_or_others(
        tmp_path: Path) -> None:
    site = make(tmp_path / "site", "hugo.toml", "README.md", "themes/t/layouts/x.html",
                "content/_index.md", "content/about.md", "content/posts/_index.md",
                "content/posts/a.md", "content/posts/b.markdown",
                "content/posts/bundle/index.md", "content/posts/bundle/notes.md",
                "content/posts/bundle/photo.png", "content/posts/bundle/more/deep.md",
                "content/posts/robots.txt", "content/posts/c.html")
    read, skipped = scanned(site)
    assert read == ["content/about.md", "content/posts/a.md", "content/posts/b.markdown",
                    "content/posts/bundle/index.md", "content/posts/c.html"]
    assert skipped == {
        "README.md": "not an article (a repository file)",
        "themes/": "outside Hugo's content/ folder",
        "content/_index.md": "a Hugo section (list) page",
        "content/posts/_index.md": "a Hugo section (list) page",
        "content/posts/bundle/notes.md": "a resource of the page bundle content/posts/bundle/",
        "content/posts/bundle/more/deep.md":
            "a resource of the page bundle content/posts/bundle/",
        "content/posts/robots.txt": "not an article (a repository file)",
    }


def test_pelican_publishes_articles_not_pages_nor_static_files(tmp_path: Path) -> None:
    site = make(tmp_path / "site", "pelicanconf.py", "Makefile", "content/a.md",
                "content/category/b.md", "content/pages/about.md",
                "content/extra/robots.txt", "content/images/pic.md", "content/notes.txt",
                "content/category/pages/c.md", "output/index.html")
    read, skipped = scanned(site)
    # (a "pages" folder deeper down is a category, not Pelican's PAGE_PATHS)
    assert read == ["content/a.md", "content/category/b.md", "content/category/pages/c.md"]
    assert skipped == {
        "content/pages/": "Pelican pages (pages/ are not articles)",
        "content/extra/": "Pelican static files (extra/)",
        "content/images/": "Pelican static files (images/)",
        "content/notes.txt": "not a Pelican content file (.txt)",
        "output/": "outside Pelican's content/ folder",
    }


def test_plain_reads_every_article_file_but_a_repositorys_own_files(tmp_path: Path) -> None:
    root = make(tmp_path / "data", "a.txt", "README.TXT", "LICENSE.md", "CHANGELOG.md",
                "robots.txt", "sub/readme.markdown", "news-of-the-day.md")
    read, skipped = scanned(root)
    assert read == ["a.txt", "news-of-the-day.md"]
    assert set(skipped) == {"README.TXT", "LICENSE.md", "CHANGELOG.md", "robots.txt",
                            "sub/readme.markdown"}
    assert set(skipped.values()) == {"not an article (a repository file)"}


def test_a_layout_forced_on_a_folder_of_another_generator_reads_what_its_rules_say(
        tmp_path: Path) -> None:
    site = make(tmp_path / "site", "hugo.toml", "content/posts/a.md")
    read, skipped = scanned(site, "jekyll")
    assert read == []
    assert skipped["content/posts/a.md"] == "a Jekyll page, not a post (not in a _posts folder)"
    read, _ = scanned(site, "plain")
    assert read == ["content/posts/a.md"]


# --------------------------------------------------------------------------- globs


def test_include_keeps_only_matching_files_and_exclude_names_its_pattern(
        tmp_path: Path) -> None:
    root = make(tmp_path / "data", "posts/a.md", "posts/2024/b.md", "posts/c.draft.md",
                "old/d.md", "posts/old/e.md", "top.md")
    read, skipped = scanned(root, "plain", include=("posts/**",),
                            exclude=("*.draft.md", "/old/"))
    assert read == ["posts/2024/b.md", "posts/a.md", "posts/old/e.md"]
    assert skipped == {"posts/c.draft.md": "excluded by '*.draft.md'",
                       "old/": "excluded by '/old/'", "top.md": "not matched by include"}


def test_a_glob_without_a_slash_matches_a_name_at_any_depth(tmp_path: Path) -> None:
    regex = glob_regex(["*.txt", "drafts/", "a/*/c.md", "x/**/y.md"])
    matching = ["n.txt", "deep/down/n.txt", "drafts/x.md", "deep/drafts/x.md", "a/b/c.md",
                "x/y.md", "x/1/2/y.md"]
    other = ["n.txt.md", "drafts.md", "a/b/b/c.md", "z/a/b/c.md", "x/y.mdx"]
    assert [p for p in matching if not regex.match(p)] == []
    assert [p for p in other if regex.match(p)] == []


def test_excluding_everything_reads_nothing_and_names_each_top_entry(tmp_path: Path) -> None:
    root = make(tmp_path / "data", "a.md", "sub/b.md")
    read, skipped = scanned(root, "plain", exclude=("*",))
    assert read == []
    assert skipped == {"a.md": "excluded by '*'", "sub/": "excluded by '*'"}


def test_an_include_that_matches_nothing_reads_nothing(tmp_path: Path) -> None:
    root = make(tmp_path / "data", "a.md", "sub/b.md")
    read, skipped = scanned(root, "plain", include=("*.rst",))
    assert read == []
    assert skipped == {"a.md": "not matched by include", "sub/b.md": "not matched by include"}


@pytest.mark.parametrize(("pattern", "problem"), [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("/", "matches nothing"),
    ("../elsewhere/*.md", "must be a path inside the folder"),
])
def test_a_bad_glob_is_refused_with_its_reason(pattern: str, problem: str) -> None:
    assert problem in (glob_problem(pattern) or "")


# --------------------------------------------------------------------------- hostile cases


def test_symlinks_are_judged_by_where_they_sit_not_where_they_lead(tmp_path: Path) -> None:
    site = make(tmp_path / "site", "_config.yml", "_posts/2024-01-01-a.md", "pages/p.md",
                "_drafts/2024-02-02-d.md")
    os.symlink(site / "pages" / "p.md", site / "_posts" / "2024-01-02-linked.md")
    os.symlink(site / "_posts", site / "_old")  # a link to _posts is a folder named _old
    os.symlink(site / "_drafts", site / "archive")  # drafts through a link: posts? no
    read, skipped = scanned(site)
    assert read == ["_posts/2024-01-01-a.md", "_posts/2024-01-02-linked.md"]
    assert skipped["_old/"] == "Jekyll folder _old/ (not posts)"
    assert skipped["archive/2024-02-02-d.md"] == \
        "a Jekyll page, not a post (not in a _posts folder)"
    assert skipped["_drafts/"] == "Jekyll drafts (not published)"


def test_a_partial_scan_judges_each_key_as_the_full_scan_does(tmp_path: Path) -> None:
    site = make(tmp_path / "site", "hugo.toml", "content/_index.md", "content/posts/a.md",
                "content/posts/b/index.md", "content/posts/b/extra.md", "themes/x.md",
                "content/posts/README.md")
    rules = Rules.build(site, "auto", (), ("content/posts/a.md",))
    suffixes = normalize.suffixes()
    full = folder.scan(site, suffixes, rules)
    keys = ["content/_index.md", "content/posts/a.md", "content/posts/b/index.md",
            "content/posts/b/extra.md", "themes/x.md", "content/posts/README.md"]
    partial = folder.scan_paths(site, keys, suffixes, rules)
    assert partial is not None
    scan, gone = partial
    assert [f.key for f in scan.files] == [f.key for f in full.files] == \
        ["content/posts/b/index.md"]
    skipped = dict(full.skipped)
    assert [key for key, _ in scan.skipped] == [
        "content/_index.md", "content/posts/README.md", "content/posts/a.md",
        "content/posts/b/extra.md", "themes/"]  # (the folder on the way, as the walk says)
    for key, reason in scan.skipped:
        assert reason == skipped[key], key
    assert gone == set(keys) - {"content/posts/b/index.md"}  # a stored one goes away


def test_a_news_article_is_not_taken_for_a_repositorys_news_file(tmp_path: Path) -> None:
    root = make(tmp_path / "data", "news.md", "history.txt", "NEWS.md", "HISTORY", "readme.md")
    read, skipped = scanned(root)
    assert read == ["history.txt", "news.md"]
    assert set(skipped) == {"NEWS.md", "readme.md"}  # (HISTORY has no reader: ignored)


def test_a_negated_set_stays_within_one_folder() -> None:
    # "[!a]" is one character of a name, never the "/" between folders (as "*" and "?")
    regex = glob_regex(["b[!a]x"])
    assert regex.match("bcx") and not regex.match("bax")
    assert not regex.match("b/x")
    assert not glob_regex(["posts/[!_]*.md"]).match("posts/x/y.md")
