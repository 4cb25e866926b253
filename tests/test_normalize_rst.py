"""reStructuredText files, read as Pelican reads them (issue 12): the document title, the
docinfo fields as metadata, the body through docutils' HTML writer and the sanitizer, and
docutils kept safe (no file insertion, no raw HTML, no network, one file's error is that
file's rejection)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.errors import ArticleError
from feeds.model import Article, RawInput
from feeds.normalize import READERS, ReadContext, suffixes
from feeds.normalize.rst import read_rst

SITE = "https://blog.example/"

PELICAN_SAMPLE = """\
My super title
##############

:date: 2010-10-03 10:20
:modified: 2010-10-04 18:40
:tags: thats, awesome
:category: yeah
:slug: my-super-post
:authors: Alexis Metaireau, Conan Doyle
:summary: Short version for *index* and feeds
:lang: en

This is the content of my super blog post. See `the docs <docs/index.html>`_.

.. image:: pictures/Sushi.jpg
   :alt: Sushi

Last paragraph.
"""


def read(text: str, *, key: str = "yeah/super.rst", layout: str = "pelican",
         pattern: str | None = "{slug}.html") -> Article:
    ctx = ReadContext(base_url=SITE, link_pattern=pattern, layout=layout)
    return read_rst(text.encode(), source="blog", key=key, ctx=ctx)


def test_rst_files_are_claimed_by_the_rst_reader() -> None:
    assert suffixes()[".rst"] == "rst"
    article = READERS["rst"].implementation().read(
        RawInput(PELICAN_SAMPLE.encode(), "super.rst", "rst", "blog"), ReadContext())
    assert article.title == "My super title"


def test_the_document_title_and_docinfo_fields_are_the_metadata() -> None:
    article = read(PELICAN_SAMPLE)
    assert article.title == "My super title"
    assert article.published == datetime(2010, 10, 3, 10, 20, tzinfo=UTC)
    assert article.updated == datetime(2010, 10, 4, 18, 40, tzinfo=UTC)
    assert article.categories == ("yeah",)
    assert article.tags == ("yeah", "thats", "awesome")
    assert article.slug == "my-super-post"
    assert [a.name for a in article.authors] == ["Alexis Metaireau", "Conan Doyle"]
    assert article.summary == "Short version for index and feeds"
    assert article.language == "en"


def test_the_docinfo_is_not_in_the_body() -> None:
    article = read(PELICAN_SAMPLE)
    assert article.body.startswith("This is the content of my super blog post.")
    assert "2010-10-03" not in article.body


def test_the_link_uses_the_slug_and_relative_urls_resolve_against_it() -> None:
    article = read(PELICAN_SAMPLE, pattern="posts/{slug}/")
    assert article.link == "https://blog.example/posts/my-super-post/"
    assert 'href="https://blog.example/posts/my-super-post/docs/index.html"' in (
        article.content_html)
    assert 'src="https://blog.example/posts/my-super-post/pictures/Sushi.jpg"' in (
        article.content_html)


def test_without_a_summary_the_first_paragraph_is_the_summary() -> None:
    article = read("Title\n=====\n\n:date: 2024-01-02\n\nFirst words here.\n\nMore.\n")
    assert article.summary == "First words here."


@pytest.mark.parametrize(("status", "draft"), [("draft", True), ("hidden", False)])
def test_status_draft_or_hidden_is_unpublished(status: str, draft: bool) -> None:
    article = read(f"Title\n=====\n\n:status: {status}\n\nBody.\n")
    assert (article.unpublished, article.draft) == (f"Status: {status}", draft)


def test_raw_html_is_not_passed_through() -> None:
    article = read("Title\n=====\n\n.. raw:: html\n\n   <p id='x'>RAWMARK</p>\n\nBody.\n")
    assert "RAWMARK" not in article.content_html


def test_files_are_never_included(tmp_path: object) -> None:
    article = read("Title\n=====\n\n.. include:: /etc/hostname\n\n"
                   ".. csv-table:: t\n   :file: /etc/passwd\n\nBody.\n")
    assert "root:" not in article.body
    assert article.body.endswith("Body.")


def test_unknown_roles_and_directives_do_not_reject_the_file() -> None:
    article = read("Title\n=====\n\nA :unknown:`x` role.\n\n.. nosuch::\n\nBody.\n")
    assert "Body." in article.body


def test_a_document_without_a_title_is_rejected_with_a_reason() -> None:
    with pytest.raises(ArticleError, match="no title"):
        read("Just a paragraph.\n")


def test_deeply_nested_input_is_one_files_rejection_not_a_crash() -> None:
    nested = "\n".join(" " * (2 * depth) + "* x" for depth in range(1500))
    with pytest.raises(ArticleError, match="reStructuredText"):
        read(f"Title\n=====\n\n{nested}\n")


def _substitution_bomb(levels: int) -> str:
    """Each substitution twice the one below: 2**levels copies of "boom" once expanded."""
    lines = [f".. |s{i}| replace:: |s{i + 1}| |s{i + 1}|" for i in range(levels)]
    lines.append(f".. |s{levels}| replace:: boom")
    return "Title\n=====\n\n|s0| text.\n\n" + "\n".join(lines) + "\n"


def test_a_substitution_bomb_is_one_files_rejection_not_a_hang() -> None:
    # docutils expands nested substitutions without a bound: 2**22 nodes took minutes and
    # 2**30 never finished, stalling the whole build on one file
    with pytest.raises(ArticleError, match="substitutions expand"):
        read(_substitution_bomb(22))


def test_nested_substitutions_of_a_normal_size_still_expand() -> None:
    article = read(_substitution_bomb(6) + "\n.. |Name| replace:: Ann\n\nBy |name|.\n")
    assert article.body.count("boom") == 64 and "By Ann." in article.body
