"""``read_plaintext``: how a plain-text article is read.

Golden files: every ``tests/data/plaintext/NAME.txt`` has ``NAME.json`` beside it with the
fields a correct reading gives (``body_starts_with`` / ``body_ends_with`` for the body).
"""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feeds.errors import ArticleError
from feeds.model import Article, Author
from feeds.normalize.plaintext import read_plaintext

DATA = Path(__file__).parent / "data" / "plaintext"
GOLDEN = sorted(DATA.glob("*.txt"))


def read(text: str | bytes, **kwargs: Any) -> Article:
    data = text.encode() if isinstance(text, str) else text
    return read_plaintext(data, source="test", key="article.txt", **kwargs)


def reason(data: bytes) -> str:
    with pytest.raises(ArticleError) as caught:
        read_plaintext(data, source="test", key="article.txt")
    return caught.value.reason


# ---------------------------------------------------------------- golden files


def _fields(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "published": article.published_text,
        "updated": article.updated.isoformat() if article.updated else None,
        "authors": [author.name for author in article.authors],
        "dateline": article.dateline,
        "summary_bullets": list(article.summary_bullets),
        "caption": article.caption,
        "credit": article.credit,
        "language": article.language,
    }


def test_there_are_golden_files() -> None:
    assert len(GOLDEN) >= 10


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_file_reads_as_expected(path: Path) -> None:
    want = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    article = read_plaintext(path.read_bytes(), source="golden", key=path.name)
    assert _fields(article) == {k: want[k] for k in _fields(article)}
    if want["body_starts_with"] == "":
        assert article.body == ""
    else:
        assert article.body.startswith(want["body_starts_with"])
    assert article.body.endswith(want.get("body_ends_with", ""))


# ---------------------------------------------------------------- what is not an article


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n  \n", "only whitespace"),
        (codecs.BOM_UTF8 + b"\n \n", "only whitespace"),
        (b"Title\x00\x01\x02", "binary data (NUL bytes)"),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(range(1, 200)),
            "not text: undecodable as UTF-8 or windows-1252",
        ),
    ],
)
def test_non_articles_are_errors_with_a_short_reason(data: bytes, why: str) -> None:
    assert reason(data) == why


