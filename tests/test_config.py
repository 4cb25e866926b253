"""The configuration: validated, every problem reported at once, each naming its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feeds import config
from feeds.errors import ConfigError

MINIMAL = """
[site]
title = "T"
[[sources]]
name = "news"
kind = "folder"
path = "articles"
[[feeds]]
name = "all"
title = "All"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "articles").mkdir(exist_ok=True)
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(config.ConfigProblems) as info:
        config.load(write(tmp_path, text))
    return info.value.problems


def test_minimal_config_gets_defaults_and_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, MINIMAL))
    assert cfg.sources[0].path == (tmp_path / "articles").resolve()
    assert cfg.store_path == (tmp_path.parent / "state" / "feeds.db").resolve()
    assert cfg.output_dir == (tmp_path.parent / "public").resolve()
    feed = cfg.feeds[0]
    assert feed.formats == ("rss", "atom", "json")
    assert feed.limit == 50
    assert cfg.feed_sources(feed) == ("news",)


def test_unknown_keys_are_errors_that_name_the_key(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL.replace('title = "T"', 'title = "T"\ntitel = "x"'))
    assert found == ["site.titel: unknown key (did you mean 'title'?)"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL + """
[[sources]]
name = "news"
kind = "carrier-pigeon"
[[feeds]]
name = "bad name!"
sources = ["nowhere"]
formats = ["rss", "gopher"]
limit = 0
"""
    found = problems(tmp_path, text)
    joined = "\n".join(found)
    assert "sources[1].kind: must be one of folder, feed, opml, got 'carrier-pigeon'" in joined
    assert "sources[1].name: duplicate name 'news'" in joined
    assert "feeds[1].name: 'bad name!' must be letters" in joined
    assert "feeds[1].sources: unknown source 'nowhere'" in joined
    assert "feeds[1].formats: unknown format 'gopher'" in joined
    assert "feeds[1].limit: must be between 1 and 100000, got 0" in joined
    assert len(found) >= 6


def test_the_error_message_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "\n[output]\ndir = 3\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(path) in str(info.value)
    assert "output.dir: must be a string, got an integer" in str(info.value)


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[site\n")
    with pytest.raises(ConfigError, match=r"feeds.toml: invalid TOML: .*line 1"):
        config.load(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.toml")


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL.replace('path = "articles"', 'path = "missing"'))
    assert found[0].startswith("sources[0].path: folder not found")


def test_resolution_order_is_flag_then_environment_then_default() -> None:
    assert config.resolve_path("a.toml", {"FEEDS_CONFIG": "b.toml"}) == Path("a.toml")
    assert config.resolve_path(None, {"FEEDS_CONFIG": "b.toml"}) == Path("b.toml")
    assert config.resolve_path(None, {}) == Path("config/feeds.toml")


def test_site_settings_are_checked(tmp_path: Path) -> None:
    text = MINIMAL.replace('title = "T"', 'title = "T"\ntimezone = "Mars/Olympus"\n'
                                          'base_url = "example.org"\nlanguage = "english!"')
    found = "\n".join(problems(tmp_path, text))
    assert "site.timezone: unknown time zone 'Mars/Olympus'" in found
    assert "site.base_url: must be an absolute http(s) URL" in found
    assert "site.language: must be a language tag" in found


def test_base_url_gets_a_trailing_slash(tmp_path: Path) -> None:
    text = MINIMAL.replace('title = "T"', 'title = "T"\nbase_url = "https://ex.org/feeds"')
    assert config.load(write(tmp_path, text)).site.base_url == "https://ex.org/feeds/"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", timedelta(minutes=15)), ("2h", timedelta(hours=2)), ("90", timedelta(seconds=90)),
     ("1d", timedelta(days=1)), ("0.5h", timedelta(minutes=30))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert config.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "-5m", "0s", "5 parsecs"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        config.parse_duration(text)


def test_sizes() -> None:
    assert config.parse_size("5 MiB") == 5 * 1024 * 1024
    assert config.parse_size("500kb") == 500_000
    assert config.parse_size(1234) == 1234
    with pytest.raises(ValueError):
        config.parse_size("lots")


def test_the_bundled_config_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    cfg = config.load(root / "config" / "feeds.toml")
    assert [s.name for s in cfg.sources] == ["seeds"]
    assert cfg.output_dir == root / "public"
