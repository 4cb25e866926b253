"""Photo captions known by their credit: ``... sentence. (Credit)``, ``... Photo: Name``,
``... — Reuters``, ``... REUTERS/Name``, ``... © Agency``, ``... (Petra photo)``, ``(واس)``.
Used by the plain-text reader to tell a caption from a headline or a body paragraph."""

from __future__ import annotations

import re

__all__ = ["CAPTION_CREDIT", "CREDIT_AFTER_SENTENCE", "is_credited_caption"]

#: a "(credit)" group, and one right after the end of a sentence
CAPTION_CREDIT = re.compile(r"\((?P<credit>[^()]{1,120})\)")
CREDIT_AFTER_SENTENCE = re.compile(r"[.!?…][\"”’»]?\s*\([^()]{1,120}\)")

# A credit at the end of a caption, after a sentence or a space ("... Photo: Name",
# "... — Reuters", "... REUTERS/Name", "... © Agency"); searched in the last characters only.
_PHOTO_CREDIT = re.compile(
    r"(?:[.!?…]\s*|\s+|\()(?:\(?(?:photo|photograph|picture|image|foto|bild|credit"
    r"|crédit|courtesy|source)s?(?:\s*:| by| de| von| di)\s*\S.{0,80}"
    r"|[-–—]\s*(?:reuters|afp|ap|epa|getty images|file|wam|spa|ap photo|anadolu|xinhua)"
    r"|(?:reuters|afp|ap photo|epa|getty images|afp photo)\s*/\s*\S.{0,60}"
    r"|©\s*\S.{0,80})\s*\)?$",
    re.IGNORECASE,
)
# "(Petra photo)", "(REUTERS)", "(Mohammed Salem/Reuters)", "(واس)": a credit in parentheses
# named by its words, after a caption that need not end like a sentence.
_CREDIT_WORD_PARENS = re.compile(
    r"\s\((?:[^()]{0,60}\b(?:photos?|foto|afp|reuters|ap|epa|getty images|handout|file|archive"
    r"|courtesy|supplied|wam|spa|petra|xinhua|anadolu|dpa|ansa|efe)\b[^()]{0,60}"
    r"|واس|تويتر|أرشيفية|ارشيفية|رويترز|أ\.ف\.ب|أ ف ب|أ\.ب|وام|بترا|الشرق الأوسط)\)$",
    re.IGNORECASE,
)
_CREDIT_TAIL = 110  # the longest credit the pattern takes, with its lead

# "... (L). WAM and Getty", "... in Abu Dhabi. Andrew Parsons / The National": after the
# caption's last sentence, a short run of capitalized names (a photographer, an agency),
# joined only by "/", "&", "and", "for", "via", "of", "the" -- no verb, no closing stop.
_TAIL_JOINERS = frozenset({"/", "&", "and", "for", "via", "of", "the", "|", "-", "–"})
# "... on 28 December 2016 [Murtadha Sudani/Anadolu Agency]": a credit in brackets
_BRACKET_CREDIT = re.compile(r"\s\[[^\[\]]{0,60}(?:/|\b(?:photo|agency|afp|reuters|ap|getty)\b)"
                             r"[^\[\]]{0,60}\]$", re.IGNORECASE)


def _names_tail(text: str) -> bool:
    """Does the text end with a credit of names after its last sentence?"""
    if not text[-1:].isalnum():
        return False
    start = max(0, len(text) - 72)
    cut = max(text.rfind(". ", start), text.rfind(") ", start), text.rfind("! ", start),
              text.rfind("? ", start))
    if cut < 0:
        return False
    tail = text[cut + 2 :]
    if len(tail) < 2 or any(ch in tail for ch in ".!?…"):
        return False
    words = tail.replace("/", " / ").split()
    if not 1 <= len(words) <= 8:
        return False
    names = 0
    for word in words:
        if word.casefold() in _TAIL_JOINERS:
            continue
        if not word[:1].isupper():
            return False
        names += 1
    return names >= 1 and len(words) >= 2


def is_credited_caption(text: str) -> bool:
    """A photo caption by its credit: ``... sentence. (Credit)``, ``... Photo: Name``,
    ``... — Reuters``, ``... REUTERS/Name``, ``... © Agency``."""
    if len(text) > 600:
        return False
    if text.endswith(")") and (
        CREDIT_AFTER_SENTENCE.search(text) is not None
        or _CREDIT_WORD_PARENS.search(text, max(0, len(text) - 80)) is not None
    ):
        return True
    if text.endswith("]") and _BRACKET_CREDIT.search(text, max(0, len(text) - 130)):
        return True
    start = max(12, len(text) - _CREDIT_TAIL)
    return _PHOTO_CREDIT.search(text, start) is not None or _names_tail(text)
