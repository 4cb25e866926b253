"""Every file of the shared real-world corpus ends in articles or one clear ParseError.

The corpus (``../shared/corpus``) is optional: the test skips without it.  Each parse
runs under a SIGALRM deadline, so a hang fails the test instead of stalling the run.
Where feedparser itself reads a file without a fatal error, we must find exactly as many
articles as it finds entries (for JSON Feed: as many as the ``items`` array holds).
"""

from __future__ import annotations

import collections
import io
import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import feedparser

from feeds.errors import ParseError
from feeds.sources.discover import looks_like_json
from tests.conftest import parse_body

DEADLINE = 10  # seconds for one file; each takes milliseconds


@contextmanager
def deadline(seconds: int, what: str) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what}: no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def feedparser_count(data: bytes) -> int | None:
    """feedparser's entry count, or None when it cannot read the file either."""
    if looks_like_json(data):
        try:
            items = json.loads(data.decode("utf-8-sig"))["items"]
        except (ValueError, KeyError, TypeError):
            return None
        return len(items) if isinstance(items, list) else None
    d = feedparser.parse(io.BytesIO(data))
    survivable = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    fatal = d.bozo and not isinstance(d.bozo_exception, survivable) and not d.entries
    return None if fatal or not (d.version or d.entries) else len(d.entries)


def test_every_corpus_file_ends_in_articles_or_one_parse_error(corpus_dir: Path) -> None:
    rows = [
        line.split("\t")
        for line in (corpus_dir / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    ]
    assert len(rows) == 285
    with_items = empty = 0
    rejected: collections.Counter[str] = collections.Counter()
    mismatches = []
    for row in rows:
        relpath = row[0]
        data = (corpus_dir / relpath).read_bytes()
        with deadline(DEADLINE, relpath):
            try:
                parsed = parse_body(data, source="corpus", feed_url="https://example.com/feed")
            except ParseError as exc:
                assert exc.source == "corpus"
                reason = exc.message.removeprefix("source 'corpus': ")
                reason = re.sub(r"<unknown>:\d+:\d+: ", "", reason)
                rejected[re.sub(r" \(no RSS.*|: Expecting.*", "", reason)] += 1
                continue
            expected = feedparser_count(data)
        if parsed.articles:
            with_items += 1
        else:
            empty += 1
        for article in parsed.articles:
            assert article.source == "corpus" and article.key, relpath
            for moment in (article.published, article.updated):
                assert moment is None or moment.utcoffset() is not None, relpath
            assert article.published is not None or article.date_source == "first-seen"
            assert article.link is None or article.link.startswith(("http://", "https://"))
        if expected is not None and expected != len(parsed.articles):
            mismatches.append((relpath, expected, len(parsed.articles)))

    report = f"{with_items} with items, {empty} empty feeds, rejected: {dict(rejected)}"
    print(report)
    assert not mismatches, f"{mismatches}; {report}"
    assert with_items + empty + sum(rejected.values()) == 285
    assert sum(rejected.values()) <= 20, report
