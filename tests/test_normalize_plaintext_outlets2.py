"""News pages from many outlets (issue 16), second round: more header-zone evidence and
date shapes.  Each example is short and invented, in the shape real pages have when saved
to text."""

from __future__ import annotations

from typing import Any

import pytest

from feeds.model import Article
from feeds.normalize.dates import parse_date_segments
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


# ---------------------------------------------------------------- date lines


@pytest.mark.parametrize(
    ("line", "want"),
    [
        # Levantine and standard month names joined by " / ", vowel marks, "a.m." word
        (
            "تم نشره الأحد 3 تشرين الثّاني / نوفمبر 2019 08:15 صباحاً",
            [("published", "2019-11-03T08:15:00")],
        ),
        # an outlet name, a tatweel dash, then the label; yyyy/mm/dd; "الساعة" = at
        ("الموقع ـ نشر في 2020/05/17 الساعة 10:05", [("published", "2020-05-17T10:05:00")]),
        # Published and Updated labels on one line without a separator
        ("نشر: 2020-05-17 10:05 آخر تحديث: 2020-05-18 09:00",
         [("published", "2020-05-17T10:05:00"), ("updated", "2020-05-18T09:00:00")]),
        ("Published 4 May 2021 Updated 5 May 2021",
         [("published", "2021-05-04"), ("updated", "2021-05-05")]),
        # a weekday glued to the date by a hyphen
        ("الثلاثاء-2020-05-19 04:10 pm", [("plain", "2020-05-19T16:10:00")]),
        ("Time: June 02, 2020", [("published", "2020-06-02")]),
    ],
)
def test_more_date_line_shapes(line: str, want: list[tuple[str, str]]) -> None:
    assert [(d.kind, d.text) for d in parse_date_segments(line)] == want


@pytest.mark.parametrize(
    "line",
    ["نشر في المدينة", "Time: none", "Monday-Friday opening hours", "تشرين الأول / 2019 / مساء"],
)
def test_lines_that_only_look_like_the_new_shapes_give_no_date(line: str) -> None:
    assert parse_date_segments(line) == ()


def test_a_short_arabic_line_before_the_date_line_is_no_byline() -> None:
    article = read(
        "عنوان الخبر عن الميناء الجديد\n\nهنا وهناك\n\nنشر: 2020-05-17 10:05\n\n"
        "قالت سلطة الميناء يوم الاثنين إن محطة العبارات الجديدة ستفتح في مارس.\n"
    )
    assert article.authors == ()
    assert article.published is not None


def test_a_language_switch_or_share_button_as_a_list_is_no_summary_bullet() -> None:
    article = read(
        "Ferry terminal opens late\n  • English\n  • Français\n  • Share on Facebook\n"
        "  • Work starts in March\nBy Ana Ruiz\n\n" + BODY + "\n"
    )
    assert article.summary_bullets == ("Work starts in March",)


def test_a_headline_in_the_place_colon_form_is_no_dateline() -> None:
    article = read(
        "Scattered Clouds\n\nPM: We will not raise the ferry fares this year\n\n"
        "12-03-2021 09:00 AM\n\nHARBOURTOWN: " + BODY + "\n"
    )
    assert article.title == "PM: We will not raise the ferry fares this year"
    assert article.dateline == "HARBOURTOWN"
    assert article.body.startswith("HARBOURTOWN: The port")


def test_a_one_word_line_is_no_repeat_of_a_longer_line_ending_with_it() -> None:
    # a weather widget: "Light Rain" then "rain"; the headline has the header after it
    article = read(
        "Light Rain\nrain\n18 April 2021\nHarbour\n\n"
        "Ferry fares will stay the same, minister says\n\n12-03-2021 09:00 AM\n\n" + BODY + "\n"
    )
    assert article.title == "Ferry fares will stay the same, minister says"
    assert article.body.startswith("The port authority")


def test_a_caption_printed_again_after_the_repeated_headline_is_no_body() -> None:
    article = read(
        "Ferry terminal opens late\n\nThe terminal at dawn.\nThe terminal at dawn.\nTT\n\n"
        "Ferry terminal opens late\n\nThe terminal at dawn.\n\n" + BODY + "\n"
    )
    assert article.caption == "The terminal at dawn."
    assert article.body.startswith("The port authority")


def test_a_section_label_in_front_of_a_date_is_a_date_line_not_a_caption() -> None:
    article = read(
        "Ferry terminal opens late\n\nBusiness News 3 March 2021 10:15 (UTC +04:00)\n\n"
        + BODY + "\n"
    )
    assert article.caption is None
    assert article.published is not None
    assert article.published.isoformat() == "2021-03-03T06:15:00+00:00"


def test_a_signature_like_line_without_a_date_stays_text() -> None:
    article = read("Ferry terminal opens late\n\nBusiness News 3 boats left\n\n" + BODY + "\n")
    assert article.published is None


def test_a_title_with_a_site_suffix_gives_way_to_the_clean_headline() -> None:
    article = read(
        "Ferry terminal opens late | Harbour Times\n\nFerry terminal opens late\n\n"
        "By Ana Ruiz\n\n" + BODY + "\n"
    )
    assert article.title == "Ferry terminal opens late"
    assert [a.name for a in article.authors] == ["Ana Ruiz"]
    assert article.body.startswith("The port authority")


def test_a_menu_item_cut_from_its_row_is_chrome() -> None:
    notes: list[tuple[int, str, str]] = []
    article = read(
        "HarbourFM Logo\n| Listen Live\n\nMarch 10, 2010\n\nFerry terminal opens late\n\n"
        + BODY + "\n",
        explain=notes,
    )
    assert article.title == "Ferry terminal opens late"
    assert dict((i, role) for i, role, _ in notes)[1] == "chrome"


def test_a_short_subtitle_over_a_credited_caption_is_a_deck() -> None:
    captions = [
        "صورة للميناء الجديد من البحر (واس)",
        "الميناء في الليل (واس)",
        "رافعة على الرصيف (واس)",
    ]
    article = read(
        "عنوان الخبر عن الميناء\n\nالميناء ينتظر سفنه الجديدة\n\n"
        + "\n\n".join(captions)
        + "\n\n" + " ".join(captions) + "\n\nTT\n\nعنوان الخبر عن الميناء\n\n"
        "قالت سلطة الميناء يوم الاثنين إن محطة العبارات الجديدة ستفتح في مارس.\n"
    )
    assert article.caption == captions[0]
    assert article.body.startswith("قالت سلطة الميناء")
