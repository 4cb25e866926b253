"""The golden input: a fixed channel and items covering every field the writers use.

Fixed datetimes (some with microseconds, some not in UTC), unicode (emoji, RTL, combining
marks), hostile text (``<``, ``&``, quotes, a ``]]>``, characters XML forbids), several
authors, tags, two enclosures, an origin, a permalink id and a non-URL id.
Items are newest first, as the pipeline hands them over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from feeds.model import Article, Author, Channel, Enclosure, Item, Origin

CHANNEL = Channel(
    name="all",
    title='News & "Notes" <All>',
    description="Everything, in one feed — כל הדברים",
    home_url="https://example.org/",
    base_url="https://feeds.example.org",
    language="en",
    author=Author(name="Site Owner", email="owner@example.org", url="https://example.org/about"),
    hub="https://hub.example.org/",
)

# No base_url, no home_url, no author, no description, no hub: every fallback at once.
MINIMAL_CHANNEL = Channel(name="bare", title="Bare")

CEST = timezone(timedelta(hours=2))


def article(**fields: object) -> Article:
    base: dict[str, object] = {"source": "test", "key": "k", "title": "Untitled"}
    base.update(fields)
    return Article(**base)  # type: ignore[arg-type]


def item(
    id: str,
    *,
    updated: datetime,
    first_seen: datetime | None = None,
    **fields: object,
) -> Item:
    return Item(
        id=id,
        article=article(**fields),
        first_seen=first_seen or updated,
        updated=updated,
    )


ITEMS: tuple[Item, ...] = (
    item(
        "urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90",
        updated=datetime(2024, 5, 3, 9, 30, 15, 123456, tzinfo=UTC),
        first_seen=datetime(2024, 5, 2, 8, 0, tzinfo=UTC),
        key="posts/one.md",
        title="Tom & Jerry <script>alert(\"x\")</script> 'quoted' 🎉 שלום עולם e\u0301\x01",
        content_html=(
            '<p>Full <b>content</b> &amp; a <a href="https://example.org/x?a=1&amp;b=2">link</a>'
            "]]> 🎉 مرحبا\x0b</p>"
        ),
        body="Full content & a link ]]> 🎉 مرحبا",
        summary="A plain summary that the bullets win over.",
        summary_bullets=("First <point> & more", "Second: “quoted”"),
        published=datetime(2024, 5, 2, 10, 0, tzinfo=CEST),
        authors=(
            Author(name="Ada Lovelace", email="ada@example.org", url="https://ada.example.org/"),
            Author(name="Bob <The Builder>"),
        ),
        tags=("python", "feeds & syndication", "עברית"),
        link="https://example.org/posts/one",
        image="https://example.org/img/one.png?w=1&h=2",
        caption='A "photo" & its <caption>. (Photo: Ann & Co)',
        credit="Photo: Ann & Co",
        language="en",
        enclosures=(
            Enclosure(url="https://example.org/media/one.mp3", type="audio/mpeg", length=123456),
            Enclosure(url="https://example.org/media/one.pdf?x=1&y=2", type="application/pdf"),
        ),
    ),
    item(
        "https://example.org/posts/two",
        updated=datetime(2024, 4, 20, 12, 0, tzinfo=UTC),
        key="posts/two.md",
        title="Ein Beitrag auf Deutsch",
        content_html="<p>Hallo &lt;Welt&gt;</p>",
        summary="a < b && c > d",
        published=datetime(2024, 4, 20, 11, 0, tzinfo=UTC),
        link="https://example.org/posts/two",
        language="de",
    ),
    item(
        "tag:example.org,2024:remote/42",
        updated=datetime(2024, 4, 1, 0, 0, 1, tzinfo=UTC),
        first_seen=datetime(2024, 3, 31, 23, 59, 59, 999999, tzinfo=UTC),
        key="https://elsewhere.example.net/entry/42",
        title="Republished from elsewhere",
        body="Only plain text here.",
        origin=Origin(
            feed_url="https://elsewhere.example.net/feed.xml",
            title="Elsewhere & Co",
            link="https://elsewhere.example.net/",
        ),
    ),
)
