"""Run the static-site generators on the fixture sites, and read what they publish.

The fixture sites (``tests/data/sites/{jekyll,hugo,pelican}``) are small real sites in each
generator's layout.  For each, three lists of posts can be compared:

* :func:`expected_posts`: written by hand from the generator's documented rules
  (``tests/data/sites/expected/<site>.json``), checked against the generator itself;
* :func:`generator_posts`: what the generator publishes, read from its own feed (Jekyll's
  jekyll-feed Atom, Hugo's home RSS plus the site's ``index.json`` for the taxonomies,
  Pelican's RSS), when the generator is installed;
* :func:`feeds_posts`: what ``feeds build`` of the same folder (``layout = "auto"``) publishes.

A :class:`Post` holds what all three can say: link, title, date (UTC, to the second),
the terms (categories and tags together, as feeds list them) and the summary as plain
text (``None`` where the generator does not expose one to compare).  :func:`diff`
prints the differences post by post.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "tests" / "data" / "sites"
BASE_URLS = {
    "jekyll": "https://jekyll.example.org/",
    "hugo": "https://hugo.example.org/",
    "pelican": "https://pelican.example.org/",
}
# A generator's command, and how long a build of a fixture site may take at most (a hung
# generator fails the test instead of blocking the run; a build takes about a second).
COMMANDS = {"jekyll": "jekyll", "hugo": "hugo", "pelican": "pelican"}
BUILD_TIMEOUT = 300


@dataclass(frozen=True, slots=True)
class Post:
    link: str
    title: str
    published: datetime  # aware UTC
    terms: tuple[str, ...]  # sorted
    summary: str | None  # plain text, whitespace collapsed; None: not compared


def plain(markup: str) -> str:
    """Text of an HTML fragment, whitespace collapsed (how summaries are compared)."""
    text = re.sub(r"<[^>]*>", " ", markup)
    return " ".join(html.unescape(text).split())


def utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, f"naive date {value!r}"
    return moment.astimezone(UTC)


def _entry_date(entry: Mapping[str, Any]) -> datetime:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    assert parsed is not None, f"entry without a date: {entry.get('link')}"
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _terms(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in values))


def expected_data(site: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (SITES / "expected" / f"{site}.json").read_text(encoding="utf-8"))
    return data


def expected_posts(site: str) -> dict[str, Post]:
    return {row["link"]: Post(link=row["link"], title=row["title"],
                              published=utc(row["published"]), terms=_terms(row["terms"]),
                              summary=row["summary"])
            for row in expected_data(site)["published"]}


def posts_from_feed(data: bytes) -> dict[str, Post]:
    """The posts of an RSS or Atom document, by link; summaries as plain text."""
    parsed = feedparser.parse(data)
    posts: dict[str, Post] = {}
    for entry in parsed.entries:
        link = entry.get("link", "")
        summary = entry.get("summary")
        posts[link] = Post(link=link, title=entry.get("title", ""), published=_entry_date(entry),
                           terms=_terms(t.get("term", "") for t in entry.get("tags", [])),
                           summary=plain(summary) if summary is not None else None)
    return posts


# --- running the generators -------------------------------------------------------------

def generator_available(site: str) -> bool:
    if site == "pelican":  # Pelican reads Markdown only with Python-Markdown installed
        return all(importlib.util.find_spec(name) is not None for name in ("pelican", "markdown"))
    if shutil.which(COMMANDS[site]) is None:
        return False
    if site == "jekyll":  # the site's feed comes from the jekyll-feed plugin
        found = subprocess.run(["ruby", "-e", 'gem "jekyll-feed"'], capture_output=True,
                               check=False, timeout=BUILD_TIMEOUT)
        return found.returncode == 0
    return True


def generator_version(site: str) -> str:
    argv = {"jekyll": ["jekyll", "--version"], "hugo": ["hugo", "version"],
            "pelican": [sys.executable, "-m", "pelican", "--version"]}[site]
    return subprocess.run(argv, capture_output=True, text=True, check=False,
                          timeout=BUILD_TIMEOUT).stdout.strip()


def _run(argv: list[str], cwd: Path) -> None:
    env = {**os.environ, "TZ": "UTC", "LC_ALL": "C.UTF-8", "JEKYLL_ENV": "production"}
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"


def build_with_generator(site: str, tmp: Path) -> Path:
    """Build a copy of the fixture site (generators write caches beside their sources) with
    its own generator; returns the output folder."""
    source, out = tmp / f"{site}-source", tmp / f"{site}-out"
    shutil.copytree(SITES / site, source)
    if site == "jekyll":
        _run(["jekyll", "build", "--quiet", "--source", str(source), "--destination", str(out)],
             cwd=source)
    elif site == "hugo":
        _run(["hugo", "--quiet", "--source", str(source), "--destination", str(out)], cwd=source)
    else:
        _run([sys.executable, "-m", "pelican", str(source / "content"), "--settings",
              str(source / "pelicanconf.py"), "--output", str(out), "--quiet"], cwd=source)
    return out


def generator_posts(site: str, out: Path) -> dict[str, Post]:
    """What the generator published in ``out``, read back from its feed."""
    if site == "jekyll":
        return posts_from_feed((out / "feed.xml").read_bytes())
    if site == "pelican":
        return posts_from_feed((out / "feeds" / "all.rss.xml").read_bytes())
    return _hugo_posts(out)


def _as_list(value: Any) -> list[str]:
    # Hugo reads a taxonomy written as a string as one term.
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _hugo_posts(out: Path) -> dict[str, Post]:
    rss = posts_from_feed((out / "index.xml").read_bytes())
    listed = {row["link"]: row for row in json.loads((out / "index.json").read_text("utf-8"))}
    assert set(listed) == set(rss), "Hugo's index.json and RSS list different pages"
    posts = {}
    for link, post in rss.items():
        row = listed[link]
        assert utc(row["date"]) == post.published, link
        terms = _terms(_as_list(row.get("tags")) + _as_list(row.get("categories")))
        # Hugo's summary is the first 70 words unless the author wrote one (front matter
        # ``summary`` or ``<!--more-->``): only those are compared.
        summary = post.summary if row["explicit_summary"] else None
        posts[link] = Post(link=link, title=post.title, published=post.published, terms=terms,
                           summary=summary)
    return posts


# --- feeds ------------------------------------------------------------------------------

FEED_FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every fixture date but the 2099 ones


def feeds_config(site: str, tmp: Path) -> Path:
    """A feeds.toml publishing the fixture site as one folder source, layout auto."""
    path = tmp / f"{site}-feeds.toml"
    path.write_text(f"""
