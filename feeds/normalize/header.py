"""Where the headline of a scraped page is: chosen by evidence, not by position.

A page saved to text may open with site furniture: a date bar, breadcrumbs (``You are
here``, ``• Home``), a section name or kicker (``Nacional``, ``Hajj 2022``), ``Tag: ...``
archive titles, share and follow buttons.  The lines before the first body paragraph are
scored; the title is the line the evidence points to (the first candidate when no line
has evidence of its own, i.e. is repeated or followed by the header):

* it is **repeated** (the same line again, or after a short label: ``Exclusive <title>``,
  ``KICKER:<title>``): +4;
* it is **headline-shaped** (four words or more, not ending with ``.`` or ``:``): +1;
* the **header goes on** right after it (within three lines, past bullets and chrome; the
  very next line only for a kicker-shaped line): a date line, a byline, a credited photo
  caption, a bare name right under it, a gallery counter, a template line such as
  ``Follow``, or the first body paragraph: +2;
* it is the first line of the file (the conventions' default: the headline comes first): +1;
* it is **kicker-shaped** (one or two words, or an archive/section label ending in ``:``
  or starting with ``Tag``): -2.

Lines that are never the title: blank lines, page chrome and template lines, date lines,
bylines, bullets, gallery counters, URLs, captions with a credit, and lines longer than a
headline.  Ties go to the earliest line, so a file whose first line is its headline keeps
it (every file of the development set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeds.normalize.captions import is_credited_caption
from feeds.normalize.plainlines import (
    _BULLET_LINE,
    _BYLINE_LINE,
    _CHROME,
    _COUNTER_LINE,
    _DATE,
    _HEADLINE,
    _OTHER,
    _TEMPLATE,
    _Classifier,
    _is_blank,
    _is_boilerplate,
    _key,
    _Line,
    _looks_like_name,
)
from feeds.text import DIRECTION_MARKS, strip_marks

__all__ = [
    "TitleChoice",
    "choose_title",
    "credit_line_follows",
    "explain_title",
    "explained",
    "is_bare_name",
]

_SCAN = 40  # non-blank lines looked at for the title
_MAX_TITLE = 250
_BODY_MIN = 160  # a prose line this long ends the scan: the body has started
_PROSE_MIN = 80  # ... or this long, ending with a full stop
_KICKER = re.compile(r"(?:tags?|posts tagged|tag archives?|archives?|category|catégorie)\b.*"
                     r"|.{1,40}:", re.IGNORECASE)
_SENTENCE_END = ".!?…"
_NAME_TEXT = re.compile(r"[^\W\d_][\w.'’\- ]*")
_CREDIT_FIRST = re.compile(r"[©(]|(?:photo|credit|crédit|foto|image|source)s?\b", re.IGNORECASE)


_CREDIT_LINE = re.compile(r"(?:©|\(c\)|(?:photo|foto|credit|crédit|bild|image)s?\s*:)\s*\S.{0,70}",
                          re.IGNORECASE)
_CREDIT_FIRST_CHARS = frozenset("©(PpFfCcBbIi")
# Masthead labels after which a name is printed: "رئيس التحرير" (editor-in-chief) / a name
_MASTHEAD_LABELS = frozenset({"رئيس التحرير", "الإشراف العام", "رئيس مجلس الإدارة",
                              "editor-in-chief", "editor in chief", "chief editor"})


def _printed_twice(lines: list[str], index: int) -> bool:
    """The very next line (no blank between) is this one again: a photo caption and its
    alt text; a repeated headline comes back after other lines."""
    text = lines[index].strip()
    return (index + 1 < len(lines) and lines[index + 1].strip() == text) or (
        index > 0 and lines[index - 1].strip() == text
    )


def credit_line_follows(lines: list[str], index: int) -> bool:
    """Is the next non-blank line a photo credit of its own ("© IMAGO/Name", "Photo: X")?"""
    for later in range(index + 1, min(len(lines), index + 4)):
        text = lines[later].strip()
        if text:
            return (
                len(text) <= 80
                and text[0] in _CREDIT_FIRST_CHARS
                and _CREDIT_LINE.fullmatch(text) is not None
            )
    return False


def is_bare_name(text: str) -> bool:
    """A line that is only a person's name: "Paul Radley" (two to five words, no
    punctuation but ``.-'``, capitalized: in a script without capitals, such as Arabic, a
    short line is as likely a section kicker as a name)."""
    if len(text) > 60 or not 2 <= len(text.split()) <= 5 or text.endswith("."):
        return False
    if not any(ch.isupper() for ch in text):  # no capitals (Arabic): no evidence of a name
        return False
    return _NAME_TEXT.fullmatch(text) is not None and _looks_like_name(text)


@dataclass(slots=True)
class TitleChoice:
    #: the title line; None: no line but the first could be one (the first-line rule)
    index: int | None
    #: the first body paragraph the scan found (a long prose line or a dateline), if any
    body_at: int | None
    #: line index -> (score, why) for every line that was a candidate
    scores: dict[int, tuple[int, str]]


def _is_body(classify: _Classifier, index: int, line: _Line) -> bool:
    """Is this line (``classify(index)``) a first body paragraph?"""
    if line.kind != _OTHER:
        return False
    if classify.dateline_shaped(index):
        return True
    text = line.text.rstrip()
    size = len(text)
    if size < _PROSE_MIN:
        return False
    if size <= _MAX_TITLE:
        ending = text[-2:] if text[-1] in "\"”’»)" else text[-1:]
        if "." not in ending and (size < _BODY_MIN or text[-1] not in _SENTENCE_END + "\"”’»)"):
            return False  # a long headline may end with "?" or "!", hardly with "."
    # a photo caption: by its credit, or with its credit on the next line
    return not is_credited_caption(text) and not credit_line_follows(classify.lines, index)


def _is_candidate(classify: _Classifier, index: int, line: _Line) -> bool:
    text = line.text
    if line.kind != _OTHER or len(text) > _MAX_TITLE:
        return False
    if _CREDIT_FIRST.match(text) or not any(ch.isalpha() for ch in text):
        return False
    return not is_credited_caption(text) and not classify.dateline_shaped(index)


_UNREAD = _Line(_OTHER, "")  # a line not classified (yet)


def _scan(classify: _Classifier) -> tuple[list[int], list[_Line], int | None]:
    """The non-blank lines up to the first body paragraph (included), classified, and
    that paragraph's index (None: not found within ``_SCAN`` lines)."""
    indexes: list[int] = []
    seen: list[_Line] = []
    for index, raw in enumerate(classify.lines):
        if not raw or raw.isspace() or (raw.lstrip()[0] in DIRECTION_MARKS and _is_blank(raw)):
            continue
        indexes.append(index)
        if not seen:  # the first line is classified only if it must be (below)
            seen.append(_UNREAD)
            key = _key(strip_marks(raw))
            if _is_boilerplate(key) is None:  # its repeats are read as headlines meanwhile
                classify.title_key = key
            continue
        line = classify(index)
        seen.append(line)
        if line.kind == _OTHER and _is_body(classify, index, line):
            return indexes, seen, index
        if len(seen) > _SCAN:
            break
    return indexes, seen, None


