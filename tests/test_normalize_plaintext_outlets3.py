"""News pages from many outlets (issue 16), third round: forms found on a fresh set of
unseen pages.  Each example is short and invented, in the shape real pages have when saved
to text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from feeds.model import Article
from feeds.normalize.plaintext import read_plaintext

BODY = (
    "The port authority said on Monday that the new ferry terminal would open in March, "
    "two years later than planned, after a review of the building contracts."
)


def read(text: str, **kwargs: Any) -> Article:
    return read_plaintext(text.encode(), source="test", key="page.txt", **kwargs)


# ---------------------------------------------------------------- the title


def test_a_section_label_above_the_title_gives_way_to_the_line_right_above_the_body() -> None:
    # The header follows both lines; it follows the headline directly.
    article = read("Harbour City News\n\nFerry terminal opens two years late\n\n"
                   f"PORTVILLE: {BODY}\n")
    assert article.title == "Ferry terminal opens two years late"
    assert article.dateline == "PORTVILLE"


def test_a_comment_counter_between_title_and_body_is_chrome() -> None:
    article = read("Saturday, September 20, 2025\nStart Blog Page 12\n\n"
                   f"Ferry terminal opens two years late\n\n0\n\n{BODY}\n")
    assert article.title == "Ferry terminal opens two years late"
    assert article.body.startswith("The port authority")


def test_a_clock_cut_over_lines_does_not_hide_the_headline() -> None:
    article = read("Ferry terminal opens two years late\n٢٣:\n١٠\nم\n"
                   "Wednesday 26 July 2017\nHarbour Desk - City News\n" + BODY + "\n")
    assert article.title == "Ferry terminal opens two years late"
    assert article.published is not None and article.published.date().isoformat() == "2017-07-26"


# ---------------------------------------------------------------- captions


def test_a_caption_credited_by_names_after_its_sentence_is_no_title() -> None:
    caption = "The new terminal seen from the sea on Monday. Jane Roe / The Harbour Times"
    article = read(f"{caption}\n{caption}\n\nFerry terminal opens two years late\n\n"
                   f"May 20, 2022\n\n{BODY}\n")
    assert article.title == "Ferry terminal opens two years late"
    assert article.caption == caption
    assert article.body.startswith("The port authority")


def test_agency_names_joined_by_and_are_a_credit() -> None:
    caption = "Ferries wait at the old quay (L) and the new one (R). WAM and Getty"
    article = read(f"{caption}\n{caption}\n\nFerry terminal opens two years late\n\n{BODY}\n")
    assert article.caption == caption


def test_a_sentence_ending_a_paragraph_is_no_credit() -> None:
    # lower-case words after the last full stop: prose cut short, not names
    article = read(f"Ferry terminal opens two years late\n\n{BODY} It was Monday\n")
    assert article.caption is None
    assert article.body.startswith("The port authority")


def test_a_credit_in_brackets_marks_a_caption() -> None:
    caption = "The harbour master speaks to reporters on 28 December 2016 [Jane Roe/Sea Agency]"
    article = read(f"Ferry terminal opens two years late\n\n{caption}\n"
                   f"The harbour master speaks [Jane Roe/Sea Agency]\n\n{BODY}\n")
    assert article.caption == caption
    assert article.body.startswith("The port authority")


def test_a_caption_glued_to_its_repeat_is_given_once() -> None:
    caption = "The new terminal seen from the sea. Picture: Getty"
    article = read(f"Ferry terminal opens two years late\n\n{caption}{caption}\n{caption}\n"
                   f"{BODY}\n")
    assert article.caption == caption


def test_a_language_switch_on_one_line_is_chrome() -> None:
    article = read("Portuguese / Spanish / English\n\nFerry terminal opens two years late\n\n"
                   f"{BODY}\n")
    assert article.title == "Ferry terminal opens two years late"


def test_a_browser_title_with_the_site_name_repeats_the_headline() -> None:
    article = read("Ferry terminal opens late | Latest News - Harbour Times\nclose_game\n\n"
                   "Ferry terminal opens late\n\nHarbour Wire | By, Portville\n"
                   f"May 29, 2009 05:09 PM IST\n\n{BODY}\n")
    assert article.title == "Ferry terminal opens late"
    assert article.published == datetime(2009, 5, 29, 11, 39, tzinfo=UTC)  # 17:09 IST


def test_a_stray_two_letter_line_is_no_caption() -> None:
    article = read("Ferry terminal opens late\n\nFerry terminal opens late\nTT\n\n"
                   "Ferry terminal opens late\n\n" + BODY + "\n")
    assert article.caption is None
    assert article.body.startswith("The port authority")


# ---------------------------------------------------------------- bullets, datelines


def test_em_dash_highlights_in_the_header_are_bullets() -> None:
    article = read("Ferry terminal opens late\n\nBy - Jan 12,2025 - Last updated at Jan 12,2025\n\n"
                   "— Boats will call every hour\n— Tickets go on sale in February\n\n"
                   f"PORTVILLE — {BODY}\n")
    assert article.summary_bullets == (
        "Boats will call every hour",
        "Tickets go on sale in February",
    )
    assert article.dateline == "PORTVILLE"
    assert article.published is not None and article.published.date().isoformat() == "2025-01-12"


def test_an_em_dash_line_in_the_body_stays_text() -> None:
    article = read(f"Ferry terminal opens late\n\n{BODY}\n\n— We waited two years, he said.\n")
    assert "— We waited two years" in article.body
    assert article.summary_bullets == ()


def test_the_spanish_agency_dateline_form() -> None:
    article = read("Terminal de ferris abre tarde\n\nPORTVILLE.- La autoridad portuaria dijo "
                   "el lunes que la nueva terminal abrirá en marzo, dos años más tarde de lo "
                   "previsto.\n")
    assert article.dateline == "PORTVILLE"
    article = read("Terminal de ferris abre tarde\n\nCDMX.- La autoridad portuaria dijo el lunes "
                   "que la nueva terminal abrirá en marzo, dos años más tarde de lo previsto.\n")
    assert article.dateline == "CDMX"


# ---------------------------------------------------------------- bylines and dates


def test_a_byline_after_the_date_on_one_line() -> None:
    article = read("افتتاح محطة العبارات الجديدة\n\n"
                   "كتب في : الثلاثاء 21 نوفمبر 2023 - 4:55 مساءً بقلم : سالم حداد\n\n"
                   "قالت هيئة الميناء يوم الاثنين إن محطة العبارات الجديدة ستفتح في مارس، "
                   "بعد عامين من الموعد المقرر.\n")
    assert [a.name for a in article.authors] == ["سالم حداد"]
    assert article.published_text == "2023-11-21T16:55:00"
    article = read(f"Ferry terminal opens late\n\nPublished 12 May 2021 by Jane Roe\n\n{BODY}\n")
    assert [a.name for a in article.authors] == ["Jane Roe"]
    assert article.published_text == "2021-05-12"


def test_an_agency_byline_without_a_person() -> None:
    article = read(f"Ferry terminal opens late\n\nHarbour Wire | By, Portville\n\n{BODY}\n")
    assert [a.name for a in article.authors] == ["Harbour Wire"]


def test_a_source_brand_then_its_date_is_a_byline() -> None:
    for line, source in (("HarbourPress - 25/10/2020 15:51", "HarbourPress"),
                         ("Harbour 360 - mer, 25/01/2020 - 15:51", "Harbour 360"),
                         ("HarbourNews.com |  Published: 25 October 2020 15:51",
                          "HarbourNews.com")):
        article = read(f"Ferry terminal opens late\n\n{line}\n\n{BODY}\n")
        assert [a.name for a in article.authors] == [source], line
        assert article.published_text is not None and article.published_text.startswith("2020-")


def test_a_section_word_before_a_date_is_no_source() -> None:
    article = read(f"Ferry terminal opens late\n\nvendredi 23 octobre 2020 - 09:24\n\n{BODY}\n")
    assert article.authors == ()
    assert article.published_text == "2020-10-23T09:24:00"


def test_a_listed_source_and_date_is_no_highlight() -> None:
    article = read(f"Ferry terminal opens late\n\n  • HarbourPress - 25/10/2020 15:51\n{BODY}\n")
    assert article.summary_bullets == ()
    assert article.published_text == "2020-10-25T15:51:00"


def test_a_view_counter_after_the_time_keeps_the_date() -> None:
    article = read(f"Ferry terminal opens late\n\nJun 02, 2022 at 17:08 876\n\n{BODY}\n")
    assert article.published_text == "2022-06-02T17:08:00"


def test_this_content_was_published_on() -> None:
    article = read("Ferry terminal opens late\n\nThis content was published on May 13, 2021 - 00:31"
                   f"\n\nBy Jane Roe\n\n{BODY}\n")
    assert article.published_text == "2021-05-13T00:31:00"
    assert article.body.startswith("The port authority")


# ---------------------------------------------------------------- furniture


def test_a_caption_with_its_credit_on_the_next_line_above_the_title() -> None:
    caption = "The harbour master (l.) opens the terminal on Tuesday with the crew."
    article = read(f"skip to main content\n{caption}\n\n© Jane Roe/Harbour Agency\n\nPlus\n\n"
                   f"Ferry terminal opens two years late after a long review\n\n{BODY}\n")
    assert article.title == "Ferry terminal opens two years late after a long review"
    assert article.caption == caption
    assert article.body.startswith("The port authority")


def test_names_under_masthead_labels_are_no_title() -> None:
    article = read("الإشراف العام\nسالم حداد\nرئيس التحرير\nليلى ناصر\n\n"
                   "افتتاح محطة العبارات الجديدة بعد عامين من التأخير في الميناء\n\n"
                   "قالت هيئة الميناء يوم الاثنين إن محطة العبارات الجديدة ستفتح في مارس، "
                   "بعد عامين من الموعد المقرر، عقب مراجعة عقود البناء كلها.\n")
    assert article.title == "افتتاح محطة العبارات الجديدة بعد عامين من التأخير في الميناء"


def test_a_newsroom_signing_as_itself_is_the_author() -> None:
    for line in ("Redacción El Puerto", "Harbour Times Staff"):
        article = read(f"Ferry terminal opens late\n\n{line}\n\n{BODY}\n")
        assert [a.name for a in article.authors] == [line]


def test_a_brand_name_run_into_the_date() -> None:
    article = read(f"Ferry terminal opens late\n\nBy  Harbour24Jun 11, 2024 3:56 PM\n\n{BODY}\n")
    assert [a.name for a in article.authors] == ["Harbour24"]
    assert article.published_text == "2024-06-11T15:56:00"


def test_the_agency_dash_run_into_the_first_word() -> None:
    article = read(f"Ferry terminal opens late\n\nPORTVILLE/DOCKTON (Reuters) -The {BODY[4:]}\n")
    assert article.dateline == "PORTVILLE/DOCKTON"
    article = read(f"Ferry terminal opens late\n\nPORTVILLE-based {BODY[4:]}\n")
    assert article.dateline is None


# ---------------------------------------------------------------- decks


def test_a_standfirst_before_the_dateline_paragraph_is_header() -> None:
    article = read("Ferry terminal opens late\n\nJoin our WhatsApp channel\n\n"
                   "Ferry terminal opens late\nThe harbour waited two years for its new quay.\n\n"
                   f"PORTVILLE — {BODY}\n")
    assert article.caption is None
    assert article.dateline == "PORTVILLE"
    assert article.body.startswith("PORTVILLE — The port")


def test_a_standfirst_before_an_empty_date_label_is_header() -> None:
    article = read("Ferry terminal opens late\n\nThe harbour waited two years for its quay.\n\n"
                   f"Stand:\n\n{BODY}\n")
    assert article.body.startswith("The port authority")


def test_a_line_printed_twice_in_a_row_is_a_caption_not_the_title() -> None:
    caption = "“We waited two years for this quay, and it was worth it”"
    article = read("Ferry terminal opens two years late\n\n"
                   "The harbour master spoke to the city paper about the delays and the costs "
                   "of the new quay and what comes next for the ferry lines\n\n"
                   f"Share\n{caption}\n{caption}\n\n{BODY}\n")
    assert article.title == "Ferry terminal opens two years late"
    assert article.caption == caption
    assert article.body.startswith("The port authority")


def test_a_subtitle_under_the_repeated_title_past_an_avatar() -> None:
    article = read("Ferry terminal opens late\nNow Reading\nFerry terminal opens late\n\n"
                   "Ferry terminal opens late\n\nThe harbour also waited for its cranes\n\n"
                   f"Avatar\n\n{BODY}\n")
    assert article.body.startswith("The port authority")


def test_the_title_with_its_deck_glued_to_it_is_a_repeat() -> None:
    title = "Ferry terminal opens two years late at Portville"
    article = read(f"{title}\n\n{title}The harbour waited for its cranes.\nHarbour Times Staff\n\n"
                   f"{BODY}\n")
    assert [a.name for a in article.authors] == ["Harbour Times Staff"]
    assert article.body.startswith("The port authority")


def test_a_caption_followed_by_the_name_it_ends_with() -> None:
    caption = "The deputy harbour master Jane Roe"
    article = read(f"Ferry terminal opens two years late\n\n{caption}\nJane Roe\n \n"
                   f"Saturday, 13-09-2025 08:24 PM\n\n{BODY}\n")
    assert article.caption == caption
    assert article.published_text == "2025-09-13T20:24:00"
    assert article.body.startswith("The port authority")


def test_explain_says_why_a_line_above_the_title_was_none() -> None:
    caption = "The new terminal seen from the sea. Jane Roe / The Harbour Times"
    explain: list[tuple[int, str, str]] = []
    read_plaintext(
        f"{caption}\n{caption}\n\nFerry terminal opens two years late\n\nMay 20, 2022\n\n{BODY}\n"
        .encode(), source="test", key="page.txt", explain=explain,
    )
    rows = {index: (role, why) for index, role, why in explain}
    assert rows[0] == ("before the title", "printed twice in a row: a photo caption")
    assert rows[3][0] == "title"


def test_a_labelled_iso_date_run_into_the_page_above_the_title() -> None:
    article = read(" date 2020-03-13 You are reading: Ferry terminal opens late\n\n"
                   f"Ferry terminal opens late\n\n{BODY}\n")
    assert article.title == "Ferry terminal opens late"
    assert article.published_text == "2020-03-13"
    article = read(f"Ferry terminal opens late\n\nThe date 2020-03-13 was set.\n\n{BODY}\n")
    assert article.published is None


# ---------------------------------------------------------------- a standfirst over a dated byline


STANDFIRST = ("In the last council he ran the harbour office. In his new post he takes over "
              "the ferries.")


def test_a_standfirst_parted_from_a_dated_byline_is_header() -> None:
    article = read(f"Harbour master takes charge of the ferries\n\n{STANDFIRST}\n\n"
                   f"By  Harbour TimesJun 11, 2024 3:56 PM\n\n{BODY}\n")
    assert [a.name for a in article.authors] == ["Harbour Times"]
    assert article.published == datetime(2024, 6, 11, 15, 56, tzinfo=UTC)
    assert article.body.startswith("The port authority")


def test_a_paragraph_signed_right_under_it_stays_body_even_with_a_date() -> None:
    article = read(f"Harbour master takes charge of the ferries\n\n{STANDFIRST}\n"
                   f"By Jane Doe, June 11, 2024\n\n{BODY}\n")
    assert article.authors == ()
    assert article.body.startswith(STANDFIRST)


def test_a_standfirst_over_a_byline_without_a_date_stays_body() -> None:
    article = read(f"Harbour master takes charge of the ferries\n\n{STANDFIRST}\n\n"
                   f"By Jane Doe\n\n{BODY}\n")
    assert article.body.startswith(STANDFIRST)


# ---------------------------------------------------------------- a caption restated by the body


def test_a_line_under_the_byline_restated_by_the_next_paragraph_is_a_caption() -> None:
    caption = "Jane Roe has also been named to the board of the Harbour Trust of Portville."
    first = ("Under the new council, Jane Roe took charge of the ferries. She has also been "
             "named to the board of the Harbour Trust of Portville.")
    article = read(f"Harbour master takes charge of the ferries\n\n"
                   f"By Jane Doe | Jun 11, 2024 3:56 PM\n{caption}\n\n{first}\n\n{BODY}\n\n"
                   "Tags\nFirst Published on Jun 11, 2024 3:56 PM\n")
    assert article.caption == caption
    assert article.body.startswith("Under the new council")


def test_a_first_paragraph_whose_next_one_ends_otherwise_stays_body() -> None:
    first = "Jane Roe has also been named to the board of the Harbour Trust of Portville."
    article = read(f"Harbour master takes charge of the ferries\n\n"
                   f"By Jane Doe | Jun 11, 2024 3:56 PM\n{first}\n\n{BODY}\n")
    assert article.caption is None
    assert article.body.startswith(first)


# ---------------------------------------------------------------- a clock cut over lines


AR_BODY = ("قالت سلطة الميناء يوم الاثنين إن محطة العبارات الجديدة ستفتح في مارس، بعد عامين من "
           "الموعد المقرر، إثر مراجعة عقود البناء.")


def test_a_clock_cut_over_the_lines_above_the_date_gives_the_time() -> None:
    article = read(f"عنوان الخبر عن الميناء\n٢٣:\n١٠\nم +02:00 EET\nالاربعاء ٢٦ يوليو ٢٠١٧\n\n"
                   f"{AR_BODY}\n")
    assert article.published == datetime(2017, 7, 26, 21, 10, tzinfo=UTC)
    assert article.body.startswith("قالت سلطة الميناء")


def test_lines_without_a_clock_above_the_date_add_no_time() -> None:
    article = read(f"Ferry terminal opens two years late\n132\n26 July 2017\n\n{BODY}\n")
    assert article.published == datetime(2017, 7, 26, tzinfo=UTC)


def test_a_zone_name_after_a_numeric_offset_keeps_the_time() -> None:
    article = read("Ferry terminal opens two years late\n26 July 2017 23:10 +02:00 EET\n\n"
                   f"{BODY}\n")
    assert article.published == datetime(2017, 7, 26, 21, 10, tzinfo=UTC)


def test_a_24_hour_clock_with_a_pm_mark_keeps_its_hour() -> None:
    article = read(f"عنوان الخبر عن الميناء\nالاربعاء ٢٦ يوليو ٢٠١٧ ٢٣:١٠ م\n\n{AR_BODY}\n")
    assert article.published == datetime(2017, 7, 26, 23, 10, tzinfo=UTC)


def test_a_morning_mark_on_an_afternoon_hour_is_no_time() -> None:
    article = read(f"Ferry terminal opens two years late\n26 July 2017 23:10 am\n\n{BODY}\n")
    assert article.published is None


def test_a_clock_cut_over_two_lines_under_a_counter_gives_the_time() -> None:
    article = read(f"Ferry terminal opens two years late\n0\n14:\n05\n5 May 2021\n\n{BODY}\n")
    assert article.published == datetime(2021, 5, 5, 14, 5, tzinfo=UTC)
    assert article.body.startswith("The port authority")


# ---------------------------------------------------------------- a byline run into its date


def test_the_month_that_opens_the_date_is_no_part_of_the_name() -> None:
    article = read("Ferry terminal opens two years late\nBy Jane Doe Jun 11, 2024 3:56 PM\n\n"
                   f"{BODY}\n")
    assert [a.name for a in article.authors] == ["Jane Doe"]
    assert article.published == datetime(2024, 6, 11, 15, 56, tzinfo=UTC)


def test_two_names_run_into_an_abbreviated_month() -> None:
    article = read("Ferry terminal opens two years late\nBy Jane Doe and John Roe Sept. 3, 2024\n\n"
                   f"{BODY}\n")
    assert [a.name for a in article.authors] == ["Jane Doe", "John Roe"]
    assert article.published == datetime(2024, 9, 3, tzinfo=UTC)
