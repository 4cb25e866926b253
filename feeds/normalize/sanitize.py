"""HTML for feed content: one allowlist, absolute URLs, XML-legal NFC text.

Every reader (Markdown, HTML pages, remote feed entries) passes its HTML through
:func:`sanitize_html` before it reaches an ``Article``.  This is the only module that
calls nh3 (ammonia, an HTML5 parser: no recursion limit, no entity expansion).

Policy, kept tight because feed readers render what we publish:

* **Tags** in :data:`ALLOWED_TAGS` survive.  Any other tag is removed but its text is
  kept (``<div>``, ``<span>``, ``<font>`` ...), except the tags in
  :data:`DROPPED_WITH_CONTENT` (scripts, styles, frames, plug-ins, forms, media players,
  inline SVG/MathML), which go with everything inside them.  Media belongs in enclosures.
* **Attributes** in :data:`ALLOWED_ATTRIBUTES` only: no ``style``, ``class`` (except a
  ``language-*`` class on ``<code>``), ``id``, or event handlers.  ``width``/``height``
  must be plain numbers.  Links get ``rel="noopener noreferrer"``.
* **URLs** in ``href``/``src``: ``http``, ``https`` and (``href`` only) ``mailto``.
  Relative URLs are made absolute against ``base_url``; a feed is read out of context, so
  without a base a relative URL cannot be resolved and the attribute is dropped.  A link
  that lost its ``href`` is unwrapped (its text stays); an image that lost its ``src``
  is removed.  Protocol-relative URLs (``//host/x``) take the base's scheme, else https.
* **Text**: comments removed, NFC, characters illegal in XML 1.0 removed, and
  ``&nbsp;`` written as U+00A0 (XML knows no ``&nbsp;`` entity).
"""

from __future__ import annotations

import functools
import re
from html import unescape
from html.parser import HTMLParser

import nh3

from feeds.text import absolutize as absolutize  # where it was: the readers import it here
from feeds.text import clean_text

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "DROPPED_WITH_CONTENT",
    "absolutize",
    "html_to_text",
    "sanitize_html",
]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        # text blocks
        "p", "br", "hr", "blockquote", "pre",
        "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd",
        "figure", "figcaption",
        # inline
        "a", "img", "em", "strong", "b", "i", "u", "s", "del", "ins", "mark", "small",
        "code", "kbd", "samp", "var", "sup", "sub", "abbr", "q", "cite",
        # tables
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip

DROPPED_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script", "style", "template", "noscript",
        "iframe", "frame", "frameset", "object", "embed", "applet",
        "form", "button", "select", "textarea",
        "video", "audio", "canvas", "svg", "math",
        "head", "title",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "abbr": frozenset({"title"}),
    "code": frozenset({"class"}),
    "ol": frozenset({"start"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
}

_URL_SCHEMES = {"http", "https", "mailto"}
_NUMERIC_ATTRIBUTES = {"width", "height", "start", "colspan", "rowspan"}
_NUMBER = re.compile(r"[0-9]{1,5}")
_CODE_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_IMG_WITHOUT_SRC = re.compile(r'<img\b(?![^>]*\ssrc=")[^>]*>')
_A_WITHOUT_HREF = re.compile(r'<a\b(?![^>]*\shref=")[^>]*>(.*?)</a>', re.DOTALL)


#: tags (``<`` characters) below which nesting cannot cost html5ever much (see _shallow)
_DEEP_CHECK = 4096
#: open elements kept; tags nested deeper are dropped, their text kept
MAX_DEPTH = 256
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})


