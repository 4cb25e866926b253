"""The lines of a plain-text article, each classified once: headline, template or chrome
line, gallery counter, date, byline, bullet, or other (``_Classifier``); and the small
readers of one line they use (bylines, datelines, names).  ``plaintext`` reads the zones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from feeds.normalize.datelines import _is_dateline_shaped
from feeds.normalize.dates import FoundDate, opens_date, parse_date_line, parse_date_segments
from feeds.normalize.datewords import DATE_LABELS
from feeds.normalize.furniture import (
    _SOCIAL_LINE,
    _is_capitalized,
    _is_language_switch,
    _is_menu_item,
    _kicker_and_date,
)
from feeds.normalize.relative import parse_relative
from feeds.text import DIRECTION_MARKS, drop_marks, strip_marks

# ---------------------------------------------------------------- boilerplate

# Lines that belong to a page template: they mark a header that goes on.
_TEMPLATE_LINES = frozenset(
    """
    follow | follow us | short url | short link | shorturl | you are here |
    suivre | suivez-nous | lien court | url courte | vous êtes ici |
    seguir | síguenos | siguenos | enlace corto | url corta | usted está aquí | está aquí |
    folgen | folgen sie uns | kurz-url | kurzlink | sie sind hier |
    segui | seguici | link breve | url breve | ti trovi in | sei qui |
    siga | siga-nos | link curto | url curta | você está aqui | está aqui |
    volgen | volg ons | korte url | korte link | u bent hier |
    تابع | تابعونا | رابط مختصر | الرابط المختصر | أنت هنا | انت هنا
    """.replace("\n", " ").split(" | ")
)
# Lines of page chrome that say nothing about where the header ends.
_CHROME_LINES = frozenset(
    """
    share | share this | share this article | share this story | share article | tweet | email |
    e-mail | print | save | bookmark | comments | comment | read more | read also | see also |
    related | related articles | related stories | related topics | advertisement | ad |
    sponsored | listen | listen to this article | subscribe | sign up | newsletter | copy link |
    link copied | whatsapp | facebook | twitter | linkedin | telegram | close | menu | home |
    back | skip to content | skip to main content | most read | most popular | trending |
    font size | text size | a a | a- a+ | a+ a- | rss | connect with us | listen live |
    skip to main navigation | main content | translate | translate into | zum hauptinhalt |
    avatar | now reading | compartir articulo | compartir artículo | share article |
    zum inhalt springen | aller au contenu | ir al contenido | رئيس التحرير | الإشراف العام |
    رئيس مجلس الإدارة |
    partager | lire aussi | lire la suite | à lire aussi | voir aussi | publicité | écouter |
    imprimer | compartir | leer más | lee también | ver también | publicidad | escuchar |
    imprimir | teilen | mehr lesen | weiterlesen | lesen sie auch | auch interessant | anzeige |
    werbung | drucken | vorlesen | condividi | leggi anche | leggi di più | pubblicità | stampa |
    ascolta | compartilhar | partilhar | leia mais | leia também | veja também | publicidade |
    ouvir | delen | lees meer | lees ook | advertentie | luister | afdrukken |
    شارك | مشاركة | اقرأ أيضا | اقرأ أيضاً | اقرأ المزيد | إعلان | طباعة | استمع
    """.replace("\n", " ").split(" | ")
)
_TEMPLATE_LINES = frozenset(p.strip() for p in _TEMPLATE_LINES)
_CHROME_LINES = frozenset(p.strip() for p in _CHROME_LINES)
_URL_LINE = re.compile(r"(?:https?://|www\.)\S+")
_BREADCRUMB = re.compile(
    r"(?:home|accueil|inicio|startseite|início|inizio|الرئيسية)\s*[>/»›|].{0,200}"
)
_READING_TIME = re.compile(
    r"(?:(?:reading time|temps de lecture|tiempo de lectura|lesezeit|tempo di lettura"
    r"|tempo de leitura|leestijd)\s*:?\s*)?\d{1,3}\s*(?:min|mins|minutes?|minuten|minuti|minutos)"
    r"\.?(?:\s+(?:read|de lecture|de lectura|lesezeit|di lettura|de leitura|leestijd))?"
)
# ---------------------------------------------------------------- line shapes

_COUNTER = re.compile(r"\d{1,3}\s*(?:/|of|sur|de|von|di|van|من)\s*\d{1,3}")
_BULLET = re.compile(r"(?:[•·▪●◦‣∙]\s*|[-*–]\s+)(?P<text>\S.*)")
# "— A highlight": an em dash opens a highlight in the header only (in the body it may
# open a line of dialogue)
_HEADER_BULLET = re.compile(r"(?:[•·▪●◦‣∙]\s*|[-*–—]\s+)(?P<text>\S.*)")
_SENTENCE_END = '.!?…:;"”’»)'
_HEADLINE_MAX = 160  # a line without closing punctuation and shorter than this may be a headline

_BYLINE = re.compile(
    r"(?:(?:written |words |story |text |reporting |photos? )?by|par|por|von|di|door"
    r"|بقلم|كتب|كتبت|إعداد)\s*:?\s+(?P<rest>\S.*)"
    r"|(?:authors?|autor|autora|autores|auteur|auteurs|autore|autori|المؤلف|الكاتب"
    r"|(?:staff |senior |chief )?(?:writer|reporter|correspondent)|journalist|rédaction"
    r"|redacción|redaktion)"
    r"\s*:\s*(?P<rest2>\S.*)",
    re.IGNORECASE,
)
_BYLINE_CUT = re.compile(r"\s*[,|•·]\s*|\s+[-–—/]\s+|\s{2,}")
_AUTHOR_JOIN = re.compile(r"\s+(?:and|&|et|y|und|e|en|و)\s+", re.IGNORECASE)


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


_NAME_PARTICLES = _words(
    "de da del della der den di dos das du van von la le al el bin ibn bint ter ten zu y"
)
# Capitalized words that start sentences such as "By Monday, ..." rather than bylines.
_NOT_NAMES = _words(
    """
    monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow
    january february march april may june july august september october november december
    the a an this that these those then now
    """
)
# An article may open a name written with a capital: "By The Associated Press", "By AN Staff"
# (Arab News).  In a sentence it is lower case: "By the end of the day, ...".
_NAME_ARTICLES = _words("the a an")
# A particle written joined to the name: "al-Mutairi", "el-Gamal", "d’Arcy".
_JOINED_PARTICLE = re.compile(r"(?P<particle>[^\W\d_]+)[-'’](?P<rest>\S+)")
_JOINABLE_PARTICLES = _NAME_PARTICLES | _words("d l")
_MAX_NAME_WORDS = 5  # particles not counted: "Mohammed bin Abdullah bin Saleh Al-Otaibi"

_HEADLINE, _TEMPLATE, _CHROME, _COUNTER_LINE, _DATE, _BYLINE_LINE, _BULLET_LINE, _OTHER = range(8)
_CAPTION_LINE, _DECK_LINE = 8, 9  # roles an _OTHER line may take in the header
_LEADING_ISO = re.compile(r"\s*(?:date|published|updated)\s*:?\s*\d{4}-\d{2}-\d{2}(?=\s)", re.I)
_TRAILING_COUNT = re.compile(r"(?<=\d)\s+\d{1,7}$")  # a view counter after a date's time
_GLUED_TITLE = 20  # characters: a title this long may come back with a deck glued to it
_COUNT_LINE = 12  # characters: a shorter line without letters (no date) is a counter
_LONG_LINE = 300  # characters: longer lines are paragraphs or bullets (no date, byline, chrome)
_MARKERS = frozenset({_HEADLINE, _TEMPLATE, _COUNTER_LINE, _DATE, _BYLINE_LINE})


@dataclass(slots=True)
class _Line:
    kind: int
    text: str
    key: str = ""
    dates: tuple[FoundDate, ...] = ()
    authors: tuple[str, ...] = ()
    bullet: str = ""


@dataclass(slots=True)
class _Header:
    dates: list[FoundDate] = field(default_factory=list)
    authors: tuple[str, ...] = ()
    bullets: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)


def _key(text: str) -> str:
    if not text.isascii():
        text = drop_marks(text)
    return " ".join(text.casefold().split())


def _is_blank(line: str) -> bool:
    """Nothing but whitespace and direction marks."""
    text = line.strip()
    return not text or (text[0] in DIRECTION_MARKS and not strip_marks(text))


_PUNCTUATION_LINE = re.compile(r"[|/\\·•,;:–—\-_=*~]{1,3}")  # a lone "|" between header items


def _is_boilerplate(key: str) -> int | None:
    if len(key) <= 3 and _PUNCTUATION_LINE.fullmatch(key):
        return _CHROME
    bare = key.rstrip(" :：")
    if bare[:2] == "| ":  # "| Listen Live": a menu item cut from its row
        bare = bare[2:]
    if bare in _TEMPLATE_LINES or _URL_LINE.fullmatch(bare) or _BREADCRUMB.fullmatch(bare):
        return _TEMPLATE
    if bare in DATE_LABELS:  # "Stand:", "Publicado el": a date label whose date is missing
        return _TEMPLATE
    if bare in _CHROME_LINES or _READING_TIME.fullmatch(bare):
        return _CHROME
    if len(bare) <= 60 and _SOCIAL_LINE.fullmatch(bare):
        return _CHROME
    return None




def _looks_like_name(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= 2 * _MAX_NAME_WORDS:
        return False
    capitalized = 0
    for position, word in enumerate(words):
        folded = word.casefold()
        if position == 0 and folded in _NAME_ARTICLES and _is_capitalized(word):
            continue  # counts as a particle: a name must follow
        if any(ch.isdigit() for ch in word) or folded in _NOT_NAMES:
            return False
        if folded in _NAME_PARTICLES:
            continue
        if not _is_capitalized(word):
            joined = _JOINED_PARTICLE.fullmatch(word)
            if (
                joined is None
                or joined.group("particle").casefold() not in _JOINABLE_PARTICLES
                or not _is_capitalized(joined.group("rest"))
            ):
                return False
        capitalized += 1
    return 0 < capitalized <= _MAX_NAME_WORDS


# "<date> بقلم : Name", "Published 12 May 2021 by Jane Roe": the byline after the date
_INNER_BY = re.compile(r"\s(?:بقلم|by|par|por|von)\s*:?\s+(?=\S)", re.IGNORECASE)
# "Harbour Wire | By, Portville": an agency's byline without a person's name
_AGENCY_BY = re.compile(r"(?P<name>[^|]{2,40}?)\s*\|\s*by\b\s*,?\s*[^|]{0,40}", re.IGNORECASE)
# A source's brand name: "EuropaPress", "Algérie 360", "JournalismPakistan.com" (an inner
# capital, a number or a domain: never a section label such as "Politics")
_BRAND = re.compile(
    r"\S*[a-zà-ÿ][A-Z]\S*|\S+\.(?:com|net|org|[a-z]{2})|.*\s\d{1,4}|[A-Z]\w*[a-z]\d{1,4}",
    re.ASCII,
)


# A newsroom signing as itself: "Redacción Clarín", "Rédaction Le Site", "Reuters Staff"
_STAFF_LINE = re.compile(
    r"(?i:redacción|rédaction|redaktion|redazione|redação)\s+[A-ZÀ-Ý][\w.'’\- ]{1,30}"
    r"|[A-Z][\w.'’\-]*(?:\s[A-Z][\w.'’\-]*){0,3}\s(?:Staff|Desk|Newsroom|Bureau)"
)


def _date_then_byline(line: str, tz: tzinfo) -> _Line | None:
    m = _INNER_BY.search(line, 6)
    if m is None:
        return None
    found = parse_date_line(line[: m.start()].strip(" -|,"), tz)
    if found is None:
        return None
    names = tuple(n for n in map(strip_marks, _AUTHOR_JOIN.split(line[m.end() :].strip())) if n)
    if names and all(_looks_like_name(n) for n in names):
        return _Line(_BYLINE_LINE, line, dates=(found,), authors=names)
    return None


def _source_and_date(text: str, dates: tuple[FoundDate, ...]) -> _Line | None:
    """``EuropaPress - 25/10/2020 15:51``, ``Site.com | Published: 6 December 2019``: a
    source's brand name, then its date."""
    head = re.split(r"\s+[-–|]\s+", text, maxsplit=1)[0].strip()
    if head == text or len(head) > 40 or _BRAND.fullmatch(head) is None:
        return None
    if any(opens_date(word.casefold()) for word in head.split() if not word.isdigit()):
        return None  # "vendredi 23 octobre 2020 - 09:24": a date and its time
    return _Line(_BYLINE_LINE, text, dates=dates, authors=(head,))


