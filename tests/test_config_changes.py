"""Configuration changes reach published items, and links of one folder never collide.

A real build (``feeds.pipeline.build``) over a folder of Markdown posts: changing
``site.base_url`` or ``link_pattern`` re-derives every item at the next build with
unchanged ids; a no-op rebuild still reads nothing; two posts that share a title both
stay, with distinct links and the collision reported.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds import config as config_module
from feeds.config import Config
from feeds.pipeline import build
from feeds.pipeline.service import sources_changed
from tests.conftest import NOW

POST = """---
title: {title}
date: {date}
---
A post with ![a photo](photo.png) and [a link](/about/).
"""

CONFIG = """
[site]
title = "Blog"
link = "{base}"
base_url = "{base}"
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "posts"
kind = "folder"
path = "posts"
{extra}
[[feeds]]
name = "all"
title = "All"
"""


def configure(site: Path, base: str = "https://old.example/", extra: str = "") -> Config:
    (site / "feeds.toml").write_text(CONFIG.format(base=base, extra=extra), encoding="utf-8")
    return config_module.load(site / "feeds.toml")


def post(site: Path, name: str, title: str, date: str = "2024-05-01") -> None:
    path = site / "posts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(POST.format(title=title, date=date), encoding="utf-8")


def items(site: Path) -> dict[str, dict[str, Any]]:
    feed = json.loads((site / "public" / "all" / "feed.json").read_text(encoding="utf-8"))
    return {item["title"]: item for item in feed["items"]}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for n in range(3):
        post(tmp_path, f"2024/post-{n}.md", f"Post {n}", f"2024-05-0{n + 1}")
    return tmp_path


def test_a_new_base_url_moves_every_link_and_url_and_keeps_every_id(site: Path) -> None:
    build(configure(site, extra='link_pattern = "{year}/{slug}/"'), now=NOW)
    before = items(site)
    assert before["Post 1"]["url"] == "https://old.example/2024/post-1/"

    report = build(configure(site, "https://new.example/blog/",
                             extra='link_pattern = "{year}/{slug}/"'), now=NOW + timedelta(1))
    after = items(site)
    assert report.sources[0].read == 3
    assert {t: i["id"] for t, i in after.items()} == {t: i["id"] for t, i in before.items()}
    for title, item in after.items():
        assert item["url"].startswith("https://new.example/blog/2024/"), title
        html = item["content_html"]
        assert "old.example" not in html, title
        assert "https://new.example/blog/" in html, title


def test_after_the_change_a_rebuild_reads_nothing_again(site: Path) -> None:
    build(configure(site), now=NOW)
    assert build(configure(site), now=NOW).sources[0].read == 0
    changed = build(configure(site, "https://new.example/"), now=NOW)
    assert (changed.sources[0].read, changed.sources[0].skipped) == (3, 0)
    again = build(configure(site, "https://new.example/"), now=NOW)
    assert (again.sources[0].read, again.sources[0].skipped) == (0, 3)


def test_a_new_link_pattern_reaches_stored_items(site: Path) -> None:
    build(configure(site, extra='link_pattern = "{slug}.html"'), now=NOW)
    ids = {t: i["id"] for t, i in items(site).items()}
    build(configure(site, extra='link_pattern = "{year}/{month}/{day}/{slug}/"'), now=NOW)
    after = items(site)
    assert after["Post 2"]["url"] == "https://old.example/2024/05/03/post-2/"
    assert {t: i["id"] for t, i in after.items()} == ids


def test_a_schedule_change_reads_nothing(site: Path) -> None:
    build(configure(site), now=NOW)
    assert build(configure(site, extra='every = "2h"'), now=NOW).sources[0].read == 0


def test_two_posts_sharing_a_title_both_stay_with_distinct_links(tmp_path: Path) -> None:
    post(tmp_path, "a.md", "Weekly notes")
    post(tmp_path, "b.md", "Weekly notes")
    report = build(configure(tmp_path, extra='link_pattern = "{slug}/"'), now=NOW)
    feed = json.loads((tmp_path / "public" / "all" / "feed.json").read_text(encoding="utf-8"))
    links = sorted(i["url"] for i in feed["items"])
    assert links == ["https://old.example/weekly-notes-2/", "https://old.example/weekly-notes/"]
    collisions = report.sources[0].collisions
    assert [key for key, _ in collisions] == ["b.md"]
    assert "a.md" in collisions[0][1] and "weekly-notes-2/" in collisions[0][1]


def test_a_new_file_colliding_with_a_stored_one_never_takes_its_link(tmp_path: Path) -> None:
    post(tmp_path, "m.md", "Weekly notes")
    build(configure(tmp_path, extra='link_pattern = "{slug}/"'), now=NOW)
    post(tmp_path, "a.md", "Weekly notes")  # sorts first, but comes later
    report = build(configure(tmp_path, extra='link_pattern = "{slug}/"'), now=NOW)
    assert report.sources[0].read == 1
    feed = json.loads((tmp_path / "public" / "all" / "feed.json").read_text(encoding="utf-8"))
    by_file = {i["url"] for i in feed["items"]}
    assert by_file == {"https://old.example/weekly-notes/", "https://old.example/weekly-notes-2/"}
    assert [key for key, _ in report.sources[0].collisions] == ["a.md"]
    # the next full re-read (a new base URL) keeps who holds what
    build(configure(tmp_path, "https://new.example/", 'link_pattern = "{slug}/"'), now=NOW)
    build(configure(tmp_path, "https://new.example/", 'link_pattern = "{slug}/"'), now=NOW)
    feed = json.loads((tmp_path / "public" / "all" / "feed.json").read_text(encoding="utf-8"))
    assert len({i["url"] for i in feed["items"]}) == 2


def test_a_reload_with_a_new_base_url_ingests_the_folders(site: Path) -> None:
    old = configure(site)
    new = configure(site, "https://new.example/")
    assert sources_changed(old, new) == (["posts"], [])
    assert sources_changed(old, configure(site)) == ([], [])