def test_utf16_little_endian_article_is_read() -> None:
    text = "Students build an air monitor\nBy Kenji Watanabe\n14 September 2021\n\nOSAKA: Text."
    article = read(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert (article.title, article.author, article.published_text, article.dateline) == (
        "Students build an air monitor",
        "Kenji Watanabe",
        "2021-09-14",
        "OSAKA",
    )


def test_utf16_big_endian_article_is_read() -> None:
    article = read(codecs.BOM_UTF16_BE + "Title\n\nBody text.".encode("utf-16-be"))
    assert (article.title, article.body) == ("Title", "Body text.")


# ---------------------------------------------------------------- title and body


def test_title_only_file_is_an_article_with_an_empty_body() -> None:
    article = read("City library extends weekend opening hours during exam season\n")
    assert article.title == "City library extends weekend opening hours during exam season"
    assert (article.body, article.content_html, article.summary) == ("", "", None)
    assert article.published is None and article.summary_bullets == ()
    assert article.language == "en"


def test_title_is_one_line_with_whitespace_collapsed_and_no_bom() -> None:
    article = read(codecs.BOM_UTF8 + b"  Choir   marks\tten years \nBody.")
    assert article.title == "Choir marks ten years"


def test_leading_page_chrome_is_never_the_title() -> None:
    article = read("Skip to main content\nYou are here\nHarbour festival returns\n\nText.")
    assert article.title == "Harbour festival returns"


def test_body_starts_at_the_first_paragraph_and_has_lf_nfc_paragraphs() -> None:
    article = read(b"Title\r\n\r\nFirst paragraph, caf\x65\xcc\x81.\r\nSecond one.\r\n")
    assert article.body == "First paragraph, café.\n\nSecond one."


def test_hard_wrapped_paragraphs_are_joined() -> None:
    wrapped = (
        "Highway officials closed the mountain pass on Tuesday\n"
        "afternoon after heavy snow and strong winds cut the\n"
        "visibility to a few metres.\n"
        "\n"
        "Crews expect to reopen the road by Wednesday morning if\n"
        "the wind drops."
    )
    article = read(f"Title\n\n{wrapped}\n")
    assert article.body == (
        "Highway officials closed the mountain pass on Tuesday afternoon after heavy snow"
        " and strong winds cut the visibility to a few metres.\n\n"
        "Crews expect to reopen the road by Wednesday morning if the wind drops."
    )


def test_lines_that_each_end_a_sentence_are_separate_paragraphs() -> None:
    article = read("Title\nTUNIS: Growers began picking early.\nMill owners were pleased.\n")
    assert article.body == "TUNIS: Growers began picking early.\n\nMill owners were pleased."


def test_trailing_page_chrome_is_not_body() -> None:
    article = read("Title\n\nThe only paragraph.\n\nRead more\nShare\nhttps://example.org/x\n")
    assert article.body == "The only paragraph."


def test_content_html_escapes_text_and_renders_lists() -> None:
    article = read("Title\n\nPrices <rose> & fell.\nSteps:\n- one & two\n- three\nEnd.")
    assert article.content_html == (
        "<p>Prices &lt;rose&gt; &amp; fell.</p>\n<p>Steps:</p>\n"
        "<ul><li>one &amp; two</li><li>three</li></ul>\n<p>End.</p>"
    )


def test_a_file_of_bullets_only_has_them_as_its_body() -> None:
    article = read("Packing list\n\n- tent\n- stove\n")
    assert article.summary_bullets == ()
    assert article.content_html == "<ul><li>tent</li><li>stove</li></ul>"


# ---------------------------------------------------------------- header zone


TEMPLATE = """\
Museum reopens textile gallery

Exclusive Museum reopens textile gallery
Visitors look at sails in the gallery on Sept. 20, 2022. (Courtesy: Heritage Trust)
Visitors look at sails in the gallery on Sept. 20, 2022. (Courtesy: Heritage Trust)
Updated 17 August 2021 10:00
Published 16 August 2021
Follow

Museum reopens textile gallery
  • More than 300 pieces are back on view
  • Entry is free for school groups

MUSCAT: The maritime museum reopened its textile gallery on Monday.
Curators said the collection had been catalogued.
"""


def test_scraped_template_header_gives_caption_credit_dates_and_bullets() -> None:
    article = read(TEMPLATE)
    assert article.caption == (
        "Visitors look at sails in the gallery on Sept. 20, 2022. (Courtesy: Heritage Trust)"
    )
    assert article.credit == "Courtesy: Heritage Trust"
    assert article.summary_bullets == (
        "More than 300 pieces are back on view",
        "Entry is free for school groups",
    )
    assert (
        article.summary == "More than 300 pieces are back on view\nEntry is free for school groups"
    )
    assert article.body.startswith("MUSCAT: The maritime museum")
    assert article.dateline == "MUSCAT"
    assert "<p>MUSCAT: The maritime museum" in article.content_html


def test_published_line_wins_and_updated_line_is_kept_apart() -> None:
    article = read(TEMPLATE)
    assert (article.published_text, article.date_source) == ("2021-08-16", "content")
    assert article.published == datetime(2021, 8, 16, tzinfo=UTC)
    assert article.updated == datetime(2021, 8, 17, 10, 0, tzinfo=UTC)


def test_an_updated_line_alone_is_the_published_date() -> None:
    article = read("Title\nUpdated 03/02/2021 18:20\n\nBEIRUT: Text.")
    assert (article.published_text, article.updated) == ("2021-02-03T18:20:00", None)


def test_zone_less_times_are_read_in_the_given_zone_and_stored_in_utc() -> None:
    article = read("Title\nUpdated 2021-07-01 18:20\n\nText.", tz=ZoneInfo("Asia/Dubai"))
    assert article.published == datetime(2021, 7, 1, 14, 20, tzinfo=UTC)
    assert article.published_text == "2021-07-01T18:20:00"


def test_no_date_line_means_no_published_date() -> None:
    article = read("Title\n\nText written on 12 May 2021.\n12 May 2021\n")
    assert (article.published, article.published_text, article.date_source) == (None, None, None)


def test_a_date_in_a_caption_is_never_the_published_date() -> None:
    article = read("Title\nCrowds gather on Sept. 20, 2022. (WAM)\nFollow\n\nDUBAI: Text.")
    assert article.published is None
    assert article.caption == "Crowds gather on Sept. 20, 2022. (WAM)"


def test_a_captioned_photo_in_a_plain_article_is_a_caption() -> None:
    article = read("Title\nA boat at dawn. (Photo: Ana Ruiz)\n\nText.")
    assert (article.caption, article.credit, article.body) == (
        "A boat at dawn. (Photo: Ana Ruiz)",
        "Photo: Ana Ruiz",
        "Text.",
    )


def test_a_single_paragraph_ending_with_an_agency_credit_is_the_body() -> None:
    article = read("Title\n\nThe ministry confirmed the figures on Monday. (AFP)\n")
    assert article.caption is None
    assert article.body == "The ministry confirmed the figures on Monday. (AFP)"


@pytest.mark.parametrize(
    "header",
    [
        "\nA boat at dawn near the harbour wall.\nPublished 5 May 2021\nFollow",
        "\nTitle\nUpdated 5 May 2021\nA boat at dawn near the harbour wall.\nFollow",
        "\nShort Url\nPublished 5 May 2021\nFollow\nA boat at dawn near the harbour wall.",
    ],
    ids=["under the title", "after the date", "after follow"],
)
def test_a_caption_without_credit_among_the_template_lines_is_a_caption(header: str) -> None:
    """The page template goes on after it (date, "Follow", the repeated headline): header."""
    article = read(f"Title\n{header}\n\nTitle\n  • A point\n\nDUBAI: Text.\nMore text.")
    assert article.caption == "A boat at dawn near the harbour wall."
    assert (article.published_text, article.summary_bullets) == ("2021-05-05", ("A point",))
    assert (article.body, article.dateline) == ("DUBAI: Text.\n\nMore text.", "DUBAI")


@pytest.mark.parametrize(
    "text",
    [
        "Title\n\nShort text.\nFollow\n",
        "Title\n\nShort text.\nFollow\nShare\n",
        "Title\n\nShort text.\nhttps://example.org/more\nMore text.\n",
        "Title\n\nShort text.\nUpdated 5 May 2021\nBy Jane Roe\nMore text.\n",
    ],
)
def test_a_paragraph_followed_by_page_chrome_or_body_dates_is_the_body(text: str) -> None:
    article = read(text)
    assert article.caption is None
    assert article.body.startswith("Short text.")


def test_gallery_counters_are_not_captions() -> None:
    article = read("Title\n1 / 2\n2 / 2\nA boat at dawn. (AFP)\nShort Url\n\nText.")
    assert article.caption == "A boat at dawn. (AFP)"
    assert article.body == "Text."


def test_a_caption_without_credit_in_a_gallery_is_a_caption() -> None:
    article = read("Title\n1 / 2\nA boat at dawn\n2 / 2\nShort Url\n\nText.")
    assert (article.caption, article.credit) == ("A boat at dawn", None)


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("By Daniel Okafor, Sports Correspondent", ["Daniel Okafor"]),
        ("By Tomás Herrera | Transport Editor", ["Tomás Herrera"]),
        ("By Leila Haddad - Gulf Wire", ["Leila Haddad"]),
        ("By María López – Staff Writer", ["María López"]),
        ("By Anna Berg and Tom Lee", ["Anna Berg", "Tom Lee"]),
        ("By Anna Berg & Tom Lee, Reuters", ["Anna Berg", "Tom Lee"]),
        ("Written by Ludwig van der Berg", ["Ludwig van der Berg"]),
        ("By: J. R. Okoye", ["J. R. Okoye"]),
        ("Par Jean Dupont et Marie Curie", ["Jean Dupont", "Marie Curie"]),
        ("Por Ana Gómez", ["Ana Gómez"]),
        ("Von Jana Schulz", ["Jana Schulz"]),
        ("Author: Sam Patel", ["Sam Patel"]),
    ],
)
def test_bylines_give_the_author_names(byline: str, authors: list[str]) -> None:
    article = read(f"Title\n{byline}\n\nText.")
    assert [a.name for a in article.authors] == authors
    assert article.authors[0] == Author(authors[0])


