"""``decode_text``: which bytes are text, how they are decoded, how the text is normalized."""

from __future__ import annotations

import codecs
import random

import pytest

from feeds.errors import ArticleError
from feeds.normalize.decode import decode_text


def _reason(data: bytes) -> str:
    with pytest.raises(ArticleError) as caught:
        decode_text(data)
    return caught.value.reason


# ---------------------------------------------------------------- encodings


def test_utf8_is_decoded_as_utf8() -> None:
    assert decode_text("Zoë’s café – 5 €".encode()) == "Zoë’s café – 5 €"


def test_utf8_byte_order_mark_is_dropped() -> None:
    assert decode_text(codecs.BOM_UTF8 + b"Title\nBody") == "Title\nBody"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_byte_order_mark_is_text_despite_its_nul_bytes(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    data = bom + "Titre élevé\r\nCorps".encode(codec)
    assert b"\x00" in data
    assert decode_text(data) == "Titre élevé\nCorps"


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_with_byte_order_mark_is_decoded_as_utf32(codec: str) -> None:
    bom = codecs.BOM_UTF32_LE if codec.endswith("le") else codecs.BOM_UTF32_BE
    assert decode_text(bom + "Title\nBody".encode(codec)) == "Title\nBody"


def test_utf16_of_odd_length_is_not_text() -> None:
    data = codecs.BOM_UTF16_LE + "Title".encode("utf-16-le") + b"x"
    assert _reason(data) == "not text: invalid UTF-16 after its byte-order mark"


def test_utf16_with_a_lone_surrogate_is_not_text() -> None:
    data = codecs.BOM_UTF16_LE + "Ti".encode("utf-16-le") + b"\x00\xd8" + "tle".encode("utf-16-le")
    assert _reason(data).startswith("not text: invalid UTF-16")


def test_invalid_utf8_after_a_utf8_byte_order_mark_is_not_text() -> None:
    assert _reason(codecs.BOM_UTF8 + b"Title \x81\x8d\x9d") == (
        "not text: invalid UTF-8 after its byte-order mark"
    )


def test_windows_1252_is_the_fallback_for_invalid_utf8() -> None:
    data = b"Growers\x92 \x93flower\x94 \x96 \x802.4 million, Zo\xeb"
    assert decode_text(data) == "Growers’ “flower” – €2.4 million, Zoë"


def test_windows_1252_byte_0x85_is_an_ellipsis_not_a_line_break() -> None:
    text = decode_text(b"auction\x85 now it\x92s ten minutes")
    assert text == "auction… now it’s ten minutes"
    assert "\x85" not in text
    assert len(text.split("\n")) == 1


def test_bytes_undefined_in_windows_1252_make_undecodable_text() -> None:
    assert _reason(b"caf\xe9 \x81") == "not text: undecodable as UTF-8 or windows-1252"


def test_mixed_utf8_and_windows_1252_keeps_the_utf8_characters() -> None:
    data = "Zoë’s café".encode() + b" \x93quoted\x94"
    assert decode_text(data) == "Zoë’s café “quoted”"


# ---------------------------------------------------------------- not text


def test_empty_bytes_are_an_empty_file() -> None:
    assert _reason(b"") == "empty file"


def test_nul_bytes_without_utf16_byte_order_mark_are_binary() -> None:
    assert _reason(b"Title\nBody\x00with a NUL") == "binary data (NUL bytes)"


def test_random_noise_without_nul_bytes_is_not_text() -> None:
    rng = random.Random(7)
    noise = bytes(rng.randrange(1, 256) for _ in range(4096))
    assert b"\x00" not in noise
    with pytest.raises(ArticleError):
        decode_text(b"\x1f\x8b\x08\x08" + noise)


def test_noise_that_windows_1252_can_decode_is_still_binary() -> None:
    rng = random.Random(11)
    allowed = [b for b in range(1, 256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)]
    noise = bytes(rng.choice(allowed) for _ in range(4096))
    assert _reason(noise) == "binary data (control characters)"


def test_more_than_one_percent_control_characters_is_binary() -> None:
    data = b"plain words " * 10 + b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13"
    assert _reason(data) == "binary data (control characters)"


@pytest.mark.parametrize(
    ("controls", "binary"),
    [
        ("\x85" * 10, False),  # C1 controls (two bytes each in UTF-8), 1 % exactly
        ("\x85" * 11, True),
        ("\x01\x9f" * 5, False),  # C0 and C1 together
        ("\x01\x9f" * 5 + "\x7f", True),
        ("\x0b\x0c\t" * 50, False),  # VT and FF are not counted (they are dropped)
    ],
)
def test_c1_controls_count_as_control_characters(controls: str, binary: bool) -> None:
    text = "é" * 10 + "a" * (990 - len(controls)) + controls  # 1000 characters or more
    if binary:
        assert _reason(text.encode()) == "binary data (control characters)"
    else:
        assert decode_text(text.encode()).startswith("é" * 10 + "a")


def test_a_few_control_characters_are_dropped_from_text() -> None:
    data = b"Title\x07\n" + b"A long enough body line. " * 20
    text = decode_text(data)
    assert text.startswith("Title\nA long")
    assert "\x07" not in text


def test_whitespace_is_returned_for_the_reader_to_judge() -> None:
    assert decode_text(b" \n\t\r\n") == " \n\t\n"


# ---------------------------------------------------------------- normalization


def test_crlf_and_lone_cr_become_lf() -> None:
    assert decode_text(b"one\r\ntwo\rthree\n\rfour") == "one\ntwo\nthree\n\nfour"


def test_text_is_nfc_normalized() -> None:
    assert decode_text("Cafe\u0301 N\u0049\u0302MES".encode()) == "Caf\u00e9 N\u00ceMES"


def test_xml_illegal_characters_are_dropped() -> None:
    assert decode_text("a\ufffeb\uffffc\x0bd".encode()) == "abcd"


def test_unicode_line_separators_are_kept_as_characters() -> None:
    line = "one\u2028two\u0085three " + "words " * 30
    assert decode_text(line.encode()).split("\n") == [line]
