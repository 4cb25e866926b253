"""``feeds add``: appending a feed source keeps every comment and byte of the file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from feeds.configedit import add_feed_source
from feeds.errors import ConfigError

CONFIG = """\
# My feeds  (a comment that must survive)
[site]
title = "Example"   # inline comment

[[sources]]
name = "notes"      # the folder
kind = "folder"
path = "notes"

# --- published feeds ---
[[feeds]]
name = "all"
title = "All"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_appends_and_keeps_comments(config: Path) -> None:
    name = add_feed_source(config, "https://www.example.com/feed.xml", None)
    assert name == "example.com"
    text = config.read_text(encoding="utf-8")
    assert text.startswith(CONFIG)  # not one byte of the original changed
    data = tomllib.loads(text)
    assert data["sources"][-1] == {
        "name": "example.com",
        "kind": "feed",
        "url": "https://www.example.com/feed.xml",
    }
    assert data["feeds"] == [{"name": "all", "title": "All"}]
    assert add_feed_source(config, "https://example.com/other.xml", None) == "example.com-2"
    assert add_feed_source(config, 'https://e.example/q?a="b"', "quoted") == "quoted"
    assert tomllib.loads(config.read_text())["sources"][-1]["url"] == 'https://e.example/q?a="b"'


def test_refuses_duplicates_and_bad_names(config: Path) -> None:
    add_feed_source(config, "https://example.com/feed.xml", "ex")
    before = config.read_text()
    with pytest.raises(ConfigError, match="already configured"):
        add_feed_source(config, "https://example.com/feed.xml", "other")
    with pytest.raises(ConfigError, match="already exists"):
        add_feed_source(config, "https://example.com/x.xml", "notes")
    for bad in ("", "-x", "has space", "a/b", "x" * 65):
        with pytest.raises(ConfigError, match="invalid source name"):
            add_feed_source(config, "https://example.com/x.xml", bad)
    for url in ("ftp://example.com/f", "example.com/feed", "file:///etc/passwd"):
        with pytest.raises(ConfigError, match="http"):
            add_feed_source(config, url, None)
    assert config.read_text() == before


def test_new_and_broken_files(tmp_path: Path) -> None:
    fresh = tmp_path / "new.toml"
    assert add_feed_source(fresh, "https://example.com/f", None) == "example.com"
    assert tomllib.loads(fresh.read_text())["sources"][0]["kind"] == "feed"
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\n")
    with pytest.raises(ConfigError, match="TOML"):
        add_feed_source(broken, "https://example.com/f", None)
    inline = tmp_path / "inline.toml"
    inline.write_text('sources = [{name = "a", kind = "folder", path = "x"}]\n')
    with pytest.raises(ConfigError, match="array of tables"):
        add_feed_source(inline, "https://example.com/f", None)