@pytest.mark.parametrize(
    ("byline", "author"),
    [
        ("By Faisal al-Mutairi, Energy Correspondent", "Faisal al-Mutairi"),
        ("By Rania el-Gamal", "Rania el-Gamal"),
        ("By Jean-Luc d’Arcy - Alpine Wire", "Jean-Luc d’Arcy"),
        ("By Abd al-Rahman Munif", "Abd al-Rahman Munif"),
    ],
)
def test_a_lower_case_particle_joined_to_a_name_is_part_of_it(byline: str, author: str) -> None:
    article = read(f"Title\n{byline}\n\nText.")
    assert [a.name for a in article.authors] == [author]


def test_particles_do_not_count_towards_the_length_of_a_name() -> None:
    article = read("Title\nBy Mohammed bin Abdullah bin Saleh Al-Otaibi | Editor\n\nText.")
    assert article.author == "Mohammed bin Abdullah bin Saleh Al-Otaibi"
    assert read("Title\nBy One Two Three Four Five Six\n\nText.").authors == ()


@pytest.mark.parametrize(
    ("byline", "author"),
    [
        ("By AN Staff", "AN Staff"),  # Arab News' staff byline: an acronym that reads "an"
        ("By The Associated Press", "The Associated Press"),
        ("By THE ASSOCIATED PRESS | Cairo", "THE ASSOCIATED PRESS"),
        ("By A Staff Reporter, Kochi", "A Staff Reporter"),
    ],
)
def test_a_name_may_open_with_a_capitalized_article(byline: str, author: str) -> None:
    """The author is the byline name without "By ", even when it starts like "The ..."."""
    article = read(f"Title\n{byline}\n\nText.")
    assert (article.author, article.body) == (author, "Text.")


