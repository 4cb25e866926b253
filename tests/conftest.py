"""Shared fixtures.  Data from ``../shared`` is optional: tests that need it skip without it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


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
