"""The baselines: the same feeds as the cold build, written with no reading, store or checks.

Both write the two feeds of the bench config (``all``: the newest 50; ``everything``: all
N) in RSS 2.0, Atom 1.0 and JSON Feed, from the generator's records (title, id, dates,
author, tags, summary bullets, content HTML), into ``OUT/<feed>/``:

* ``feedgen``: feedgen 1.0.0 ``FeedGenerator`` (``rss_str`` / ``atom_str``, pretty) and
  ``json.dumps``: our overhead over the library we build on;
* ``stream``: ``lxml.etree.xmlfile``, one element at a time, and ``json.dump``: the
  practical limit for writing these bytes from Python.

Run as ``python -m bench.baselines {feedgen,stream} N OUT [mixed|markdown]``; prints one
JSON line with ``gen_s`` (making the records in memory: not part of the baseline) and ``write_s``.
"""

from __future__ import annotations

import html
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.data import Record, records

__all__ = ["Entry", "entries", "main", "write_feedgen", "write_stream"]

BASE = "https://bench.example/feeds/"


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    published: datetime
    author: str | None
    tags: tuple[str, ...]
    summary_html: str
    content_html: str


def entries(recs: Sequence[Record]) -> list[Entry]:
    out = []
    for rec in recs:
        summary = "<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in rec.bullets) + "</ul>"
        content = "".join(f"<p>{html.escape(p)}</p>" for p in rec.paragraphs)
        out.append(Entry(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, rec.name)}", rec.title,
                         rec.published, rec.author, rec.tags, summary, content))
    return out


def _feeds(items: list[Entry]) -> list[tuple[str, list[Entry]]]:
    return [("all", items[:50]), ("everything", items)]


def _json_feed(name: str, items: Sequence[Entry]) -> dict[str, Any]:
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": name,
        "feed_url": f"{BASE}{name}/feed.json",
        "items": [
            {
                "id": e.id,
                "title": e.title,
                "content_html": e.content_html,
                "summary": e.summary_html,
                "date_published": e.published.isoformat(),
                "date_modified": e.published.isoformat(),
                **({"authors": [{"name": e.author}]} if e.author else {}),
                "tags": list(e.tags),
            }
            for e in items
        ],
    }


def write_feedgen(items: list[Entry], out: Path) -> None:
    from feedgen.feed import FeedGenerator

    for name, chosen in _feeds(items):
        fg = FeedGenerator()
        fg.id(f"{BASE}{name}/atom.xml")
        fg.title(name)
        fg.description(name)
        fg.link(href=f"{BASE}{name}/atom.xml", rel="self")
        fg.link(href="https://bench.example/", rel="alternate")
        fg.language("en")
        fg.author({"name": "Bench newsroom"})
        if chosen:
            fg.updated(chosen[0].published)
            fg.lastBuildDate(chosen[0].published)
        for e in chosen:
            fe = fg.add_entry(order="append")
            fe.id(e.id)
            fe.guid(e.id, permalink=False)
            fe.title(e.title)
            fe.published(e.published)
            fe.updated(e.published)
            if e.author:
                fe.author({"name": e.author})
            fe.category([{"term": t} for t in e.tags])
            fe.summary(e.summary_html, type="html")
            fe.content(e.content_html, type="html")
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "rss.xml").write_bytes(fg.rss_str(pretty=True))
        (folder / "atom.xml").write_bytes(fg.atom_str(pretty=True))
        (folder / "feed.json").write_bytes(
            json.dumps(_json_feed(name, chosen), ensure_ascii=False, indent=2).encode())


def write_stream(items: list[Entry], out: Path) -> None:
    from email.utils import format_datetime

    from lxml import etree

    atom_ns = "http://www.w3.org/2005/Atom"
    for name, chosen in _feeds(items):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        with etree.xmlfile(str(folder / "rss.xml"), encoding="utf-8") as xf:
            xf.write_declaration()
            with xf.element("rss", version="2.0"), xf.element("channel"):
                for tag, text in (("title", name), ("link", "https://bench.example/"),
                                  ("description", name), ("language", "en")):
                    el = etree.Element(tag)
                    el.text = text
                    xf.write(el)
                for e in chosen:
                    item = etree.Element("item")
                    etree.SubElement(item, "title").text = e.title
                    etree.SubElement(item, "guid", isPermaLink="false").text = e.id
                    etree.SubElement(item, "pubDate").text = format_datetime(e.published)
                    if e.author:
                        etree.SubElement(item, "author").text = e.author
                    for t in e.tags:
                        etree.SubElement(item, "category").text = t
                    etree.SubElement(item, "description").text = e.summary_html
                    etree.SubElement(
                        item, "{http://purl.org/rss/1.0/modules/content/}encoded"
                    ).text = e.content_html
                    xf.write(item)
                    xf.write("\n")
        with etree.xmlfile(str(folder / "atom.xml"), encoding="utf-8") as xf:
            xf.write_declaration()
            with xf.element(f"{{{atom_ns}}}feed", nsmap={None: atom_ns}):
                for tag, text in (("id", f"{BASE}{name}/atom.xml"), ("title", name)):
                    el = etree.Element(f"{{{atom_ns}}}{tag}")
                    el.text = text
                    xf.write(el)
                for e in chosen:
                    entry = etree.Element(f"{{{atom_ns}}}entry", nsmap={None: atom_ns})
                    etree.SubElement(entry, f"{{{atom_ns}}}id").text = e.id
                    etree.SubElement(entry, f"{{{atom_ns}}}title").text = e.title
                    stamp = e.published.isoformat()
                    etree.SubElement(entry, f"{{{atom_ns}}}updated").text = stamp
                    etree.SubElement(entry, f"{{{atom_ns}}}published").text = stamp
                    if e.author:
                        author = etree.SubElement(entry, f"{{{atom_ns}}}author")
                        etree.SubElement(author, f"{{{atom_ns}}}name").text = e.author
                    for t in e.tags:
                        etree.SubElement(entry, f"{{{atom_ns}}}category", term=t)
                    etree.SubElement(entry, f"{{{atom_ns}}}summary",
                                     type="html").text = e.summary_html
                    etree.SubElement(entry, f"{{{atom_ns}}}content",
                                     type="html").text = e.content_html
                    xf.write(entry)
                    xf.write("\n")
        with (folder / "feed.json").open("w", encoding="utf-8") as fh:
            json.dump(_json_feed(name, chosen), fh, ensure_ascii=False, indent=2)


WRITERS: dict[str, Callable[[list[Entry], Path], None]] = {
    "feedgen": write_feedgen,
    "stream": write_stream,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (3, 4) or args[0] not in WRITERS or args[3:] not in ([], ["mixed"],
                                                                             ["markdown"]):
        print("usage: python -m bench.baselines {feedgen,stream} N OUT [mixed|markdown]",
              file=sys.stderr)
        return 2
    kind, n, out = args[0], int(args[1]), Path(args[2])
    corpus = args[3] if len(args) == 4 else "mixed"
    started = time.perf_counter()
    items = entries(list(records(n, corpus=corpus)))
    generated = time.perf_counter()
    WRITERS[kind](items, out)
    finished = time.perf_counter()
    print(json.dumps({"gen_s": generated - started, "write_s": finished - generated}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