@pytest.mark.parametrize("byline", ["By The", "By The de la", "By The Monday"])
def test_an_article_alone_or_before_a_non_name_is_not_a_byline(byline: str) -> None:
    assert read(f"Title\n{byline}\n\nText.").authors == ()


def test_a_byline_may_carry_the_date() -> None:
    article = read("Title\nBy Jane Doe | 12 May 2021\n\nText.")
    assert (article.author, article.published_text) == ("Jane Doe", "2021-05-12")


@pytest.mark.parametrize(
    "first_paragraph",
    [
        "By 2030, every bus in the city will run on electricity.",
        "By the end of the year the bridge will be finished.",
        "By Monday, most shops had reopened.",
        "By the end of the day, the council had voted.",
        "By then it was too late.",
        "By this time next year the line will be open.",
        "By a narrow margin, the motion passed.",
        "By Christmas, most shops had reopened.",
        "By Sunday night, the river had risen by two metres.",
        "By Easter | the ferries will run every hour.",
    ],
)
def test_sentences_starting_with_by_are_not_bylines(first_paragraph: str) -> None:
    article = read(f"Title\n\n{first_paragraph}\n")
    assert article.authors == ()
    assert article.body == first_paragraph


@pytest.mark.parametrize(("line", "author"), [
    ("By Daniel Okafor, Sports Correspondent", "Daniel Okafor"),
    ("By Jane Doe, our correspondent in Paris", "Jane Doe"),
    ("By Leila Haddad - Gulf Wire.", "Leila Haddad"),
    ("By Reuters, Dubai", "Reuters"),
])
def test_a_role_or_agency_after_the_name_is_no_sentence(line: str, author: str) -> None:
    article = read(f"Title\n{line}\n\nThe story.\n")
    assert article.author == author


def test_header_elements_after_the_body_started_belong_to_the_body() -> None:
    article = read("Title\n\nFirst paragraph.\nBy Jane Doe\nUpdated 5 May 2021\n- a point\n")
    assert (article.authors, article.published, article.summary_bullets) == ((), None, ())
    assert article.body.split("\n\n") == [
        "First paragraph.",
        "By Jane Doe",
        "Updated 5 May 2021",
        "- a point",
    ]


@pytest.mark.parametrize("glyph", ["•", "-", "*", "·", "–", "▪"])
def test_header_bullets_accept_common_glyphs(glyph: str) -> None:
    article = read(f"Title\n{glyph} First point\n  {glyph} Second point\n\nText.")
    assert article.summary_bullets == ("First point", "Second point")


@pytest.mark.parametrize(
    "chrome",
    [
        "Follow",
        "Short Url",
        "You are here",
        "Share",
        "Read more",
        "Follow us on Twitter",
        "Home > World > Asia",
        "https://arab.news/abc12",
        "4 min read",
        "Suivre",
        "Compartir",
        "رابط مختصر",
    ],
)
def test_page_chrome_in_the_header_is_skipped(chrome: str) -> None:
    article = read(f"Title\n{chrome}\n\nSEOUL: Text.")
    assert article.body == "SEOUL: Text."