def choose_title(classify: _Classifier) -> TitleChoice:
    """The index of the title line (``classify`` reads without a title: no headlines)."""
    indexes, seen, body_at = _scan(classify)
    later = [
        p
        for p in range(1, len(indexes) - 1)
        if _is_candidate(classify, indexes[p], seen[p])
        and (seen[p - 1] if p > 1 else classify(indexes[0])).kind != _COUNTER_LINE  # gallery
        and (p == 1 or seen[p - 1].key not in _MASTHEAD_LABELS)  # the editor's name
        and not credit_line_follows(classify.lines, indexes[p])  # a caption, credited below
        and not _printed_twice(classify.lines, indexes[p])  # a caption: "X" "X" in a row
        and not seen[p - 1].text.endswith(" " + seen[p].text)  # the alt text of a caption
    ]
    # Nothing else could be the title, or only repeats of the first line: the first line
    # rule decides (the first line itself when it is no page furniture).
    first = classify.title_key  # set by the scan when the first line is no furniture
    plain = TitleChoice(indexes[0] if first and indexes else None, body_at, {})
    if not later:
        return plain
    if first and all(seen[p].key == first or seen[p].key.endswith(" " + first) for p in later):
        return plain
    seen[0] = classify(indexes[0])  # (the title being its own repeat is no harm here)
    if seen[0].kind == _HEADLINE:
        classify.title_key = ""
        seen[0] = classify(indexes[0])
        classify.title_key = seen[0].key
    candidates = [0, *later] if _is_candidate(classify, indexes[0], seen[0]) else later
    keys = [line.key for line in seen]
    best, best_score = candidates[0], -99
    scores: dict[int, tuple[int, str]] = {}
    earlier: list[str] = []
    for position in candidates:
        key = keys[position]
        if any(key == k or key.endswith(" " + k) for k in earlier):
            continue  # a repeat of an earlier candidate: the evidence is that one's
        earlier.append(key)
        score, evidence, why = _score(
            classify.lines, seen, keys, position, indexes[position + 1 :], body_at
        )
        scores[indexes[position]] = (score, why)
        if position != candidates[0] and seen[position].text.endswith("."):
            continue  # a sentence: only the first line may be a title that ends like one
        if evidence and score > best_score:  # without evidence, the first line stays
            best, best_score = position, score
    return TitleChoice(indexes[best], body_at, scores)