def _read_byline(line: str, tz: tzinfo, now: datetime | None = None) -> _Line | None:
    m = _BYLINE.fullmatch(line)
    if m is None and _STAFF_LINE.fullmatch(line):  # "Redacción Clarín", "Reuters Staff"
        return _Line(_BYLINE_LINE, line, authors=(line.strip(),))
    if m is None:
        agency = _AGENCY_BY.fullmatch(line)
        if agency is not None and _looks_like_name(agency.group("name").strip()):
            return _Line(_BYLINE_LINE, line, authors=(agency.group("name").strip(),))
        return _date_then_byline(line, tz) if len(line) <= 200 else None
    rest = m.group("rest") or m.group("rest2") or ""
    if len(rest) > 200:
        return None
    inner = _date_then_byline(line, tz)  # "كتب في : <date> بقلم : <name>"
    if inner is not None:
        return inner
    segments = _BYLINE_CUT.split(rest)
    head = segments[0]
    names = tuple(n for n in map(strip_marks, _AUTHOR_JOIN.split(head)) if n)
    if not names or not all(_looks_like_name(n) for n in names):
        split = _name_then_date(rest)  # "By THE MEDIA LINE STAFF NOVEMBER 29, 2024 04:05"
        if split is None:
            return None
        head, names = split
        segments = [head]
    head, names = _without_month(rest, head) or (head, names)
    for segment in segments[1:]:
        if _is_clause(segment) and parse_date_line(segment, tz) is None:
            return None  # "By Christmas, most shops had reopened.": a sentence
    dates = _byline_dates(rest[len(head) :], tz, now)
    return _Line(_BYLINE_LINE, line, dates=dates, authors=names)


