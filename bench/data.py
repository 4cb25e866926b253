"""Deterministic synthetic articles, their folder, and the bench configurations.

Every article is a pure function of ``(seed, index)``: the same N always gives the same
bytes, so runs compare.  Most articles use the plain-text layout of ``seeds/``::

    Headline
    <blank>
    By Name | Role                 (optional byline, 3 in 4 articles)
    Published 08 October 2019      (or "Updated ...")
    <blank>
      • highlight bullet           (two or three)
    <blank>
    CITY: first paragraph ...
    <blank>
    body paragraphs ... (about 3 KB in all)

One article in ``markdown_every`` is Markdown with front matter instead (title, date,
author, tags), since plain text has no way to carry tags.

The ``markdown`` corpus (``corpus="markdown"``) makes every article a Markdown post as a
blog or static site keeps them: front matter with title, date, author, tags and summary, and
a body of about 4 KB with subheadings, a highlight list, a blockquote, emphasis, inline code
and links.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = [
    "BASE_DATE",
    "CORPORA",
    "Record",
    "edit_article",
    "make_record",
    "new_record",
    "records",
    "render_article",
    "write_article",
    "write_build_config",
    "write_folder",
    "write_remote_config",
]

#: the newest synthetic article; older ones go back from here, 8 per day
BASE_DATE = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
PER_DAY = 8
BODY_BYTES = 3000
MARKDOWN_EVERY = 5
#: the corpora: the plain-text layout with one Markdown post in five, or Markdown only
CORPORA = ("mixed", "markdown")


def _split(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


_MONTHS = _split("January February March April May June July August September October November "
                 "December")
_CITIES = _split("LYON KABUL OSLO LIMA ACCRA HANOI QUITO RIGA DAKAR PERTH TUNIS SEVILLE BERGEN "
                 "MOMBASA OTTAWA")
_FIRST = _split("Mariam Sam Ines Tomas Aiko Kwame Lena Omar Priya Jonas Ana Yusuf Clara Mateo "
                "Hana Felix")
_LAST = _split("Castellanos Okoro Duval Berg Tanaka Mensah Novak Haddad Rao Lindqvist Silva "
               "Karimi Moreau Rossi Sato Weber")
_ROLES = _split("Environment Reporter|Political Editor|Staff Writer|Correspondent|"
                "Science Desk|Business Reporter", "|")
_TAGS = _split("transport harbour climate politics economy health science culture sport "
               "education housing energy water technology")
_SUBJECTS = _split("The council|Volunteers|The ministry|Local traders|Researchers|The operator|"
                   "Residents|The agency|Officials|The committee|Teachers|Engineers|The mayor|"
                   "Farmers|The company|Doctors", "|")
_VERBS = _split("said on Monday that|announced plans to|warned that it would|agreed to|decided to|"
                "confirmed it will|promised to|voted to|proposed to|expects to", "|")
_OBJECTS = _split("extend the late-evening service|repair the old bridge|open a new clinic|"
                  "cut fares for students|review the budget|plant two thousand trees|"
                  "publish the full report|hire more inspectors|close the northern road|"
                  "double the number of bins|test the water supply|rebuild the harbour wall|"
                  "expand the night market|fund a second school|replace the ageing buses", "|")
_TAILS = _split("before the summer festivals|after a long consultation|despite strong opposition|"
                "within the next two years|as part of a wider programme|following complaints|"
                "once the funding is approved|in time for the autumn term|"
                "according to a statement|at a cost of several million", "|")


@dataclass(frozen=True, slots=True)
class Record:
    """One synthetic article as data: what the generator meant (the baselines use it)."""

    index: int
    name: str  # file name inside the folder
    title: str
    published: datetime
    author: str | None
    role: str | None
    tags: tuple[str, ...]
    bullets: tuple[str, ...]
    city: str
    paragraphs: tuple[str, ...]
    markdown: bool
    label: str = "Published"
    rich: bool = False  # the Markdown corpus: summary, subheadings, a quote, inline markup

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def _sentence(rng: random.Random) -> str:
    return (f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_TAILS)}.")


def _inline(rng: random.Random, text: str) -> str:
    """Markdown emphasis, code or a link on one word of ``text`` (1 sentence in 2)."""
    words = text.split(" ")
    if len(words) < 4 or rng.random() < 0.5:
        return text
    at = rng.randrange(1, len(words) - 1)
    word = words[at]
    kind = rng.randrange(4)
    if kind == 0:
        words[at] = f"**{word}**"
    elif kind == 1:
        words[at] = f"*{word}*"
    elif kind == 2:
        words[at] = f"`{word}`"
    else:
        words[at] = f"[{word}](https://news.example/{word.lower().strip('.,')}/{at})"
    return " ".join(words)


def make_record(index: int, *, seed: int = 1, published: datetime | None = None,
                markdown_every: int = MARKDOWN_EVERY, variant: int = 0,
                corpus: str = "mixed") -> Record:
    """Article ``index`` (0 = newest).  ``variant`` > 0 gives an edited body."""
    rich = corpus == "markdown"
    body_bytes = BODY_BYTES + 1000 if rich else BODY_BYTES
    rng = random.Random(seed * 1_000_003 + index * 7919 + variant * 104_729)
    when = published or BASE_DATE - timedelta(days=index // PER_DAY,
                                               minutes=(index % PER_DAY) * 61)
    city = rng.choice(_CITIES)
    author = None
    role = None
    if rng.random() < 0.75:
        author = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        role = rng.choice(_ROLES)
    subject = rng.choice(_OBJECTS)
    title = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS).split(' ')[0]} to {subject} " \
            f"(report {index})"
    bullets = tuple(_sentence(rng)[:-1] for _ in range(rng.randint(2, 3)))
    paragraphs: list[str] = []
    size = 0
    first = True
    while size < body_bytes:
        text = " ".join(_inline(rng, _sentence(rng)) if rich else _sentence(rng)
                        for _ in range(rng.randint(3, 5)))
        if first:
            text = f"{city}: Article {index}, edition {variant}. {text}"
            first = False
        paragraphs.append(text)
        size += len(text) + 2
    tags = tuple(sorted(set(rng.sample(_TAGS, rng.randint(1, 3)))))
    markdown = rich or (markdown_every > 0 and index % markdown_every == markdown_every - 1)
    label = "Updated" if rng.random() < 0.2 else "Published"
    return Record(index, f"{index:06d}-report.{'md' if markdown else 'txt'}", title, when,
                  author, role, tags, bullets, city, tuple(paragraphs), markdown, label, rich)


def new_record(serial: int, *, seed: int = 1, markdown_every: int = MARKDOWN_EVERY) -> Record:
    """A new article (``feeds build`` after adding it): newer than every generated one."""
    rec = make_record(900_000 + serial, seed=seed, markdown_every=0,
                      published=BASE_DATE + timedelta(days=1 + serial))
    return _renamed(rec, f"new-{serial:04d}.txt")


def _renamed(rec: Record, name: str) -> Record:
    return Record(rec.index, name, rec.title, rec.published, rec.author, rec.role, rec.tags,
                  rec.bullets, rec.city, rec.paragraphs, rec.markdown, rec.label, rec.rich)


def records(n: int, *, seed: int = 1, markdown_every: int = MARKDOWN_EVERY,
            corpus: str = "mixed") -> Iterator[Record]:
    for index in range(n):
        yield make_record(index, seed=seed, markdown_every=markdown_every, corpus=corpus)


def _date_line(rec: Record) -> str:
    d = rec.published
    return f"{rec.label} {d.day:02d} {_MONTHS[d.month - 1]} {d.year}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rich_markdown(rec: Record) -> str:
    """A Markdown post of the ``markdown`` corpus: front matter with a summary, the
    highlights as a list, sections under subheadings, a blockquote."""
    head = ["---", f"title: {_quoted(rec.title)}", f"date: {rec.published.isoformat()}"]
    if rec.author:
        head.append(f"author: {rec.author}")
    head.append(f"tags: [{', '.join(rec.tags)}]")
    head.append(f"summary: {_quoted(rec.bullets[0] + '.')}")
    head.append("---")
    parts = ["\n".join(head), "## Highlights", "\n".join(f"- {b}" for b in rec.bullets)]
    for i, paragraph in enumerate(rec.paragraphs):
        if i and i % 3 == 0:
            parts.append(f"## {rec.city.title()}, part {i // 3 + 1}")
        parts.append(f"> {paragraph}" if i == 2 else paragraph)
    return "\n\n".join(parts) + "\n"


def render_article(rec: Record) -> bytes:
    """The file's bytes: plain-text layout, or Markdown with front matter."""
    if rec.rich:
        return _rich_markdown(rec).encode("utf-8")
    if rec.markdown:
        head = ["---", f'title: "{rec.title}"', f"date: {rec.published.isoformat()}"]
        if rec.author:
            head.append(f"author: {rec.author}")
        head.append(f"tags: [{', '.join(rec.tags)}]")
        head.append("---")
        bullets = "\n".join(f"- {b}" for b in rec.bullets)
        text = "\n".join(head) + "\n\n" + bullets + "\n\n" + rec.body + "\n"
        return text.encode("utf-8")
    lines = [rec.title, ""]
    if rec.author:
        lines.append(f"By {rec.author} | {rec.role}")
    lines.append(_date_line(rec))
    lines.append("")
    lines.extend(f"  • {b}" for b in rec.bullets)
    lines.append("")
    lines.append(rec.body)
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_article(folder: Path, rec: Record, *, mtime: float | None = None) -> Path:
    """Write one article atomically (hidden temp name, then rename: what editors do)."""
    path = folder / rec.name
    tmp = folder / f".{rec.name}.tmp"
    tmp.write_bytes(render_article(rec))
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)
    return path


