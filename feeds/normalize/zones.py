"""Time-zone abbreviations written after a date line's time: ``20:05 IST``, ``09:53 KSA``.

One table, documented here and in the README.  Each abbreviation maps to a fixed UTC offset
(or, for the North American ``ET``/``CT``/``MT``/``PT``, to the zone, so that daylight time
is right).  Abbreviations that mean several zones are listed in ``AMBIGUOUS`` with the
reading chosen by default and the other readings; a date read with one of them carries a
note (``FoundDate.note``) that ``feeds inspect --explain`` shows.

=========  ============  =====================================================
abbrev.    offset        zone
=========  ============  =====================================================
GMT UTC    +00:00        Greenwich / universal time (also ``UT``, ``Z``, ``WET``)
WEST BST   +01:00        Western European / British summer time
CET MEZ    +01:00        Central European (``MEZ``: German)
WAT        +01:00        West Africa
CEST MESZ  +02:00        Central European summer
EET CAT    +02:00        Eastern European, Central Africa
SAST       +02:00        South Africa
EEST       +03:00        Eastern European summer
MSK TRT    +03:00        Moscow, Turkey
EAT        +03:00        East Africa
KSA AST    +03:00        Saudi Arabia / Arabia Standard (``AST`` is ambiguous)
IRST       +03:30        Iran
GST UAE    +04:00        Gulf Standard (UAE, Oman)
AFT        +04:30        Afghanistan
PKT        +05:00        Pakistan
IST        +05:30        India (``IST`` is ambiguous)
NPT        +05:45        Nepal
BDT        +06:00        Bangladesh
ICT WIB    +07:00        Indochina, Western Indonesia
SGT HKT    +08:00        Singapore, Hong Kong
PHT MYT    +08:00        Philippines, Malaysia
AWST       +08:00        Western Australia
CST        -06:00        US Central (``CST`` is ambiguous)
JST KST    +09:00        Japan, Korea
ACST       +09:30        Australian Central
AEST       +10:00        Australian Eastern
AEDT       +11:00        Australian Eastern daylight
NZST       +12:00        New Zealand
NZDT       +13:00        New Zealand daylight
HST        -10:00        Hawaii
AKST       -09:00        Alaska
AKDT       -08:00        Alaska daylight
PST        -08:00        US Pacific
PDT MST    -07:00        US Pacific daylight, Mountain
MDT CDT    -06:00 -05:00 US Mountain daylight, Central daylight
EST        -05:00        US Eastern
EDT        -04:00        US Eastern daylight
ET CT      zone          America/New_York, America/Chicago
MT PT      zone          America/Denver, America/Los_Angeles
=========  ============  =====================================================

Ambiguous, with the default reading first:

* ``IST``: India +05:30; also Irish summer time +01:00 and Israel +02:00.
* ``CST``: US Central -06:00; also China +08:00 and Cuba -05:00.
* ``AST``: Arabia +03:00; also Atlantic -04:00.
* ``BST``: British summer +01:00; also Bangladesh +06:00.

``GMT9`` / ``UTC+5:30`` / ``GMT -4`` are offsets from GMT (``dates`` reads them).
"""

from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["AMBIGUOUS", "NAMED_ZONES"]


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # no tz database: these few stay unknown
        return None


def _fixed(hours: float) -> tzinfo:
    return timezone(timedelta(minutes=round(hours * 60)))


_OFFSETS: dict[float, str] = {
    1: "west bst cet mez wat",
    2: "cest mesz eet cat sast",
    3: "eest msk trt eat ksa ast",
    3.5: "irst",
    4: "gst uae",
    4.5: "aft",
    5: "pkt",
    5.5: "ist",
    5.75: "npt",
    6: "bdt",
    7: "ict wib",
    8: "sgt hkt pht myt awst",
    9: "jst kst",
    9.5: "acst",
    10: "aest",
    11: "aedt",
    12: "nzst",
    13: "nzdt",
    -10: "hst",
    -9: "akst",
    -8: "akdt pst",
    -7: "pdt mst",
    -6: "mdt cst",
    -5: "cdt est",
    -4: "edt",
}

#: casefolded abbreviation -> its zone (None: the tz database is missing)
NAMED_ZONES: dict[str, tzinfo | None] = {
    name: _fixed(hours) for hours, names in _OFFSETS.items() for name in names.split()
}
NAMED_ZONES.update(
    et=_zone("America/New_York"),
    ct=_zone("America/Chicago"),
    mt=_zone("America/Denver"),
    pt=_zone("America/Los_Angeles"),
)

#: casefolded abbreviation -> the note a date read with it carries
AMBIGUOUS: dict[str, str] = {
    "ist": "IST read as India (+05:30); it may also mean Irish (+01:00) or Israel (+02:00) time",
    "cst": "CST read as US Central (-06:00); it may also mean China (+08:00) or Cuba (-05:00)",
    "ast": "AST read as Arabia (+03:00); it may also mean Atlantic (-04:00) time",
    "bst": "BST read as British summer (+01:00); it may also mean Bangladesh (+06:00) time",
}
