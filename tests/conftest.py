"""Shared fixtures.  Data from ``../shared`` is optional: tests that need it skip without it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from feeds.normalize.entries import ParsedFeed

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
# The smallest site: one folder source "news" (./articles), one feed "all".
ONE_FOLDER_CONFIG = (
    '[site]\ntitle = "T"\nlink = "https://example.org/"\n'
    '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
    '[[sources]]\nname = "news"\nkind = "folder"\npath = "articles"\n'
    '[[feeds]]\nname = "all"\ntitle = "All"\n'
)
# A site with two feeds of one folder: "all" (the newest 3) and "everything" (1000);
# ``{author}`` is a line of [site] (or empty).
TWO_FEED_SITE = """
[site]
title = "Test site"
link = "https://example.org/"
base_url = "https://example.org/feeds/"
{author}
[store]
path = "state/feeds.db"
[output]
dir = "public"
[[sources]]
name = "news"
kind = "folder"
path = "articles"
[[feeds]]
name = "all"
title = "All"
limit = 3
[[feeds]]
name = "everything"
title = "Everything"
limit = 1000
"""


@pytest.fixture(scope="session", autouse=True)
def one_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One decompressed language model (~70 MB) for the whole run, also for subprocesses,
    instead of one in every test's home; the user's real cache is left alone."""
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "CACHE_DIRECTORY")}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ.pop("CACHE_DIRECTORY", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def now() -> datetime:
    """A fixed clock: tests never read the real one."""
    return NOW


@pytest.fixture
def shared_articles() -> Path:
    path = SHARED / "articles"
    if not (path / "expected.json").is_file():
        pytest.skip("../shared/articles is not present")
    return path


@pytest.fixture
def corpus_dir() -> Path:
    path = SHARED / "corpus"
    if not (path / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/corpus is not present")
    return path


def parse_body(body: bytes, *, source: str, feed_url: str,
               headers: dict[str, str] | None = None) -> ParsedFeed:
    """A fetched body read as the pipeline reads it: the remote source's ``RawInput``
    (``raw_body``), then the readers' table (``read_body``)."""
    from feeds.pipeline import read_body
    from feeds.sources.remote import raw_body

    return read_body(raw_body(body, source=source, url=feed_url, headers=headers))


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL server for the session (``tests.pgcluster``); skips, saying
    why, where PostgreSQL or psycopg is not installed."""
    from tests.pgcluster import Cluster, unavailable

    why = unavailable()
    if why:
        pytest.skip(why)
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster: object) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    from tests.pgcluster import Cluster

    assert isinstance(pg_cluster, Cluster)
    return pg_cluster.database()
