"""The plain-text article reader: bytes of a ``.txt`` file -> ``Article``.

A plain-text article is read as three zones::

    title        the first non-blank line (leading "You are here"-type boilerplate skipped)
    header zone  every line that is *about* the article, in any order:
                   repeated headline (optionally after a short label: "Exclusive <title>"),
                   photo caption (with its "(credit)"), gallery counter ("1 / 4"),
                   date line ("Updated 08 October 2019", see ``feeds.normalize.dates``),
                   byline ("By Name | Role"), boilerplate ("Follow", "Short Url", a URL ...),
                   highlight bullets ("  • ...", "- ...", "* ...")
    body         from the first line that is none of these to the end (trailing
                 boilerplate such as "Read more" dropped).  Its first paragraph may start
                 with an upper-case "PLACE:" dateline, which stays in the text.

A line without a class of its own stays in the header only when the header visibly goes on
after it (a date line, a repeated headline, a byline, "Follow", a gallery counter follow
within a few lines) or when it has the shape of a caption ("... sentence. (Credit)").
Dates, bylines and bullets are only taken from the header zone: a body that mentions a
date, starts with "By 2030, ..." or holds a list gives no date, author or summary bullet.

Direction marks (LRM, RLM, ALM, embeddings, isolates), which scraped right-to-left pages put
at the start of lines, are invisible formatting: a line is classified without them, and the
title, author, bullets and caption are given without them at their ends.  The body keeps them.

Everything here is linear in the size of the input: each line is classified at most once,
lookahead is bounded, and the header zone is capped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from feeds.errors import ArticleError
from feeds.model import Article, Author
from feeds.normalize.dates import FoundDate, parse_date_line, parse_date_segments
from feeds.normalize.decode import decode_text
from feeds.normalize.language import detect_language
from feeds.text import DIRECTION_MARKS, drop_marks, one_line, strip_marks

__all__ = ["read_plaintext"]

_MAX_HEADER_LINES = 80  # non-blank lines; a header never runs longer
_LOOKAHEAD = 4  # non-blank lines a caption-like line may sit before the next header marker
_MAX_CAPTION = 400
_SUMMARY_MAX = 300
_WRAP_MIN, _WRAP_MAX, _WRAP_RAGGED = 40, 100, 20  # hard-wrapped lines: width and raggedness

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
    font size | text size | a a | a- a+ | a+ a- |
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
# "Follow us on X", "Share on Facebook", "Follow @desk": never a headline or a sentence.
_SOCIAL_LINE = re.compile(
    r"(?:follow|share|suivez|partager|síguenos|compartir|folgen|teilen|seguici|condividi|volg"
    r"|delen)(?: us| this| nous| uns| ons)?(?: on| sur| en| auf| su| op| via) .{1,40}"
    r"|follow @\S+"
)

# ---------------------------------------------------------------- line shapes

_COUNTER = re.compile(r"\d{1,3}\s*(?:/|of|sur|de|von|di|van|من)\s*\d{1,3}")
_BULLET = re.compile(r"(?:[•·▪●◦‣∙]\s*|[-*–]\s+)(?P<text>\S.*)")
_CAPTION_CREDIT = re.compile(r"\((?P<credit>[^()]{1,120})\)")
_CREDIT_AFTER_SENTENCE = re.compile(r"[.!?…][\"”’»]?\s*\([^()]{1,120}\)")
_DATELINE = re.compile(r"(?P<place>[^\s:][^:\n]{0,48}?)\s*:\s")
# Letters, the combining marks written on them (Arabic harakat: "عمّان"), and the
# punctuation of place names: "ST. JOHN’S", "RAS AL-KHAIMAH", "LONDON/DUBAI".
_DATELINE_CHARS = re.compile(r"[\w\s.,'’/\-\u0300-\u036f\u064b-\u065f\u0670]+")
_SENTENCE_END = '.!?…:;"”’»)'
# Upper-case place names: up to 4 words, not counting the particles that join them
# ("SAN CRISTÓBAL DE LAS CASAS", "PORT OF SPAIN"), and up to 6 words in all.
_MAX_PLACE_WORDS, _MAX_PLACE_WORDS_ALL = 4, 6
_MAX_UNCASED_PLACE_WORDS = 3  # scripts without case (Arabic): "الدار البيضاء"

_BYLINE = re.compile(
    r"(?:(?:written |words |story |text |reporting |photos? )?by|par|por|von|di|door"
    r"|بقلم|كتب|كتبت|إعداد)\s*:?\s+(?P<rest>\S.*)"
    r"|(?:authors?|autor|autora|autores|auteur|auteurs|autore|autori|المؤلف|الكاتب)"
    r"\s*:\s*(?P<rest2>\S.*)",
    re.IGNORECASE,
)
_BYLINE_CUT = re.compile(r"\s*[,|•·]\s*|\s+[-–—/]\s+")
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
_PLACE_PARTICLES = _NAME_PARTICLES | _words("las los les lo des do of on upon sur sous en am an im")
_MAX_NAME_WORDS = 5  # particles not counted: "Mohammed bin Abdullah bin Saleh Al-Otaibi"

_HEADLINE, _TEMPLATE, _CHROME, _COUNTER_LINE, _DATE, _BYLINE_LINE, _BULLET_LINE, _OTHER = range(8)
_CAPTION_LINE, _DECK_LINE = 8, 9  # roles an _OTHER line may take in the header
_MARKERS = frozenset({_HEADLINE, _TEMPLATE, _COUNTER_LINE, _DATE, _BYLINE_LINE})


@dataclass(slots=True)
class _Line:
    kind: int
    text: str
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


def _is_boilerplate(key: str) -> int | None:
    bare = key.rstrip(" :：")
    if bare in _TEMPLATE_LINES or _URL_LINE.fullmatch(bare) or _BREADCRUMB.fullmatch(bare):
        return _TEMPLATE
    if bare in _CHROME_LINES or _READING_TIME.fullmatch(bare):
        return _CHROME
    if len(bare) <= 60 and _SOCIAL_LINE.fullmatch(bare):
        return _CHROME
    return None


def _is_capitalized(word: str) -> bool:
    """Its first letter is upper case, or the script has no case."""
    first = next((ch for ch in word if ch.isalpha()), "")
    return bool(first) and (first.isupper() or first.lower() == first.upper())


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


def _read_byline(line: str, tz: tzinfo) -> _Line | None:
    m = _BYLINE.fullmatch(line)
    if m is None:
        return None
    rest = m.group("rest") or m.group("rest2") or ""
    if len(rest) > 200:
        return None
    segments = _BYLINE_CUT.split(rest)
    names = tuple(n for n in map(strip_marks, _AUTHOR_JOIN.split(segments[0])) if n)
    if not names or not all(_looks_like_name(n) for n in names):
        return None
    dates: list[FoundDate] = []
    for segment in segments[1:]:
        found = parse_date_line(segment, tz)
        if found is not None:
            dates.append(found)
        elif _is_clause(segment):
            return None  # "By Christmas, most shops had reopened.": a sentence
    return _Line(_BYLINE_LINE, line, dates=tuple(dates), authors=names)


def _is_clause(segment: str) -> bool:
    """The rest of a sentence rather than a role, agency or place: three words or more,
    mostly lower case, ending like a sentence ("most shops had reopened.")."""
    text = segment.strip()
    if not text or text[-1] not in ".!?…":
        return False
    firsts = [ch for word in text.split() for ch in word[:1] if ch.lower() != ch.upper()]
    return len(firsts) >= 3 and 2 * sum(ch.islower() for ch in firsts) > len(firsts)


def _is_dateline_shaped(text: str) -> bool:
    return _dateline(text) is not None


def _dateline(paragraph: str) -> str | None:
    """The ``PLACE`` of a ``PLACE: text`` paragraph: upper case, or 1-3 uncased words.

    Direction marks (``"\\u200fدبي\\u200f: ..."``) are not part of the place.
    """
    m = _DATELINE.match(drop_marks(paragraph))
    if m is None:
        return None
    place = m.group("place").strip()
    if not _DATELINE_CHARS.fullmatch(place) or any(ch.isdigit() or ch == "_" for ch in place):
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


class _Classifier:
    """Classifies the lines of one article, each at most once."""

    def __init__(self, lines: list[str], title_key: str, tz: tzinfo) -> None:
        self.lines = lines
        self.title_key = title_key
        self.tz = tz
        self._cache: dict[int, _Line] = {}

    def __call__(self, index: int) -> _Line:
        line = self._cache.get(index)
        if line is None:
            line = self._classify(strip_marks(self.lines[index]))
            self._cache[index] = line
        return line

    def _is_headline(self, key: str) -> bool:
        if key == self.title_key:
            return True
        label, _, rest = key.rpartition(" " + self.title_key)
        if label and not rest:  # "Exclusive <title>": a short label in front
            return len(label) <= 30 and len(label.split()) <= 3
        return False

    def _classify(self, text: str) -> _Line:
        key = _key(text)
        if self._is_headline(key):
            return _Line(_HEADLINE, text)
        boiler = _is_boilerplate(key)
        if boiler is not None:
            return _Line(boiler, text)
        if _COUNTER.fullmatch(key):
            return _Line(_COUNTER_LINE, text)
        bullet = _BULLET.fullmatch(text)
        if bullet is not None:
            return _Line(_BULLET_LINE, text, bullet=strip_marks(bullet.group("text")))
        byline = _read_byline(text, self.tz)  # first: "By Jane Doe | 12 May 2021"
        if byline is not None:
            return byline
        dates = parse_date_segments(text, self.tz)
        if dates:
            return _Line(_DATE, text, dates=dates)
        return _Line(_OTHER, text)


def _next_nonblank(lines: list[str], start: int) -> int | None:
    for index in range(start, min(len(lines), start + 50)):
        if not _is_blank(lines[index]):
            return index
    return None


def _is_caption_like(line: _Line) -> bool:
    """An unclassified line that may be a caption: short, and no "PLACE:" paragraph."""
    if line.kind != _OTHER or len(line.text) > _MAX_CAPTION:
        return False
    return not _is_dateline_shaped(line.text)


def _ahead(classify: _Classifier, start: int) -> Iterator[tuple[int, _Line]]:
    """The next few non-blank lines from ``start`` (at most ``_LOOKAHEAD``), classified."""
    index = start
    for _ in range(_LOOKAHEAD):
        found = _next_nonblank(classify.lines, index)
        if found is None:
            return
        yield found, classify(found)
        index = found + 1


def _marker_ahead(classify: _Classifier, start: int) -> bool:
    """Does the header visibly go on within a few lines after ``start``?"""
    for _, line in _ahead(classify, start):
        if line.kind in _MARKERS:
            return True
        if not _is_caption_like(line):
            return False
    return False


def _is_template_word(line: _Line) -> bool:
    """A page-template line such as "Follow", "Short Url", "You are here" (not a URL)."""
    return line.kind == _TEMPLATE and _key(line.text).rstrip(" :：") in _TEMPLATE_LINES


def _content_ahead(classify: _Classifier, start: int) -> bool:
    """Is there more than page chrome within a few lines after ``start``?"""
    return any(line.kind not in (_TEMPLATE, _CHROME) for _, line in _ahead(classify, start))


def _template_ahead(classify: _Classifier, start: int) -> bool:
    """Does the page template go on within a few lines after ``start``?

    A repeated headline, a gallery counter, or a "Follow"-type line with more than page
    chrome after it (not the end of the article), reached past date lines, bylines and
    other caption-like lines.  A body paragraph is never followed by these; it may be
    followed by a date line or a byline.
    """
    for found, line in _ahead(classify, start):
        if line.kind in (_HEADLINE, _COUNTER_LINE):
            return True
        if _is_template_word(line):
            return _content_ahead(classify, found + 1)
        if line.kind not in (_DATE, _BYLINE_LINE, _TEMPLATE) and not _is_caption_like(line):
            return False
    return False


def _caption_role(
    classify: _Classifier, index: int, previous: int | None, under_title: bool
) -> str | None:
    """Role of an unclassified header line: "caption", "deck" or None (the body starts)."""
    text = classify(index).text
    if len(text) > _MAX_CAPTION or _is_dateline_shaped(text):
        return None
    marker_ahead = _marker_ahead(classify, index + 1)
    if _CREDIT_AFTER_SENTENCE.search(text) is not None and text.endswith(")"):
        # "... sentence. (Credit)": a caption, unless it is the article's only paragraph.
        if marker_ahead or _next_nonblank(classify.lines, index + 1) is not None:
            return "caption"
        return None
    if not marker_ahead:
        return None
    if text.endswith(")") and _CAPTION_CREDIT.search(text) is not None:
        return "caption"
    if previous in (_HEADLINE, _COUNTER_LINE, _CAPTION_LINE):
        return "caption"
    if under_title:  # a subtitle printed right under the title, before the byline or date
        return "deck"
    # A line among the page template's lines ("Published ...", "Follow", the repeated
    # headline) is a photo caption, with or without a credit.
    return "caption" if _template_ahead(classify, index + 1) else None


def _find_title(lines: list[str]) -> int:
    first = None
    for index, line in enumerate(lines):
        if _is_blank(line):
            continue
        if first is None:
            first = index
        bare = _key(line).rstrip(" :：")
        if bare not in _TEMPLATE_LINES and bare not in _CHROME_LINES:
            return index
        if index - first > 10:
            break
    assert first is not None
    return first


def _read_header(classify: _Classifier, start: int) -> tuple[_Header, int]:
    """The header zone from ``start``; returns it and the index where the body starts."""
    header = _Header()
    lines = classify.lines
    previous: int | None = None
    seen = 0
    index = start
    while index < len(lines):
        if _is_blank(lines[index]):
            index += 1
            continue
        seen += 1
        if seen > _MAX_HEADER_LINES:
            break
        line = classify(index)
        if line.kind == _OTHER:
            role = _caption_role(classify, index, previous, under_title=index == start)
            if role is None:
                break
            if role == "caption":
                header.captions.append(line.text)
            previous = _CAPTION_LINE if role == "caption" else _DECK_LINE
            index += 1
            continue
        elif line.kind == _DATE:
            header.dates.extend(line.dates)
        elif line.kind == _BYLINE_LINE:
            header.authors = header.authors or line.authors
            header.dates.extend(line.dates)
        elif line.kind == _BULLET_LINE:
            header.bullets.append(line.bullet)
        previous = line.kind
        index += 1
    return header, index


# ---------------------------------------------------------------- body


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    items: tuple[str, ...] = ()  # a bullet list: the item texts


def _unwrap(lines: list[str]) -> list[str]:
    """A hard-wrapped paragraph becomes one line.

    Hard-wrapped: every line but the last is filled to about the same width (at most
    ``_WRAP_MAX``, ragged by less than a long word) and some break falls mid-sentence.
    Lines that are paragraphs of their own (long, or ending a sentence) stay apart.
    """
    if len(lines) < 2:
        return lines
    filled = lines[:-1]
    width = max(len(line) for line in filled)
    if not _WRAP_MIN <= width <= _WRAP_MAX or len(lines[-1]) > width:
        return lines
    if any(len(line) < width - _WRAP_RAGGED for line in filled):
        return lines
    if all(line.endswith(tuple(_SENTENCE_END)) for line in filled):
        return lines
    return [" ".join(lines)]


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    group: list[str] = []
    items: list[tuple[str, str]] = []

    def flush_group() -> None:
        if group:
            blocks.extend(_Block(text) for text in _unwrap(group))
            group.clear()

    def flush_items() -> None:
        if items:
            blocks.append(_Block("\n".join(t for t, _ in items), tuple(i for _, i in items)))
            items.clear()

    for raw in [*lines, ""]:
        text = raw.strip()
        if not text:
            flush_group()
            flush_items()
            continue
        bullet = _BULLET.fullmatch(text)
        if bullet is not None:
            flush_group()
            items.append((text, bullet.group("text").strip()))
        else:
            flush_items()
            group.append(text)
    return blocks


def _body_lines(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _is_boilerplate(_key(lines[end - 1]))):
        end -= 1
    return lines[:end]


def _html(blocks: list[_Block]) -> str:
    parts = []
    for block in blocks:
        if block.items:
            lis = "".join(f"<li>{html.escape(item, quote=False)}</li>" for item in block.items)
            parts.append(f"<ul>{lis}</ul>")
        else:
            parts.append(f"<p>{html.escape(block.text, quote=False)}</p>")
    return "\n".join(parts)


def _shorten(text: str, limit: int = _SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


# ---------------------------------------------------------------- dates


def _choose_dates(
    dates: list[FoundDate],
) -> tuple[FoundDate | None, FoundDate | None]:
    """(published, updated): a Published line wins, then a plain date, then Updated."""
    first: dict[str, FoundDate] = {}
    for found in dates:
        first.setdefault(found.kind, found)
    published = first.get("published") or first.get("plain") or first.get("updated")
    updated = first.get("updated")
    if updated is published:
        updated = None
    return published, updated


# ---------------------------------------------------------------- the reader


def read_plaintext(data: bytes, *, source: str, key: str, tz: tzinfo = UTC) -> Article:
    """Read one plain-text article.  Times without a zone are read in ``tz``.

    Raises ``ArticleError`` for input that is not an article (empty, whitespace only,
    binary, undecodable).  A file with nothing but a title is an article with an empty body.
    """
    text = decode_text(data)
    if _is_blank(text):  # direction marks are invisible formatting, not content
        raise ArticleError("only whitespace")
    lines = text.split("\n")  # never splitlines(): U+0085/U+2028 are not line breaks here
    title_index = _find_title(lines)
    title = strip_marks(one_line(lines[title_index]))
    classify = _Classifier(lines, _key(title), tz)
    header, body_start = _read_header(classify, title_index + 1)

    blocks = _blocks(_body_lines(lines[body_start:]))
    bullets = tuple(header.bullets)
    if not blocks and bullets:  # a list and nothing else: the list is the body
        blocks = [_Block("\n".join(f"• {b}" for b in bullets), bullets)]
        bullets = ()
    body = "\n\n".join(block.text for block in blocks)

    if bullets:
        summary: str | None = "\n".join(bullets)
    elif blocks:
        summary = _shorten(blocks[0].text)
    else:
        summary = None

    published, updated = _choose_dates(header.dates)
    caption = header.captions[0] if header.captions else None
    credit = None
    if caption is not None and caption.endswith(")"):
        m = _CAPTION_CREDIT.search(caption, max(0, caption.rfind("(")))
        credit = m.group("credit").strip() if m else None

    return Article(
        source=source,
        key=key,
        title=title,
        content_html=_html(blocks),
        body=body,
        summary=summary,
        published=published.value if published else None,
        published_text=published.text if published else None,
        date_source="content" if published else None,
        updated=updated.value if updated else None,
        authors=tuple(Author(name) for name in header.authors),
        caption=caption,
        credit=credit,
        dateline=_dateline(blocks[0].text) if blocks and not blocks[0].items else None,
        summary_bullets=bullets,
        language=detect_language(f"{title}\n\n{body}" if body else title),
    )
