"""Our own HTML from markdown-it's tokens, written as the sanitizer would write it.

A Markdown post whose tokens hold no raw HTML, no image, table or footnote, and only
links that resolve to ``http(s)`` needs no HTML sanitizer: every tag markdown-it writes for
it is on the allowlist.  Parsing that HTML again with nh3 (html5ever) and writing it back
costs a tenth of reading the post, for the same bytes.  :func:`own_html` writes those bytes
straight from the tokens, as :func:`feeds.normalize.sanitize.sanitize_html` would give
them:

* void tags without ``/`` (``<br>``, ``<hr>``); ``"`` in text not escaped (html5ever
  escapes only ``&``, ``<``, ``>`` and U+00A0 there; attributes as markdown-it does);
* links: ``href`` made absolute against the article's URL (as the sanitizer's attribute
  filter does), ``rel="noopener noreferrer"`` after the other attributes;
* the same text clean-up (NFC, no XML-illegal characters), ``&nbsp;`` as U+00A0, stripped.

Anything else (any token type not listed in :data:`_PLAIN`, a link the sanitizer would drop
or rewrite, a list start or code language it would drop, a U+0338 that NFC could join to a
tag's ``>``) gives None: the caller sanitizes as before.  ``tests/test_normalize_mdhtml.py``
holds the two to the same bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from markdown_it.common.utils import unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from feeds.text import absolutize, clean_text

__all__ = ["own_html"]

#: token types whose HTML is the sanitizer's as markdown-it writes it (tags on the
#: allowlist, no attribute it filters), given the checks in :func:`_plain`
_PLAIN = frozenset({
    "paragraph_open", "paragraph_close", "heading_open", "heading_close",
    "bullet_list_open", "bullet_list_close", "ordered_list_open", "ordered_list_close",
    "list_item_open", "list_item_close", "blockquote_open", "blockquote_close",
    "hr", "inline", "text", "softbreak", "hardbreak", "em_open", "em_close",
    "strong_open", "strong_close", "s_open", "s_close", "code_inline", "code_block", "fence",
    "link_open", "link_close",
})  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_START = re.compile(r"[0-9]{1,5}")  # the sanitizer keeps a list start of 1 to 5 digits
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")  # a code class it keeps whole
_REL = ' rel="noopener noreferrer"'


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;")


def _language(token: Token) -> str | None:
    """A fence's language as markdown-it writes it ("" for none); None: not kept whole."""
    info = unescapeAll(token.info).strip() if token.info else ""
    if not info:
        return ""
    name = info.split(maxsplit=1)[0]
    return name if _LANGUAGE.fullmatch(name) else None


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer with the sanitizer's text escaping and links.  Each
    method is the rule of its token type (``RendererHTML`` collects them by name); the
    links' absolute hrefs come in ``env["hrefs"]`` (by ``id`` of their token)."""

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
             env: Any) -> str:
        return _escape_text(tokens[idx].content)

    def code_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                    env: Any) -> str:
        return "<code>" + _escape_text(tokens[idx].content) + "</code>"

    def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                   env: Any) -> str:
        return "<pre><code>" + _escape_text(tokens[idx].content) + "</code></pre>\n"

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
              env: Any) -> str:
        token = tokens[idx]
        name = _language(token)
        attribute = f' class="language-{name}"' if name else ""
        return f"<pre><code{attribute}>" + _escape_text(token.content) + "</code></pre>\n"

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                  env: Any) -> str:
        token = tokens[idx]
        title = token.attrs.get("title")
        titled = f' title="{_escape_attribute(str(title))}"' if title is not None else ""
        return f'<a href="{_escape_attribute(env["hrefs"][id(token)])}"{titled}{_REL}>'


def _plain(tokens: Sequence[Token], base_url: str | None, hrefs: dict[int, str]) -> bool:
    """Whether every token is one :class:`_Renderer` writes as the sanitizer would; the
    links' absolute hrefs go into ``hrefs``."""
    for token in tokens:
        kind = token.type
        if kind not in _PLAIN:
            return False
        if kind == "inline":
            if not _plain(token.children or (), base_url, hrefs):
                return False
        elif kind in ("text", "code_inline", "code_block", "fence"):
            if "\u0338" in token.content:  # NFC joins it to a '>' before it
                return False
            if kind == "fence" and _language(token) is None:
                return False
        elif kind == "link_open":
            href = token.attrs.get("href")
            if set(token.attrs) - {"href", "title"} or not isinstance(href, str) \
                    or href.strip().lower().startswith("mailto:"):
                return False
            absolute = absolutize(href, base_url)
            if absolute is None:
                return False
            hrefs[id(token)] = absolute
        elif kind == "ordered_list_open":
            start = token.attrs.get("start")
            if set(token.attrs) - {"start"} or (
                    start is not None and not _START.fullmatch(str(start))):
                return False
        elif (kind == "heading_open" and token.tag not in _HEADINGS) or token.attrs:
            return False
    return True