def _without_month(rest: str, head: str) -> tuple[str, tuple[str, ...]] | None:
    """``By Jane Doe Jun 11, 2024``: the month that opens the date is no part of the name."""
    words, tail = head.rsplit(None, 1), rest[len(head) :].lstrip()
    if len(words) != 2 or not tail[:1].isdigit() or not words[1][0].isalpha():
        return None
    names = tuple(n for n in map(strip_marks, _AUTHOR_JOIN.split(words[0])) if n)
    ok = opens_date(words[1].casefold()) and names and all(map(_looks_like_name, names))
    return (words[0], names) if ok else None


_DATE_START = re.compile(
    r"(?<!\w)\d|(?:" + "|".join(sorted(_NOT_NAMES - _NAME_ARTICLES)) + r")\b"
    r"|(?<=[a-z\d])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"
)


def _name_then_date(rest: str) -> tuple[str, tuple[str, ...]] | None:
    """A name run straight into a date: the name, up to the first date-like word."""
    m = _DATE_START.search(rest.casefold())
    if m is None or m.start() == 0:
        return None
    head = rest[: m.start()].rstrip()
    names = tuple(n for n in map(strip_marks, _AUTHOR_JOIN.split(head)) if n)
    if names and all(_looks_like_name(n) or _BRAND.fullmatch(n) for n in names):
        return head, names  # "By  Storyboard18Jun 11, 2024": a brand run into the date
    return None


