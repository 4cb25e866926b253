"""Our own HTML for plain Markdown (feeds.normalize.mdhtml) is the sanitizer's, byte for byte.

The reader skips the sanitizer for a post whose tokens :func:`own_html` can write; these
tests hold it to ``sanitize_html`` of markdown-it's HTML on the repository's Markdown files
and on generated posts full of what escaping, NFC and link rules make hard.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize.frontmatter import _split_front_matter
from feeds.normalize.markdown import _extensions, _markdown, read_markdown
from feeds.normalize.mdhtml import own_html, own_html_of
from feeds.normalize.sanitize import sanitize_html

BASES = ("https://blog.example/posts/a-post/", None)


def both(text: str, base: str | None) -> tuple[str | None, str]:
    md = _markdown(*_extensions(text))
    env: dict[str, object] = {}
    tokens = md.parse(text, env)
    return own_html(tokens, md.options, base), sanitize_html(
        md.renderer.render(tokens, md.options, env), base_url=base)


PIECES = [
    "word", " ", " ", "\n", "\n\n", '"', "'", "&", "<", ">", "&amp;", "&quot;", "&#34;",
    "&nbsp;", "\u00a0", "&lt;", "&#0;", "\x00", "\x01", "\r\n", "\u0301", "e\u0301", "\u0338",
    "=\u0338", "\u200f", "\ufffe", "\u212b", "東京", "*em*", "**strong**", "_u_", "~~s~~",
    "`co\"de`", "``a`b``", "\\*", "\\\"", "[a](https://x.example/a?b=1&c=2)",
    "[rel](../up/x.html)", "[q](/root \"ti\\\"t<l>e\")", "[m](mailto:a@b.example)",
    "[j](javascript:alert(1))", "[s](//cdn.example/x)", "[e]( )", "<https://auto.example/x>",
    "<a@b.example>", "https://bare.example/x", "www.bare.example", "[ref]", "\n[ref]: /r\n",
    "\n# H\n", "\n## H *e*\n", "\nH\n===\n", "\n> quote\n", "\n- item\n- item\n",
    "\n1. one\n2. two\n", "\n123456. big\n", "\n7. seven\n", "\n---\n", "\n***\n", "  \n",
    "\\\n", "\n```\ncode \" < &\n```\n", "\n```py\nx = \"1\"\n```\n", "\n```py extra\nx\n```\n",
    "\n~~~ c++ \nx\n~~~\n", "\n```a\"b\ny\n```\n", "\n    indented \"code\"\n",
    "![img](/i.png)", "<b>raw</b>", "<!-- c -->", "[^1]\n\n[^1]: note\n",
    "\n| a | b |\n|---|---|\n| 1 | 2 |\n", "\t", "&copy;", "&#x1F600;", "😀",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25).map("".join),
       st.sampled_from(BASES))
def test_own_html_is_the_sanitizers(text: str, base: str | None) -> None:
    mine, sanitized = both(text, base)
    if mine is not None:
        assert mine == sanitized


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([p for p in PIECES if "<" not in p and "\u0338" not in p]),
                max_size=25).map("".join),
       st.sampled_from(BASES))
def test_own_html_from_markdown_its_html_is_own_html_from_its_tokens(
        text: str, base: str | None) -> None:
    """What the compiled parser's path writes from markdown-it's HTML (a text without
    ``<``) is what :func:`own_html` writes from the tokens, and None exactly when that is."""
    md = _markdown(*_extensions(text))
    env: dict[str, object] = {}
    tokens = md.parse(text, env)
    assert own_html_of(md.renderer.render(tokens, md.options, env), base) == \
        own_html(tokens, md.options, base)


def _markdown_files() -> list[Path]:
    root = Path(__file__).parent
    return sorted(p for p in root.rglob("*") if p.suffix in (".md", ".markdown"))


@pytest.mark.parametrize("base", BASES)
def test_own_html_is_the_sanitizers_on_the_repositorys_markdown(base: str | None) -> None:
    written = 0
    for path in _markdown_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        with contextlib.suppress(Exception):  # bad front matter: the whole text
            text = _split_front_matter(text)[1]
        mine, sanitized = both(text, base)
        if mine is not None:
            written += 1
            assert mine == sanitized, path
    assert written > 20  # most of them take the short way


def test_plain_markdown_skips_the_sanitizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.normalize.markdown as markdown
    import feeds.normalize.siteread as siteread

    calls: list[str] = []
    real = sanitize_html

    def counting(html: str, **kwargs: object) -> str:
        calls.append(html)
        return real(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(siteread, "sanitize_html", counting)
    monkeypatch.setattr(markdown, "sanitize_html", counting)
    plain = read_markdown(b"---\ntitle: T\nsummary: S\n---\n"
                          b"A *post* with [a link](../b/) & \"quotes\".\n",
                          source="s", key="post.md", base_url="https://blog.example/")
    assert calls == []
    assert 'rel="noopener noreferrer"' in plain.content_html
    raw = read_markdown(b"---\ntitle: T\nsummary: S\n---\nA <span onclick=x>post</span>.\n",
                        source="s", key="post.md", base_url="https://blog.example/")
    assert len(calls) == 1 and "onclick" not in raw.content_html
