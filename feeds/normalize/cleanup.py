"""Template syntax in content: Liquid (Jekyll) and Hugo shortcodes, never left raw.

A feed reader cannot run a site's templates, so what they would have written is either
rendered to plain content or removed, on the Markdown (or HTML) source before it is
parsed:

==========================================  ===========================================
``{% raw %}x{% endraw %}``                  ``x``, verbatim (also inside code)
``{{</* x */>}}``, ``{{%/* x */%}}``        ``{{< x >}}``, ``{{% x %}}`` verbatim (Hugo's
                                            escape for documenting a shortcode)
``{% highlight go %}...{% endhighlight %}``  a fenced code block (``<pre><code>`` in
``{{< highlight go >}}...{{< /highlight >}}`` HTML), its code verbatim
``{% comment %}...{% endcomment %}``        removed with what it holds
``{{ "/x.png" | relative_url }}``           ``/x.png`` (also ``absolute_url``)
``{{ anything else }}``, ``{% any tag %}``  removed (a block tag's inner text stays)
``{{< figure src="a.png" caption="c" >}}``  ``<figure><img><figcaption>``
``{{< youtube ID >}}``, ``vimeo``, ``gist``  a link to the video or gist
``{{% note %}}inner{{% /note %}}``          ``inner`` (any paired shortcode)
other shortcodes                            removed
==========================================  ===========================================

Code that documents these (fenced code blocks and code spans in Markdown, ``<pre>`` and
``<code>`` in HTML) keeps them as written, except for the two escapes above, which the
generators honour everywhere.  Text without ``{{`` or ``{%`` is returned as it is.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable

__all__ = ["clean_templates"]

_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
_HUGO_ESCAPED = re.compile(r"\{\{(<)/\*(.*?)\*/(>)\}\}|\{\{(%)/\*(.*?)\*/(%)\}\}", re.DOTALL)
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:[^\n]|\n(?!\n))+?)(?<!`)\1(?!`)")
_HTML_CODE = re.compile(r"<(pre|code)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_HIGHLIGHT = (
    re.compile(r"\{%-?\s*highlight\s+([\w+#.-]+)[^%]{0,2000}?-?%\}\n?(.*?)\n?"
               r"\{%-?\s*endhighlight\s*-?%\}", re.DOTALL),
    re.compile(r"\{\{<\s*highlight\s+\"?([\w+#.-]+)\"?[^>]{0,2000}?>\}\}\n?(.*?)\n?"
               r"\{\{<\s*/highlight\s*>\}\}", re.DOTALL),
)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.DOTALL)
#: the patterns above whose closing depends on the opening: (opening, closing, the
#: closing's kind for each opening's kind where they differ)
_PAIRED: dict[re.Pattern[str], tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]] = {
    _HTML_CODE: (re.compile(r"<(pre|code)\b", re.IGNORECASE),
                 re.compile(r"</(pre|code)\s*>", re.IGNORECASE), {}),
    _HUGO_ESCAPED: (re.compile(r"\{\{([<%])/\*"), re.compile(r"\*/([>%])\}\}"), {"<": ">"}),
}
#: the closing part of each other pattern above whose middle is unbounded (``.*?``)
_CLOSES = {
    _RAW: re.compile(r"\{%-?\s*endraw\s*-?%\}"),
    _HIGHLIGHT[0]: re.compile(r"\{%-?\s*endhighlight\s*-?%\}"),
    _HIGHLIGHT[1]: re.compile(r"\{\{<\s*/highlight\s*>\}\}"),
    _COMMENT: re.compile(r"\{%-?\s*endcomment\s*-?%\}"),
}
_SHORTCODE = re.compile(
    r"\{\{(?:<|(%))\s*(/?)\s*([\w./-]+)((?:[^\n]|\n(?!\n)){0,2000}?)\s*(?(1)%|>)\}\}")
_LIQUID_OUTPUT = re.compile(r"\{\{-?(.{0,2000}?)-?\}\}", re.DOTALL)
_LIQUID_TAG = re.compile(r"\{%-?.{0,2000}?-?%\}", re.DOTALL)
#: where the patterns with a bounded middle (above) open and close: a match is tried only
#: where it opens with a closing near enough (each try then costs at most _WINDOW)
_WINDOWED = {
    _SHORTCODE: (re.compile(r"(?=\{\{[<%])"), re.compile(r"(?=[>%]\}\})")),
    _LIQUID_OUTPUT: (re.compile(r"(?=\{\{)"), re.compile(r"(?=\}\})")),
    _LIQUID_TAG: (re.compile(r"(?=\{%)"), re.compile(r"(?=%\})")),
}
_WINDOW = 4096
_URL_FILTER = re.compile(r"""\s*(["'])([^"']*)\1\s*\|\s*(?:relative_url|absolute_url)\s*""")
_ARGUMENT = re.compile(r"""(?:([\w-]+)\s*=\s*)?("[^"]*"|'[^']*'|[^\s"']+)""")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _sub(pattern: re.Pattern[str], render: Callable[[re.Match[str]], str], text: str) -> str:
    """``pattern.sub(render, text)`` in linear time.  A pattern with an unbounded middle
    (``{% raw %}.*?{% endraw %}``) scans to the end of the text from each opening that is
    never closed: quadratic on ``{% raw %}`` repeated.  No match can end after the last
    closing, so only the text up to it is searched; in there every opening finds its
    closing, and the text it scans is consumed by its match."""
    if pattern in _PAIRED:
        return _paired_sub(pattern, render, text)
    if pattern in _WINDOWED:
        return _windowed_sub(pattern, render, text)
    close = _CLOSES.get(pattern)
    if close is None:
        return pattern.sub(render, text)
    last = None
    for last in close.finditer(text):  # noqa: B007 (the last one is wanted)
        pass
    if last is None:
        return text
    return pattern.sub(render, text[:last.end()]) + text[last.end():]


def _paired_sub(pattern: re.Pattern[str], render: Callable[[re.Match[str]], str],
                text: str) -> str:
    """``pattern.sub`` for a pattern of pairs whose closing depends on the opening
    (``<pre>...</pre>``, ``{{</* */>}}``): each opening is matched up to the first closing
    of its own kind, found by bisection in the closings' positions; one pass, whatever
    is left unclosed (``re.sub`` scanned to the end of the text from each)."""
    opening, closing, kinds = _PAIRED[pattern]
    closes: dict[str, list[tuple[int, int]]] = {}
    for m in closing.finditer(text):
        closes.setdefault(m.group(1).lower(), []).append((m.start(), m.end()))
    out: list[str] = []
    done = 0
    for m in opening.finditer(text):
        if m.start() < done:
            continue
        ends = closes.get(kinds.get(m.group(1).lower(), m.group(1).lower()), [])
        nearest = bisect.bisect_left(ends, (m.end(), 0))
        if nearest == len(ends):
            continue
        found = pattern.match(text, m.start(), ends[nearest][1])
        if found is not None:
            out.append(text[done:m.start()])
            out.append(render(found))
            done = found.end()
    out.append(text[done:])
    return "".join(out)


def _windowed_sub(pattern: re.Pattern[str], render: Callable[[re.Match[str]], str],
                  text: str) -> str:
    """``pattern.sub`` for a pattern whose middle is bounded (``{{ .{0,2000}? }}``):
    ``re.sub`` tries every opening and scans up to 2,000 characters from each, 6 s on
    200 KB of ``{{``; here only openings with a closing within :data:`_WINDOW` are tried."""
    opening, closing = _WINDOWED[pattern]
    closes = [m.start() for m in closing.finditer(text)]
    out: list[str] = []
    done = 0
    for start in (m.start() for m in opening.finditer(text)):
        if start < done:
            continue
        nearest = bisect.bisect_left(closes, start + 2)
        if nearest == len(closes):
            break
        if closes[nearest] - start > _WINDOW:
            continue
        found = pattern.match(text, start)
        if found is not None:
            out.append(text[done:start])
            out.append(render(found))
            done = found.end()
    out.append(text[done:])
    return "".join(out)


class _Protected:
    """Pieces of text set aside behind placeholders (NUL never reaches here: decoding
    refuses it), put back by :meth:`restore`, nested ones too."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def keep(self, text: str) -> str:
        self.pieces.append(text)
        return f"\x00{len(self.pieces) - 1}\x00"

    def sub(self, pattern: re.Pattern[str], text: str,
            render: Callable[[re.Match[str]], str] | None = None) -> str:
        return _sub(pattern, lambda m: self.keep(render(m) if render else m.group(0)), text)

    def restore(self, text: str) -> str:
        for _ in range(len(self.pieces) + 1):
            if "\x00" not in text:
                break
            text = _PLACEHOLDER.sub(lambda m: self.pieces[int(m.group(1))], text)
        return text


def _fences(text: str, kept: _Protected) -> str:
    """Fenced code blocks set aside, line by line as CommonMark closes them."""
    out: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opened = _FENCE_OPEN.match(lines[index])
        if opened is None:
            out.append(lines[index])
            index += 1
            continue
        fence = opened.group(1)
        end = index + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            end += 1
        out.append(kept.keep("\n".join(lines[index : end + 1])))
        index = end + 1
    return "\n".join(out)


def _highlighted(match: re.Match[str], as_html: bool) -> str:
    language, code = match.group(1), match.group(2)
    if as_html:
        escaped = html.escape(code)
        return f'<pre><code class="language-{html.escape(language)}">{escaped}</code></pre>'
    longest = max((len(run) for run in re.findall("`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"\n{fence}{language}\n{code}\n{fence}\n"


def _arguments(text: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for name, value in _ARGUMENT.findall(text):
        value = value[1:-1] if value[:1] in "\"'" else value
        if name:
            named[name.lower()] = value
        else:
            positional.append(value)
    return positional, named


def _shortcode(match: re.Match[str]) -> str:
    if match.group(2):  # a closing tag: the inner text stays
        return ""
    name = match.group(3).lower()
    positional, named = _arguments(match.group(4))
    first = named.get("id") or (positional[0] if positional else "")
    if name == "figure" and named.get("src"):
        attribute = html.escape
        caption = named.get("caption") or named.get("title") or ""
        image = (f'<img src="{attribute(named["src"])}" '
                 f'alt="{attribute(named.get("alt") or caption)}">')
        shown = f"<figcaption>{attribute(caption)}</figcaption>" if caption else ""
        return f"\n<figure>{image}{shown}</figure>\n"
    links = {
        "youtube": "https://www.youtube.com/watch?v={}",
        "vimeo": "https://vimeo.com/{}",
        "gist": "https://gist.github.com/{}",
    }
    if name in links and first:
        target = "/".join(positional[:2]) if name == "gist" else first
        url = links[name].format(target)
        return f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
    return ""


def _unescaped(match: re.Match[str]) -> str:
    opened, inner, closed = match.group(1, 2, 3) if match.group(1) else match.group(4, 5, 6)
    return "{{" + opened + inner + closed + "}}"


def _liquid_output(match: re.Match[str]) -> str:
    url = _URL_FILTER.fullmatch(match.group(1))
    return url.group(2) if url else ""


def clean_templates(text: str, *, as_html: bool = False) -> str:
    """``text`` (Markdown, or HTML with ``as_html``) with Liquid and Hugo shortcodes
    rendered or removed (see the module docstring)."""
    if "{{" not in text and "{%" not in text:
        return text
    kept = _Protected()
    text = kept.sub(_RAW, text, lambda m: m.group(1))
    text = kept.sub(_HUGO_ESCAPED, text, _unescaped)
    if as_html:
        text = kept.sub(_HTML_CODE, text)
    else:
        text = _fences(text, kept)
        text = kept.sub(_CODE_SPAN, text)
    for highlight in _HIGHLIGHT:
        text = kept.sub(highlight, text, lambda m: _highlighted(m, as_html))
    text = _sub(_COMMENT, lambda m: "", text)
    if "{{<" in text or "{{%" in text:
        text = _sub(_SHORTCODE, _shortcode, text)
    text = _sub(_LIQUID_OUTPUT, _liquid_output, text)
    text = _sub(_LIQUID_TAG, lambda m: "", text)
    return kept.restore(text)
