"""The offline checker (tests/validator.py) itself: a clean document has no finding, and
each rule catches the document made to break it, so the checker can fail."""

from __future__ import annotations

import json

import pytest

from tests.validator import check, language_ok

ITEM = ("<item><title>A title</title><link>https://example.org/a</link>"
        "<description>&lt;p&gt;Text&lt;/p&gt;</description>"
        '<guid isPermaLink="false">urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90</guid>'
        "<pubDate>Thu, 02 May 2024 08:00:00 +0000</pubDate></item>")
CHANNEL = ("<title>News</title><link>https://example.org/</link><description>All</description>"
           '<atom:link href="https://example.org/rss.xml" rel="self" '
           'type="application/rss+xml"/><language>en</language>'
           "<lastBuildDate>Fri, 03 May 2024 09:30:15 +0000</lastBuildDate>")


def rss(item: str = ITEM, channel: str = CHANNEL) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
            f"{channel}\n{item}\n</channel>\n</rss>\n").encode()


ENTRY = ("<entry><id>urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90</id><title>A title</title>"
         "<updated>2024-05-03T09:30:15+00:00</updated>"
         '<content type="html">&lt;p&gt;Text&lt;/p&gt;</content></entry>')
FEED = ('<id>https://example.org/atom.xml</id><title>News</title>'
        "<updated>2024-05-03T09:30:15+00:00</updated><author><name>Ann</name></author>"
        '<link href="https://example.org/atom.xml" rel="self"/>')


def atom(entry: str = ENTRY, feed: str = FEED, lang: str = "en") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            f'xml:lang="{lang}">\n{feed}\n{entry}\n</feed>\n').encode()


def rules(fmt: str, data: bytes) -> set[str]:
    return {finding.rule for finding in check(fmt, data)}


def test_clean_documents_have_no_finding() -> None:
    assert check("rss", rss()) == []
    assert check("atom", atom()) == []
    assert check("json", json.dumps(JSON).encode()) == []


def sub(doc: str, old: str, new: str) -> str:
    assert old in doc
    return doc.replace(old, new)


RSS_CASES = [
    # the five of the issue
    ("InvalidLanguage", rss(channel=sub(CHANNEL, "<language>en</language>",
                                        "<language>pcm</language>"))),
    ("DuplicateItemSemantics", rss(sub(ITEM, "</pubDate>", "</pubDate><author>a@b.example "
                                       "(A)</author><dc:creator>A</dc:creator>"))),
    ("NotBlank", rss(sub(ITEM, "<title>A title</title>", "<title/>"))),
    ("CharacterData", rss(sub(ITEM, "A title", "Use &lt;b&gt; for bold"))),
    ("CharacterData", rss(sub(ITEM, "A title", "a &lt;/ b"))),
    ("CharacterData", rss(channel=sub(CHANNEL, "<description>All",
                                      "<description>Use &lt;em&gt;"))),
    # the rest
    ("ContainsHTML", rss(sub(ITEM, "A title", "Bold &lt;/b&gt;"))),
    ("ContainsHTML", rss(sub(ITEM, "A title", "Fish &amp;amp; chips"))),
    ("MissingTitle", rss(channel=sub(CHANNEL, "<title>News</title>", ""))),
    ("MissingLink", rss(channel=sub(CHANNEL, "<link>https://example.org/</link>", ""))),
    ("MissingDescription", rss(channel=sub(CHANNEL, "<description>All</description>", ""))),
    ("MissingAtomSelfLink", rss(channel=sub(CHANNEL, 'rel="self"', 'rel="hub"'))),
    ("DuplicateElement", rss(channel=CHANNEL + "<title>Again</title>")),
    ("InvalidRFC2822Date", rss(sub(ITEM, "Thu, 02 May 2024 08:00:00 +0000",
                                   "2024-05-02T08:00:00Z"))),
    ("IncorrectDOW", rss(sub(ITEM, "Thu, 02 May", "Fri, 02 May"))),
    ("InvalidRFC2822Date", rss(channel=sub(CHANNEL, "+0000", "+0005"))),
    ("ItemMustContainTitleOrDescription", rss(sub(sub(ITEM, "<title>A title</title>", ""),
                                                  "<description>&lt;p&gt;Text&lt;/p&gt;"
                                                  "</description>", ""))),
    ("MissingGuid", rss(sub(ITEM, '<guid isPermaLink="false">urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d'
                                  "-2a6f8e4b7c90</guid>", ""))),
    ("InvalidPermalink", rss(sub(ITEM, ' isPermaLink="false"', ""))),
    ("InvalidHttpGUID", rss(sub(ITEM, 'isPermaLink="false">urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-'
                                "2a6f8e4b7c90", 'isPermaLink="true">/relative/path'))),
    ("NotSufficientlyUnique", rss(sub(ITEM, "urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90",
                                      "42"))),
    ("InvalidBooleanAttribute", rss(sub(ITEM, 'isPermaLink="false"', 'isPermaLink="no"'))),
    ("DuplicateValue", rss(ITEM + ITEM)),
    ("MissingRealName", rss(sub(ITEM, "</pubDate>", "</pubDate><author>a@b.example</author>"))),
    ("InvalidContact", rss(sub(ITEM, "</pubDate>", "</pubDate><author>Ann</author>"))),
    ("NeedDescriptionBeforeContent", rss(sub(ITEM, "<description>&lt;p&gt;Text&lt;/p&gt;"
                                             "</description>", "<content:encoded>x"
                                             "</content:encoded><description>x</description>"))),
    ("DuplicateEnclosure", rss(sub(ITEM, "</pubDate>", "</pubDate>" + 2 * (
        '<enclosure url="https://e.example/a.mp3" length="1" type="audio/mpeg"/>')))),
    ("MissingAttribute", rss(sub(ITEM, "</pubDate>", '</pubDate><enclosure url="https://e.'
                                 'example/a.mp3" type="audio/mpeg"/>'))),
    ("InvalidMIMEAttribute", rss(sub(ITEM, "</pubDate>", '</pubDate><enclosure url="https://e.'
                                     'example/a.mp3" length="1" type="audio"/>'))),
    ("MissingAttribute", rss(sub(ITEM, "</pubDate>", "</pubDate><source>Elsewhere</source>"))),
    ("InvalidURLAttribute", rss(sub(ITEM, "</pubDate>", '</pubDate><enclosure url="https://e.'
                                    'example/a b.mp3" length="1" type="audio/mpeg"/>'))),
    ("NotBlank", rss(sub(ITEM, "</pubDate>", "</pubDate><category> </category>"))),
    ("InvalidFullLink", rss(sub(ITEM, "https://example.org/a", "/a"))),
    ("ContainsRelRef", rss(sub(ITEM, "&lt;p&gt;Text", '&lt;a href="/x"&gt;Text&lt;/a'))),
    ("SecurityRisk", rss(sub(ITEM, "&lt;p&gt;Text", "&lt;script&gt;x&lt;/script"))),
    ("InvalidLanguage", rss(sub(ITEM, "<item>", '<item xml:lang="english">'))),
    ("InvalidRSSVersion", rss().replace(b'version="2.0"', b'version="0.92"')),
]


