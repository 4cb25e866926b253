"""The status page: ``/status`` of ``feeds run``, and ``status.html`` in the output when
``[output] status_page = true`` asks for it (it shows every source's URL or path).

Rendered from the document of ``feeds status --json`` (``docs/status.schema.json``), on the
server: plain HTML, no script, no external asset, tables that scroll sideways on a phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feeds.publish.pagekit import document, h

__all__ = ["render_status_html"]


def render_status_html(doc: Mapping[str, Any], *, site_title: str,
                       health: str | None = None) -> bytes:
    """The page for ``doc``.  ``health``: the daemon's health line (``/status``), left out
    of the written file (which changes only when a source or a feed does)."""
    body = [f"<h1>{h(site_title)}: status</h1>"]
    if health is not None:
        good = health == "ok"
        body.append(f'<p>Health: <strong class="{"good" if good else "bad"}">{h(health)}'
                    f'</strong> <span class="dim">as of {_time(doc.get("generated"))}</span></p>')
    body += ['<p><a href="./">All feeds</a></p>', "<h2>Sources</h2>", '<div class="wide">',
             "<table>", "<thead><tr><th>Source</th><th>Kind</th><th>Health</th>"
             "<th>Last fetch</th><th>HTTP</th><th>Articles</th><th>Next due</th>"
             "<th>Last error</th></tr></thead>", "<tbody>"]
    body += [_source_row(source) for source in doc.get("sources", [])]
    body += ["</tbody>", "</table>", "</div>"]
    errors = doc.get("errors", [])
    if errors:
        body.append("<ul>" + "".join(f'<li class="bad">{h(e["source"])}: {h(e["reason"])}</li>'
                                     for e in errors) + "</ul>")
    body += ["<h2>Feeds</h2>", '<div class="wide">', "<table>",
             "<thead><tr><th>Feed</th><th>Items</th><th>Last change</th><th>Files</th></tr>"
             "</thead>", "<tbody>"]
    body += [_feed_row(feed) for feed in doc.get("feeds", [])]
    body += ["</tbody>", "</table>", "</div>"]
    return document(f"{site_title}: status", body)


def _source_row(s: Mapping[str, Any]) -> str:
    where = s.get("url") or s.get("path") or ""
    if s.get("gone"):
        health = '<span class="bad">gone</span>'
    elif s.get("errors"):
        health = f'<span class="bad">{int(s["errors"])} errors</span>'
    else:
        health = '<span class="good">ok</span>'
    if s.get("remote"):
        due = "never" if s.get("gone") else (_time(s.get("next_due")) if s.get("next_due")
                                             else "now")
        fetched = _time(s.get("last_fetch")) if s.get("last_fetch") else "never"
    else:
        due = "on change"
        fetched = "scanned" if s.get("scanned") else "not scanned yet"
    status = "" if s.get("http_status") is None else str(int(s["http_status"]))
    cells = [f'{h(s["name"])}<br><code class="dim">{h(where)}</code>', h(s.get("kind", "")),
             health, fetched, status, str(int(s.get("articles") or 0)), due,
             h(s.get("last_error") or "")]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _feed_row(f: Mapping[str, Any]) -> str:
    name = h(f["name"])
    files = " ".join(f'<a href="{name}/{h(file["name"])}" type="{h(file["media_type"])}">'
                     f'{h(file["format"])}</a>' for file in f.get("files", []))
    items = "-" if f.get("items") is None else str(int(f["items"]))
    change = _time(f.get("last_change")) if f.get("last_change") else "never"
    return (f'<tr><td><a href="{name}/">{h(f.get("title") or f["name"])}</a></td>'
            f"<td>{items}</td><td>{change}</td><td>{files}</td></tr>")


def _time(stamp: object) -> str:
    """An ISO 8601 UTC time as ``<time>``, to the minute."""
    if not isinstance(stamp, str):
        return ""
    shown = stamp[:16].replace("T", " ") + " UTC"
    return f'<time datetime="{h(stamp)}">{h(shown)}</time>'
