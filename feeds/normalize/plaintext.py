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
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from feeds.errors import ArticleError
from feeds.model import Article, Author, DateSource, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.captions import CAPTION_CREDIT, is_credited_caption
from feeds.normalize.datelines import _dateline
from feeds.normalize.dates import FoundDate, parse_date_line
from feeds.normalize.decode import decode_text
from feeds.normalize.header import (
    TitleChoice,
    choose_title,
    credit_line_follows,
    explain_title,
    explained,
)
from feeds.normalize.language import detect_language
from feeds.normalize.plainlines import (  # the lines, classified
    _BULLET,
    _BULLET_LINE,
    _BYLINE_LINE,
    _CAPTION_LINE,
    _CHROME,
    _CHROME_LINES,
    _DATE,
    _DECK_LINE,
    _HEADLINE,
    _OTHER,
    _SENTENCE_END,
    _TEMPLATE_LINES,
    _Classifier,
    _Header,
    _is_blank,
    _is_boilerplate,
    _key,
)
from feeds.normalize.roles import other_role
from feeds.text import one_line, strip_marks

__all__ = ["read_plaintext"]

_Explain = list[tuple[int, str, str]] | None  # (line index, role, why), when asked for
_MAX_HEADER_LINES = 80  # non-blank lines; a header never runs longer
_CLOCK_LINES = 3  # lines a clock may be cut over ("٢٣:" / "١٠" / "م +02:00 EET")
_SUMMARY_MAX = 300
_WRAP_MIN, _WRAP_MAX, _WRAP_RAGGED = 40, 100, 20  # hard-wrapped lines: width and raggedness

def _find_title(lines: list[str], classify: _Classifier) -> tuple[int, TitleChoice]:
    choice = choose_title(classify)
    index = _first_title(lines) if choice.index is None else choice.index
    return _without_site(lines, index), choice


def _without_site(lines: list[str], index: int) -> int:
    """``Headline | Site`` (a page's HTML title) followed by the headline alone: that one."""
    head, bar, _ = lines[index].strip().rpartition(" | ")
    if not bar or not head:
        return index
    key = _key(head)
    for later in range(index + 1, min(len(lines), index + 30)):
        if _key(lines[later].strip()) == key:
            return later
    return index


def _first_title(lines: list[str]) -> int:
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


def _dates_before(classify: _Classifier, title_index: int) -> list[FoundDate]:
    """Date lines above the title (a page's date bar), read when none follows it."""
    return [
        found
        for index in range(max(0, title_index - 20), title_index)
        if not _is_blank(classify.lines[index]) and classify(index).kind == _DATE
        for found in classify(index).dates
    ]


def _one_copy(text: str) -> str:
    """A caption glued to its own repeat ("A caption. SPAA caption. SPA"), once."""
    half, odd = divmod(len(text), 2)
    if half > 10:
        if not odd and text[:half] == text[half:]:
            return text[:half].strip()
        if odd and text[half] == " " and text[:half] == text[half + 1 :]:
            return text[:half].strip()
    return text


def _captions_before(classify: _Classifier, title_index: int) -> list[str]:
    """Credited captions above the title (a lead photo printed before the headline)."""
    return [
        classify(index).text
        for index in range(max(0, title_index - 20), title_index)
        if not _is_blank(classify.lines[index])
        and classify(index).kind == _OTHER
        and (is_credited_caption(classify(index).text)
             or credit_line_follows(classify.lines, index))
    ]


def _read_header(
    classify: _Classifier, start: int, body_at: int | None = None, explain: _Explain = None
) -> tuple[_Header, int]:
    """The header zone from ``start``; returns it and the index where the body starts."""
    header = _Header()
    lines = classify.lines
    previous: int | None = None
    loose: list[str] = []  # the chrome and furniture lines right above (a clock cut up)
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
            role: str | None
            if line.text in header.captions:
                role, why = "caption", "the caption again"
            else:
                under = index == start or (
                    previous in (None, _HEADLINE) and not line.text.endswith(".")
                )  # right under the title, or under its repeat
                role, why = other_role(classify, index, previous, under, body_at)
            if explain is not None:
                explain.append((index, role or "body", why))
            if role is None:
                break
            if role == "caption":
                caption = _one_copy(line.text)
                if caption not in header.captions:
                    header.captions.append(caption)
            elif role == "author":
                header.authors = header.authors or (line.text,)
            if role == "furniture":
                loose.append(line.text)
            elif loose:
                loose = []
            previous = _CAPTION_LINE if role == "caption" else _DECK_LINE
            index += 1
            continue
        if line.kind == _DATE:
            header.dates.extend(_with_clock_above(line.dates, lines[index], loose, classify.tz))
        elif line.kind == _BYLINE_LINE:
            header.authors = header.authors or line.authors
            header.dates.extend(line.dates)
        elif line.kind == _BULLET_LINE:
            header.bullets.append(line.bullet)
        if explain is not None:
            explain.append((index, *explained(line)))
        if line.kind == _CHROME:
            loose.append(line.text)
        elif loose:
            loose = []
        previous = line.kind
        index += 1
    return header, index