# "Headline | Site" (a browser title printed first) repeats the headline before a separator
_SITE_SEPARATORS = frozenset({" | ", " - ", " – ", " — "})
_MARKER_KINDS = frozenset({_DATE, _BYLINE_LINE, _COUNTER_LINE, _TEMPLATE})


def _score(
    lines: list[str],
    seen: list[_Line],
    keys: list[str],
    position: int,
    after: list[int],
    body_at: int | None,
) -> tuple[int, bool, str]:
    key = keys[position]
    score, why = 0, []
    labelled = " " in key  # "Exclusive <title>"; "Scattered clouds" is no repeat of "clouds"
    if any(
        p != position
        and (k == key or (labelled and k.endswith(key) and len(k) - len(key) <= 40)
             or (k.startswith(key) and k[len(key) : len(key) + 3] in _SITE_SEPARATORS))
        for p, k in enumerate(keys)
    ):
        score += 4
        why.append("repeated")
    text = seen[position].text
    words = len(text.split())
    kicker = words <= 2 or _KICKER.fullmatch(text) is not None
    looked = 0
    for offset, ahead in enumerate(after[:11], start=position + 1):
        line = seen[offset]
        if line.kind in (_BULLET_LINE, _CHROME):
            continue  # highlights and share buttons: look past them
        looked += 1
        if looked > (1 if kicker else 3):  # a kicker's evidence is the very next line only
            break
        if (
            line.kind in _MARKER_KINDS
            or ahead == body_at
            or (line.kind == _OTHER and is_credited_caption(line.text))
            or (line.kind == _OTHER and _printed_twice(lines, ahead))  # a caption
        ):
            # Right under it, the header is this line's; further down, it may be another's.
            score += 2 if looked == 1 else 1
            why.append("header follows" if looked == 1 else "header follows after a line")
            break
        if looked == 1 and line.kind == _OTHER and is_bare_name(line.text):
            score += 2
            why.append("a name follows")
            break
    evidence = score > 0
    if position == 0:
        score += 1
        why.append("first line")
    if kicker:
        score -= 2
        why.append("kicker-shaped")
    elif words >= 4 and text[-1] not in ".:":
        score += 1
        why.append("headline-shaped")
    return score, evidence, ", ".join(why) or "no evidence"


# ---------------------------------------------------------------- --explain

_KIND_NAMES = {
    _HEADLINE: ("headline", "the title again"),
    _TEMPLATE: ("template", "a page-template line"),
    _CHROME: ("chrome", "page chrome (share, print, ...)"),
    _COUNTER_LINE: ("counter", "a gallery counter"),
    _BULLET_LINE: ("bullet", "a highlight bullet in the header"),
}


def explained(line: _Line) -> tuple[str, str]:
    if line.kind == _DATE:
        notes = "; ".join(f"{d.kind} {d.text}" + (f" ({d.note})" if d.note else "")
                          for d in line.dates)
        return "date", notes
    if line.kind == _BYLINE_LINE:
        dates = "".join(f"; {d.kind} {d.text}" for d in line.dates)
        return "byline", "author " + " & ".join(line.authors) + dates
    return _KIND_NAMES.get(line.kind, ("other", ""))


def _why_not_title(classify: _Classifier, index: int) -> str:
    """Why a line above the title was no candidate for it (``--explain``)."""
    lines, text = classify.lines, classify(index).text
    previous = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
    if _printed_twice(lines, index):
        return "printed twice in a row: a photo caption"
    if credit_line_follows(lines, index):
        return "a photo caption: its credit is the next line"
    if is_credited_caption(text):
        return "a photo caption: it ends with a credit"
    if _key(previous) in _MASTHEAD_LABELS:
        return "a name under a masthead label"
    if previous.endswith(" " + text):
        return "the end of the line above: a photo's alt text"
    if len(text) > _MAX_TITLE:
        return "longer than a headline"
    return ""


def explain_title(
    classify: _Classifier, title: int, choice: TitleChoice, explain: list[tuple[int, str, str]]
) -> None:
    """The lines above the header zone: furniture, the title and its score."""
    for index in range(title):
        if _is_blank(classify.lines[index]):
            continue
        role, why = explained(classify(index))
        score = choice.scores.get(index)
        if role == "other":
            role = "before the title"
            why = f"score {score[0]}: {score[1]}" if score else _why_not_title(classify, index)
        elif role in ("bullet", "byline"):
            why += " (not used: above the title)"
        explain.append((index, role, why))
    score = choice.scores.get(title)
    explain.append((title, "title", f"score {score[0]}: {score[1]}" if score else
                    "the first line (no other line could be the title)"))