@pytest.mark.parametrize(("rule", "data"), RSS_CASES,
                         ids=[f"{rule}-{i}" for i, (rule, _d) in enumerate(RSS_CASES)])
def test_each_rss_rule_catches_its_bad_document(rule: str, data: bytes) -> None:
    assert rule in rules("rss", data), check("rss", data)


def test_character_references_on_the_line_are_what_the_rss_profile_asks_for() -> None:
    assert rules("rss", rss(sub(ITEM, "A title", "Use &#x3C;b&gt; for &#x26;amp;"))) == set()
    # as the validator: "&" before a space, "<" before a digit, "R&D" are no markup
    assert rules("rss", rss(sub(ITEM, "A title", "Fish &amp; chips &lt;3 R&amp;D"))) == set()
    assert rules("rss", rss(sub(ITEM, "A title", "R&amp;D &lt;em&gt;"))) == set()


ATOM_CASES = [
    ("InvalidLanguage", atom(lang="pcm")),
    ("InvalidLanguage", atom(sub(ENTRY, "<entry>", '<entry xml:lang="english">'))),
    ("MissingSourceElement", atom(sub(ENTRY, "</content>", "</content><source><id>https://o."
                                      "example/f</id><title>O</title></source>"))),
    ("NotBlank", atom(sub(ENTRY, "<title>A title</title>", "<title></title>"))),
    ("NotBlank", atom(sub(ENTRY, '<content type="html">&lt;p&gt;Text&lt;/p&gt;</content>',
                          '<content type="text"/>'))),
    ("MissingElement", atom(sub(ENTRY, "<title>A title</title>", ""))),
    ("MissingElement", atom(sub(ENTRY, "<updated>2024-05-03T09:30:15+00:00</updated>", ""))),
    ("MissingElement", atom(feed=sub(FEED, "<author><name>Ann</name></author>", ""))),
    ("MissingElement", atom(feed=sub(FEED, "<id>https://example.org/atom.xml</id>", ""))),
    ("MissingSelf", atom(feed=sub(FEED, 'rel="self"', 'rel="alternate"'))),
    ("InvalidRFC3339Date", atom(sub(ENTRY, "2024-05-03T09:30:15+00:00",
                                    "Fri, 03 May 2024 09:30:15 +0000"))),
    ("InvalidRFC3339Date", atom(sub(ENTRY, "2024-05-03T09:30:15+00:00",
                                    "2024-02-30T09:30:15Z"))),
    ("InvalidUUID", atom(sub(ENTRY, "3f2b8c1e-5d7a", "3f2b8c1e-5d7"))),
    ("InvalidFullLink", atom(sub(ENTRY, "urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90",
                                 "posts/one"))),
    ("NonCanonicalURI", atom(sub(ENTRY, "urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90",
                                 "HTTP://Example.org:80/a"))),
    ("DuplicateEntries", atom(ENTRY + ENTRY)),
    ("MissingContentOrAlternate", atom(sub(ENTRY, '<content type="html">&lt;p&gt;Text&lt;/p&gt;'
                                                  "</content>", "<summary>S</summary>"))),
    ("MissingTextualContent", atom(sub(ENTRY, '<content type="html">&lt;p&gt;Text&lt;/p&gt;'
                                              "</content>", '<link href="https://e.example/"/>'))),
    ("UndefinedElement", atom(sub(ENTRY, "&lt;p&gt;Text&lt;/p&gt;", "<p>Text</p>"))),
    ("ContainsUndeclaredHTML", atom(sub(ENTRY, "A title", "Bold &lt;/b&gt;"))),
    ("ContainsUndeclaredHTML", atom(sub(ENTRY, "A title", "Fish &amp;amp; chips"))),
    ("InvalidTextType", atom(sub(ENTRY, 'type="html"', 'type="markdown"'))),
    ("DuplicateAtomLink", atom(sub(ENTRY, "</content>", '</content><link href="https://e.'
                                   'example/1"/><link href="https://e.example/2"/>'))),
    ("MissingHref", atom(sub(ENTRY, "</content>", '</content><link rel="alternate"/>'))),
    ("InvalidUriChar", atom(sub(ENTRY, "</content>", '</content><link href="https://e.'
                                'example/a^b"/>'))),
    ("InvalidMIMEType", atom(sub(ENTRY, "</content>", '</content><link rel="enclosure" '
                                 'href="https://e.example/a.mp3" type="audio"/>'))),
    ("InvalidAddrSpec", atom(feed=sub(FEED, "<name>Ann</name>",
                                      "<name>Ann</name><email>ann at example</email>"))),
    ("ContainsRelRef", atom(sub(ENTRY, "&lt;p&gt;Text", '&lt;img src="pic.png"&gt;Text'))),
    ("DuplicateElement", atom(sub(ENTRY, "<title>A title</title>", 2 * "<title>T</title>"))),
]


