"""A feed's ``content = "full" | "summary"``: a summary feed carries each item's summary
and no text of its own; the same items, ids and links as the full feed of the same posts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest

from feeds import config as config_module
from feeds.config import Config
from feeds.errors import ConfigError
from feeds.pipeline import build
from tests.conftest import NOW

CONFIG = """
[site]
title = "Blog"
link = "https://blog.example/"
base_url = "https://blog.example/"
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "posts"
kind = "folder"
path = "posts"
link_pattern = "{{slug}}/"
[[feeds]]
name = "full"
title = "Full"
[[feeds]]
name = "short"
title = "Short"
content = "{mode}"
"""

POST = """---
title: Post {n}
date: 2024-05-0{n}
summary: The short story of post {n}.
---
The whole text of post {n}, which only the full feed carries.

A second paragraph with *emphasis*.
"""


def site(tmp_path: Path, mode: str = "summary") -> Config:
    posts = tmp_path / "posts"
    posts.mkdir(exist_ok=True)
    for n in (1, 2, 3):
        (posts / f"p{n}.md").write_text(POST.format(n=n), encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(CONFIG.format(mode=mode), encoding="utf-8")
    return config_module.load(tmp_path / "feeds.toml")


def parsed(tmp_path: Path, feed: str, name: str) -> Any:
    return feedparser.parse((tmp_path / "public" / feed / name).read_bytes())


def test_a_summary_feed_carries_summaries_and_no_text(tmp_path: Path) -> None:
    build(site(tmp_path), now=NOW)
    for name in ("rss.xml", "atom.xml"):
        full, short = parsed(tmp_path, "full", name), parsed(tmp_path, "short", name)
        assert short.bozo == 0 and full.bozo == 0
        assert [e.id for e in short.entries] == [e.id for e in full.entries]
        assert [e.link for e in short.entries] == [e.link for e in full.entries]
        for entry in short.entries:
            assert entry.summary.startswith("The short story of post")
            # Atom never leaves an entry without <content>: it repeats the summary there
            assert [c.value for c in entry.get("content", [])] in ([], [entry.summary]), name
        assert all("The whole text" in e.content[0].value for e in full.entries), name
    items = json.loads((tmp_path / "public/short/feed.json").read_bytes())["items"]
    assert all("content_html" not in i and i["summary"].startswith("The short story")
               for i in items)
    assert "The whole text" not in (tmp_path / "public/short/rss.xml").read_text()


def test_switching_a_feed_to_summary_and_back_renders_it_again(tmp_path: Path) -> None:
    build(site(tmp_path, "full"), now=NOW)
    before = (tmp_path / "public/short/atom.xml").read_bytes()
    assert b"The whole text" in before
    build(site(tmp_path, "summary"), now=NOW)
    assert b"The whole text" not in (tmp_path / "public/short/atom.xml").read_bytes()
    build(site(tmp_path, "full"), now=NOW)
    assert (tmp_path / "public/short/atom.xml").read_bytes() == before


def test_the_summary_feed_fingerprints_the_stored_article(tmp_path: Path) -> None:
    """Recovery matches items by fingerprint: a summary feed keeps the article's own."""
    build(site(tmp_path), now=NOW)
    full = json.loads((tmp_path / "public/full/feed.json").read_bytes())["items"]
    short = json.loads((tmp_path / "public/short/feed.json").read_bytes())["items"]
    assert [i["_feeds"] for i in short] == [i["_feeds"] for i in full]


def test_an_unknown_content_mode_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"feeds\[1\]\.content.*'full', 'summary'.*'teaser'"):
        site(tmp_path, "teaser")


def test_the_rss_of_a_summary_feed_has_no_content_encoded(tmp_path: Path) -> None:
    build(site(tmp_path), now=NOW)
    root = ElementTree.parse(tmp_path / "public/short/rss.xml").getroot()
    encoded = "{http://purl.org/rss/1.0/modules/content/}encoded"
    assert root.findall(f"channel/item/{encoded}") == []
    assert len(root.findall("channel/item/description")) == 3
