"""News pages from many outlets (issue 16): the header zone found by evidence, and the
common forms of every field.  Each example is short and invented, in the shape real pages
have when saved to text; the README's "News pages from any outlet" lists the rules."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feeds.model import Article
from feeds.normalize.dates import parse_date_segments
from feeds.normalize.plaintext import read_plaintext
from feeds.normalize.zones import AMBIGUOUS, NAMED_ZONES

MTIME = datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC).timestamp()
BODY = (
    "The port authority said on Monday that the new ferry terminal would open in March, "
    "two years later than planned, after a review of the building contracts."
)


def read(text: str, **kwargs: Any) -> Article:
    return read_plaintext(text.encode(), source="test", key="page.txt", **kwargs)


# ---------------------------------------------------------------- header zone by evidence


FURNITURE = """\
You are here
  • Home
  • Business
Hajj 2022
Ferry terminal to open two years late, port says
Updated 2 min 58 sec ago
Nadia Karim
Follow

PORT SAID: {body}
More paragraphs follow.
"""


def test_site_furniture_before_the_headline_is_never_the_title() -> None:
    article = read(FURNITURE.format(body=BODY), mtime=MTIME)
    assert article.title == "Ferry terminal to open two years late, port says"
    assert article.summary_bullets == ()  # breadcrumbs are no highlights
    assert article.body.startswith("PORT SAID: The port authority")
    assert article.dateline == "PORT SAID"
    assert "Follow" not in article.body and "Nadia Karim" not in article.body


def test_a_relative_time_is_resolved_against_the_mtime_and_flagged() -> None:
    article = read(FURNITURE.format(body=BODY), mtime=MTIME)
    assert article.published == datetime(2024, 5, 1, 11, 57, tzinfo=UTC)
    assert article.date_source == "relative"
    assert article.published_text is None  # no date is written in the content


def test_without_an_mtime_a_relative_time_gives_no_date() -> None:
    article = read(FURNITURE.format(body=BODY))
    assert (article.published, article.date_source) == (None, None)


def test_a_repeated_line_is_the_headline_even_below_a_kicker() -> None:
    text = (
        "Since 1975\nClick on the number for more info\n"
        "MARKETS:Oil slides as stocks of crude build up\n31.05.2022\n"
        "Oil slides as stocks of crude build up\n\n" + BODY + "\n"
    )
    article = read(text)
    assert article.title == "Oil slides as stocks of crude build up"
    assert article.published_text == "2022-05-31"
    assert article.body.startswith("The port authority")


def test_a_date_bar_above_the_headline_counts_only_when_no_date_follows_it() -> None:
    above = read("Monday 2 Oct 2024 | 01:29\n\nFerries run late again\n\n" + BODY + "\n")
    assert above.title == "Ferries run late again"
    assert above.published_text == "2024-10-02T01:29:00"
    both = read(
        "Monday 2 Oct 2024 | 01:29\nLocal\nFerries run late again\nBy Ana Ruiz\n"
        "/ 27 June 2024 / 06:49\n\n" + BODY + "\n"
    )
    assert (both.title, both.published_text, both.author) == (
        "Ferries run late again", "2024-06-27T06:49:00", "Ana Ruiz")


def test_the_first_line_stays_the_title_without_evidence_for_another() -> None:
    article = read("Title\nFirst paragraph, café.\n\nSecond one.\n")
    assert article.title == "Title"


# ---------------------------------------------------------------- labels and lone marks


@pytest.mark.parametrize(
    ("line", "published"),
    [
        ("Publish date: Friday، 14 April 2023", "2023-04-14"),
        ("Last Update: Wednesday, 20 May 2020 KSA 09:53 - GMT 06:53", "2020-05-20T09:53:00+03:00"),
        ("August 31, 2015 20:05 IST", "2015-08-31T20:05:00+05:30"),
        ("28 Oct 2019 12:10:23 GMT9", "2019-10-28T12:10:23+09:00"),
        ("Updated: 22-06-2022 23:17 IST | Created: 21-06-2022 10:00 IST",
         "2022-06-21T10:00:00+05:30"),
        ("31 August 2015 20:05 XYZT", "2015-08-31"),  # unknown zone word: the date is kept
    ],
)
def test_header_date_lines_of_other_outlets(line: str, published: str) -> None:
    article = read(f"Ferries run late again\n{line}\n\n{BODY}\n")
    assert article.published_text == published
    assert article.body.startswith("The port authority")


def test_staff_writer_label_and_a_lone_bar_are_header() -> None:
    article = read(f"Ferries run late again\nStaff Writer: Omar Haddad\n|\n3 May 2021\n\n{BODY}\n")
    assert (article.author, article.published_text) == ("Omar Haddad", "2021-05-03")
    assert article.body.startswith("The port authority")


def test_zone_table_flags_the_ambiguous_abbreviations() -> None:
    assert {"ist", "cst", "ast", "bst"} <= set(AMBIGUOUS) <= set(NAMED_ZONES)
    (found,) = parse_date_segments("August 31, 2015 20:05 IST")
    assert found.note is not None and "India" in found.note
    (plain,) = parse_date_segments("August 31, 2015 20:05 GMT")
    assert plain.note is None


# ---------------------------------------------------------------- bylines


@pytest.mark.parametrize(
    ("header", "author", "published"),
    [
        ("By ProPK Staff | Published Dec 13, 2022 | 12:10 pm", "ProPK Staff",
         "2022-12-13T12:10:00"),
        ("Rana Aziz\nMarch 3, 2023", "Rana Aziz", "2023-03-03"),
        ("By THE MEDIA LINE STAFF NOVEMBER 29, 2024 04:05 Updated: NOVEMBER 29, 2024 05:00",
         "THE MEDIA LINE STAFF", "2024-11-29T04:05:00"),
    ],
)
def test_bylines_with_dates_roles_and_agencies(header: str, author: str, published: str) -> None:
    article = read(f"Ferries run late again\n{header}\n\n{BODY}\n")
    assert (article.author, article.published_text) == (author, published)
    assert article.body.startswith("The port authority")


def test_an_agency_byline_with_a_relative_time_and_section() -> None:
    byline = "By AFP     1 hour ago in World"
    article = read(f"Ferries run late again\n{byline}\n\n{BODY}\n", mtime=MTIME)
    assert article.author == "AFP"
    assert (article.published, article.date_source) == (
        datetime(2024, 5, 1, 11, 0, tzinfo=UTC), "relative")


def test_two_authors_are_both_kept_and_the_first_is_the_author() -> None:
    article = read(f"Ferries run late again\nBy Ana Ruiz and Tom Lee\n\n{BODY}\n")
    assert [a.name for a in article.authors] == ["Ana Ruiz", "Tom Lee"]
    assert article.author == "Ana Ruiz"


# ---------------------------------------------------------------- captions


@pytest.mark.parametrize(
    "caption",
    [
        "Passengers wait at the old terminal on Monday. — Reuters",
        "Passengers wait at the old terminal on Monday. Photo: Sam Reed for The Daily",
        "Passengers wait at the old terminal on Monday. REUTERS/Sam Reed",
    ],
)
def test_a_credited_caption_after_the_date_line_is_the_caption(caption: str) -> None:
    article = read(f"Ferries run late again\n3 May 2021\n{caption}\n\n{BODY}\n")
    assert article.caption == caption
    assert article.body.startswith("The port authority")


# ---------------------------------------------------------------- datelines


@pytest.mark.parametrize(
    ("paragraph", "dateline"),
    [
        ("PARIS — The port authority said.", "PARIS"),
        ("LONDON (Reuters) - The port authority said.", "LONDON"),
        ("ABU DHABI // The port authority said.", "ABU DHABI"),
        ("ISLAMABAD, SEPT 22: The port authority said.", "ISLAMABAD"),
        ("LONDON, Sept 28 (Reuters) – The port authority said.", "LONDON"),
        ("Riyadh, Ramadan 23, 1438 — The port authority said.", "Riyadh"),
        ("Islamabad [Pakistan]- The port authority said.", "Islamabad"),
        ("Biden — who spoke on Monday — said so.", None),  # mixed case needs a date or agency
        ("(JTA) — The port authority said.", None),  # an agency alone is no place
        ("Dubai: In 2005, the port authority said.", None),  # the PLACE: form stays upper case
    ],
)
def test_datelines_in_the_common_forms_stay_in_the_body(paragraph: str, dateline: str) -> None:
    article = read(f"Ferries run late again\n\n{paragraph}\n")
    assert article.dateline == dateline
    assert article.body == paragraph


# ---------------------------------------------------------------- --explain


def test_explain_says_what_each_header_line_was_taken_for() -> None:
    notes: list[tuple[int, str, str]] = []
    read(FURNITURE.format(body=BODY), mtime=MTIME, explain=notes)
    roles = {index: role for index, role, _ in notes}
    assert roles[0] == "template"  # You are here
    assert roles[1] == "bullet" and roles[3] == "before the title"
    assert roles[4] == "title"
    assert roles[5] == "date" and "relative time" in dict((i, w) for i, _, w in notes)[5]
    assert roles[7] == "template" and roles[9] == "body"


def test_inspect_explain_prints_the_roles(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(f"Ferries run late again\nAugust 31, 2015 20:05 IST\n\n{BODY}\n")
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "inspect", "--json", "--explain", str(page)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["explain"]
    assert [(r["line"], r["role"]) for r in rows] == [(1, "title"), (2, "date"), (4, "body")]
    assert "India" in rows[1]["why"]


def test_a_credited_caption_above_the_headline_is_the_caption() -> None:
    caption = "Ferry passengers queue at the harbour. Photo: Sam Reed / EPA"
    article = read(f"{caption}\n{caption}\n\nFerries run late again\nBy Ana Ruiz\n\n{BODY}\n")
    assert (article.title, article.caption) == ("Ferries run late again", caption)


def test_an_alt_text_line_before_its_caption_is_skipped() -> None:
    caption = "A man walks down a snowy street in Boston on Saturday. Photo: AP/Sam Reed"
    article = read(
        f"Ferries run late again\n29 January 2022\nA man walks down a snowy street.\n{caption}\n"
        f"{BODY}\n"
    )
    assert article.caption == caption
    assert article.body.startswith("The port authority")


@pytest.mark.parametrize("credit", ["(Petra photo)", "(REUTERS)", "(Sam Reed/Reuters)", "(واس)"])
def test_a_credit_in_parentheses_is_known_by_its_words(credit: str) -> None:
    caption = f"The minister meets the members of the bloc on Wednesday {credit}"
    article = read(f"Ferries run late again\n3 May 2021\n{caption}\n\n{BODY}\n")
    assert article.caption == caption


def test_a_signature_with_a_date_is_a_byline_without_by() -> None:
    article = read(
        f"Ferries run late again\nSophie Brun, Paul Roy le vendredi 14 juillet 2017\n\n{BODY}\n")
    assert [a.name for a in article.authors] == ["Sophie Brun", "Paul Roy"]
    assert article.published_text == "2017-07-14"
    section = read(f"Ferries run late again\nPolitics Materials 10 January 2007 15:50\n\n{BODY}\n")
    assert section.author is None  # no "le", "on", "," before the date: a section label


def test_a_section_label_is_not_the_title_above_a_short_headline() -> None:
    article = read(f"News Archive\n\nExclusive: Harbour\n\nBOSTON (Reuters) – {BODY}\n")
    assert article.title == "Exclusive: Harbour"
    assert (article.dateline, article.body[:6]) == ("BOSTON", "BOSTON")


def test_a_headline_naming_images_is_no_credited_caption() -> None:
    headline = "Graffiti with images and messages appear on buildings near the harbour"
    article = read(f"World News\n\n{headline}\nBy Ana Ruiz\n\n{BODY}\n")
    assert (article.title, article.caption) == (headline, None)
