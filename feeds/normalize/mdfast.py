"""The common Markdown post parsed by a compiled parser, to the same bytes as markdown-it-py.

markdown-it-py's parse is most of the cost of reading a post (about 1 ms of CPU for 4 KB);
markdown-it-pyrs (a Rust port of the same markdown-it) renders the same post in a tenth of
that.  The two are not the same program: on hostile input they differ (lazy continuation
lines in block quotes, nested containers, tables beside quotes, strikethrough runs, Unicode
whitespace, entities, and a few inputs that make the Rust one panic).  An article's HTML is
part of its content hash, so a different byte would show every article as updated to
every reader.  So the compiled parser is used only on a *simple* document, checked line by
line before parsing (:func:`simple`), and markdown-it-py reads every other one:

* characters: no ``<`` (raw HTML, autolinks, ``<!--more-->``), no ``&`` before a letter,
  digit or ``#`` (entities), no ``~`` or ``|`` (strikethrough, tables), no ``]:``
  (reference definitions), no ``[^`` (footnotes), no tab, control character, Unicode
  space or separator, no U+0338, no bare URL (linkify: the caller checks that); no ``*``
  or ``_`` beside a non-ASCII character that is not a letter, mark or digit (Unicode
  punctuation flanks emphasis differently); outside fences no line with a run of two
  backticks, an odd number of them, or a run of three ``*`` or ``_``; no escaped
  backtick, and no backslash at all in a post with an image (its ``alt`` text);
* blocks, each starting in column 0 (no indented line outside a fence): blank lines;
  paragraphs whose lines start with a letter, digit (not a list marker) or one of
  ``"'([*_`!$%,.:;?@^{}/\\``; ``#`` headings; ``- * +`` and ``1.`` / ``1)`` list items of
  one line each; ``> `` quote lines holding paragraph text; thematic breaks after a blank
  line; and fenced code (`````` ``` `````` with an optional language word) with its lines
  taken as they are.  A list item or quote line is followed by a blank line, an item or
  quote line of its kind, or the end (no lazy continuation).

After rendering, a link whose host is not ASCII (markdown-it-py writes it in punycode) also
sends the post back to markdown-it-py.  Every rule above was found by a differential fuzz
of the two parsers (1.5 million generated documents, 70,000 of them simple) and closes
one difference or panic it found.

``tests/test_normalize_mdfast.py`` holds the two parsers to the same HTML on everything
:func:`simple` accepts (generated documents, the repository's and the shared corpus's
posts), and the reader's articles to the same bytes either way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

try:  # a wheel for the common platforms; elsewhere every post takes markdown-it-py
    import markdown_it_pyrs
except ImportError:  # pragma: no cover - the dependency is installed with feeds
    markdown_it_pyrs = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "render", "simple"]

AVAILABLE = markdown_it_pyrs is not None

#: characters (or pairs) that may make the two parsers differ; see the module docstring
_REFUSED = re.compile(  # (one character class: a scan, where alternatives cost 3x)
    r"[<~|\t\r\x00-\x08\x0b-\x1f\x7f-\x9f\u0338\u00a0\u1680\u2000-\u200f\u2028-\u202f"
    r"\u205f-\u206f\u3000\ufeff\ufff0-\uffff]")
_ENTITY = re.compile(r"&[#A-Za-z0-9]")
#: the first character of a paragraph line (letters and digits are checked apart)
_NEAR_DELIMITER = re.compile(r"[*_]([^\x00-\x7f])|([^\x00-\x7f])(?=[*_])")
_PARAGRAPH_START = frozenset("\"'([*_`!$%,.:;?@^{}/\\[")
_HEADING = re.compile(r"#{1,6} \S")
_BULLET = re.compile(r"[-*+] \S")
_ORDERED = re.compile(r"[0-9]{1,9}[.)] \S")
_QUOTE = re.compile(r"> \S")
_BREAK = re.compile(r"(?:\*\*\*|---|___)\Z")
_FENCE = re.compile(r"```[A-Za-z0-9_+#.-]*\Z")
_LIST_MARK = re.compile(r"[0-9]+[.)](?= |\Z)")
_SETEXT = re.compile(r"=+ *\Z|-+ *\Z")


def _paragraph_line(line: str) -> bool:
    """A line that can only be paragraph text (starting no block of its own)."""
    first = line[0]
    if first == " " or line.endswith(" "):  # (trailing spaces: hard breaks)
        return False
    if first.isdigit():
        return _LIST_MARK.match(line) is None
    if first in "*_" and (len(line) < 2 or line[1] == " " or _BREAK.match(line)):
        return False
    return first.isalpha() or first in _PARAGRAPH_START


def _kind(line: str) -> str | None:
    """The kind of one line outside a fence, None when it is not one :func:`simple` takes."""
    if not line:
        return "blank"
    if line.startswith("```"):
        return "fence" if _FENCE.match(line) else None
    if "``" in line or "***" in line or "___" in line or line.count("`") % 2:
        return None  # runs of backticks, or of three delimiters, are matched differently
    if line[0].isalpha():  # most lines: text (setext lines, breaks and markers are not)
        return None if line[-1] == " " else "text"
    if _BREAK.match(line):
        return "break"
    if _SETEXT.match(line):
        return None
    if line[0] == "#":
        return "heading" if _HEADING.match(line) and not line.endswith("#") else None
    if _BULLET.match(line):
        return "bullet" + line[0] if _paragraph_line(line[2:]) else None
    if _ORDERED.match(line):
        mark = _LIST_MARK.match(line)
        assert mark is not None
        rest = line[mark.end() + 1:]
        return "ordered" + mark.group()[-1] if _paragraph_line(rest) else None
    if _QUOTE.match(line):
        return "quote" if _paragraph_line(line[2:]) else None
    return "text" if _paragraph_line(line) else None


def _odd_flanking(text: str) -> bool:
    """Whether a ``*`` or ``_`` touches a non-ASCII character that is not a letter, mark or
    number (Unicode punctuation and symbols flank emphasis differently in the two)."""
    for match in _NEAR_DELIMITER.finditer(text):
        char = match.group(1) or match.group(2)
        if unicodedata.category(char)[0] not in "LMN":
            return True
    return False


def simple(text: str) -> bool:
    """Whether ``text`` is a document both parsers write the same (the module docstring)."""
    if _REFUSED.search(text) or "]:" in text or "[^" in text \
            or ("&" in text and _ENTITY.search(text)):
        return False
    if not text.isascii() and _odd_flanking(text):
        return False
    if "\\`" in text or ("![" in text and "\\" in text):
        return False  # an escaped backtick; an escape in an image's text
    lines = text.split("\n")
    previous = "blank"
    fenced = False
    for line in lines:
        if fenced:
            if line == "```":
                fenced, previous = False, "blank-ish"
            continue
        kind = _kind(line)
        if kind is None:
            return False
        if kind == "fence":
            if previous not in ("blank", "blank-ish"):
                return False
            fenced = True
        elif kind == "break" and previous not in ("blank", "blank-ish"):
            return False
        elif previous.startswith(("bullet", "ordered", "quote")) \
                and kind not in ("blank", previous):
            return False  # no lazy continuation, no list of another marker
        elif previous == "blank-ish" and kind != "blank":
            return False
        previous = kind
    return not fenced


#: a link whose host holds a %-escape
_ENCODED_HOST = re.compile(r'(?:href|src)="[A-Za-z][A-Za-z0-9+.-]*:(?://)?[^/"?#]*%')

_PARSERS: dict[bool, Any] = {}


def render(text: str) -> str | None:
    """markdown-it-py's HTML of ``text`` (CommonMark, tables, raw HTML), written by the
    compiled parser; None when ``text`` is not :func:`simple` or the parser is missing."""
    if markdown_it_pyrs is None or not simple(text):
        return None
    parser = _PARSERS.get(False)
    if parser is None:
        parser = _PARSERS[False] = markdown_it_pyrs.MarkdownIt("commonmark").enable("table")
    try:
        html: str = parser.render(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # a Rust panic (pyo3's PanicException is a BaseException)
        return None
    if "%" in html and _ENCODED_HOST.search(html):
        return None  # a host not in ASCII: markdown-it-py writes it in punycode
    return html
