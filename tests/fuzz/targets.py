"""The fuzz targets: one per reader, and the config loader.

A target takes the bytes of one input and either returns (an ``Article``, a parsed feed,
a ``Config``) or raises the project's own error for that input (``ArticleError``,
``ParseError``, ``ConfigError``: a ``FeedsError``).  Anything else raised, or one call
costing more than the hang limit, is a finding.

Reader targets run the whole folder reading path of one file (reader, folder fallbacks,
the store's encoding of the article) and check the article's invariants: dates aware,
every text field XML-legal (what is published must parse again), a title.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds.errors import FeedsError
from feeds.model import Article
from feeds.text import xml_legal

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
TZ = ZoneInfo("Europe/Berlin")  # a zone with DST: zone-less times take it
BASE = "https://example.org/blog/"
MTIME_NS = 1_700_000_000 * 10**9


class InvariantError(AssertionError):
    """The reader returned an article that breaks a promise of ``Article``."""


@dataclass(frozen=True)
class Target:
    name: str
    call: Callable[[bytes], object]
    seeds: Callable[[], Iterable[Path]]
    extra_seeds: tuple[bytes, ...] = ()
    allowed: tuple[type[BaseException], ...] = (FeedsError,)


def import_everything() -> None:
    """Import every module a target reaches (the readers are imported lazily)."""
    import feedparser  # noqa: F401

    import feeds.config
    import feeds.normalize.entries
    import feeds.normalize.htmlpage
    import feeds.normalize.jsonfeed_in
    import feeds.normalize.markdown
    import feeds.normalize.plaintext
    import feeds.pipeline
    import feeds.sources.remote
    import feeds.store  # noqa: F401


# --- the reading path of one folder file ----------------------------------------------------


def _check_article(article: Article, *, titled: bool = True) -> None:
    """Promises every reader keeps: aware dates, text that encodes as UTF-8 (the store) and
    that XML allows (the feeds); a title for folder articles (a feed entry may lack one)."""
    if not isinstance(article, Article):
        raise InvariantError(f"not an Article: {type(article).__name__}")
    if titled and not article.title.strip():
        raise InvariantError("empty title")
    for field in fields(article):
        value = getattr(article, field.name)
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise InvariantError(f"{field.name} is naive")
        for text in _strings(value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvariantError(f"{field.name} is not UTF-8 encodable: {text!r:.80}") \
                    from None
            if field.name != "key" and xml_legal(text) != text:
                raise InvariantError(f"{field.name} holds XML-illegal characters: {text!r:.80}")


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for part in value:
            yield from _strings(part)
    elif hasattr(value, "__dataclass_fields__"):
        for field in fields(value):  # type: ignore[arg-type]
            yield from _strings(getattr(value, field.name))


def _reader(kind: str, key: str) -> Callable[[bytes], object]:
    def call(data: bytes) -> Article:
        from feeds import normalize
        from feeds.model import RawInput
        from feeds.normalize.fallbacks import apply_folder_fallbacks
        from feeds.store import Encoded

        article = normalize.read(RawInput(data, key, kind, "fuzz"),
                                 normalize.ReadContext(TZ, BASE))
        article = apply_folder_fallbacks(article, mtime_ns=MTIME_NS, tz=TZ, base_url=BASE,
                                         link_pattern="{slug}/")
        _check_article(article)
        Encoded.of(article)
        return article

    return call


# --- remote bodies ----------------------------------------------------------------------------


def _feed(data: bytes) -> object:
    from tests.conftest import parse_body

    parsed = parse_body(data, source="fuzz", feed_url="https://example.org/feed.xml",
                        headers={"content-type": "application/xml"})
    for article in parsed.articles:
        _check_article(article, titled=False)
    return parsed


def _json_feed(data: bytes) -> object:
    from feeds.normalize.jsonfeed_in import parse_json_feed

    parsed = parse_json_feed(data, source="fuzz", feed_url="https://example.org/feed.json")
    for article in parsed.articles:
        _check_article(article, titled=False)
    return parsed


# --- the configuration --------------------------------------------------------------------------

_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="feeds-fuzz-config-",
                                    dir="/dev/shm" if os.path.isdir("/dev/shm") else None))


def _config(data: bytes) -> object:
    from feeds.config import load

    path = _CONFIG_DIR / "feeds.toml"
    path.write_bytes(data)
    return load(path)


def _planted_bug(data: bytes) -> object:
    if data.startswith(b"boom"):
        raise ValueError("a planted bug")
    return None


# --- seeds --------------------------------------------------------------------------------------


def _files(*patterns: tuple[Path, str], limit: int = 400) -> Callable[[], Iterable[Path]]:
    def seeds() -> Iterable[Path]:
        found: list[Path] = []
        for folder, pattern in patterns:
            if folder.is_dir():
                found.extend(sorted(p for p in folder.glob(pattern) if p.is_file()))
        return found[:limit]

    return seeds


_DATA = ROOT / "tests" / "data"

TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("plaintext", _reader("text", "2024/fuzz.txt"),
               _files((_DATA / "plaintext", "**/*.txt"), (ROOT / "seeds", "*.txt"),
                      (SHARED / "articles", "**/*.txt"), (SHARED / "corpus", "**/*.txt")),
               (b"Title\n\nPublished 3 March 2024\n\nBy Jane Doe\n\nLONDON: Body text.\n",)),
        Target("markdown", _reader("markdown", "2024-03-18-fuzz.md"),
               _files((_DATA / "markdown", "**/*.md"), (ROOT / "seeds", "*.md"),
                      (SHARED / "sites", "**/*.md"), (SHARED / "corpus", "**/*.md")),
               (b"---\ntitle: T\ndate: 2024-01-02\ntags: [a, b]\n---\n# H\n\nbody\n",
                b'+++\ntitle = "T"\ndate = 2024-01-02T10:00:00Z\n+++\nbody *x*\n')),
        Target("html", _reader("html", "fuzz.html"),
               _files((_DATA / "html", "**/*.htm*"), (SHARED / "articles", "**/*.htm*"),
                      (SHARED / "sites", "**/*.htm*")),
               (b'<meta charset="utf-8"><title>T</title><article><h1>H</h1><p>x</p></article>',)),
        Target("feed", _feed,
               _files((_DATA / "remote", "*.xml"), (SHARED / "corpus", "**/*.xml"),
                      (SHARED / "corpus", "**/*.rss"), (SHARED / "corpus", "**/*.atom"),
                      (SHARED / "corpus", "**/*.rdf")),
               (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
                b"<item><title>A</title><link>https://example.org/a</link>"
                b"<pubDate>Tue, 02 Jan 2024 03:04:05 GMT</pubDate>"
                b"<description>&lt;p&gt;x&lt;/p&gt;</description></item></channel></rss>",)),
        Target("jsonfeed", _json_feed,
               _files((_DATA / "remote", "*.json"), (SHARED / "corpus", "**/*.json")),
               (b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": '
                b'[{"id": "1", "title": "A", "content_html": "<p>x</p>", '
                b'"date_published": "2024-01-02T03:04:05Z"}]}',)),
        Target("config", _config,
               _files((ROOT / "config", "*.toml")),
               (b'[site]\ntitle = "T"\nlink = "https://example.org/"\n'
                b'[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
                b'[[sources]]\nname = "news"\nkind = "folder"\npath = "articles"\n'
                b'every = "15m"\nmax_size = "5 MiB"\n'
                b'[[sources]]\nname = "r"\nkind = "feed"\nurl = "https://example.org/f"\n'
                b'cron = "*/10 * * * *"\n'
                b'[[feeds]]\nname = "all"\ntitle = "All"\nlimit = 20\nsince = "30d"\n'
                b'include = ["a|b"]\n',)),
        Target("selftest", _planted_bug, lambda: (), (b"boom",)),
    )
}