_BYLINE_DATE_CUT = re.compile(r"\s*[|•·]\s*|\s+[-–—/]\s+|^\s*[,/]\s*|\s{2,}")
_LABEL_CUT = re.compile(r"\s(?=(?:updated|published|last updated|modified)\b)", re.IGNORECASE)
_TIME_ONLY = re.compile(r"\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?", re.I)


def _byline_dates(rest: str, tz: tzinfo, now: datetime | None) -> tuple[FoundDate, ...]:
    """The dates after a byline's name: ``| Published Dec 13, 2022 | 12:10 pm`` (a lone time
    joins the date before it), ``1 hour ago in World``, ``... Updated: ...``."""
    if now is None and _ANY_DIGIT.search(rest) is None:
        return ()  # every date but a relative one has digits ("an hour ago")
    parts = [p for cut in _BYLINE_DATE_CUT.split(rest) if cut for p in _LABEL_CUT.split(cut)]
    dates: list[FoundDate] = []
    previous = ""
    for part in (p.strip() for p in parts):
        if not part or (now is None and _ANY_DIGIT.search(part) is None):
            continue  # every date but a relative one has digits ("an hour ago")
        found = parse_date_line(part, tz)
        if found is None and now is not None:
            found = parse_relative(part, now)
        if found is None and dates and _TIME_ONLY.fullmatch(part) and "T" not in dates[-1].text:
            found = parse_date_line(f"{previous} {part}", tz)
            if found is not None:
                dates.pop()
        if found is not None:
            dates.append(found)
            previous = part
    return tuple(dates)


