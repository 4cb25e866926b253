"""The pages in a real browser: headless Chromium (Debian's ``chromium``, driven through
its ``chromedriver`` by Selenium; nothing downloaded) against ``feeds run``'s built-in
server on 127.0.0.1.

Open the top-level page, follow a link to a feed's page, check its autodiscovery links and
its copy button, load ``/status``; on a phone-sized window nothing scrolls sideways, no
page asks for any resource, and the console stays clean.  Screenshots go to the test's
temporary folder.  Skipped only where no browser or driver is installed (``.ci/run``
installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_support import DaemonProcess, wait_until, write_article

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
           "chromium-driver)")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")
PHONE = (390, 844)  # CSS pixels, a common phone


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``feeds run`` with a folder of articles, serving on 127.0.0.1; its base URL."""
    base = tmp_path_factory.mktemp("browser-site")
    folder = base / "articles"
    folder.mkdir()
    for n in range(1, 4):
        write_article(folder, f"post-{n}.md", f"Post number {n}", rename=False, day=n,
                      body=f"The body of post {n}, long enough to wrap on a phone " * 3)
        os.utime(folder / f"post-{n}.md", (time.time() - 60, time.time() - 60))
    (base / "feeds.toml").write_text(f"""
[site]
title = "Browser test site"
[store]
path = "{base / 'state' / 'feeds.db'}"
[output]
dir = "{base / 'public'}"
[server]
host = "127.0.0.1"
port = 0
[[sources]]
name = "notes"
kind = "folder"
path = "{folder}"
[[feeds]]
name = "all"
title = "All the notes"
description = "Every note, newest first"
[[feeds]]
name = "atom-only"
title = "Atom only"
formats = ["atom"]
""", encoding="utf-8")
    daemon = DaemonProcess(base / "feeds.toml", base / "daemon.log")
    try:
        match = wait_until(lambda: re.search(r"serving \S+ on (http://127\.0\.0\.1:\d+/)",
                                             daemon.log()), timeout=60, what="the server")
        assert match is not None
        yield match.group(1)
    finally:
        daemon.close()


def start_browser(profile: Path, *, script: bool = True) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not script:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_window_size(1200, 900)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, path: Path) -> None:
    assert driver.save_screenshot(str(path)), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def requested_resources(driver: Any) -> list[str]:
    """Everything the page asked for after the document itself."""
    return list(driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"))


def console_problems(driver: Any) -> list[str]:
    """Errors and warnings, but the browser's own asking for /favicon.ico (no page asks)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] in ("SEVERE", "WARNING") and "/favicon.ico" not in entry["message"]]


def no_sideways_scroll(driver: Any) -> bool:
    return bool(driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_from_the_index_to_a_feed_page_and_its_copy_button(
        served: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(served)
    assert browser.title == "Browser test site"
    screenshot(browser, tmp_path / "index.png")
    browser.find_element(By.LINK_TEXT, "All the notes").click()
    wait_until(lambda: browser.current_url == served + "all/", what="the feed page")
    assert browser.title == "All the notes · Browser test site"
    assert browser.find_element(By.TAG_NAME, "h1").text == "All the notes"
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "ul.items h3")]
    assert headings == ["Post number 3", "Post number 2", "Post number 1"]

    alternates = [(link.get_attribute("type"), link.get_attribute("href"))
                  for link in browser.find_elements(By.CSS_SELECTOR, 'link[rel="alternate"]')]
    assert alternates == [("application/rss+xml", served + "all/rss.xml"),
                          ("application/atom+xml", served + "all/atom.xml"),
                          ("application/feed+json", served + "all/feed.json")]

    button = browser.find_element(By.ID, "copy-button")
    assert button.is_displayed()  # the script showed it
    button.click()
    said = browser.find_element(By.ID, "copy-status")
    wait_until(lambda: said.text in ("Copied", "Selected: press Ctrl+C to copy"),
               what="the copy button to say what it did")
    field = browser.find_element(By.ID, "feed-url")
    assert field.get_attribute("value") == served + "all/rss.xml"  # made absolute
    selected = browser.execute_script(
        "var f = document.getElementById('feed-url');"
        "return [document.activeElement === f, f.selectionStart, f.selectionEnd];")
    assert selected == [True, 0, len(served + "all/rss.xml")]
    screenshot(browser, tmp_path / "feed-page.png")
    assert requested_resources(browser) == []
    assert console_problems(browser) == []


def test_a_feed_link_opens_the_document_it_announces(served: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(served + "atom-only/")
    [link] = browser.find_elements(By.CSS_SELECTOR, "ul.subscribe a")
    assert (link.text, link.get_attribute("type")) == ("Atom", "application/atom+xml")
    assert link.get_attribute("href") == served + "atom-only/atom.xml"


@pytest.mark.parametrize("document", ["rss.xml", "atom.xml", "feed.json"])
def test_a_feed_url_opened_in_the_browser_shows_the_feeds_page_not_raw_xml(
        served: str, browser: Any, tmp_path: Path, document: str) -> None:
    """Typed, bookmarked or followed from elsewhere, a feed's URL shows its page; the page's
    own subscription link still opens the document itself."""
    from selenium.webdriver.common.by import By

    browser.get(served + "all/" + document)
    assert browser.current_url == served + "all/"
    assert browser.find_element(By.TAG_NAME, "h1").text == "All the notes"
    screenshot(browser, tmp_path / "opened-feed-url.png")
    [link] = [a for a in browser.find_elements(By.CSS_SELECTOR, "ul.subscribe a")
              if a.get_attribute("href") == served + "all/" + document]
    link.click()
    assert browser.current_url == served + "all/" + document
    assert "All the notes" in browser.page_source
    assert browser.find_elements(By.TAG_NAME, "h1") == []  # the document, not the page


def test_the_status_page_loads_without_script(served: str, browser: Any,
                                              tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(served + "status")
    assert browser.title == "Browser test site: status"
    assert browser.find_elements(By.TAG_NAME, "script") == []
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "tbody td")]
    assert any(cell.startswith("notes") for cell in cells)
    assert "All the notes" in cells
    assert "Health: ok" in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, tmp_path / "status.png")
    assert requested_resources(browser) == []


@pytest.mark.parametrize("path", ["", "all/", "status"])
def test_pages_fit_a_phone_screen(served: str, browser: Any, tmp_path: Path,
                                  path: str) -> None:
    browser.set_window_size(*PHONE)
    try:
        browser.get(served + path)
        assert no_sideways_scroll(browser), path
        screenshot(browser, tmp_path / f"phone-{path.strip('/') or 'index'}.png")
    finally:
        browser.set_window_size(1200, 900)


def test_without_script_the_feed_page_shows_the_url_and_no_dead_button(
        served: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = start_browser(tmp_path / "profile", script=False)
    try:
        driver.get(served + "all/")
        assert driver.find_element(By.ID, "feed-url").get_attribute("value") == "rss.xml"
        assert not driver.find_element(By.ID, "copy-button").is_displayed()
        headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "ul.items h3")]
        assert headings == ["Post number 3", "Post number 2", "Post number 1"]
        screenshot(driver, tmp_path / "feed-page-no-script.png")
    finally:
        driver.quit()