def own_html(tokens: Sequence[Token], options: OptionsDict, base_url: str | None
             ) -> str | None:
    """``sanitize_html(html, base_url=base_url)`` of the HTML markdown-it renders from
    ``tokens``, written without the sanitizer; None when the tokens need it."""
    hrefs: dict[int, str] = {}
    if not _plain(tokens, base_url, hrefs):
        return None
    html = _RENDERER.render(tokens, _html5(options), {"hrefs": hrefs})
    if not html.strip():
        return ""
    return clean_text(clean_text(html).replace("&nbsp;", "\u00a0")).strip()


_RENDERER = _Renderer()
_OPTIONS: dict[int, tuple[OptionsDict, OptionsDict]] = {}


def _html5(options: OptionsDict) -> OptionsDict:
    """``options`` with void tags written ``<br>``, as html5ever writes them (made once
    per parser's options)."""
    if not options.xhtmlOut:
        return options
    known = _OPTIONS.get(id(options))
    if known is None or known[0] is not options:
        copied = OptionsDict(dict(options))  # type: ignore[arg-type]
        copied.xhtmlOut = False
        known = _OPTIONS[id(options)] = (options, copied)
    return known[1]


# --- the same from markdown-it's HTML (the compiled parser's, :mod:`feeds.normalize.mdfast`)

#: every tag markdown-it writes that :class:`_Renderer` writes alike (the links, list
#: starts and code languages it checks: :data:`_LINK`, :data:`_CHECKED`)
_OWN_TAG = re.compile(r'</?(?:p|h[1-6]|ul|ol|li|blockquote|em|strong|s|pre|code|a)>'
                      r'|<(?:br|hr) />|<a href="[^"]*"(?: title="[^"]*")?>'
                      r'|<ol start="[^"]*">|<code class="language-[^"]*">')
_LINK = re.compile(r'<a href="([^"]*)"(?: title="([^"]*)")?>')
_CHECKED = re.compile(r'<ol start="([^"]*)">|<code class="language-([^"]*)">')


def _unescape(value: str) -> str:
    """markdown-it's ``escapeHtml`` undone (it writes only these four)."""
    return value.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&amp;", "&")


def _plain_tags(html: str) -> bool:
    """Whether every tag of ``html`` (markdown-it's, from text without ``<``: every ``<``
    starts a tag) is one :class:`_Renderer` writes alike, with a list start and a code
    language that the sanitizer keeps."""
    if len(_OWN_TAG.findall(html)) != html.count("<"):
        return False
    return all(_START.fullmatch(start) if start else _LANGUAGE.fullmatch(language)
               for start, language in _CHECKED.findall(html))


#: :func:`absolutize`, remembered: a site's posts link the same pages again and again
_absolute = functools.lru_cache(maxsize=4096)(absolutize)


def own_html_of(html: str, base_url: str | None) -> str | None:
    """:func:`own_html` of the tokens markdown-it renders as ``html``, from that HTML: its
    text with ``"`` unescaped, its links absolute with ``rel``, void tags without ``/``.
    ``html`` must come from text without ``<`` or U+0338 (every tag is then markdown-it's);
    None when the tokens would not be plain (an image, a table, a link or list start or
    code language the sanitizer would change)."""
    if not _plain_tags(html):
        return None
    parts = _LINK.split(html)  # text, href, title, text, href, title ..., text
    out: list[str] = []
    for at in range(0, len(parts) - 1, 3):
        out.append(parts[at].replace("&quot;", '"'))
        href, title = _unescape(parts[at + 1]), parts[at + 2]
        if href.strip().lower().startswith("mailto:"):
            return None
        absolute = _absolute(href, base_url)
        if absolute is None:
            return None
        titled = f' title="{title}"' if title is not None else ""
        out.append(f'<a href="{_escape_attribute(absolute)}"{titled}{_REL}>')
    out.append(parts[-1].replace("&quot;", '"'))
    written = "".join(out).replace("<br />", "<br>").replace("<hr />", "<hr>")
    if not written.strip():
        return ""
    return clean_text(clean_text(written).replace("&nbsp;", "\u00a0")).strip()