# ---------------------------------------------------------------- dateline and summary


@pytest.mark.parametrize(
    ("paragraph", "dateline"),
    [
        ("KABUL: Text.", "KABUL"),
        ("ABU DHABI: Text.", "ABU DHABI"),
        ("RAS AL-KHAIMAH: Text.", "RAS AL-KHAIMAH"),
        ("NÎMES: Texte.", "NÎMES"),
        ("LYON : Texte.", "LYON"),
        ("دبي: نص.", "دبي"),
        ("الدار البيضاء: نص.", "الدار البيضاء"),
        ("Opening night: a crowd.", None),
        ("At 10:30 the doors opened.", None),
        ("A VERY LONG PLACE NAME HERE: Text.", None),
        ("كان يا ما كان في قديم: نص.", None),
    ],
)
def test_dateline_is_an_upper_case_place_prefix_kept_in_the_body(
    paragraph: str, dateline: str | None
) -> None:
    article = read(f"Title\n\n{paragraph}\n")
    assert article.dateline == dateline
    assert article.body == paragraph


@pytest.mark.parametrize(
    ("paragraph", "dateline"),
    [
        ("SAN CRISTÓBAL DE LAS CASAS: Text.", "SAN CRISTÓBAL DE LAS CASAS"),
        ("SANTA CRUZ DE LA SIERRA, BOLIVIA: Text.", "SANTA CRUZ DE LA SIERRA, BOLIVIA"),
        ("PORT OF SPAIN: Text.", "PORT OF SPAIN"),
        ("THIS STORY HAS BEEN UPDATED: Text.", None),  # five words, none a particle
        ("SAN CRISTÓBAL DE LAS CASAS DE LA SIERRA: Text.", None),  # seven words
        ("San Cristóbal de las Casas: Text.", None),  # cased datelines are upper case
        ("مدينة سان كريستوبال دي لاس: نص.", None),  # uncased: 1-3 words, particles or not
    ],
)
def test_particles_do_not_count_towards_the_length_of_a_dateline(
    paragraph: str, dateline: str | None
) -> None:
    """Up to four words of an upper-case place, particles ("DE", "LAS", "OF") not counted."""
    article = read(f"Title\n\n{paragraph}\n")
    assert (article.dateline, article.body) == (dateline, paragraph)


@pytest.mark.parametrize(
    ("paragraph", "dateline"),
    [
        ("عمّان: نص.", "عمّان"),  # a shadda on the place name
        ("جدّة: نص.", "جدّة"),
        ("LONDON/DUBAI: Text.", "LONDON/DUBAI"),
    ],
)
def test_datelines_keep_their_marks_and_slashes(paragraph: str, dateline: str) -> None:
    article = read(f"Title\n\n{paragraph}\n")
    assert (article.dateline, article.body) == (dateline, paragraph)


def test_summary_is_the_first_paragraph_shortened_at_a_word_boundary() -> None:
    long = "word " * 100
    article = read(f"Title\n\n{long}\n\nSecond.")
    assert article.summary is not None
    assert len(article.summary) <= 300
    assert article.summary.endswith("word…")
    assert read("Title\n\nShort first.\n\nSecond.").summary == "Short first."


def test_language_is_detected_from_title_and_body() -> None:
    article = read("Le tramway prolongé\n\nLa ligne gagne six stations et quatre kilomètres.")
    assert article.language == "fr"


def test_source_and_key_are_passed_through() -> None:
    article = read_plaintext(b"Title\n\nText.", source="blog", key="2021/post.txt")
    assert (article.source, article.key) == ("blog", "2021/post.txt")


# ---------------------------------------------------------------- direction marks

RLM, LRM, RLE, PDF, RLI, PDI = "\u200f", "\u200e", "\u202b", "\u202c", "\u2067", "\u2069"