_NAMES_SPLIT = re.compile(r"\s*,\s*|\s+(?:and|&|et|y|und|e|en|و)\s+", re.IGNORECASE)
_BEFORE_DATE = frozenset({"le", "on", "am", "el", "il", "em", "op", "-", "–", "—", "|", "/"})
_ANY_DIGIT = re.compile(r"\d")
_CONNECTOR = re.compile(r",|\|| (?:le|on|am|el|il|em|op|-|–|—|/) ", re.IGNORECASE)


def _names_and_date(text: str, tz: tzinfo) -> _Line | None:
    """A byline without "By": names, then the date (``Sophie Brunn, Clément Parrot le
    vendredi 14 juillet 2017``).  Each name has two words at least."""
    if len(text) > 100 or not text[:1].isupper() or _ANY_DIGIT.search(text) is None:
        return None
    if _CONNECTOR.search(text) is None:
        return None  # no connector before a date: no signature (and no words to split)
    words = text.split()
    start = next((i for i, w in enumerate(words) if opens_date(w.casefold())), None)
    if start is None or start < 2:
        return None
    head = words[:start]
    if head[-1].casefold() not in _BEFORE_DATE and head[-1][-1] not in ",|":
        return None  # "Politics Materials 10 January 2007": a section, not a signature
    while head and head[-1].casefold() in _BEFORE_DATE:
        head.pop()
    if head:
        head[-1] = head[-1].rstrip(",|")
    names = tuple(n for n in _NAMES_SPLIT.split(" ".join(head)) if n)
    if not names or not all(len(n.split()) >= 2 and _looks_like_name(n) for n in names):
        return None
    found = parse_date_line(" ".join(words[start:]), tz)
    if found is None:
        return None
    return _Line(_BYLINE_LINE, text, dates=(found,), authors=names)


def _is_clause(segment: str) -> bool:
    """The rest of a sentence rather than a role, agency or place: three words or more,
    mostly lower case, ending like a sentence ("most shops had reopened.")."""
    text = segment.strip()
    if not text or text[-1] not in ".!?…":
        return False
    firsts = [ch for word in text.split() for ch in word[:1] if ch.lower() != ch.upper()]
    return len(firsts) >= 3 and 2 * sum(ch.islower() for ch in firsts) > len(firsts)


