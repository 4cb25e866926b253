"""Dates written on a dedicated line of an article: ``Updated 08 October 2019``.

Only a line that is a date *as a whole* (after an optional label such as "Published:",
"Mis à jour le", "آخر تحديث") gives a date: free text is never searched, so a caption or a
sentence that mentions a date gives nothing.  Readers decide which lines to offer (the
header zone of an article, never its body).

What a date line may hold, in any order the languages use::

    [label] [weekday] date [time [am/pm]] [zone]

* label: Published / Updated families in en, fr, es, de, it, pt, nl, ar (``FoundDate.kind``);
* date: ``2021-09-07``, ``2021/09/07``, numeric ``03/02/2021`` ``05.03.2021`` (**day first**;
  month first only when day first is impossible), month names and abbreviations in
  en, fr, es, de, it, pt, nl and ar (Egyptian, Levantine and Maghrebi names), ordinals
  (``5th``, ``1er``, ``1º``, ``1.``), ``de``/``of`` between the parts, Arabic-Indic digits;
* time: ``18:20``, ``07:45:00``, ``16h30``, ``9h``, ``9 h 05``, ``4:30 p.m.``, ``9.05pm``,
  ``9:05 p. m.``, ``16.30 Uhr``, ISO ``T`` times;
* zone: ``GMT``, ``UTC``, ``Z``, ``+0400``, ``+04:00``, ``GMT+4``, and a few abbreviations
  (``EST``, ``CET``, ``ET`` ...).  A time without a zone is read in the caller's ``tz``.

``FoundDate.text`` is the date in ISO 8601 at the precision written: ``2021-09-07``,
``2021-02-03T18:20:00`` (no zone written) or ``2022-03-16T07:45:00+04:00``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from feeds.normalize.datewords import (
    _AM,
    _FILLERS,
    _LABEL_RE,
    _LABELS,
    _MONTHS,
    _PM,
    _TWO_WORD_MONTHS,
    _UTC_WORDS,
    _WEEKDAY_OR_MONTH,
    _WEEKDAYS,
    DateKind,
)
from feeds.normalize.zones import AMBIGUOUS, NAMED_ZONES
from feeds.text import DIRECTION_MARKS

__all__ = [
    "DateKind", "FoundDate", "opens_date", "parse_date_line", "parse_date_segments", "split_label",
]


_MAX_LINE = 120  # a dedicated date line is short; longer lines are prose (and cost nothing)
_YEARS = range(1800, 2200)


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date read from one line: which kind of line, the instant (aware UTC), ISO text."""

    kind: DateKind
    value: datetime
    text: str
    #: how the date was read when it needed a guess: an ambiguous zone, a relative time
    note: str | None = None


# ---------------------------------------------------------------- token patterns

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ISO_T = re.compile(r"(?<=\d)t(?=\d)")
_SPACES = re.compile(f"[\\s{DIRECTION_MARKS}]+")
_SPLIT = re.compile(r"[\s,،]+")
_EDGE_PUNCT = "()[]«»\"'“”"

_YMD = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})")
_TIME = re.compile(  # "18:20", "16h30", "07:45:00.5z"; a dot only before the minutes: "9.05pm"
    r"(\d{1,2})(?::|h|\.(?=\d\d(?:uhr|am|pm|a\.m\.?|p\.m\.?)?$))(\d{2})"
    r"(?::(\d{2})(?:[.,]\d{1,9})?)?(uhr)?(am|pm|a\.m\.?|p\.m\.?)?(z|[+-]\d{2}:?\d{2})?"
)
_HOUR_AMPM = re.compile(r"(\d{1,2})(am|pm|a\.m\.?|p\.m\.?|h)")  # "9pm", French "9h"
_SPACED_AMPM = re.compile(r"(?<=\d)\s+([ap])\.\s+m\b\.?")  # Spanish "9:05 p. m."
_SPACED_HOUR = re.compile(r"(?<![\d:.])(\d{1,2}) h(?: (\d\d))?(?![\w:])")  # French "9 h 05"
_NUMBER = re.compile(r"(\d{1,4})(?:st|nd|rd|th|er|re|e|o|a|°|\.)?")
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")
_ZONE_WORD_OFFSET = re.compile(r"(gmt|utc|ut)([+-]?\d{1,2}(?::?\d{2})?)")  # "GMT9" is GMT+9
# RFC 2822: a comment after a numeric offset, "+0200 (CEST)"; the offset is what counts.
_OFFSET_COMMENT = re.compile(r"([+-]\d\d:?\d\d)\s*\([^()\d]{1,40}\)$")
_YEAR_MARK = re.compile(r"(\d{4})م")  # Arabic "م" (AD) glued to a year
_DIGIT = re.compile(r"\d")
_HARAKAT = re.compile("[\u064b-\u0652]")
_MONTH_PAIR = re.compile(r"(\S+) / (\S+)")  # "تشرين_الاول / اكتوبر": one month, two names
_GLUED_WEEKDAY = re.compile(r"([^\W\d]+)-(?=\d)")  # "الإثنين-2017-03-27"


