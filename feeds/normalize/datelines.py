"""Datelines: the place a first body paragraph opens with, in the ``PLACE:`` form
(``KABUL:``, ``RAS AL-KHAIMAH:``, Arabic ``دبي:``) and the dash forms (``PARIS —``,
``LONDON (Reuters) -``, ``ABU DHABI //``, ``WASHINGTON.-``).  Read by the plain-text
reader; kept in the body."""

from __future__ import annotations

import re

from feeds.normalize.furniture import _is_capitalized
from feeds.text import drop_marks

_SENTENCE_END = '.!?…:;"”’»)'
_HEADLINE_MAX = 160  # a line without closing punctuation and shorter than this may be a headline
_DATELINE = re.compile(r"(?P<place>[^\s:][^:\n]{0,48}?)\s*:\s")
# Letters, the combining marks written on them (Arabic harakat: "عمّان"), and the
# punctuation of place names: "ST. JOHN’S", "RAS AL-KHAIMAH", "LONDON/DUBAI".
_DATELINE_CHARS = re.compile(r"[\w\s.,'’/\-\u0300-\u036f\u064b-\u065f\u0670]+")
# Upper-case place names: up to 4 words, not counting the particles that join them
# ("SAN CRISTÓBAL DE LAS CASAS", "PORT OF SPAIN"), and up to 6 words in all.
_MAX_PLACE_WORDS, _MAX_PLACE_WORDS_ALL = 4, 6
_MAX_UNCASED_PLACE_WORDS = 3  # scripts without case (Arabic): "الدار البيضاء"
# Particles that join the words of a place name ("PORT OF SPAIN", "SAN CRISTÓBAL DE LAS CASAS")
_PLACE_PARTICLES = frozenset(
    {
        "de", "da", "del", "della", "der", "den", "di", "dos", "das", "du", "van", "von", "la",
        "le", "al", "el", "bin", "ibn", "bint", "ter", "ten", "zu", "y", "las", "los", "les",
        "lo", "des", "do", "of", "on", "upon", "sur", "sous", "en", "am", "an", "im",
    }
)


def _is_dateline_shaped(text: str) -> bool:
    """A first body paragraph with a dateline.  A short line that is no sentence (no
    closing punctuation) is a headline or a kicker, even in the "PLACE:" form: "PM: We
    will not resign"."""
    if len(text) < _HEADLINE_MAX and not text.rstrip().endswith(tuple(_SENTENCE_END)):
        return False
    return _dateline(text) is not None


# The other common forms: "PARIS —", "LONDON (Reuters) -", "ABU DHABI //",
# "ISLAMABAD, SEPT 22:", "WASHINGTON, Nov 29 (Reuters) –", "Islamabad [Pakistan]-".
_DASH_DATELINE = re.compile(
    r"(?P<place>[^\W\d_][\w'’.\-/]*(?:\s[\w'’.\-/]+){0,5}?)"
    r"(?P<qual>(?:\s*,\s*[^,:()\[\]—–\n]{1,30}?|\s*\[[^\[\]\n]{1,30}\]|\s*\([^()\n]{1,40}\))*)"
    r"\s*(?P<sep>:|[-–—]{1,2}|//|(?<=\.)-)"  # "WASHINGTON.- ": Spanish agencies
    r"(?:\s|(?<=\)\s[-–—])(?=[^\W\d_]))"  # "(Reuters) -Hamas": the dash run into the text
)


_DASH_MARK = re.compile(r"\s[-–—/]|\]-|\.-\s")  # what every dash form has near its start


def _dash_dateline(text: str) -> str | None:
    m = _DASH_DATELINE.match(text)
    if m is None or (m.group("sep") == ":" and not m.group("qual")):
        return None
    place, qual = m.group("place"), m.group("qual")
    if m.group("sep") == "-" and place.endswith("."):  # "CDMX.- ": the stop is no part of it
        place = place[:-1]
    if any(ch.isdigit() for ch in place) or not any(ch.isalpha() for ch in place):
        return None
    words = place.split()
    if place.upper() == place and any(ch.lower() != ch.upper() for ch in place):
        return place if len(words) <= _MAX_PLACE_WORDS else None
    # Mixed case ("Riyadh, Ramadan 23, 1438 —"): only with a date, "[Country]" or "(Agency)".
    if not (any(ch.isdigit() for ch in qual) or "[" in qual or "(" in qual):
        return None
    if len(words) <= 3 and all(_is_capitalized(w) for w in words):
        return place
    return None


def _dateline(paragraph: str) -> str | None:
    """The ``PLACE`` of a ``PLACE: text`` paragraph: upper case, or 1-3 uncased words;
    or of the dash forms (``_DASH_DATELINE``).

    Direction marks (``"\\u200fدبي\\u200f: ..."``) are not part of the place.
    """
    text = drop_marks(paragraph)
    m = _DATELINE.match(text)
    if m is None:
        return _dash_dateline(text) if _DASH_MARK.search(text, 0, 120) else None
    place = m.group("place").strip()
    if not _DATELINE_CHARS.fullmatch(place) or any(ch.isdigit() for ch in place):
        return _dash_dateline(text)
    if "_" in place:
        return None
    letters = [ch for ch in place if ch.isalpha()]
    cased = [ch for ch in letters if ch.lower() != ch.upper()]
    words = place.split()
    if cased:
        if len(letters) < 2 or any(not ch.isupper() for ch in cased):
            return None
        if len(words) > _MAX_PLACE_WORDS_ALL:
            return None
        named = [w for w in words if w.casefold() not in _PLACE_PARTICLES]
        return place if len(named) <= _MAX_PLACE_WORDS else None
    if letters and 1 <= len(words) <= _MAX_UNCASED_PLACE_WORDS:
        return place
    return None
