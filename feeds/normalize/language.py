"""Offline language detection (py3langid: its model ships inside the wheel)."""

from __future__ import annotations

import functools
from typing import Any

_MAX_CHARS = 2000  # a few paragraphs decide the language; more only costs time


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import classify

    return classify


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when there is nothing to judge."""
    sample = text[:_MAX_CHARS].strip()
    if not sample:
        return None
    code, _score = _identifier()(sample)
    return str(code)