@dataclass(slots=True)
class _Parts:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    numbers: list[tuple[str, bool]] | None = None  # (digits, had an ordinal suffix)
    hour: int | None = None
    minute: int = 0
    second: int = 0
    ampm: str | None = None
    zone: tzinfo | None = None
    zone_given: bool = False
    note: str | None = None  # an ambiguous zone abbreviation read by its default


def _offset(text: str) -> tzinfo | None:
    m = _OFFSET.fullmatch(text)
    if not m:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if m.group(1) == "-" else delta)


def _set_zone(parts: _Parts, zone: tzinfo | None) -> bool:
    if zone is None or parts.zone_given:
        return False
    parts.zone, parts.zone_given = zone, True
    return True


def _set_time(parts: _Parts, m: re.Match[str]) -> bool:
    if parts.hour is not None:
        return False
    parts.hour, parts.minute = int(m.group(1)), int(m.group(2))
    parts.second = int(m.group(3) or 0)
    if m.group(5):
        parts.ampm = m.group(5)[0]
    if m.group(6):
        return _set_zone(parts, UTC if m.group(6) == "z" else _offset(m.group(6)))
    return True


def _set_date(parts: _Parts, year: int, month: int, day: int) -> bool:
    if parts.year is not None or parts.month is not None or parts.numbers:
        return False
    parts.year, parts.month, parts.day = year, month, day
    return True


def _weekday_not_month(parts: _Parts, month_token: str) -> str:
    """Before a numeric date, "mar" is Tuesday (fr, es, it), not March: "mar. 03/05/2022".

    Returns the month token that still stands.
    """
    if month_token in _WEEKDAY_OR_MONTH:
        parts.month = None
        return ""
    return month_token


def _classify(tokens: list[str], parts: _Parts) -> bool:
    """Fill ``parts`` from the tokens; False as soon as one token is not part of a date."""
    numbers: list[tuple[str, bool]] = []
    previous = month_token = ""
    for token in tokens:
        ok = True
        if (token in _AM or token in _PM) and (  # before fillers: German "am"
            _TIME.fullmatch(previous)  # after a clock time
            or (numbers and numbers[-1][0] == previous and parts.hour is None)
        ):
            if parts.hour is None:  # "4 pm"
                parts.hour = int(numbers.pop()[0])
            ok = parts.ampm is None
            parts.ampm = "a" if token in _AM else "p"
        elif token.isascii() and token.isdigit() and len(token) <= 4:  # a plain number
            numbers.append((token, False))  # (what _NUMBER below says, without the regex)
        elif token in _FILLERS or token in _WEEKDAYS:
            pass
        elif token in _MONTHS:
            # With two month names, "mar" is Tuesday (fr, es, it): "mar. 3 mai 2022".
            if parts.month is None or month_token in _WEEKDAY_OR_MONTH:
                parts.month, month_token = _MONTHS[token], token
            elif token not in _WEEKDAY_OR_MONTH:
                return False
        elif (m := _YMD.fullmatch(token)) is not None:
            month_token = _weekday_not_month(parts, month_token)
            ok = _set_date(parts, int(m.group(1)), int(m.group(3)), int(m.group(4)))
        elif (m := _DMY.fullmatch(token)) is not None:
            month_token = _weekday_not_month(parts, month_token)
            year = int(m.group(4))
            if len(m.group(4)) == 2:
                year += 2000 if year < 70 else 1900
            day, month = int(m.group(1)), int(m.group(3))
            if month > 12 >= day:  # impossible day first: the writer put the month first
                day, month = month, day
            ok = _set_date(parts, year, month, day)
        elif (m := _TIME.fullmatch(token)) is not None:
            ok = _set_time(parts, m)
        elif (m := _HOUR_AMPM.fullmatch(token)) is not None:
            ok = parts.hour is None
            parts.hour = int(m.group(1))
            if m.group(2) != "h":
                parts.ampm = m.group(2)[0]
        elif token in _AM or token in _PM:  # not after a clock time
            return False
        elif token == "م":  # after a time: p.m.; elsewhere the "AD" mark after a year
            if parts.hour is not None and _TIME.fullmatch(previous):
                parts.ampm = "p"
        elif token in _UTC_WORDS:
            ok = _set_zone(parts, UTC)
        elif token in NAMED_ZONES:
            ok = _set_zone(parts, NAMED_ZONES[token])
            parts.note = AMBIGUOUS.get(token) if ok else None
        elif (m := _ZONE_WORD_OFFSET.fullmatch(token)) is not None:
            offset = m.group(2)
            ok = _set_zone(parts, _offset(offset if offset[0] in "+-" else "+" + offset))
        elif token[:1] in "+-" and (zone := _offset(token)) is not None:
            if parts.zone_given and parts.zone is UTC and previous in _UTC_WORDS:
                parts.zone = zone  # "GMT +4"
            else:
                ok = _set_zone(parts, zone)
        elif (m := _NUMBER.fullmatch(token)) is not None:
            numbers.append((m.group(1), token != m.group(1)))
        else:
            return False
        if not ok:
            return False
        previous = token
    if numbers:
        if parts.year is not None:
            return False
        parts.numbers = numbers
    return True