def write_folder(folder: Path, n: int, *, seed: int = 1,
                 markdown_every: int = MARKDOWN_EVERY, corpus: str = "mixed") -> list[Record]:
    """``n`` articles in ``folder``, every file with an mtime an hour in the past (settled)."""
    folder.mkdir(parents=True, exist_ok=True)
    past = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    out = []
    for rec in records(n, seed=seed, markdown_every=markdown_every, corpus=corpus):
        path = folder / rec.name
        path.write_bytes(render_article(rec))
        os.utime(path, (past, past))
        out.append(rec)
    return out


def edit_article(folder: Path, rec: Record, variant: int) -> Record:
    """Rewrite ``rec``'s file with a different body (same title, date, author)."""
    edited = make_record(rec.index, published=rec.published, variant=variant,
                         markdown_every=MARKDOWN_EVERY if rec.markdown else 0,
                         corpus="markdown" if rec.rich else "mixed")
    edited = _renamed(edited, rec.name)
    write_article(folder, edited)
    return edited


# --------------------------------------------------------------------------- configs

_SITE = """\
[site]
title = "bench"
link = "https://bench.example/"
base_url = "https://bench.example/feeds/"
author = "Bench newsroom"
language = "en"
timezone = "UTC"

[store]
path = "state/feeds.db"

[output]
dir = "public"
"""


