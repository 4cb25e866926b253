"""A page per feed: ``<feed>/index.html`` beside the feed's files, so that a person who
opens a feed's link gets a readable page, not raw XML.

It shows the feed's title and description, its newest items (title, date, author, summary,
link), its subscription documents with their media types (also announced for
autodiscovery, ``<link rel="alternate">``) and the feed's URL in a field with a copy
button.  Plain HTML with a few lines of inline script for the button: without script the
field still shows the URL, selectable, and the button stays hidden.  Nothing is loaded from
anywhere.  Text is escaped like the feeds' (``pagekit.h``); article links are shown only
when they are http(s) (a ``javascript:`` link never becomes an href).  Deterministic: the
same channel and items give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from feeds.model import Channel
from feeds.publish import FORMATS, feed_url
from feeds.publish.pageitems import PageEntry
from feeds.publish.pagekit import document, h

__all__ = ["PAGE_ITEMS", "render_feed_page"]

#: how many of the newest items a feed's page shows
PAGE_ITEMS = 20
_SUMMARY = 320  # characters of an item's summary (or text) shown

# The copy button: the field's URL made absolute against the page, selected, put on the
# clipboard when the browser allows it; "Copied" (or "Selected: press Ctrl+C") says so.
_SCRIPT = """<script>
(function () {
  var button = document.getElementById("copy-button");
  var field = document.getElementById("feed-url");
  var said = document.getElementById("copy-status");
  if (!button || !field || !said) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    field.value = new URL(field.value, document.baseURI).href;
    field.focus();
    field.select();
    var done = function () { said.textContent = "Copied"; };
    var manual = function () { said.textContent = "Selected: press Ctrl+C to copy"; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        try { if (document.execCommand("copy")) { done(); return; } } catch (e) {}
        manual();
      });
    } else {
      try { if (document.execCommand("copy")) { done(); return; } } catch (e) {}
      manual();
    }
  });
}());
</script>"""


def render_feed_page(channel: Channel, items: Sequence[PageEntry], *,
                     site_title: str) -> bytes:
    """The page of one feed, from its channel and its newest ``items`` (at most
    :data:`PAGE_ITEMS` are shown)."""
    formats = [f for f in (channel.formats or tuple(FORMATS)) if f in FORMATS]
    title = channel.title or channel.name
    head = [f'<link rel="alternate" type="{FORMATS[fmt].media_type}"'
            f' href="{h(_href(channel, fmt))}" title="{h(title)} ({FORMATS[fmt].label})">'
            for fmt in formats]
    body = [f'<p><a href="../">{h(site_title)}</a></p>', f"<h1>{h(title)}</h1>"]
    if channel.description:
        body.append(f'<p class="dim">{h(channel.description)}</p>')
    if formats:
        body += ["<h2>Subscribe</h2>", '<ul class="subscribe">']
        body += [f'<li><a href="{h(_href(channel, fmt))}" type="{FORMATS[fmt].media_type}">'
                 f'{FORMATS[fmt].label}</a> <code class="dim">{FORMATS[fmt].media_type}</code>'
                 f"</li>" for fmt in formats]
        body += ["</ul>", '<div class="copy">',
                 '<label for="feed-url">Feed URL for your reader</label>',
                 f'<input id="feed-url" type="text" readonly'
                 f' value="{h(_href(channel, formats[0]))}">',
                 '<button id="copy-button" type="button" hidden>Copy</button>',
                 '<span id="copy-status" role="status"></span>', "</div>"]
    body.append("<h2>Newest items</h2>")
    shown = items[:PAGE_ITEMS]
    if not shown:
        body.append('<p class="dim">No items yet.</p>')
    else:
        body.append('<ul class="items">')
        body += [_item(item) for item in shown]
        body.append("</ul>")
    if formats:
        body.append(_SCRIPT)
    return document(f"{title} · {site_title}", body, head=head, language=channel.language)


def _href(channel: Channel, fmt: str) -> str:
    """A format's document: absolute with ``base_url``, else beside the page."""
    return feed_url(channel, fmt) or FORMATS[fmt].file_name


def _item(entry: PageEntry) -> str:
    title = h(entry.title or "(untitled)")
    link = entry.link if _safe_link(entry.link) else None
    heading = f'<a href="{h(link or "")}">{title}</a>' if link else title
    meta = []
    if entry.published is not None:
        when = entry.published.astimezone(UTC)
        meta.append(f'<time datetime="{when.isoformat().replace("+00:00", "Z")}">'
                    f"{when:%Y-%m-%d %H:%M} UTC</time>")
    if entry.authors:
        meta.append(h(entry.authors))
    lines = [f"<li><h3>{heading}</h3>"]
    if meta:
        lines.append(f'<p class="dim">{" · ".join(meta)}</p>')
    bullets = [b[1:].strip() for b in entry.summary.split("\n") if b.startswith("•")]
    if bullets and len(bullets) == len(entry.summary.split("\n")):
        lines.append("<ul>" + "".join(f"<li>{h(b)}</li>" for b in bullets) + "</ul>")
    elif entry.summary:
        lines.append(f"<p>{h(_shorten(entry.summary))}</p>")
    lines.append("</li>")
    return "\n".join(lines)


def _safe_link(link: str | None) -> bool:
    return bool(link) and str(link).lower().startswith(("https://", "http://"))


def _shorten(text: str) -> str:
    flat = " ".join(text.split())  # (the feeds' summaries keep their line breaks)
    if len(flat) <= _SUMMARY:
        return flat
    cut = flat[:_SUMMARY].rsplit(" ", 1)[0]
    return cut + "…"
