"""Roles of the unclassified lines of a plain-text article's header zone.

A line that is no date, byline, bullet, template or chrome line is a photo caption, a
subtitle (deck), an alt text, a bare-name byline, furniture, or the first body paragraph;
which one is decided by the evidence around it (what follows within a few lines, whether it
is printed twice, its shape).  ``feeds.normalize.plaintext`` reads the header with these.
"""

from __future__ import annotations

from collections.abc import Iterator

from feeds.normalize.captions import CAPTION_CREDIT, CREDIT_AFTER_SENTENCE, is_credited_caption
from feeds.normalize.datelines import _is_dateline_shaped
from feeds.normalize.datewords import DATE_LABELS
from feeds.normalize.header import credit_line_follows, is_bare_name
from feeds.normalize.plainlines import (
    _BYLINE_LINE,
    _CAPTION_LINE,
    _CHROME,
    _COUNTER_LINE,
    _DATE,
    _HEADLINE,
    _MARKERS,
    _OTHER,
    _SENTENCE_END,
    _TEMPLATE,
    _TEMPLATE_LINES,
    _Classifier,
    _is_blank,
    _key,
    _Line,
)
from feeds.text import strip_marks

__all__ = ["next_nonblank", "other_role"]

_FURNITURE_WORDS = 6  # "Related Articles", "Contact Editor": short lines, not sentences
_LOOKAHEAD = 4  # non-blank lines a caption-like line may sit before the next header marker
_MAX_CAPTION = 400
_MIN_LETTERS = 4  # fewer letters: a logo's initials or a stray mark, never a caption
_DECK_WORDS = 16  # a subtitle without a marker after it is a short line
_LONG_DECK_WORDS = 40  # ... unless a caption follows it
_RESTATED_WORDS = 8  # words a caption shares with the end of a sentence of the paragraph after


def next_nonblank(lines: list[str], start: int) -> int | None:
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
        found = next_nonblank(classify.lines, index)
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


def _is_deck(classify: _Classifier, text: str, index: int) -> bool:
    """A subtitle right under the title: a short line that is no sentence (no closing
    punctuation), followed by a longer paragraph that is one, or by a credited caption."""
    if len(text.split()) > _LONG_DECK_WORDS or text.endswith((*_SENTENCE_END, "：")):
        return False
    following = next_nonblank(classify.lines, index + 1)
    while following is not None and classify(following).kind == _CHROME:  # "Avatar"
        following = next_nonblank(classify.lines, following + 1)
    if following is None:
        return False
    if following + 1 < len(classify.lines) and _is_printed_twice(
        classify(following).text, classify.lines[following + 1]
    ):
        return True  # the lead photo's caption, printed twice, under the subtitle
    if len(text.split()) > _DECK_WORDS:
        return False
    after = classify(following)
    if after.kind != _OTHER:
        return False
    if len(after.text) > 2 * len(text) and after.text.endswith(tuple(_SENTENCE_END)):
        return True
    return is_credited_caption(after.text)  # the lead photo's caption under the subtitle


def _caption_role(
    classify: _Classifier, index: int, previous: int | None, under_title: bool
) -> str | None:
    """Role of an unclassified header line: "caption", "deck" or None (the body starts)."""
    text = classify(index).text
    if len(text) > _MAX_CAPTION or classify.dateline_shaped(index):
        return None
    marker_ahead = _marker_ahead(classify, index + 1)
    if CREDIT_AFTER_SENTENCE.search(text) is not None and text.endswith(")"):
        # "... sentence. (Credit)": a caption, unless it is the article's only paragraph.
        if marker_ahead or next_nonblank(classify.lines, index + 1) is not None:
            return "caption"
        return None
    if not marker_ahead:
        return "deck" if under_title and _is_deck(classify, text, index) else None
    if text.endswith(")") and CAPTION_CREDIT.search(text) is not None:
        return "caption"
    if previous in (_HEADLINE, _COUNTER_LINE, _CAPTION_LINE):
        return "caption"
    if under_title:  # a subtitle printed right under the title, before the byline or date
        return "deck"
    # A line among the page template's lines ("Published ...", "Follow", the repeated
    # headline) is a photo caption, with or without a credit.
    if _template_ahead(classify, index + 1):
        return "caption"
    # The first line under the title, ending like a sentence, before a template line such
    # as an empty date label ("Stand:"): a standfirst.  (Before a date line or a byline it
    # stays the first paragraph: "By 2030, ... said on 14 May." / "Updated 15 May 2021".)
    following = next_nonblank(classify.lines, index + 1)
    if previous is None and following is not None:
        after = classify(following)
        if after.kind == _TEMPLATE and _key(after.text).rstrip(" :：") in DATE_LABELS:
            return "deck"
        if _is_dated_byline(after) and len(text.split()) <= _LONG_DECK_WORDS:
            # ... or, parted from it by a blank line, a byline carrying its own date
            # ("By Name Jun 11, 2024 3:56 PM"): the article's header block, not a
            # signature at a paragraph's foot.
            return "deck" if _is_blank(classify.lines[index + 1]) else None
    return None


