"""News pages from many outlets (issue 16), second round: more header-zone evidence and
date shapes.  Each example is short and invented, in the shape real pages have when saved
to text."""

from __future__ import annotations

from typing import Any

from feeds.model import Article
from feeds.normalize.plaintext import read_plaintext

BODY = (
    "The port authority said on Monday that the new ferry terminal would open in March, "
    "two years later than planned, after a review of the building contracts."
)


def read(text: str, **kwargs: Any) -> Article:
    return read_plaintext(text.encode(), source="test", key="page.txt", **kwargs)


def test_a_deck_under_the_title_after_a_blank_line_is_header() -> None:
    article = read(
        "Ferry terminal opens late\n\nWhy did the harbour wait two years?\n\n"
        "Published March 3, 2021\n\n" + BODY + "\n"
    )
    assert article.body.startswith("The port authority")
    assert article.published is not None and article.published.date().isoformat() == "2021-03-03"


def test_a_short_unpunctuated_line_before_a_sentence_paragraph_is_a_deck() -> None:
    article = read("Ferry terminal\n\nThe harbour waits for its boats\n\n" + BODY + "\n")
    assert article.body.startswith("The port authority")


def test_a_first_paragraph_that_is_a_sentence_stays_body() -> None:
    article = read("Ferry terminal\n\nThe harbour waits.\n\n" + BODY + "\n")
    assert article.body.startswith("The harbour waits.")


def test_a_line_printed_twice_is_a_caption_not_the_body() -> None:
    article = read(
        "Ferry terminal opens late\n\nThe new terminal seen from the sea.\n\n"
        "The new terminal seen from the sea.\n\n" + BODY + "\n"
    )
    assert article.caption == "The new terminal seen from the sea."
    assert article.body.startswith("The port authority")


def test_a_caption_glued_to_its_own_repeat_is_one_caption() -> None:
    caption = "The new terminal seen from the sea. PORT"
    article = read(f"Ferry terminal opens late\n\n{caption} {caption}\n\n{BODY}\n")
    assert article.caption is not None and article.caption.startswith(caption)
    assert article.body.startswith("The port authority")