def _with_clock_above(
    dates: tuple[FoundDate, ...], text: str, loose: list[str], tz: tzinfo
) -> tuple[FoundDate, ...]:
    """A date line's dates, with the time the lines right above it print when the page
    cut its clock over lines of chrome ("٢٣:" / "١٠" / "م +02:00 EET" / the date)."""
    if not loose or len(dates) != 1 or "T" in dates[0].text:
        return dates
    tail = loose[-_CLOCK_LINES:]
    start = next((at for at, part in enumerate(tail) if ":" in part), None)
    if start is None:
        return dates
    clock = "".join(part if part.endswith(":") else part + " " for part in tail[start:])
    found = parse_date_line(f"{text.strip()} {clock}", tz)
    if found is None or "T" not in found.text or found.text[:10] != dates[0].text[:10]:
        return dates
    return (found,)


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


def read_plaintext(
    data: bytes,
    *,
    source: str,
    key: str,
    tz: tzinfo = UTC,
    mtime: float | None = None,
    explain: _Explain = None,
) -> Article:
    """Read one plain-text article.  Times without a zone are read in ``tz``; relative
    times ("2 hours ago") against ``mtime`` (the file's, in seconds), else not at all.
    ``explain``, a list, receives (line index, role, why) for each line of the title and
    header zone: what ``feeds inspect --explain`` prints.

    Raises ``ArticleError`` for input that is not an article (empty, whitespace only,
    binary, undecodable).  A file with nothing but a title is an article with an empty body.
    """
    text = decode_text(data)
    if _is_blank(text):  # direction marks are invisible formatting, not content
        raise ArticleError("only whitespace")
    lines = text.split("\n")  # never splitlines(): U+0085/U+2028 are not line breaks here
    now = datetime.fromtimestamp(mtime, UTC) if mtime is not None else None
    classify = _Classifier(lines, "", tz, now)
    title_index, choice = _find_title(lines, classify)
    title = strip_marks(one_line(lines[title_index]))
    classify.title_key = _key(title)
    if explain is not None:
        explain_title(classify, title_index, choice, explain)
    header, body_start = _read_header(classify, title_index + 1, choice.body_at, explain)
    if not header.dates:  # a date bar above the headline: "Monday June 18th, 2018 7:44AM"
        header.dates.extend(_dates_before(classify, title_index))
    if title_index:  # a credited photo caption above the headline comes first
        header.captions[:0] = _captions_before(classify, title_index)

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
    source_of = _date_source(published)
    caption = header.captions[0] if header.captions else None
    credit = None
    if caption is not None and caption.endswith(")"):
        m = CAPTION_CREDIT.search(caption, max(0, caption.rfind("(")))
        credit = m.group("credit").strip() if m else None

    return Article(
        source=source,
        key=key,
        title=title,
        content_html=_html(blocks),
        body=body,
        summary=summary,
        published=published.value if published else None,
        # a relative time ("2 hours ago") is no date written in the content: flagged, no text
        published_text=published.text if published and source_of != "relative" else None,
        date_source=source_of,
        updated=updated.value if updated else None,
        authors=tuple(Author(name) for name in header.authors),
        caption=caption,
        credit=credit,
        dateline=_dateline(blocks[0].text) if blocks and not blocks[0].items else None,
        summary_bullets=bullets,
        language=detect_language(f"{title}\n\n{body}" if body else title),
    )


def _date_source(found: FoundDate | None) -> DateSource | None:
    if found is None:
        return None
    return "relative" if found.note and found.note.startswith("relative") else "content"


def read(raw: RawInput, ctx: ReadContext) -> Article:
    """``feeds.normalize.READERS``' entry point for the 'text' kind."""
    mtime = raw.file.mtime_ns / 1e9 if raw.file is not None else None
    return read_plaintext(raw.data, source=raw.source, key=raw.key, tz=ctx.tz, mtime=mtime)