[site]
title = "{site} fixture"
link = "{BASE_URLS[site]}"
base_url = "{BASE_URLS[site]}"
language = "en"
[store]
path = "{tmp / (site + '-state')}/feeds.db"
[output]
dir = "{tmp / (site + '-public')}"
[[sources]]
name = "{site}"
kind = "folder"
path = "{SITES / site}"
layout = "auto"
[[feeds]]
name = "all"
title = "All posts of the {site} fixture"
limit = 5000
""", encoding="utf-8")
    return path


def feeds_build(site: str, tmp: Path) -> Path:
    """Build the fixture site with feeds; returns the folder of the feed's files."""
    from feeds import config as config_module
    from feeds.pipeline import build

    build(config_module.load(feeds_config(site, tmp)), now=NOW)
    return tmp / f"{site}-public" / "all"


def feeds_posts(folder: Path) -> dict[str, Post]:
    return posts_from_feed((folder / FEED_FILES["atom"]).read_bytes())


# --- comparing --------------------------------------------------------------------------

def diff(expected: Mapping[str, Post], actual: Mapping[str, Post], *,
         compare_summaries: bool = True) -> list[str]:
    """One line per difference: posts missing or extra (by link; a missing post that one
    extra post matches by title is compared field by field too), then per post the
    fields that differ.  A summary is compared where the expected side has one."""
    lines: list[str] = []
    extra = sorted(set(actual) - set(expected))
    by_title: dict[str, list[str]] = {}
    for link in extra:
        by_title.setdefault(actual[link].title, []).append(link)
    pairs = [(link, link) for link in sorted(set(expected) & set(actual))]
    for link in sorted(set(expected) - set(actual)):
        near = by_title.get(expected[link].title, [])
        hint = f" (a post titled so has link {', '.join(near)})" if near else ""
        lines.append(f"missing  {link}  {expected[link].title!r}{hint}")
        if len(near) == 1:
            pairs.append((link, near[0]))
    lines += [f"extra    {link}  {actual[link].title!r}" for link in extra]
    for want_link, got_link in pairs:
        want, got = expected[want_link], actual[got_link]
        for field in fields(Post):
            name = field.name
            if name == "link" or (name == "summary" and
                                  (not compare_summaries or want.summary is None)):
                continue
            a, b = getattr(want, name), getattr(got, name)
            if a != b:
                lines.append(f"differs  {want_link}  {name}: expected {a!r}, got {b!r}")
    return lines


def report(lines: list[str], what: str) -> str:
    return f"{len(lines)} difference(s), {what}:\n  " + "\n  ".join(lines)
