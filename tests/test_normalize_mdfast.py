"""The compiled Markdown parser (feeds.normalize.mdfast) writes markdown-it-py's bytes.

An article's HTML is part of its content hash: a post read by the compiled parser must
come out byte for byte as markdown-it-py made it, or every reader would see every article
as updated.  These tests hold the two parsers to the same HTML on every text
:func:`simple` accepts (generated to be full of what the two parsers read differently,
the repository's posts and the shared corpus's), and ``read_markdown`` to the same
article with and without the compiled parser.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize import markdown as markdown_reader
from feeds.normalize import mdfast
from feeds.normalize.cleanup import clean_templates
from feeds.normalize.frontmatter import _split_front_matter
from feeds.normalize.markdown import _extensions, _markdown, read_markdown

pytestmark = pytest.mark.skipif(not mdfast.AVAILABLE, reason="markdown-it-pyrs not installed")

INLINE = [
    "word", "Word", " ", "  ", "x", "é", "東京", "😀", "€", "ß", "İ", "\u0301", "e\u0301",
    "*", "**", "***", "_", "__", "`", "``", "\\", "\\*", "\\_", "\\`", "\\[", "\\\\", "[",
    "]", "(", ")", "!", "![", "[a](https://x.example/a?b=1&c=2)", "[rel](../up/x.html)",
    '[q](/root "ti\\"tle")', "[t](/p 'x')", "[m](mailto:a@b.example)",
    "[j](javascript:alert(1))", "[s](//cdn.example/x)", "[e]( )", "[e]()", "[sp](/a b)",
    "[ref]", "[x][]", "[y][x]", "![img](/i.png)", '![a *b*](x.png "t")', "*em*",
    "**strong**", "_u_", "__uu__", "*a **b** c*", '`co"de`', "``a`b``", "` x `", "&", "& ",
    '"', "'", "#", "-", "+", ".", ",", ":", ";", "?", "$", "%", "^", "{", "}", "/", "=",
    "1.", "2)", "a_b_c", "*foo*bar", "foo*bar*", "_foo_bar", "**foo*", "*foo**", "“", "”",
    "—", "»", "(*x*)", '"*x*"', '*"x"*', "**`c`**", "[**b**](/u)", "[`c`](/u)",
    "[a [b] c](/u)", "[a](/u(x))", "[a](/u\\)x)", "http:x", "a.b", "%20", "[a](%zz)",
    "[a](/ü)", "[a](https://ü.example/)", "[a](/a#frag)", "[a](?q=1)", "[a](#x)", "~~s~~",
    "&amp;", "&copy;", "&#x41;", "|", "<b>", "\t", "\u00a0", "\u2028", "\u0338",
]  # fmt: skip

inline = st.lists(st.sampled_from(INLINE), min_size=1, max_size=12).map("".join)


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(
        ["text", "text", "heading", "bullet", "ordered", "quote", "break", "fence",
         "indented", "setext", "hard"]))
    lines = draw(st.lists(inline, min_size=1, max_size=4))
    if kind == "heading":
        return "#" * draw(st.integers(1, 7)) + " " + lines[0]
    if kind == "bullet":
        mark = draw(st.sampled_from("-*+"))
        return "\n".join(f"{mark} {line}" for line in lines)
    if kind == "ordered":
        start = draw(st.sampled_from([0, 1, 2, 7, 123456, 1234567890]))
        mark = draw(st.sampled_from(".)"))
        return "\n".join(f"{start + i}{mark} {line}" for i, line in enumerate(lines))
    if kind == "quote":
        return "\n".join(f"> {line}" for line in lines)
    if kind == "break":
        return draw(st.sampled_from(["***", "---", "___", "- - -", "==", "--"]))
    if kind == "fence":
        info = draw(st.sampled_from(["", "py", "c++", 'a"b', "x y"]))
        return f"```{info}\n" + "\n".join(lines) + "\n```"
    if kind == "indented":
        return "\n".join(" " * draw(st.integers(1, 5)) + line for line in lines)
    if kind == "setext":
        return lines[0] + "\n" + draw(st.sampled_from(["===", "---", "-"]))
    if kind == "hard":
        return "\n".join(line + draw(st.sampled_from(["  ", " ", "\\", ""])) for line in lines)
    return "\n".join(lines)


@st.composite
def document(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(block(), min_size=1, max_size=8))
    seps = draw(st.lists(st.sampled_from(["\n\n", "\n\n", "\n", "\n\n\n"]),
                         min_size=len(blocks), max_size=len(blocks)))
    return "".join(b + s for b, s in zip(blocks, seps, strict=True))


def _python_html(text: str) -> str:
    return _markdown(*_extensions(text)).render(text)


def _compiled_html(text: str) -> str | None:
    """The compiled parser's HTML where the reader uses it (a text needing linkify or
    footnotes is left to markdown-it-py before :func:`mdfast.render` is asked)."""
    return None if any(_extensions(text)) else mdfast.render(text)


@settings(max_examples=2000, deadline=None)
@given(document())
def test_compiled_html_is_markdown_it_pys_on_every_simple_text(text: str) -> None:
    html = _compiled_html(text)
    if html is not None:
        assert html == _python_html(text)


def _article(data: bytes, base: str | None, compiled: bool,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, Any] | str:
    with monkeypatch.context() as patch:
        if not compiled:
            patch.setattr(mdfast, "render", lambda text: None)
        try:
            return asdict(read_markdown(data, source="s", key="post.md", base_url=base))
        except Exception as error:
            return repr(error)


FRONTS = [
    "---\ntitle: A post\n---\n",
    "---\ntitle: A post\nsummary: Given.\n---\n",
    "---\ntitle: Word\nexcerpt_separator: word\n---\n",
    "---\n---\n",
    "",
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FRONTS), st.sampled_from(["", "# A post\n\n", "# Word\n\n", "# x\n\n"]),
       document(), st.sampled_from(["https://blog.example/posts/a/", None]))
def test_an_article_is_the_same_with_the_compiled_parser(
        front: str, heading: str, text: str, base: str | None) -> None:
    data = (front + heading + text).encode("utf-8")
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _article(data, base, True, monkeypatch) == \
            _article(data, base, False, monkeypatch)


def _markdown_files() -> list[Path]:
    roots = [Path(__file__).parent, Path(__file__).parents[2] / "shared" / "sites"]
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*")
                  if p.suffix in (".md", ".markdown"))


def test_the_same_articles_from_the_repositorys_and_the_corpuss_posts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = 0
    for path in _markdown_files():
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        with contextlib.suppress(Exception):  # bad front matter: the whole text
            text = _split_front_matter(text)[1]
        text = clean_templates(text)
        html = _compiled_html(text)
        if html is not None:
            compiled += 1
            assert html == _python_html(text), path
        for base in ("https://blog.example/posts/", None):
            assert _article(data, base, True, monkeypatch) == \
                _article(data, base, False, monkeypatch), path
    assert compiled > 50  # most posts take the compiled parser


POST = ("## Highlights\n\n- One *thing*\n- Another `thing`\n\nA paragraph with a "
        "[link](../b/) and **bold** text.\nIts second line.\n\n> A quote.\n\n"
        "## Part 2\n\n1. first\n2. second\n\n```py\nx = 1\n```\n")


def test_a_plain_post_is_parsed_by_the_compiled_parser(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert mdfast.simple(POST)
    calls: list[str] = []
    real = markdown_reader._markdown

    def counting(*args: bool) -> Any:
        calls.append("python")
        return real(*args)

    monkeypatch.setattr(markdown_reader, "_markdown", counting)
    article = read_markdown(("---\ntitle: T\n---\n" + POST).encode(), source="s",
                            key="p.md", base_url="https://blog.example/")
    assert calls == []
    assert '<a href="https://blog.example/b/" rel="noopener noreferrer">link</a>' \
        in article.content_html
    assert article.summary == "A paragraph with a link and bold text. Its second line."


@pytest.mark.parametrize("text", [
    "A <b>raw</b> tag.\n",  # raw HTML
    "Before\n\n<!--more-->\n\nafter\n",  # an excerpt marker
    "An &copy; entity.\n",
    "~~struck~~\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",  # a table
    "[ref]\n\n[ref]: /r\n",  # a reference definition
    "A note[^1].\n\n[^1]: note\n",  # a footnote
    "> quote\nlazy continuation\n",
    "- item\ncontinued\n",
    "- item\n  - nested\n",
    "    indented code\n",
    "Title\n=====\n",  # setext
    "para\n---\n",
    "a\ttab\n",
    "a\u00a0no-break space\n",
    "``double`` backticks\n",
    "an `odd backtick\n",
    "***bold italic***\n",
    "**€**\n",  # a symbol flanking emphasis
    "```\nunclosed fence\n",
    "# closed heading #\n",
    "\\` escaped backtick `x`\n",
])
def test_texts_the_two_parsers_may_read_differently_are_not_simple(text: str) -> None:
    assert not mdfast.simple(text)


def test_without_the_compiled_parser_every_post_is_read_by_markdown_it_py(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mdfast, "markdown_it_pyrs", None)
    assert mdfast.render(POST) is None
    article = read_markdown(("---\ntitle: T\n---\n" + POST).encode(), source="s",
                            key="p.md", base_url="https://blog.example/")
    assert "<strong>bold</strong>" in article.content_html


def test_a_host_outside_ascii_is_left_to_markdown_it_py() -> None:
    text = "A [link](https://bücher.example/x).\n"
    assert mdfast.simple(text)
    assert mdfast.render(text) is None  # (markdown-it-py writes the host in punycode)
