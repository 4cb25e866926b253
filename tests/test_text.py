"""``feeds.text``: NFC, XML-legal characters, one-line strings."""

from __future__ import annotations

import re

import pytest

from feeds.text import clean_text, one_line, xml_legal

ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii\ttab\nline\r",
        "a\x00b\x08c\x0bd\x0ce\x0ef\x1fg",
        "café\x01 “quoted”",
        "東京\ufffe\uffff\ufffd",
        "lone \ud800 and \udfff surrogates",
        "astral 😀 \U0010ffff",
        "\x7f\x85\x9f\u2028 are legal",
    ],
)
def test_xml_legal_drops_exactly_the_characters_xml_forbids(text: str) -> None:
    assert xml_legal(text) == ILLEGAL.sub("", text)


def test_every_code_point_is_kept_or_dropped_as_xml_says() -> None:
    text = "".join(map(chr, range(0x110000)))
    assert xml_legal(text) == ILLEGAL.sub("", text)


def test_clean_text_is_nfc_and_legal() -> None:
    assert clean_text("Cafe\u0301\x0b") == "Café"


def test_one_line_collapses_every_kind_of_white_space() -> None:
    assert one_line(" a \t b\n\u00a0c\u2003d\u2028e\x1c ") == "a b c d e"
