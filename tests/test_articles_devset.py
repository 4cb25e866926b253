"""The shared development set (``../shared/articles``): every field of every file is right.

The rules are those of ``score.py``: exact comparison of title, published (the ISO text as
written), author, dateline, summary_bullets, caption and language; the body starts with
``body_starts_with`` (and is exactly ``""`` when that is ``""``); ``should_error`` is true
exactly when the reader raises ``ArticleError``, and then every field is null / [].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import ArticleError
from feeds.normalize.plaintext import read_plaintext

from .conftest import SHARED

FIELDS = (
    "title",
    "published",
    "author",
    "dateline",
    "summary_bullets",
    "caption",
    "body_starts_with",
    "language",
    "should_error",
)
_EXPECTED = SHARED / "articles" / "expected.json"
NAMES = sorted(json.loads(_EXPECTED.read_text(encoding="utf-8"))) if _EXPECTED.is_file() else []


def _scored(path: Path, want_body: str | None) -> dict[str, Any]:
    """What the scorer sees of one reading, in its own shape."""
    try:
        article = read_plaintext(path.read_bytes(), source="devset", key=path.name)
    except ArticleError:
        return {f: None for f in FIELDS} | {"summary_bullets": [], "should_error": True}
    if want_body is None:
        body_ok: str | None = article.body
    elif want_body == "":
        body_ok = "" if article.body == "" else article.body[:40]
    else:
        body_ok = want_body if article.body.startswith(want_body) else article.body[:40]
    return {
        "title": article.title,
        "published": article.published_text,
        "author": article.author,
        "dateline": article.dateline,
        "summary_bullets": list(article.summary_bullets),
        "caption": article.caption,
        "body_starts_with": body_ok,
        "language": article.language,
        "should_error": False,
    }


@pytest.mark.parametrize("name", NAMES or ["(no dev set)"])
def test_dev_article_reads_exactly_as_expected(shared_articles: Path, name: str) -> None:
    want = json.loads((shared_articles / "expected.json").read_text(encoding="utf-8"))[name]
    got = _scored(shared_articles / name, want["body_starts_with"])
    assert got == {f: want[f] for f in FIELDS}


def test_dev_set_has_twenty_files_of_nine_fields(shared_articles: Path) -> None:
    expected = json.loads((shared_articles / "expected.json").read_text(encoding="utf-8"))
    assert len(expected) * len(FIELDS) == 180
    assert all(set(FIELDS) <= set(fields) for fields in expected.values())
