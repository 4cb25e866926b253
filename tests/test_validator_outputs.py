"""Our published feeds pass the offline checker (tests/validator.py) with no finding.

One build over varied, real inputs, three feeds of it in every format:

* ``folder``: the test articles of ``tests/data`` (plain text, Markdown, HTML, with their
  odd cases) and, when present, the posts of a real Zola blog (``../shared/sites``);
* ``remote``: every file of the real-world corpus (``../shared/corpus``: RSS 0.9x to 2.0,
  RSS 1.0, Atom 0.3/1.0, JSON Feed), served from 127.0.0.1 and ingested as remote feeds;
* ``merged``: both together.

The site has a title and description with "&" and "<", a language, an author with an
address and a base URL (self links).  A rebuild with nothing new writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds import config as config_module
from feeds.pipeline import build
from tests.conftest import ROOT, SHARED
from tests.test_build_remote import FeedServer
from tests.validator import Finding, check

DATA = ROOT / "tests" / "data"
SITES = SHARED / "sites"
CORPUS = SHARED / "corpus"
FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
# Undated files are dated by their modification time, which may be any day: a clock far
# ahead publishes every article (a fixed one, as in every test).
NOW = datetime(2099, 1, 1, tzinfo=UTC)


def corpus_files() -> list[str]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
    return [row.split("\t")[0] for row in rows if row.strip()]


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[FeedServer]:
    srv = FeedServer()
    for index, relpath in enumerate(corpus_files()):
        srv.documents[f"/{index}"] = (CORPUS / relpath).read_bytes()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def site_config(tmp: Path, server: FeedServer) -> Path:
    folders = [("plain", DATA / "plaintext"), ("markdown", DATA / "markdown"),
               ("html", DATA / "html")]
    blogs = sorted(p for p in SITES.glob("*/content") if p.is_dir()) if SITES.is_dir() else []
    folders += [(f"site{i}", path) for i, path in enumerate(blogs)]
    sources = "".join(f'[[sources]]\nname = "{name}"\nkind = "folder"\npath = "{path}"\n'
                      for name, path in folders)
    remote = [f"corpus{i}" for i in range(len(server.documents))]
    sources += "".join(f'[[sources]]\nname = "{name}"\nkind = "feed"\n'
                       f'url = "{server.base}/{name.removeprefix("corpus")}"\n'
                       for name in remote)
    names = [name for name, _path in folders]
    path = tmp / "feeds.toml"
    path.write_text(f"""
[site]
title = "Feeds & <friends>"
link = "https://example.org/"
base_url = "https://feeds.example.org/"
language = "en"
author = {{ name = "Site & Owner", email = "owner@example.org" }}
[store]
path = "state/feeds.db"
[output]
dir = "public"
[fetch]
per_host = 8
{sources}
[[feeds]]
name = "folder"
title = "Folders & <files>"
description = "Articles & notes <from> disk"
sources = {names!r}
limit = 5000
[[feeds]]
name = "remote"
title = "Remote"
sources = {remote!r}
limit = 5000
[[feeds]]
name = "merged"
title = "Everything"
limit = 5000
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, corpus_server: FeedServer) -> Path:
    tmp = tmp_path_factory.mktemp("validated")
    build(config_module.load(site_config(tmp, corpus_server)), now=NOW)
    return tmp


def findings(site: Path, feed: str, fmt: str) -> list[Finding]:
    return check(fmt, (site / "public" / feed / FILES[fmt]).read_bytes())


@pytest.mark.parametrize("fmt", list(FILES))
@pytest.mark.parametrize("feed", ["folder", "remote", "merged"])
def test_published_feeds_have_no_finding(built: Path, feed: str, fmt: str) -> None:
    if feed != "folder" and not corpus_files():
        pytest.skip("../shared/corpus is not present")
    found = findings(built, feed, fmt)
    summary = Counter(f.rule for f in found)
    assert not found, f"{dict(summary)}: " + "; ".join(str(f) for f in found[:10])


def test_the_builds_are_big_enough_to_mean_something(built: Path) -> None:
    from lxml import etree

    def count(feed: str) -> int:
        root = etree.parse(str(built / "public" / feed / "atom.xml")).getroot()
        return len(root.findall("{http://www.w3.org/2005/Atom}entry"))

    folder = count("folder")
    assert folder >= 20  # tests/data alone
    if SITES.is_dir():
        assert folder >= 700
    if corpus_files():
        remote = count("remote")
        assert remote >= 300
        assert max(folder, remote) < count("merged") <= folder + remote


def test_a_rebuild_with_nothing_new_writes_nothing(built: Path,
                                                   corpus_server: FeedServer) -> None:
    def snapshot() -> dict[str, tuple[bytes, int]]:
        return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
                for p in sorted((built / "public").rglob("*")) if p.is_file()}

    before = snapshot()
    build(config_module.load(built / "feeds.toml"), now=NOW)
    assert snapshot() == before