def test_direction_marks_at_the_start_of_header_lines_are_ignored() -> None:
    """Scraped right-to-left pages start lines with invisible marks: the header still reads."""
    text = (
        f"{RLM}Harbour festival returns\n"
        f"{RLM}Harbour festival returns\n"
        f"{RLM}Boats in the harbour. (AFP){RLM}\n"
        f"{RLE}Updated 17 August 2021{PDF}\n"
        f"{LRM}By Jane Doe{RLM} | Editor\n"
        f"{RLM}Follow\n"
        f"{RLM}\n"
        f"{RLM}• First point\n"
        f"{RLI}- Second point{PDI}\n"
        f"\n"
        f"{RLM}MUSCAT: The festival opened.\n"
    )
    article = read(text)
    assert article.title == "Harbour festival returns"
    assert article.caption == "Boats in the harbour. (AFP)"
    assert (article.published_text, article.author) == ("2021-08-17", "Jane Doe")
    assert article.summary_bullets == ("First point", "Second point")
    assert article.dateline == "MUSCAT"
    assert article.body == f"{RLM}MUSCAT: The festival opened."  # the body is kept as written


@pytest.mark.parametrize(
    ("paragraph", "dateline"),
    [(f"{RLM}دبي: نص.", "دبي"), (f"دبي{RLM}: نص.", "دبي"), (f"{LRM}DUBAI: Text.", "DUBAI")],
)
def test_direction_marks_are_not_part_of_the_dateline(paragraph: str, dateline: str) -> None:
    article = read(f"Title\n\n{paragraph}\n")
    assert (article.dateline, article.body) == (dateline, paragraph)


def test_a_line_of_direction_marks_is_blank() -> None:
    article = read(f"{RLM}\n{RLM}{LRM}\nTitle\n{RLM}\n{RLM}• A point\n\nText.")
    assert (article.title, article.caption) == ("Title", None)
    assert article.summary_bullets == ("A point",)
    assert reason(f"{RLM}\n {LRM}\n".encode()) == "only whitespace"


# ---------------------------------------------------------------- hostile input


def test_windows_1252_ellipsis_does_not_split_a_paragraph() -> None:
    article = read(b"Title\n\nWe drove two hours\x85 now it\x92s ten minutes.\n")
    assert article.body == "We drove two hours… now it’s ten minutes."


def test_unicode_line_separators_do_not_split_lines() -> None:
    article = read("Title\u2028still title\n\nBody\u2029same paragraph.")
    assert article.title == "Title still title"
    assert article.body == "Body\u2029same paragraph."


def test_a_five_megabyte_single_line_is_a_title_only_article() -> None:
    article = read(b"x" * 5_000_000)
    assert len(article.title) == 5_000_000
    assert article.body == ""


def test_a_hundred_thousand_short_lines_are_read_to_the_end() -> None:
    article = read("Title\n" + "- item\n" * 100_000 + "Last line.\n")
    assert article.body.endswith("Last line.")
    assert len(article.summary_bullets) < 100  # the header zone is capped
    assert article.body.count("- item") + len(article.summary_bullets) == 100_000


def test_a_hundred_thousand_date_lines_are_not_all_header() -> None:
    article = read("Title\n" + "Updated 1 May 2021\n" * 100_000 + "Text.")
    assert article.published_text == "2021-05-01"
    assert article.body.endswith("Text.")


def test_a_half_megabyte_article_is_read() -> None:
    paragraph = "The council said the new route would open next spring. " * 10
    article = read("Title\nBy Jane Doe\n12 May 2021\n\n" + (paragraph + "\n\n") * 1000)
    assert len(article.body) > 500_000
    assert article.body.count("\n\n") == 999
    assert (article.author, article.published_text) == ("Jane Doe", "2021-05-12")


def test_pathological_lines_for_the_patterns_are_read() -> None:
    colons = "A" * 50_000 + ":" * 50_000
    lines = ["(" * 10_000 + " x", "By " * 10_000, colons, "1 / " * 20_000, "- " * 20_000]
    article = read("Title\n\n" + "\n".join(lines))
    assert article.body.split("\n\n") == [line.strip() for line in lines]
    assert (article.author, article.dateline, article.published) == (None, None, None)


def test_a_few_control_characters_are_dropped_not_fatal() -> None:
    article = read("Title\x07\n\n" + "A normal body sentence. " * 20)
    assert article.title == "Title"


def test_mixed_utf8_and_windows_1252_keeps_both() -> None:
    article = read("Zoë’s co-op\n\n".encode() + b"A \x93flower\x94 hall.")
    assert (article.title, article.body) == ("Zoë’s co-op", "A “flower” hall.")
