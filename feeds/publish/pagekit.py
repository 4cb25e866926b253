"""What the HTML pages beside the feeds share: escaping, one small inline style sheet
(readable on a phone, light or dark as the reader's system is), and the document frame.

The pages load nothing from anywhere: no external style sheet, font, image or script (the
feed pages' one script is inline).  Text is escaped with :func:`h`, which also drops the
characters XML 1.0 forbids (as the feeds do); HTML from articles goes through the feeds'
sanitizer before it reaches a page (:func:`feeds.publish.feedpage.render_feed_page`).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from feeds.text import xml_legal

__all__ = ["STYLE", "document", "h"]

STYLE = """
:root { color-scheme: light dark; --line: #8884; --dim: #7a7a7a; }
body { font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 48rem; padding: 1rem; overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; line-height: 1.2; margin: .5rem 0; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
a { color: LinkText; }
.dim, time { color: var(--dim); }
ul.items { list-style: none; padding: 0; }
ul.items > li { border-top: 1px solid var(--line); padding: .75rem 0; }
ul.items h3 { font-size: 1.05rem; margin: 0 0 .25rem; }
.subscribe { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; list-style: none; }
.subscribe li { border: 1px solid var(--line); border-radius: .4rem; padding: .4rem .6rem; }
.copy { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
.copy input { flex: 1 1 16rem; font: inherit; padding: .3rem; min-width: 0; }
.copy button { font: inherit; padding: .3rem .8rem; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
         vertical-align: top; overflow-wrap: normal; }
th { white-space: nowrap; }
td code { display: inline-block; min-width: 10rem; overflow-wrap: anywhere; }
.bad { color: #c0392b; font-weight: bold; }
.good { color: #2e8b57; }
""".strip()


def h(text: str) -> str:
    """``text`` for an HTML text node or quoted attribute value."""
    return escape(xml_legal(text), quote=True)


def document(title: str, body: Iterable[str], *, head: Iterable[str] = (),
             language: str | None = None) -> bytes:
    """A whole HTML5 page: ``title`` (raw text), ``head`` and ``body`` (HTML lines)."""
    lang = f' lang="{h(language)}"' if language else ""
    lines = [
        "<!DOCTYPE html>",
        f"<html{lang}>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title)}</title>",
        *head,
        f"<style>\n{STYLE}\n</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
