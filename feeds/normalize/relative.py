"""Relative times on a date line: ``2 hours ago``, ``Updated 2 min 58 sec ago``.

A page saved to text keeps what the browser showed: "1 hour ago" means one hour before the
page was saved, which is the best guess of the file's modification time.  So a relative
time is resolved against a reference instant the caller gives (the file's mtime), to the
minute, and the ``FoundDate`` carries a note saying so; the reader flags the date
(``date_source="relative"``).

Forms, after an optional Published/Updated label (``feeds.normalize.dates``)::

    en  2 hours ago · an hour ago · 2 min 58 sec ago · 3 days ago
    fr  il y a 2 heures        es  hace 2 horas        de  vor 2 Stunden
    it  2 ore fa               pt  há 2 horas          nl  2 uur geleden
    ar  منذ 3 ساعات

Units: seconds, minutes, hours, days and weeks (months and years are too coarse to date a
news page by).  ``1 hour ago in World`` (a section after it) is the same time.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from feeds.normalize.dates import FoundDate, split_label

__all__ = ["parse_relative"]

_UNITS: dict[str, str] = {
    "seconds": "s sec secs second seconds seconde secondes segundo segundos sekunde sekunden"
    " secondo secondi seconden ثانية ثوان ثواني",
    "minutes": "m min mins minute minutes minuto minutos minuten minuti minuut دقيقة دقائق",
    "hours": "h hr hrs hour hours heure heures hora horas stunde stunden std ora ore uur"
    " ساعة ساعات",
    "days": "d day days jour jours día días dia dias tag tagen tage giorno giorni dag dagen"
    " يوم أيام ايام",
    "weeks": "w wk wks week weeks semaine semaines semana semanas woche wochen settimana"
    " settimane weken أسبوع أسابيع اسبوع اسابيع",
}
_UNIT_OF = {word: unit for unit, words in _UNITS.items() for word in words.split()}
_ONE = frozenset({"a", "an", "one", "un", "une", "uno", "una", "ein", "eine", "einen", "een"})
_BEFORE = ("il y a ", "hace ", "vor ", "há ", "ha ", "منذ ")
_AFTER = (" ago", " fa", " geleden")
_AMOUNT = re.compile(r"(\d{1,3}|[^\W\d_]+)\s*([^\W\d_]+)\.?,?\s*(?:and\s+|et\s+|y\s+|und\s+)?")
_SECTION = re.compile(r"\s+(?:in|dans|en|in der|im|em|في)\s+\S.{0,40}$")
_MAX_LINE = 80


def _amounts(text: str) -> timedelta | None:
    """``2 min 58 sec`` -> the time span, else None."""
    span = timedelta()
    position = 0
    while position < len(text):
        m = _AMOUNT.match(text, position)
        if m is None or m.end() == position:
            return None
        number, word = m.groups()
        unit = _UNIT_OF.get(word)
        if unit is None:
            return None
        if number.isdigit():
            count = int(number)
        elif number in _ONE:
            count = 1
        else:
            return None
        span += timedelta(**{unit: count})
        position = m.end()
    return span if span else None


def parse_relative(line: str, now: datetime) -> FoundDate | None:
    """The instant a relative date line names, resolved against ``now`` (aware), else None."""
    if len(line) > _MAX_LINE:
        return None
    text = " ".join(unicodedata.normalize("NFKC", line).casefold().split())
    kind, text = split_label(text)
    text = _SECTION.sub("", text).rstrip(" .")
    for word in _AFTER:
        if text.endswith(word):
            text = text[: -len(word)]
            break
    else:
        for word in _BEFORE:
            if text.startswith(word):
                text = text[len(word) :]
                break
        else:
            return None
    span = _amounts(text.strip())
    if span is None:
        return None
    value = (now.astimezone(UTC) - span).replace(second=0, microsecond=0)
    note = f"relative time {line.strip()!r} resolved against the file's modification time"
    return FoundDate(kind, value, value.isoformat(), note)