def _resolve_numbers(parts: _Parts) -> bool:
    """Month named: the numbers are a day and a four-digit year."""
    numbers = parts.numbers or []
    if parts.year is not None:
        return not numbers
    if parts.month is None or len(numbers) != 2:
        return False
    years = [n for n, _ in numbers if len(n) == 4]
    days = [n for n, _ in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1:
        return False
    parts.year, parts.day = int(years[0]), int(days[0])
    return True


def _build(parts: _Parts, tz: tzinfo) -> tuple[datetime, str] | None:
    if parts.year is None or parts.year not in _YEARS or parts.month is None or parts.day is None:
        return None
    try:
        day = date(parts.year, parts.month, parts.day)
    except ValueError:
        return None
    if parts.hour is None:
        if parts.zone_given:  # a zone without a time says nothing
            parts.zone_given = False
        local = datetime.combine(day, time(0, 0), tzinfo=tz)
        return local.astimezone(UTC), day.isoformat()
    hour = parts.hour
    if parts.ampm is not None and not (parts.ampm == "p" and 13 <= hour <= 23):
        # (a 24-hour clock with a needless p.m. mark, "٢٣:١٠ م", keeps its hour)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if parts.ampm == "p" else 0)
    try:
        clock = time(hour, parts.minute, parts.second)
    except ValueError:
        return None
    if parts.zone_given and parts.zone is not None:
        written = datetime.combine(day, clock, tzinfo=parts.zone)
        return written.astimezone(UTC), written.isoformat()
    naive = datetime.combine(day, clock)
    return naive.replace(tzinfo=tz).astimezone(UTC), naive.isoformat()


def _normalize(line: str) -> str:
    text = unicodedata.normalize("NFKC", line).translate(_DIGITS).casefold()
    if not text.isascii():
        text = _HARAKAT.sub("", text)  # "الأوّل" is "الأول": vowel marks are optional
    return _SPACES.sub(" ", text).strip().rstrip(".;")


def _strip_label(text: str) -> tuple[DateKind, str]:
    m = _LABEL_RE.match(text)
    if m is None:
        return "plain", text
    label = m.group(0).rstrip(" :：-–—")
    return _LABELS[label], text[m.end() :]


def opens_date(word: str) -> bool:
    """Can a date start with this (casefolded) word: a number, a month or a weekday?"""
    word = word.rstrip(".,")
    return word[:1].isdigit() or word in _MONTHS or word in _WEEKDAYS


def split_label(text: str) -> tuple[DateKind, str]:
    """A casefolded line's Published/Updated label, and the rest (``plain``: no label)."""
    return _strip_label(text)


def _one_month(m: re.Match[str]) -> str:
    first, second = m.group(1), m.group(2)
    same = first in _MONTHS and _MONTHS[first] == _MONTHS.get(second)
    return second if same else m.group(0)


def _weekday_apart(m: re.Match[str]) -> str:
    return f"{m.group(1)} " if m.group(1) in _WEEKDAYS else m.group(0)


def _tokens(text: str) -> list[str]:
    text = _ISO_T.sub(" ", text)
    if text.endswith(")"):
        text = _OFFSET_COMMENT.sub(r"\1", text)
    if ". m" in text:
        text = _SPACED_AMPM.sub(r" \1.m.", text)
    if " h" in text:
        text = _SPACED_HOUR.sub(r"\1h\2", text)
    if "م" in text:
        text = _YEAR_MARK.sub(r"\1 م", text)
    if not text.isascii():  # the two-word month names are Arabic
        for name, joined in _TWO_WORD_MONTHS.items():
            if name in text:
                text = text.replace(name, joined)
        if " / " in text:
            text = _MONTH_PAIR.sub(_one_month, text)
    if "-" in text:
        text = _GLUED_WEEKDAY.sub(_weekday_apart, text)
    tokens = []
    for raw in _SPLIT.split(text):
        token = raw.strip(_EDGE_PUNCT)
        if token.endswith(".") and (token[:-1] in _MONTHS or token[:-1] in _WEEKDAYS):
            token = token[:-1]
        if token:
            tokens.append(token)
    return tokens


def parse_date_line(line: str, tz: tzinfo = UTC) -> FoundDate | None:
    """The date of a line that is a date as a whole (after an optional label), else None."""
    if len(line) > _MAX_LINE:
        return None
    return _parse(_normalize(line), tz)


def _parse(text: str, tz: tzinfo) -> FoundDate | None:
    """``parse_date_line`` of a normalized line."""
    if _DIGIT.search(text) is None:  # every date has a year, written in digits
        return None
    kind, rest = _strip_label(text)
    tokens = _tokens(rest)
    if not tokens:
        return None
    parts = _Parts()
    if not _classify(tokens, parts) or not _resolve_numbers(parts):
        return _unknown_zone(kind, tokens, tz)
    built = _build(parts, tz)
    if built is None:
        return None
    return FoundDate(kind, built[0], built[1], parts.note if parts.zone_given else None)


_ZONE_WORD = re.compile(r"[a-z]{2,5}")


def _unknown_zone(kind: DateKind, tokens: list[str], tz: tzinfo) -> FoundDate | None:
    """``31 August 2015 20:05 XYZT``: a zone word not in the table after a time keeps the
    date (without the time, whose zone is unknown), with a note; after a numeric offset
    (``20:05 +02:00 XYZT``) the time is kept at that offset."""
    if len(tokens) < 3 or not _ZONE_WORD.fullmatch(tokens[-1]) or tokens[-1] in _MONTHS:
        return None
    parts = _Parts()
    if not _classify(tokens[:-1], parts) or not _resolve_numbers(parts) or parts.hour is None:
        return None
    if parts.zone_given:  # "23:10 +02:00 EET": the offset says the zone, the name only echoes it
        built = _build(parts, tz)
        return None if built is None else FoundDate(kind, built[0], built[1])
    parts.hour = None
    built = _build(parts, tz)
    if built is None:
        return None
    note = f"unknown zone {tokens[-1].upper()!r}: the time is left out"
    return FoundDate(kind, built[0], built[1], note)


_SEGMENT_SPLIT = re.compile(r"\s*[|•·]\s*|\s+[-–—/ـ]\s+|^\s*/\s*")
_CLOCK_ONLY = re.compile(r"\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?\s?m\.?)?", re.IGNORECASE)


def parse_date_segments(line: str, tz: tzinfo = UTC) -> tuple[FoundDate, ...]:
    """Dates of a line, whole or split on ``|`` ``•`` ``·`` `` - `` `` / ``:
    ``Published 3 May 2021 | Updated 4 May 2021`` gives two; a lone time after a date is
    that date's (``/ 27 de junio de 2024 / 06:49``)."""
    if len(line) > 2 * _MAX_LINE:
        return ()
    text = _normalize(line) if len(line) <= _MAX_LINE else ""
    whole = _parse(text, tz) if text else None
    if whole is not None:
        return (whole,)
    segments = _SEGMENT_SPLIT.split(line)
    if len(segments) == 1:  # no separator: two labelled dates, or no date at all
        return _two_labelled(text, tz) if text else ()
    found: list[FoundDate] = []
    previous = ""
    for segment in segments:
        if not segment:
            continue
        one = parse_date_line(segment, tz)
        if one is None and found and "T" not in found[-1].text and _CLOCK_ONLY.fullmatch(segment):
            one = parse_date_line(f"{previous} {segment}", tz)
            if one is not None:
                found.pop()
        if one is not None:
            found.append(one)
            previous = segment
    return tuple(found)


_LATER_LABEL = re.compile(" (?=" + _LABEL_RE.pattern + ")")


def _two_labelled(text: str, tz: tzinfo) -> tuple[FoundDate, ...]:
    """``نشر: 2019-03-26 17:38 آخر تحديث: 2019-03-26 17:49`` (normalized): a second label
    mid-line starts a second date."""
    if _DIGIT.search(text) is None or _LABEL_RE.match(text) is None:
        return ()
    m = _LATER_LABEL.search(text, 1)
    if m is None:
        return ()
    first, second = _parse(text[: m.start()], tz), _parse(text[m.end() :], tz)
    return (first, second) if first is not None and second is not None else ()
