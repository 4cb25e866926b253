"""A feed's URL opened by a person in a browser answers with the feed's page (a 303 to its
folder), while feed readers, scripts and the site's own links get the document.

Browsers mark a top-level navigation with ``Sec-Fetch-Dest: document`` and say where it
came from in ``Sec-Fetch-Site``; feed readers send neither (tests/test_newsboat.py and the
reader tests fetch without them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.server import make_app
from feeds.server.files import FeedApp

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
BROWSER = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "sec-fetch-site": "none",
           "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def app(tmp_path: Path) -> FeedApp:
    for name in ("news/rss.xml", "news/atom.xml", "news/feed.json", "news/rss-2.xml",
                 "bare/rss.xml", "a b/rss.xml", "news/data.xml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(RSS)
    for page in ("news/index.html", "a b/index.html"):
        (tmp_path / page).write_bytes(b"<!doctype html><title>page</title>")
    return FeedApp(tmp_path)


@pytest.mark.parametrize("site", ["none", "cross-site", "NONE"])
@pytest.mark.parametrize("document", ["rss.xml", "atom.xml", "feed.json"])
def test_a_browser_opening_a_feed_url_is_sent_to_the_feeds_page(
        app: FeedApp, site: str, document: str) -> None:
    reply = app.respond("GET", b"/news/" + document.encode(),
                        {**BROWSER, "sec-fetch-site": site})
    assert reply.status == 303
    assert dict(reply.headers)["Location"] == "/news/"
    assert "Sec-Fetch-Dest" in dict(reply.headers)["Vary"]


@pytest.mark.parametrize("headers", [
    {},  # newsboat, curl
    {"accept": "application/atom+xml,application/rdf+xml,application/rss+xml,"
               "application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"},  # feedparser
    {**BROWSER, "sec-fetch-site": "same-origin"},  # the page's own subscription link
    {**BROWSER, "sec-fetch-dest": "empty", "sec-fetch-mode": "cors"},  # a script's fetch
    {"accept": "text/html"},  # text/html alone is no browser's navigation
])
def test_readers_scripts_and_the_sites_own_links_get_the_document(
        app: FeedApp, headers: dict[str, str]) -> None:
    reply = app.respond("GET", b"/news/rss.xml", headers)
    assert (reply.status, reply.body) == (200, RSS)
    assert "Sec-Fetch-Dest" in dict(reply.headers).get("Vary", "")


@pytest.mark.parametrize("path", [b"/bare/rss.xml", b"/news/rss-2.xml", b"/news/data.xml"])
def test_without_a_page_and_for_archive_pages_and_other_files_the_browser_gets_the_file(
        app: FeedApp, path: bytes) -> None:
    reply = app.respond("GET", path, BROWSER)
    assert reply.status == 200
    assert "Sec-Fetch" not in dict(reply.headers).get("Vary", "")  # it depends on none


def test_the_location_is_percent_encoded(app: FeedApp) -> None:
    reply = app.respond("GET", b"/a b/rss.xml", BROWSER)
    assert (reply.status, dict(reply.headers)["Location"]) == (303, "/a%20b/")


def test_a_conditional_request_from_a_reader_still_gets_its_304(app: FeedApp) -> None:
    etag = dict(app.respond("GET", b"/news/rss.xml", {}).headers)["ETag"]
    assert app.respond("GET", b"/news/rss.xml", {"if-none-match": etag}).status == 304


def test_under_wsgi_the_location_keeps_the_script_name(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "rss.xml").write_bytes(RSS)
    (tmp_path / "news" / "index.html").write_bytes(b"<!doctype html>")
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/news/rss.xml", "SCRIPT_NAME": "/feeds",
               "HTTP_SEC_FETCH_DEST": "document", "HTTP_SEC_FETCH_SITE": "none"}
    make_app(tmp_path)(environ, lambda status, headers: seen.append((status, headers)))
    [(status, headers)] = seen
    assert (status, dict(headers)["Location"]) == ("303 See Other", "/feeds/news/")
