"""``feeds status --json``: one document, in the shape ``docs/status.schema.json`` pins,
gathered from the same data as the text table; ``--source NAME`` narrows it to one source."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from feeds import config as config_module
from feeds.cli import main
from feeds.pipeline import build, status
from tests.conftest import NOW
from tests.test_build_remote import FeedServer, rss

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "status.schema.json").read_text())


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def site(tmp_path: Path, server: FeedServer) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-01-02\n---\nBody.\n", encoding="utf-8")
    (tmp_path / "articles" / "draft.md").write_text(
        "---\ntitle: Draft\ndate: 2024-01-03\ndraft: true\n---\nNot yet.\n", encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(f"""
[site]
title = "Planet"
base_url = "https://planet.example/"
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "notes"
kind = "folder"
path = "articles"
[[sources]]
name = "remote"
kind = "feed"
url = "{server.base}/one.xml"
[[sources]]
name = "missing"
kind = "feed"
url = "{server.base}/missing.xml"
[[feeds]]
name = "all"
title = "All"
[[feeds]]
name = "notes-only"
title = "Notes"
sources = ["notes"]
formats = ["atom"]
""", encoding="utf-8")
    server.documents["/one.xml"] = rss([("g1", "From one", "https://one.example/a"),
                                        ("g2", "Also from one", "https://one.example/b")])
    return tmp_path


def status_json(site: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    assert main(["status", "--json", "--config", str(site / "feeds.toml"), *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_status_json_of_a_built_site_validates_and_tells_each_source_and_feed(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(config_module.load(site / "feeds.toml"), now=NOW)
    doc = status_json(site, capsys)
    jsonschema.validate(doc, SCHEMA)
    by_name = {s["name"]: s for s in doc["sources"]}
    assert list(by_name) == ["notes", "remote", "missing"]
    notes, remote, missing = by_name["notes"], by_name["remote"], by_name["missing"]
    assert (notes["kind"], notes["remote"], notes["url"]) == ("folder", False, None)
    assert notes["path"] == str((site / "articles").resolve())
    assert (notes["articles"], notes["scanned"], notes["not_published"]) == (1, True, 1)
    assert (remote["kind"], remote["remote"], remote["http_status"]) == ("feed", True, 200)
    assert remote["url"].endswith("/one.xml")
    assert (remote["items"], remote["articles"], remote["errors"]) == (2, 2, 0)
    assert remote["last_fetch"] is not None and remote["next_due"] is not None
    assert remote["healthy"] and remote["last_error"] is None
    assert missing["http_status"] == 404 and missing["errors"] == 1
    assert missing["last_error"] and not missing["healthy"]
    feeds = {f["name"]: f for f in doc["feeds"]}
    assert feeds["all"]["items"] == 3 and feeds["notes-only"]["items"] == 1
    assert [f["format"] for f in feeds["notes-only"]["files"]] == ["atom"]
    atom = feeds["notes-only"]["files"][0]
    assert atom["bytes"] == (site / "public" / "notes-only" / "atom.xml").stat().st_size
    assert atom["url"] == "https://planet.example/notes-only/atom.xml"
    assert atom["media_type"] == "application/atom+xml"
    assert feeds["all"]["last_change"] == max(f["modified"] for f in feeds["all"]["files"])


def test_status_json_before_any_build_validates_with_nothing_known(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = status_json(site, capsys)
    jsonschema.validate(doc, SCHEMA)
    assert all(s["articles"] == 0 and s["last_fetch"] is None for s in doc["sources"])
    assert all(f["items"] is None and f["last_change"] is None for f in doc["feeds"])
    assert all(file["bytes"] is None for f in doc["feeds"] for file in f["files"])


def test_status_source_narrows_json_and_text_to_one_source(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(config_module.load(site / "feeds.toml"), now=NOW)
    doc = status_json(site, capsys, "--source", "remote")
    jsonschema.validate(doc, SCHEMA)
    assert [s["name"] for s in doc["sources"]] == ["remote"] and doc["feeds"] == []
    assert main(["status", "--config", str(site / "feeds.toml"), "--source", "notes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("notes: folder ") and "remote" not in out


def test_status_of_an_unknown_source_names_it_and_fails(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--config", str(site / "feeds.toml"), "--source", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--source" in err and "'nope'" in err and "notes, remote, missing" in err


def test_the_text_table_and_the_json_come_from_the_same_data(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_module.load(site / "feeds.toml")
    build(config, now=NOW)
    lines = status(config, now=NOW).lines
    doc = status_json(site, capsys)
    notes = doc["sources"][0]
    assert lines[0] == (f"notes: folder {notes['path']}, 1 articles, layout {notes['layout']}, "
                        f"{notes['skipped_files']} files skipped, 1 not published")
    table = lines[1].splitlines()
    assert [row.split()[0] for row in table[1:]] == ["remote", "missing"]
    remote, missing = doc["sources"][1], doc["sources"][2]
    assert re.search(rf"\s{remote['http_status']}\s+{remote['items']}\s", table[1])
    assert table[2].endswith(missing["last_error"])


def test_an_unreadable_opml_source_is_an_error_entry_not_a_crash(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = site / "feeds.toml"
    (site / "list.opml").write_bytes(b"\x00\xffnot xml")
    toml.write_text(toml.read_text() + '[[sources]]\nname = "list"\nkind = "opml"\n'
                    'path = "list.opml"\n', encoding="utf-8")
    doc = status_json(site, capsys)
    jsonschema.validate(doc, SCHEMA)
    assert [e["source"] for e in doc["errors"]] == ["list"]


def test_each_outline_of_an_opml_source_is_an_entry_and_can_be_asked_for(
        site: Path, server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.documents["/two.xml"] = rss([("g9", "From two", "https://two.example/a")])
    (site / "list.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>L</title></head><body>'
        f'<outline type="rss" text="One" xmlUrl="{server.base}/one.xml"/>'
        f'<outline type="rss" text="Two" xmlUrl="{server.base}/two.xml"/></body></opml>',
        encoding="utf-8")
    toml = site / "feeds.toml"
    toml.write_text(toml.read_text() + '[[sources]]\nname = "list"\nkind = "opml"\n'
                    'path = "list.opml"\n', encoding="utf-8")
    build(config_module.load(toml), now=NOW)
    doc = status_json(site, capsys, "--source", "list")
    jsonschema.validate(doc, SCHEMA)
    outlines = doc["sources"]
    assert [(s["source"], s["kind"], s["http_status"]) for s in outlines] == [
        ("list", "opml", 200), ("list", "opml", 200)]
    assert [s["url"] for s in outlines] == [f"{server.base}/one.xml", f"{server.base}/two.xml"]
    assert all(s["path"] == str((site / "list.opml").resolve()) for s in outlines)
    one = outlines[0]["name"]
    doc = status_json(site, capsys, "--source", one)
    assert [s["name"] for s in doc["sources"]] == [one]