def _is_dated_byline(line: _Line) -> bool:
    return line.kind == _BYLINE_LINE and bool(line.dates)


def _is_shortened(text: str, longer: str) -> bool:
    """``text`` is the start of ``longer`` (five words at least), as an image's alt text is
    of its caption: "A man walks in the snow." / "A man walks in the snow in Boston. Photo: X"."""
    words = text.rstrip(" .").split()
    return len(words) >= 5 and len(longer) > len(text) and longer.startswith(" ".join(words))


def _is_tail(text: str, longer: str) -> bool:
    """``text`` is the end of ``longer`` (two to five words), as a photo's alt text (the
    person's name) may be of its caption: "Deputy prime minister Jane Roe" / "Jane Roe"."""
    words = text.split()
    return 2 <= len(words) <= 5 and len(longer) > len(text) + 10 and longer.endswith(" " + text)


def _is_restated(text: str, following: str) -> bool:
    """The paragraph after ``text`` says what it says: ``text``, a short sentence, ends with
    the same words (eight at least) as a sentence of that longer paragraph does, as a lead
    photo's caption restates a fact of the first paragraph: "Jane Roe was also named to the
    board of the Harbour Trust." / "... She was also named to the board of the Harbour
    Trust."  Two paragraphs of a story never end alike."""
    words = text.rstrip(".").split()
    if not _RESTATED_WORDS <= len(words) <= _LONG_DECK_WORDS or not text.endswith("."):
        return False
    tail = " " + " ".join(words[-_RESTATED_WORDS:]) + "."
    return len(following) > len(text) and tail in following


def _restates_above(classify: _Classifier, index: int) -> bool:
    """Does the paragraph at ``index`` restate the caption just above it?"""
    above = next((i for i in range(index - 1, max(index - 4, -1), -1)
                  if not _is_blank(classify.lines[i])), None)
    return above is not None and _is_restated(classify(above).text, classify(index).text)


def _is_printed_twice(text: str, following: str) -> bool:
    """The line is the next one again, or itself twice ("A caption. A caption.")."""
    if strip_marks(following.strip()) == text:
        return True
    half = len(text) // 2
    return len(text) > 20 and text[:half].strip() == text[half:].strip()


def other_role(
    classify: _Classifier, index: int, previous: int | None, under_title: bool, body_at: int | None
) -> tuple[str | None, str]:
    """Role of an unclassified header line and why: caption, deck, author, furniture, or
    None (the body starts here)."""
    text = classify(index).text
    if classify.dateline_shaped(index) and not is_credited_caption(text):
        return None, "the first body paragraph (a dateline)"
    if (
        len(text) <= 2 * _MIN_LETTERS
        and sum(ch.isalpha() for ch in text) < _MIN_LETTERS
        and body_at is not None
        and index < body_at
    ):
        return "furniture", "too short for a caption or a paragraph (\"TT\")"
    following = next_nonblank(classify.lines, index + 1) if len(text) < _MAX_CAPTION else None
    if following is not None and _is_printed_twice(text, classify.lines[following]):
        return "caption", "printed twice (a photo caption; a paragraph is never repeated)"
    if following is not None and _is_shortened(text, classify.lines[following].strip()):
        return "alt text", "the next line says the same at more length (a photo's alt text)"
    if following is not None and _is_tail(strip_marks(classify.lines[following].strip()), text):
        return "caption", "the next line repeats its end (the photo's alt text: a name)"
    if (
        following is not None
        and previous in (_BYLINE_LINE, _DATE)
        and _is_restated(text, classify.lines[following])
    ):
        return "caption", "the next paragraph ends a sentence with its words (a photo caption)"
    if previous == _CAPTION_LINE and _restates_above(classify, index):
        return None, "the first body paragraph (the caption above restates it)"
    if is_bare_name(text):
        following = next_nonblank(classify.lines, index + 1)
        if following is not None and classify(following).kind == _DATE:
            return "author", "a bare name followed by a date line"
    if is_credited_caption(text) and next_nonblank(classify.lines, index + 1) is not None:
        return "caption", "ends with a photo credit"
    if credit_line_follows(classify.lines, index):
        return "caption", "its photo credit is the next line"
    role = _caption_role(classify, index, previous, under_title)
    if role is not None:
        return role, "caption-shaped or among template lines" if role == "caption" else (
            "a subtitle under the title"
        )
    if following is not None and len(text) < _MAX_CAPTION and classify.dateline_shaped(following):
        return "deck", "a standfirst: the dateline paragraph follows it"
    if (
        body_at is not None
        and index < body_at
        and len(text.split()) <= _FURNITURE_WORDS
        and not text.endswith(tuple(_SENTENCE_END))
    ):
        return "furniture", "a short line before the first body paragraph"
    return None, "the first body paragraph"

