"""``parse_date_line``: a line that is a date as a whole, its kind and its ISO text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feeds.normalize.dates import FoundDate, parse_date_line, parse_date_segments

PARIS = ZoneInfo("Europe/Paris")


def _read(line: str) -> tuple[str, str]:
    found = parse_date_line(line)
    assert found is not None, f"no date in {line!r}"
    return found.kind, found.text


@pytest.mark.parametrize(
    ("line", "kind", "text"),
    [
        # English, labels and layouts
        ("Updated 08 October 2019", "updated", "2019-10-08"),
        ("Published 22 September 2022", "published", "2022-09-22"),
        ("Published November 27, 2020", "published", "2020-11-27"),
        ("January 26, 2021", "plain", "2021-01-26"),
        ("14 September 2021", "plain", "2021-09-14"),
        ("Posted on 3 Jan 2020", "published", "2020-01-03"),
        ("Sept. 5, 2021", "plain", "2021-09-05"),
        ("Oct 12 2020", "plain", "2020-10-12"),
        ("Last updated: Monday, March 1st, 2021", "updated", "2021-03-01"),
        ("Published on the 2nd of June 2020", "published", "2020-06-02"),
        ("PUBLISHED: 4 JULY 2019", "published", "2019-07-04"),
        # numeric: ISO, day first, dots
        ("2021-09-07", "plain", "2021-09-07"),
        ("2021/09/07", "plain", "2021-09-07"),
        ("Updated 03/02/2021 18:20", "updated", "2021-02-03T18:20:00"),
        ("05.03.2021", "plain", "2021-03-05"),
        ("5/3/21", "plain", "2021-03-05"),
        ("Updated 2022-04-20 11:05", "updated", "2022-04-20T11:05:00"),
        ("2022-04-19T09:00:00", "plain", "2022-04-19T09:00:00"),
        # zones
        ("Published 12 April 2021 16:30 GMT", "published", "2021-04-12T16:30:00+00:00"),
        ("Published: 2022-10-30 06:15 UTC", "published", "2022-10-30T06:15:00+00:00"),
        ("Wed, 16 Mar 2022 07:45:00 +0400", "plain", "2022-03-16T07:45:00+04:00"),
        ("2022-04-19T09:00:00Z", "plain", "2022-04-19T09:00:00+00:00"),
        ("2022-04-19T09:00:00-05:30", "plain", "2022-04-19T09:00:00-05:30"),
        ("12 May 2020 10:00 GMT+4", "plain", "2020-05-12T10:00:00+04:00"),
        ("12 May 2020 10:00 (UTC +03:00)", "plain", "2020-05-12T10:00:00+03:00"),
        ("Updated: Jan. 5, 2021 at 4:30 p.m. EST", "updated", "2021-01-05T16:30:00-05:00"),
        ("Updated July 5, 2021 at 9 am ET", "updated", "2021-07-05T09:00:00-04:00"),
        ("Posted 3 Jan 2020, 12:15 am", "published", "2020-01-03T00:15:00"),
        # other languages
        ("Mis à jour le mercredi 14 juin 2023", "updated", "2023-06-14"),
        ("Publié le 1er avril 2021 à 08h00", "published", "2021-04-01T08:00:00"),
        ("Publicado el 19 de mayo de 2022", "published", "2022-05-19"),
        ("Actualizado el martes 3 de mayo de 2022 a las 18:45", "updated", "2022-05-03T18:45:00"),
        ("Aktualisiert am 5. März 2021, 16.30 Uhr", "updated", "2021-03-05T16:30:00"),
        ("Veröffentlicht am 12.01.2022", "published", "2022-01-12"),
        ("Pubblicato il 12 gennaio 2022 alle 10:15", "published", "2022-01-12T10:15:00"),
        ("Atualizado em 3 de março de 2021 às 14h05", "updated", "2021-03-03T14:05:00"),
        ("Bijgewerkt op 4 mei 2020", "updated", "2020-05-04"),
        ("Gepubliceerd op maandag 4 mrt 2019", "published", "2019-03-04"),
        ("آخر تحديث 21 سبتمبر 2022", "updated", "2022-09-21"),
        ("نشر في ١٢ مايو ٢٠٢١", "published", "2021-05-12"),
        ("الخميس 12 تشرين الأول 2023", "plain", "2023-10-12"),
        ("12 أغسطس 2023م", "plain", "2023-08-12"),
    ],
)
def test_date_lines_are_read_at_the_precision_written(line: str, kind: str, text: str) -> None:
    assert _read(line) == (kind, text)


def test_numeric_dates_are_day_first() -> None:
    assert _read("03/02/2021") == ("plain", "2021-02-03")


def test_numeric_dates_are_month_first_only_when_day_first_is_impossible() -> None:
    assert _read("12/25/2021") == ("plain", "2021-12-25")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "Updated",
        "Follow",
        "1 / 4",
        "2021",
        "May 2021",
        "10:30 GMT",
        "31/02/2021",
        "32 May 2021",
        "Farm workers sort strawberries on Sept. 20, 2022. (WAM)",
        "The council met on 12 May 2021 to vote.",
        "By Jane Doe, 12 May 2021",
        "12 May 2021 and 13 May 2021",
        "Updated 12 May 2021 12 May 2021",
        "Exclusive 12 May 2021",
        "12 Mayo 3021",
        "Updated " + "12 May 2021 " + "x" * 200,
        "Environment Reporter",
        "Published Monday",
        "12345 May 2021",
        "May 2021 12 13",
    ],
)
def test_lines_that_are_not_a_date_as_a_whole_give_nothing(line: str) -> None:
    assert parse_date_line(line) is None


def test_a_time_without_zone_is_read_in_the_given_zone_and_kept_as_written() -> None:
    found = parse_date_line("Updated 2022-07-01 10:00", PARIS)
    assert found == FoundDate(
        "updated", datetime(2022, 7, 1, 8, 0, tzinfo=UTC), "2022-07-01T10:00:00"
    )


def test_a_date_alone_is_midnight_in_the_given_zone() -> None:
    found = parse_date_line("1 January 2022", PARIS)
    assert found is not None
    assert found.value == datetime(2021, 12, 31, 23, 0, tzinfo=UTC)
    assert found.text == "2022-01-01"


def test_a_written_zone_wins_over_the_given_zone() -> None:
    found = parse_date_line("Wed, 16 Mar 2022 07:45:00 +0400", PARIS)
    assert found is not None
    assert found.value == datetime(2022, 3, 16, 3, 45, tzinfo=UTC)
    assert found.value.tzinfo is UTC


def test_values_are_aware_utc() -> None:
    found = parse_date_line("16 Mar 2022 07:45 +0400")
    assert found is not None
    assert found.value.utcoffset() == timedelta(0)
    assert found.value == datetime(2022, 3, 16, 7, 45, tzinfo=timezone(timedelta(hours=4)))


def test_a_line_with_published_and_updated_parts_gives_both() -> None:
    found = parse_date_segments("Published 3 May 2021 | Updated 4 May 2021 10:00")
    assert [(f.kind, f.text) for f in found] == [
        ("published", "2021-05-03"),
        ("updated", "2021-05-04T10:00:00"),
    ]


def test_segments_of_a_line_that_is_one_date_are_not_split() -> None:
    found = parse_date_segments("Published 2022-04-19 - 09:00")
    assert [(f.kind, f.text) for f in found] == [("published", "2022-04-19T09:00:00")]


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("01 June 2024", "2024-06-01"),
        ("1st June 2024", "2024-06-01"),
        ("June 1. 2024", "2024-06-01"),
        ("٢٥ مارس ٢٠٢٤", "2024-03-25"),  # Arabic-Indic digits
        ("２５ March ２０２４", "2024-03-25"),  # full-width digits (NFKC)
        ("1 June 2024 4 pm", "2024-06-01T16:00:00"),
        ("1 June 2024 4:30 p.m.", "2024-06-01T16:30:00"),
    ],
)
def test_numbers_in_any_digits_are_read(line: str, text: str) -> None:
    found = parse_date_line(line)
    assert found is not None
    assert found.text == text


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("Published 3 June 2021, 9.05pm", "2021-06-03T21:05:00"),
        ("Published 3 June 2021 9.05am", "2021-06-03T09:05:00"),
        ("Publicado el 28 de noviembre de 2022 a las 9:05 p. m.", "2022-11-28T21:05:00"),
        ("Publicado el 5 de mayo de 2021 a las 9:05 a. m.", "2021-05-05T09:05:00"),
    ],
)
def test_twelve_hour_times_are_read_in_their_written_forms(line: str, text: str) -> None:
    """A dot between hours and minutes ("9.05pm") and the Spanish "p. m." are am/pm times."""
    assert _read(line) == ("published", text)


def test_a_french_time_may_give_the_hour_alone() -> None:
    assert _read("Publié le lundi 5 juillet 2021 à 9h") == ("published", "2021-07-05T09:00:00")


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("Tue, 1 Jun 2021 10:52:37 +0200 (CEST)", "2021-06-01T10:52:37+02:00"),
        ("Wed, 16 Mar 2022 07:45:00 +0400 (Gulf Standard Time)", "2022-03-16T07:45:00+04:00"),
        ("2022-03-16T07:45:00+04:00 (GST)", "2022-03-16T07:45:00+04:00"),
    ],
)
def test_a_comment_after_a_numeric_offset_leaves_the_offset(line: str, text: str) -> None:
    """RFC 2822 allows a comment after the zone; the numeric offset keeps its value."""
    assert _read(line) == ("plain", text)


@pytest.mark.parametrize(
    "line", ["Publié le mar. 3 mai 2022", "Publicado el mar 3 de mayo de 2022"]
)
def test_mar_before_another_month_is_the_weekday(line: str) -> None:
    """March, and Tuesday in French and Spanish: before another month name, the weekday."""
    assert _read(line) == ("published", "2022-05-03")
    assert _read("3 Mar 2022") == ("plain", "2022-03-03")


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("Publié le 3 mai 2022 à 9 h 05", "2022-05-03T09:05:00"),
        ("Publié le 3 mai 2022 à 16 h", "2022-05-03T16:00:00"),
        ("Publié le 03/05/2022 à 16 h 30", "2022-05-03T16:30:00"),
    ],
)
def test_a_french_time_may_be_spaced(line: str, text: str) -> None:
    """French typography puts spaces around the "h": "9 h 05" is 09:05."""
    assert _read(line) == ("published", text)


@pytest.mark.parametrize(
    ("line", "kind", "text"),
    [
        ("mar. 03/05/2022", "plain", "2022-05-03"),
        ("Mis à jour le mar. 03/05/2022 à 9 h 05", "updated", "2022-05-03T09:05:00"),
        ("Publicado el mar 03/05/2022", "published", "2022-05-03"),
        ("lun. 14/06/2023", "plain", "2023-06-14"),
        ("gio. 12/01/2022", "plain", "2022-01-12"),  # Italian giovedì
        ("mar. 2022-05-03", "plain", "2022-05-03"),
    ],
)
def test_an_abbreviated_weekday_may_come_before_a_numeric_date(
    line: str, kind: str, text: str
) -> None:
    """A numeric date names its month: "mar" in front of it is Tuesday, not March."""
    assert _read(line) == (kind, text)


def test_direction_marks_in_a_date_line_are_spaces() -> None:
    """Embeddings and isolates (U+202A-U+202E, U+2066-U+2069) as well as LRM/RLM/ALM."""
    assert _read("آخر تحديث \u202b21 سبتمبر 2022\u202c") == ("updated", "2022-09-21")
    assert _read("\u2067نشر في\u2069 \u206612 May 2021\u2069") == ("published", "2021-05-12")