class _Classifier:
    """Classifies the lines of one article, each at most once."""

    def __init__(
        self, lines: list[str], title_key: str, tz: tzinfo, now: datetime | None = None
    ) -> None:
        self.lines = lines
        self.tz = tz
        self.now = now  # what relative times ("2 hours ago") are resolved against
        self._titled: dict[int, _Line] = {}  # lines as read with ``title_key``
        self._datelines: dict[int, bool] = {}
        self._cache: dict[int, _Line] = {}  # lines as read without a title
        self._title_key = title_key

    @property
    def title_key(self) -> str:
        """The title's key: lines with it (after a short label) are headlines."""
        return self._title_key

    @title_key.setter
    def title_key(self, key: str) -> None:
        if key != self._title_key:
            self._title_key = key
            self._titled.clear()

    def __call__(self, index: int) -> _Line:
        seen = self._titled.get(index)
        if seen is not None:
            return seen
        line = self._cache.get(index)
        if not self._title_key:
            if line is None:
                line = self._cache[index] = self._classify(strip_marks(self.lines[index]))
            return line
        # Read with the title known: its repeats are headlines, and need no other reading.
        if line is None:
            text = strip_marks(self.lines[index])
            if len(text) > _LONG_LINE:  # a paragraph: no headline, no other class but a bullet
                line = self._cache[index] = self._classify(text)
                self._titled[index] = line
                return line
            key = _key(text)
            if self._is_headline(key):
                seen = self._titled[index] = _Line(_HEADLINE, text, key)
                return seen
            line = self._cache[index] = self._classify(text, key)
        elif self._is_headline(line.key):
            line = _Line(_HEADLINE, line.text, line.key)
        self._titled[index] = line
        return line

    def dateline_shaped(self, index: int) -> bool:
        """Does this line open with a dateline?  (Asked of a line at most once.)"""
        found = self._datelines.get(index)
        if found is None:
            found = self._datelines[index] = _is_dateline_shaped(self(index).text)
        return found

    def _is_headline(self, key: str) -> bool:
        if key == self.title_key:
            return True
        title, size = self.title_key, len(self.title_key)
        if len(key) > size >= _GLUED_TITLE and key[size].isalpha() and key.startswith(title):
            return True  # "...Mauricio MacriNéstor Grindetti, ...": the deck glued to it
        label, _, rest = key.rpartition(" " + self.title_key)
        if label and not rest:  # "Exclusive <title>": a short label in front
            return len(label) <= 30 and len(label.split()) <= 3
        return False

    def _classify(self, text: str, key: str | None = None) -> _Line:
        """The line's class, the headline aside (``__call__`` checks that)."""
        if len(text) > _LONG_LINE:  # longer than any header line but a bullet: no key needed
            bullet = _BULLET.fullmatch(text)
            if bullet is not None:
                return _Line(_BULLET_LINE, text, bullet=strip_marks(bullet.group("text")))
            return _Line(_OTHER, text)
        if key is None:
            key = _key(text)
        boiler = _is_boilerplate(key)
        if boiler is not None:
            return _Line(boiler, text, key)
        if _COUNTER.fullmatch(key):
            return _Line(_COUNTER_LINE, text, key)
        if _is_language_switch(key):  # "Portuguese / Spanish / English"
            return _Line(_CHROME, text, key)
        bullet = _HEADER_BULLET.fullmatch(text)
        if bullet is not None:
            item = strip_marks(bullet.group("text"))
            if _is_menu_item(_key(item)):  # "• English" "• Arabic", "• Share on X"
                return _Line(_CHROME, text, key)
            dates = parse_date_segments(item, self.tz) if _ANY_DIGIT.search(item) else ()
            if not dates:
                return _Line(_BULLET_LINE, text, key, bullet=item)
            text = item  # "• EuropaPress - 25/10/2020 15:51": a source and date, listed
        byline = _read_byline(text, self.tz, self.now)  # first: "By Jane Doe | 12 May 2021"
        if byline is not None:
            byline.key = key
            return byline
        dates = parse_date_segments(text, self.tz)
        if not dates and self.now is not None and (rel := parse_relative(text, self.now)):
            dates = (rel,)
        if not dates and (lead := _LEADING_ISO.match(text)) is not None:
            # "date 2020-03-13 Estás leyendo: ...": a labelled ISO date run into the page
            dates = parse_date_segments(lead.group(0), self.tz)
        if not dates and text[-1:].isdigit() and _TRAILING_COUNT.search(text):
            # "Jun 02, 2022 at 17:08 876": a view counter after the time
            dates = parse_date_segments(_TRAILING_COUNT.sub("", text), self.tz)
        if dates:
            return _source_and_date(text, dates) or _Line(_DATE, text, key, dates=dates)
        signed = _names_and_date(text, self.tz)
        if signed is not None:
            signed.key = key
            return signed
        kicked = _kicker_and_date(text, self.tz)
        if kicked is not None:
            return _Line(_DATE, text, key, dates=(kicked,))
        if len(key) <= _COUNT_LINE and not any(ch.isalpha() for ch in key):
            return _Line(_CHROME, text, key)  # "0", "132", "٢٣:": a counter or a cut clock
        return _Line(_OTHER, text, key)
