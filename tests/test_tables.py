"""The three plug-in tables: ``publish.FORMATS``, ``normalize.READERS`` and
``sources.SOURCES``.  A new output format, reader kind or source kind is one module and
one table line: config validation, the pipeline's dispatch, the folder source, the server
and the index page read the table (the modules here live in ``tests/plugins``)."""

from __future__ import annotations

import json
import os
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from feeds import config as config_module
from feeds import normalize
from feeds.errors import ArticleError, ConfigError
from feeds.model import RawInput
from feeds.normalize import READERS, Reader
from feeds.pipeline import build, read_path, status
from feeds.publish import FORMATS, Format
from feeds.server.files import media_type_for
from feeds.sources import SOURCES, SourceKind
from tests.conftest import NOW, ONE_FOLDER_CONFIG


def site(tmp_path: Path, config: str = ONE_FOLDER_CONFIG) -> Path:
    (tmp_path / "articles").mkdir()
    article(tmp_path / "articles" / "a.txt", "Hello\n\nA body.\n")
    (tmp_path / "feeds.toml").write_text(config, encoding="utf-8")
    return tmp_path / "feeds.toml"


def article(path: Path, text: str) -> None:
    """An article file dated (by its mtime) a day before the build."""
    path.write_text(text, encoding="utf-8")
    moment = (NOW - timedelta(days=1)).timestamp()
    os.utime(path, (moment, moment))


def test_a_format_is_one_module_and_one_table_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FORMATS, "txt", Format("txt", "feed.txt", "text/plain", "Text",
                                               "tests.plugins.txt_format",
                                               item_updated=False, recover_rank=3))
    path = site(tmp_path, ONE_FOLDER_CONFIG + 'formats = ["txt", "rss"]\n')
    report = build(config_module.load(path), now=NOW)
    assert [f.name for f in report.feeds[0].written] == ["rss.xml", "feed.txt"]
    lines = (tmp_path / "public" / "all" / "feed.txt").read_text().splitlines()
    assert lines[0] == "# All (1)" and lines[1].endswith("\tHello")
    index = (tmp_path / "public" / "index.html").read_text()
    assert 'type="text/plain"' in index and ">Text</a>" in index
    assert media_type_for("feed.txt") == "text/plain; charset=utf-8"


def test_an_unknown_format_is_a_config_error_naming_the_table_formats(tmp_path: Path) -> None:
    path = site(tmp_path, ONE_FOLDER_CONFIG + 'formats = ["txt"]\n')
    with pytest.raises(ConfigError, match=r"unknown format 'txt' \(use rss, atom, json\)"):
        config_module.load(path)


def test_a_reader_kind_is_one_module_and_one_table_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(READERS, "rst", Reader("rst", "tests.plugins.rst_reader", (".rst",)))
    path = site(tmp_path)
    article(tmp_path / "articles" / "b.rst", "Second\n\nRead me.\n")
    build(config_module.load(path), now=NOW)
    items = json.loads((tmp_path / "public" / "all" / "feed.json").read_text())["items"]
    assert sorted(item["title"] for item in items) == ["Hello", "Second"]
    assert read_path(tmp_path / "articles" / "b.rst", tz=UTC).title == "Second"


def test_without_its_table_line_a_kind_is_not_read(tmp_path: Path) -> None:
    path = site(tmp_path)
    (tmp_path / "articles" / "b.adoc").write_text("Second\n\nRead me.\n", encoding="utf-8")
    [source] = build(config_module.load(path), now=NOW).sources
    assert source.ignored == 1
    with pytest.raises(ArticleError, match=r"no reader for 'asciidoc' files"):
        normalize.read(RawInput(b"Second\n", "b.adoc", "asciidoc", "news"),
                       normalize.ReadContext())


def test_a_source_kind_is_one_module_and_one_table_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCES, "file", SourceKind(
        "file", "tests.plugins.file_source", frozenset({"path", "max_size", "link_pattern"}),
        "path", remote=False, path_is="file"))
    config = ONE_FOLDER_CONFIG.replace(
        'kind = "folder"\npath = "articles"', 'kind = "file"\npath = "articles/a.txt"')
    path = site(tmp_path, config)
    loaded = config_module.load(path)
    build(loaded, now=NOW)
    items = json.loads((tmp_path / "public" / "all" / "feed.json").read_text())["items"]
    assert [item["title"] for item in items] == ["Hello"]
    assert status(loaded, now=NOW).lines[0].startswith("news: file ")
    (tmp_path / "feeds.toml").write_text(config.replace("path =", 'url = "https://x.example/"\n'
                                                        "path ="), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.url: unknown key"):
        config_module.load(path)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_module_provides_the_tables_hooks(fmt: str) -> None:
    module = FORMATS[fmt].implementation()
    assert all(callable(getattr(module, hook)) for hook in ("renderer", "verify", "read_back"))


@pytest.mark.parametrize("kind", sorted(READERS))
def test_every_reader_module_provides_its_entry_point(kind: str) -> None:
    reader = READERS[kind]
    assert callable(getattr(reader.implementation(), "read_feed" if reader.feed else "read"))


def test_each_file_suffix_is_claimed_by_one_reader() -> None:
    claimed = [s for r in READERS.values() for s in r.suffixes]
    assert len(claimed) == len(set(claimed)) and normalize.suffixes()[".md"] == "markdown"


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_every_source_module_provides_the_hooks_of_its_side(kind: str) -> None:
    source = SOURCES[kind]
    hooks = ("feed_specs",) if source.remote else ("scan", "scan_paths", "read")
    assert all(callable(getattr(source.implementation(), hook)) for hook in hooks)


@pytest.mark.parametrize("kind", ['["folder"]', '{ name = "folder" }', "3", '"gopher"'])
def test_a_kind_not_in_the_table_is_a_config_error(tmp_path: Path, kind: str) -> None:
    """Before: an array or a table as ``kind`` raised TypeError (unhashable) in the lookup."""
    path = site(tmp_path, ONE_FOLDER_CONFIG.replace('kind = "folder"', f"kind = {kind}"))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.kind: must be one of folder, feed, "
                                          r"opml, got "):
        config_module.load(path)