def _shallow(html: str) -> str:
    """``html`` with the tags nested deeper than ``MAX_DEPTH`` dropped (their text kept).

    html5ever (inside nh3) checks the stack of open elements at each tag, so markup nested
    n deep costs it n² (20,000 ``<div>`` or ``<b>x</i>``: 1 to 2 s; a 5 MiB file: minutes).
    One linear pass counts the open elements as written (an end tag closes up to its
    start tag, as a browser does; a stray one closes nothing) and drops start tags beyond
    the limit with their end tags.  It over-counts what a browser would close implicitly,
    so it may flatten early, never late.  Markup with fewer than ``_DEEP_CHECK`` tags is
    left alone (it costs html5ever at most ~0.1 s).  The elements dropped with their
    content are always kept: flattening them would turn their content into text.
    """
    if html.count("<") < _DEEP_CHECK:
        return html
    stack: list[str] = []
    dropped: dict[str, int] = {}
    out: list[str] = []
    last = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        keep = True
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
                keep = False
            elif name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
        elif not self_closing and name not in _VOID and name not in DROPPED_WITH_CONTENT:
            if len(stack) < MAX_DEPTH:
                stack.append(name)
            else:
                dropped[name] = dropped.get(name, 0) + 1
                keep = False
        if not keep:
            out.append(html[last : match.start()])
            last = match.end()
    if not out:
        return html
    out.append(html[last:])
    return "".join(out)


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Return ``html`` reduced to the feed-content allowlist (see the module docstring)."""
    if not html.strip():
        return ""
    cleaned: str = _cleaner(base_url).clean(_shallow(clean_text(html)))
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    cleaned = _A_WITHOUT_HREF.sub(r"\1", cleaned)
    cleaned = cleaned.replace("&nbsp;", "\u00a0")
    return clean_text(cleaned).strip()


@functools.lru_cache(maxsize=128)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    """The nh3 cleaner for ``base_url``: built once, since building one costs more than a
    cleaning (nh3 documents cleaners as reusable)."""

    def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            if attribute == "href" and value.strip().lower().startswith("mailto:"):
                return value.strip()
            return absolutize(value, base_url)
        if attribute in _NUMERIC_ATTRIBUTES:
            value = value.strip()
            return value if _NUMBER.fullmatch(value) else None
        if attribute == "class":
            found = _CODE_LANGUAGE.search(value)
            return found.group(0) if found else None
        return value

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=filter_attribute,
        url_schemes=set(_URL_SCHEMES),
        url_relative="pass_through",  # filter_attribute resolves or drops them
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


# --- plain text -------------------------------------------------------------------------

_PARAGRAPH_TAGS = frozenset(
    {
        "p", "div", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "dl", "figure", "figcaption", "table", "caption", "hr",
        "article", "section", "main", "header", "footer", "aside", "nav", "address",
    }
)  # fmt: skip
_LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "br"})
_CELL_TAGS = frozenset({"td", "th"})

# The markup :func:`sanitize_html` writes (html5ever's serializer): lower-case tag names,
# attributes as ` name="value"` (``"`` written as ``&quot;``), end tags without attributes,
# ``<`` in text written as ``&lt;``, no comments.  When every ``<`` starts such a tag,
# splitting on them gives the events ``HTMLParser`` would give (text between two tags in
# one piece, its character references decoded), so such HTML skips the general parser.
_SIMPLE_TAG = re.compile(r'<(?:([a-z][a-z0-9]*)(?: [a-z][a-z0-9-]*="[^"]*")*|/([a-z][a-z0-9]*))>')
# Tags whose content ``HTMLParser`` (some Python versions) reads as raw text, and the tags
# dropped with their content: none survives sanitizing, so their HTML takes the parser.
_NOT_SIMPLE = DROPPED_WITH_CONTENT | {"xmp", "noembed", "noframes", "plaintext"}


class _TextBuilder:
    """Paragraphs from a stream of tag and text events: no tree, so no depth limit."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self._lines: list[str] = []
        self._line: list[str] = []
        self._pre = 0
        self._skip = 0

    def start(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skip += 1
        elif tag in _PARAGRAPH_TAGS:
            self._end_paragraph()
            if tag == "pre":
                self._pre += 1
        elif tag in _LINE_TAGS:
            self._end_line()
        elif tag in _CELL_TAGS and self._line:
            self._line.append(" ")

    def end(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skip = max(0, self._skip - 1)
        elif tag in _PARAGRAPH_TAGS:
            self._end_paragraph()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _LINE_TAGS:
            self._end_line()

    def data(self, data: str) -> None:
        if self._skip:
            return
        if not self._pre:
            self._line.append(data)
            return
        first, *rest = data.split("\n")
        self._line.append(first)
        for piece in rest:
            self._end_line(keep_empty=True)
            self._line.append(piece)

    def text(self) -> str:
        """End the last paragraph; the paragraphs separated by a blank line, cleaned."""
        self._end_paragraph()
        return clean_text("\n\n".join(self.paragraphs))

    def _end_line(self, *, keep_empty: bool = False) -> None:
        if not self._line:  # the common case: a tag right after another
            if keep_empty and self._lines:
                self._lines.append("")
            return
        text = "".join(self._line)
        self._line = []
        # the same as re.sub(r"\s+", " ", text).strip(): \s and split() both mean isspace()
        text = text.rstrip() if self._pre else " ".join(text.split())
        if text or (keep_empty and self._lines):
            self._lines.append(text)

    def _end_paragraph(self) -> None:
        self._end_line()
        while self._lines and not self._lines[-1].strip():
            self._lines.pop()
        if self._lines:
            self.paragraphs.append("\n".join(self._lines))
        self._lines = []


class _TextExtractor(HTMLParser):
    """Any HTML, tolerantly tokenized by ``HTMLParser``, into a :class:`_TextBuilder`."""

    def __init__(self, builder: _TextBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.builder.start(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in DROPPED_WITH_CONTENT:
            self.builder.start(tag)

    def handle_endtag(self, tag: str) -> None:
        self.builder.end(tag)

    def handle_data(self, data: str) -> None:
        self.builder.data(data)


def _simple_events(html: str) -> list[str | None] | None:
    """``html`` split into text, start-tag name, end-tag name (one of the two is None) ...
    ending with text; None when it is not in the form :func:`sanitize_html` writes."""
    parts = _SIMPLE_TAG.split(html)
    for index in range(0, len(parts), 3):
        if "<" in parts[index]:
            return None
    for index in range(1, len(parts), 3):
        if (parts[index] or parts[index + 1]) in _NOT_SIMPLE:
            return None
    return parts


def html_to_text(html: str) -> str:
    """Plain text of (sanitized) HTML: paragraphs separated by a blank line, list items
    and ``<br>`` on their own lines, whitespace collapsed outside ``<pre>``.

    Any HTML is accepted; what :func:`sanitize_html` writes is tokenized by a split on its
    tags, anything else by ``HTMLParser``.  Both give the same events for the same markup.
    """
    builder = _TextBuilder()
    parts = _simple_events(html)
    if parts is None:
        extractor = _TextExtractor(builder)
        extractor.feed(html)
        extractor.close()
        return builder.text()
    start, end, data = builder.start, builder.end, builder.data
    # each text with the tag after it; the text after the last tag is left over
    for text, opened, closed in zip(parts[::3], parts[1::3], parts[2::3], strict=False):
        if text:
            data(unescape(text) if "&" in text else text)
        if opened is not None:
            start(opened)
        elif closed is not None:
            end(closed)
    last = parts[-1]
    if last:
        data(unescape(last) if "&" in last else last)
    return builder.text()
