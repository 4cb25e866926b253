"""What a folder source publishes, by its layout, through a whole build: sections and
resources stay out, unpublished, scheduled and expired posts leave (and come) at the right
build, and every file left out is counted and, under ``-v``, named with its reason."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds import config as config_module
from feeds import normalize
from feeds.cli import main
from feeds.config import ConfigError
from feeds.daemon import Daemon
from feeds.model import Article, RawInput
from feeds.pipeline import build, status
from feeds.store import FolderState, MemoryStore, open_store
from feeds.systemd import Notifier
from tests.conftest import NOW

CONFIG = """
[site]
title = "T"
link = "https://example.org/"
base_url = "https://example.org/"
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "blog"
kind = "folder"
path = "site"
{extra}
[[feeds]]
name = "all"
title = "All"
"""


def post(title: str, date: str = "2024-01-01", extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n\nBody of {title}.\n"


def make_site(tmp_path: Path, files: dict[str, str], extra: str = "") -> Path:
    for name, text in files.items():
        path = tmp_path / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return tmp_path / "feeds.toml"


def titles(toml: Path) -> list[str]:
    feed = json.loads((toml.parent / "public" / "all" / "feed.json").read_text())
    return sorted(item["title"] for item in feed["items"])


HUGO = {"hugo.toml": "title = 'x'\n", "content/_index.md": post("Home"),
        "content/posts/_index.md": post("Blog"), "content/posts/a.md": post("A"),
        "content/posts/b/index.md": post("B"), "content/posts/b/notes.md": post("Notes"),
        "README.md": post("Readme")}


def test_a_hugo_site_publishes_its_regular_pages_only(tmp_path: Path) -> None:
    toml = make_site(tmp_path, HUGO)
    [report] = build(config_module.load(toml), now=NOW).sources
    assert titles(toml) == ["A", "B"]
    assert report.layout == "hugo"
    assert dict(report.skips) == {
        "content/_index.md": "a Hugo section (list) page",
        "content/posts/_index.md": "a Hugo section (list) page",
        "content/posts/b/notes.md": "a resource of the page bundle content/posts/b/",
        "README.md": "not an article (a repository file)",
        "hugo.toml": "no reader for .toml files",
    }


def test_a_page_published_before_the_layout_existed_leaves_when_the_layout_skips_it(
        tmp_path: Path) -> None:
    toml = make_site(tmp_path, HUGO, 'layout = "plain"')
    build(config_module.load(toml), now=NOW)
    assert "Blog" in titles(toml)
    make_site(tmp_path, {}, 'layout = "hugo"')
    build(config_module.load(toml), now=NOW + timedelta(hours=1))
    assert titles(toml) == ["A", "B"]


def test_a_scheduled_hugo_post_appears_at_the_first_build_after_its_date(
        tmp_path: Path) -> None:
    toml = make_site(tmp_path, {**HUGO, "content/posts/later.md": post("Later", "2026-12-01")})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert ("content/posts/later.md", "scheduled for 2026-12-01T00:00:00Z") \
        in report.not_published
    assert report.wake_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert "Later" not in titles(toml)
    # not stored, so read again at each build: once its time has come, it is published
    [report] = build(config_module.load(toml), now=datetime(2026, 12, 1, 0, 1, tzinfo=UTC)).sources
    assert "Later" in titles(toml)
    assert report.read == 1 and report.not_published == []


def test_pelican_publishes_future_dated_articles_as_its_default_says(tmp_path: Path) -> None:
    toml = make_site(tmp_path, {"pelicanconf.py": "", "content/a.md": post("A"),
                                "content/later.md": post("Later", "2026-12-01")})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert report.layout == "pelican" and report.not_published == []
    # (stored; the feed shows no item before its date, for every source)
    build(config_module.load(toml), now=datetime(2026, 12, 2, tzinfo=UTC))
    assert titles(toml) == ["A", "Later"]


def _marking(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """The readers, with ``changes`` made to the article of any file whose body holds
    ``MARK`` (what a reader of the generator's metadata sets: R's side of the contract)."""
    real = normalize.read

    def read(raw: RawInput, context: normalize.ReadContext) -> Article:
        article = real(raw, context)
        return dataclasses.replace(article, **changes) if b"MARK" in raw.data else article

    monkeypatch.setattr(normalize, "read", read)


def test_an_article_its_author_unpublishes_leaves_the_feed_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _marking(monkeypatch, unpublished="Status: hidden")
    toml = make_site(tmp_path, {"pelicanconf.py": "", "content/a.md": post("A"),
                                "content/b.md": post("B")})
    build(config_module.load(toml), now=NOW)
    assert titles(toml) == ["A", "B"]
    (tmp_path / "site" / "content" / "b.md").write_text(post("B") + "MARK\n")
    [report] = build(config_module.load(toml), now=NOW + timedelta(hours=1)).sources
    assert titles(toml) == ["A"]
    assert report.not_published == [("content/b.md", "Status: hidden")]
    assert len(report.changes.removed) == 1 if report.changes else False


def test_an_expiring_article_leaves_at_the_first_build_after_expiry_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _marking(monkeypatch, expires=NOW + timedelta(days=1))
    toml = make_site(tmp_path, {**HUGO, "content/posts/e.md": post("E") + "MARK\n"})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert "E" in titles(toml) and report.wake_at == NOW + timedelta(days=1)
    [report] = build(config_module.load(toml), now=NOW + timedelta(hours=12)).sources
    assert report.read == 0  # before its expiry, an unchanged file is not read again
    [report] = build(config_module.load(toml), now=NOW + timedelta(days=2)).sources
    assert report.read == 1 and "E" not in titles(toml)
    assert report.not_published == [("content/posts/e.md", "expired on 2026-11-24T12:00:00Z")]


def test_status_shows_each_folders_layout_and_skip_counts(tmp_path: Path) -> None:
    toml = make_site(tmp_path, {**HUGO, "content/posts/draft.md": post("D", extra="draft: true\n")})
    config = config_module.load(toml)
    assert "not scanned yet" in status(config, now=NOW).lines[0]
    build(config, now=NOW)
    [line] = status(config, now=NOW).lines
    assert line.endswith("2 articles, layout hugo (auto), 5 files skipped, 1 not published")


def test_verbose_build_names_every_skipped_file_with_its_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = make_site(tmp_path, {**HUGO, "content/posts/draft.md": post("D", extra="draft: true\n")})
    assert main(["build", "--config", str(toml)]) == 0
    assert "skipped" not in capsys.readouterr().err
    assert main(["build", "-v", "--config", str(toml)]) == 0
    err = capsys.readouterr().err
    assert "feeds: blog: content/posts/_index.md: skipped: a Hugo section (list) page\n" in err
    assert "feeds: blog: content/posts/draft.md: not published: draft\n" in err
    assert "feeds: blog (hugo layout): 5 files skipped, 1 not published\n" in err


def test_globs_that_leave_out_every_file_say_so_without_v(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = make_site(tmp_path, {"a.md": post("A")}, 'include = ["*.rst"]')
    assert main(["build", "--config", str(toml)]) == 0
    assert "feeds: source blog: nothing to read: the plain layout and the include/exclude " \
           "globs leave out all 1 files" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    ('layout = "jekyl"', "sources[0].layout: must be one of 'auto', 'jekyll', 'hugo', 'zola', "
                         "'pelican', 'plain', got 'jekyl'"),
    ("layout = 3", "sources[0].layout: must be one of"),
    ('include = [""]', "sources[0].include: '': must not be empty"),
    ('exclude = ["../x"]', "sources[0].exclude: '../x': must be a path inside the folder"),
    ("exclude = 3", "sources[0].exclude: must be a list of strings"),
])
def test_bad_layout_keys_are_named_with_source_and_key(
        tmp_path: Path, extra: str, message: str) -> None:
    toml = make_site(tmp_path, {"a.md": post("A")}, extra)
    with pytest.raises(ConfigError) as caught:
        config_module.load(toml)
    assert message in str(caught.value)


def test_layout_is_a_folder_key_only(tmp_path: Path) -> None:
    toml = tmp_path / "feeds.toml"
    toml.write_text(CONFIG.format(extra="").replace(
        'kind = "folder"\npath = "site"', 'kind = "feed"\nurl = "https://example.org/f"\n'
        'layout = "hugo"'))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.layout: unknown key"):
        config_module.load(toml)


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_the_store_keeps_a_folders_state_until_the_source_is_forgotten(
        tmp_path: Path, kind: str) -> None:
    store = open_store(tmp_path / "s.db") if kind == "sqlite" else MemoryStore()
    assert store.folder_state("blog") is None
    state = FolderState(3, 1, {"a.md": "2026-11-24T12:00:00.000000Z"})
    store.set_folder_state("blog", state)
    store.set_folder_state("other", FolderState())
    assert store.folder_state("blog") == state
    store.forget_source("blog")
    assert store.folder_state("blog") is None and store.folder_state("other") == FolderState()
    store.close()


class _Scheduler:
    def __init__(self) -> None:
        self.jobs: dict[str, datetime] = {}

    def add_job(self, func: object, trigger: str, *, run_date: datetime, id: str,
                **_: object) -> None:
        self.jobs[id] = run_date


def test_the_service_wakes_up_when_the_earliest_post_is_due(tmp_path: Path) -> None:
    toml = make_site(tmp_path, HUGO)
    daemon = Daemon(toml, config_module.load(toml), notifier=Notifier(None), clock=lambda: NOW)
    daemon.scheduler = _Scheduler()
    daemon._wake("blog", NOW + timedelta(days=2))
    daemon._wake("blog", NOW + timedelta(days=3))  # later: the earlier one stays
    daemon._wake("blog", NOW - timedelta(days=1))  # passed: nothing to wait for
    assert daemon.scheduler.jobs == {"wake blog": NOW + timedelta(days=2)}
    daemon._wake("blog", NOW + timedelta(days=1))
    assert daemon.scheduler.jobs == {"wake blog": NOW + timedelta(days=1)}