@pytest.mark.parametrize(("rule", "data"), ATOM_CASES,
                         ids=[f"{rule}-{i}" for i, (rule, _d) in enumerate(ATOM_CASES)])
def test_each_atom_rule_catches_its_bad_document(rule: str, data: bytes) -> None:
    assert rule in rules("atom", data), check("atom", data)


JSON = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "News",
    "home_page_url": "https://example.org/",
    "feed_url": "https://example.org/feed.json",
    "language": "en",
    "authors": [{"name": "Ann"}],
    "items": [{
        "id": "urn:uuid:3f2b8c1e-5d7a-4e0b-9c1d-2a6f8e4b7c90",
        "title": "A title",
        "content_text": "",
        "date_published": "2024-05-03T09:30:15+00:00",
        "tags": ["x"],
        "attachments": [{"url": "https://e.example/a.mp3", "mime_type": "audio/mpeg",
                         "size_in_bytes": 1}],
    }],
}


def broken(path: str, value: object) -> bytes:
    """JSON with ``path`` (dotted, "-" deletes) set to ``value``."""
    feed = json.loads(json.dumps(JSON))
    *parents, last = path.split(".")
    node = feed
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value == "-":
        del node[last]
    else:
        node[last] = value
    return json.dumps(feed).encode()


JSON_CASES = [
    ("InvalidVersion", broken("version", "https://jsonfeed.org/version/1")),
    ("MissingTitle", broken("title", "-")),
    ("MissingItems", broken("items", "-")),
    ("MissingId", broken("items.0.id", "")),
    ("MissingContent", broken("items.0.content_text", "-")),
    ("InvalidRFC3339Date", broken("items.0.date_published", "2024-05-03")),
    ("InvalidLanguage", broken("items.0.language", "pcm")),
    ("InvalidURL", broken("feed_url", "feed.json")),
    ("InvalidAuthor", broken("authors", [{"email": "a@b.example"}])),
    ("MissingMimeType", broken("items.0.attachments.0.mime_type", "-")),
    ("InvalidTags", broken("items.0.tags", "x")),
    ("NotJson", b"{"),
]


@pytest.mark.parametrize(("rule", "data"), JSON_CASES,
                         ids=[f"{rule}-{i}" for i, (rule, _d) in enumerate(JSON_CASES)])
def test_each_json_feed_rule_catches_its_bad_document(rule: str, data: bytes) -> None:
    assert rule in rules("json", data), check("json", data)


def test_duplicate_json_ids_are_caught() -> None:
    feed = json.loads(json.dumps(JSON))
    feed["items"].append(feed["items"][0])
    assert "DuplicateId" in rules("json", json.dumps(feed).encode())


def test_languages_are_judged_by_their_primary_subtag() -> None:
    assert language_ok("en") and language_ok("EN-gb") and language_ok("zh-Hant-TW")
    assert language_ok("fil")  # an ISO 639-2 code the validator lists
    assert not language_ok("pcm") and not language_ok("english") and not language_ok("")
