"""Furniture and label shapes of scraped pages' lines: share/follow buttons, a language
switch printed as a list, a section label in front of a date (``Politics 10 January 2007``).
``feeds.normalize.plainlines`` classifies lines with these."""

from __future__ import annotations

import re
from datetime import tzinfo

from feeds.normalize.dates import FoundDate, opens_date, parse_date_line

_ANY_DIGIT = re.compile(r"\d")

# "Follow us on X", "Share on Facebook", "Follow @desk": never a headline or a sentence.
_SOCIAL_LINE = re.compile(
    r"(?:follow|share|suivez|partager|síguenos|compartir|folgen|teilen|seguici|condividi|volg"
    r"|delen)(?: us| this| nous| uns| ons)?(?: on| sur| en| auf| su| op| via) .{1,40}"
    r"|follow @\S+"
    r"|join (?:us|our \w+ (?:channel|group|community))(?: on .{1,30})?"
)

# A language switch printed as a list ("• English" "• Arabic"): the names of languages.
_LANGUAGES = """
    english arabic french german spanish italian portuguese russian chinese turkish persian urdu
    hindi japanese korean dutch hebrew français francais anglais arabe allemand espagnol
    deutsch englisch arabisch französisch español espanol inglés ingles árabe arabe francés
    italiano português türkçe русский 中文 日本語 한국어 العربية عربي فارسی اردو עברית
"""
_LANGUAGE_NAMES = frozenset(_LANGUAGES.split())


def _is_menu_item(key: str) -> bool:
    """A list item that is page chrome: a language's name, a share or follow button."""
    return key in _LANGUAGE_NAMES or (len(key) <= 60 and _SOCIAL_LINE.fullmatch(key) is not None)


_SWITCH_SEPARATOR = re.compile(r"\s*[/|•·,]\s*|\s+")


def _is_language_switch(key: str) -> bool:
    """A language switch on one line: "Portuguese / Spanish / English", "English | عربي"."""
    if len(key) > 80 or key[: key.find(" ")].strip("/|•·,") not in _LANGUAGE_NAMES:
        return False  # (the first word decides at once for nearly every line)
    parts = [part for part in _SWITCH_SEPARATOR.split(key) if part]
    return len(parts) >= 2 and all(part in _LANGUAGE_NAMES for part in parts)


def _is_capitalized(word: str) -> bool:
    """Its first letter is upper case, or the script has no case."""
    first = next((ch for ch in word if ch.isalpha()), "")
    return bool(first) and (first.isupper() or first.lower() == first.upper())


def _kicker_and_date(text: str, tz: tzinfo) -> FoundDate | None:
    """A section label of one to three capitalized words, then a date: ``Politics
    Materials 10 January 2007 15:50 (UTC +04:00)``."""
    if len(text) > 80 or not text[:1].isupper() or _ANY_DIGIT.search(text) is None:
        return None
    words = text.split(maxsplit=4)
    for start in range(1, min(4, len(words))):
        word = words[start]
        if not _is_capitalized(words[start - 1]) or _ANY_DIGIT.search(words[start - 1]):
            return None
        if opens_date(word.casefold()):
            return parse_date_line(text.split(maxsplit=start)[start], tz)
    return None