def _feeds_toml(everything_limit: int | None, archive: bool = False) -> str:
    """Feed ``all`` (newest 50) and, unless ``everything_limit`` is None, ``everything``
    (with ``archive``: an archived feed, RFC 5005, of pages of 100)."""
    keep = "archive = true" if archive else f"limit = {max(1, min(everything_limit or 1, 100_000))}"
    everything = "" if everything_limit is None else f"""
[[feeds]]
name = "everything"
title = "Everything"
description = "Every article."
sources = ["*"]
formats = ["rss", "atom", "json"]
{keep}
"""
    return """
[[feeds]]
name = "all"
title = "All articles"
description = "The newest 50."
sources = ["*"]
formats = ["rss", "atom", "json"]
limit = 50
""" + everything


def write_build_config(workdir: Path, folder: Path, n: int, *, archive: bool = False) -> Path:
    """A config in ``workdir`` (state and output beside it) over the article ``folder``;
    ``archive``: the every-item feed is an archived one."""
    workdir.mkdir(parents=True, exist_ok=True)
    text = _SITE + f"""
[[sources]]
name = "articles"
kind = "folder"
path = "{folder.as_posix()}"
""" + _feeds_toml(n, archive)
    path = workdir / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_remote_config(workdir: Path, urls: Sequence[str], *, concurrency: int = 20) -> Path:
    """A config with one ``kind = "feed"`` source per URL and the ``all`` feed only (the
    fetching is what is measured).  Every host is 127.0.0.1, so ``per_host`` is raised to
    ``concurrency``: otherwise 2 requests at a time would be it."""
    workdir.mkdir(parents=True, exist_ok=True)
    parts = [_SITE, f"""
[fetch]
concurrency = {concurrency}
per_host = {min(concurrency, 50)}
timeout = 30
connect_timeout = 10
"""]
    for i, url in enumerate(urls):
        parts.append(f'\n[[sources]]\nname = "remote{i:04d}"\nkind = "feed"\nurl = "{url}"\n')
    parts.append(_feeds_toml(None))
    path = workdir / "feeds.toml"
    path.write_text("".join(parts), encoding="utf-8")
    return path
