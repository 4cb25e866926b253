"""An offline feed checker for the tests: the rules of the W3C Feed Validator that our output
can break, written anew (no code of the validator is used).

``check(fmt, data)`` returns the findings in an RSS 2.0, Atom 1.0 or JSON Feed 1.1
document; a test wants none.  Each finding names the validator's message it stands for
(``rule``), where in the document it is and what was seen, so a failing test reads like
the validator's report.  The rules, per format:

RSS 2.0 (the RSS Advisory Board's profile, as the validator applies it)
  channel: title (not blank), link and description present, at most one of each;
  ``atom:link rel="self"`` (MissingAtomSelfLink); ``language`` an ISO 639 code; dates in
  RFC 822 as RFC 2822 writes them (day name right, numeric zone); managingEditor
  ``address (Name)``.
  item: a title or a description; a title is not blank; a guid, unique, and
  ``isPermaLink`` (true unless it says false) only on a URL that is not ``tag:`` or
  ``urn:uuid:``; a link a full URI; not both ``author`` and ``dc:creator``
  (DuplicateItemSemantics), nor ``pubDate`` and ``dc:date``, nor ``category`` and
  ``dc:subject``; ``author`` as ``address (Name)``; ``content:encoded`` after a
  ``description``; an enclosure with an http(s) URI, a length and a media type, at most
  one; ``source`` with a ``url``.
  Plain-text elements (titles, channel description, category, source, author): no HTML
  end tag, no entity or character reference in the decoded text (ContainsHTML), and no
  ``<`` before a letter or ``/`` nor ``&#`` unless the line writes a ``&#x`` character
  reference (CharacterData: the profile wants ``&`` and ``<`` as ``&#x26;`` ``&#x3C;``).
Atom 1.0 (RFC 4287)
  feed and entry: id (an IRI, canonical, unique per entry), title, updated (RFC 3339);
  the feed's self link; an author on the feed or on every entry; an entry has content
  or an alternate link, and content or a summary; ``source`` has id, title and updated
  (MissingSourceElement); text constructs are not blank (NotBlank), of type text, html
  or xhtml, with no child elements unless xhtml, and a ``text`` one holds no markup
  (ContainsUndeclaredHTML); at most one alternate link per type and hreflang; link hrefs
  are IRIs and link types media types; an author has a name and an addr-spec e-mail.
Both XML formats
  every ``xml:lang`` a known language code (InvalidLanguage); no relative URL in HTML
  (ContainsRelRef); no script-like element in HTML (SecurityRisk).
JSON Feed 1.1
  version, title and items; per item a unique non-empty string id, ``content_html`` or
  ``content_text``, RFC 3339 dates, authors with a name, url or avatar, attachments with
  url and mime_type, and a known language.
"""

from __future__ import annotations

import calendar
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_tz
from html import entities
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

__all__ = ["Finding", "check", "language_ok"]

ATOM = "http://www.w3.org/2005/Atom"
A = f"{{{ATOM}}}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class Finding:
    rule: str  # the W3C Feed Validator's message this stands for
    where: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.rule} at {self.where}" + (f": {self.detail}" if self.detail else "")


def check(fmt: str, data: bytes) -> list[Finding]:
    """The findings in ``data``, an ``fmt`` ("rss", "atom" or "json") document."""
    if fmt == "json":
        return _Json().run(data)
    return (_Rss if fmt == "rss" else _Atom)(data).run()


# ---------------------------------------------------------------------------- languages

def _words(text: str) -> list[str]:
    return text.split()


# Language codes the validator knows: ISO 639-1, a few user-defined forms, and the
# ISO 639-2 codes of languages we could plausibly be given.  A tag is judged by its
# primary subtag, case-insensitively ("en-GB", "EN" are fine).
_TWO_LETTER = set(_words("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng
nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si
sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur
uz ve vi vo wa wo xh yi yo za zh zu x xx
"""))
_THREE_LETTER = set(_words("""
ace ara ast ben cat ces chi crh cym dan deu dut ell eng epo est eus fas fil fin fra fre
ger gle glg grc heb hin hrv hun hye ind isl ita jpn kab kat kik kor lat lav lit ltz mkd
msa nds nld nno nob nor nso oci pol por ron rus slk slv spa sqi srp swe tam tur ukr urd
vie zho
"""))


def language_ok(tag: str) -> bool:
    """Whether the validator accepts ``tag`` as a language (by its primary subtag)."""
    primary = tag.split("-", 1)[0].lower()
    return primary in _TWO_LETTER or primary in _THREE_LETTER


# -------------------------------------------------------------------------------- dates

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC2822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d\d?) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
    r"|Nov|Dec) (\d{4}) (\d\d):(\d\d)(?::(\d\d))? ([+-]\d\d[03]0|UT|GMT|[ECMP][SD]T|Z)$")
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def rfc822_problem(value: str) -> str | None:
    """Why ``value`` is not a date as RSS wants it (RFC 2822 form), or None."""
    match = _RFC2822.match(value)
    if not match:
        return "InvalidRFC2822Date"
    if parsedate_tz(value) is None:
        return "InvalidRFC2822Date"
    day, month, year = int(match[2]), _MONTHS.index(match[3]) + 1, int(match[4])
    try:
        weekday = date(year, month, day).weekday()
    except ValueError:
        return "InvalidRFC2822Date"
    if match[1] and match[1] != _DAYS[weekday]:
        return "IncorrectDOW"
    if int(match[5]) > 23 or int(match[6]) > 59 or int(match[7] or 0) > 60:
        return "InvalidRFC2822Date"
    return None


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc3339_ok(value: str) -> bool:
    match = _RFC3339.match(value)
    if not match:
        return False
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    return int(match[4]) <= 23 and int(match[5]) <= 59 and int(match[6]) <= 60


# --------------------------------------------------------------------------------- URIs

_URI_CHARS = re.compile(r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#\[\]]*$")
_UUID_URN = re.compile(r"urn:uuid:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$", re.I)
_URN = re.compile(r"urn:[a-zA-Z0-9][a-zA-Z0-9-]{1,31}:([a-zA-Z0-9()+,.:=@;$_!*'\-]"
                  r"|%[0-9A-Fa-f]{2})+$", re.I)
_TAG = re.compile(r"tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d\d(-\d\d)?)?:[^\s#]*(#\S*)?$")
_SCHEMES = {"http", "https", "ftp", "mailto", "urn", "tag", "data", "file", "news", "nntp",
            "tel", "info", "dns", "gopher", "telnet", "ldap", "sip", "xmpp", "im"}


def iri_problem(value: str, *, full: bool = True) -> str | None:
    """Why ``value`` is not an absolute IRI the validator accepts, or None."""
    ascii_part = "".join(c for c in value if ord(c) < 128)
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if not value or any(c.isspace() for c in value):
        return "InvalidIRI"
    if scheme == "urn":
        if value.lower().startswith("urn:uuid:"):
            return None if _UUID_URN.match(value) else "InvalidUUID"
        return None if _URN.match(value) else "InvalidURN"
    if scheme == "tag":
        return None if _TAG.match(value) else "InvalidTAG"
    if not _URI_CHARS.match(ascii_part):
        return "InvalidUriChar"
    if full and not re.match(r"[a-zA-Z][0-9a-zA-Z+\-.]*:", value):
        return "InvalidFullLink"
    if scheme in ("http", "https", "ftp") and not re.match(r"\w+://[^/]", value):
        return "InvalidFullLink"
    if scheme and scheme.isalpha() and scheme not in _SCHEMES:
        return "SchemeNotIANARegistered"
    return None


def canonical_problem(value: str) -> str | None:
    """Why an http(s) id is not in canonical form (lower-case scheme and host, no default
    port, a path, upper-case percent escapes of reserved characters only), or None."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        return None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    try:
        port = parts.port
    except ValueError:
        return "invalid port"
    problems = [
        parts.scheme != parts.scheme.lower() and "upper-case scheme",
        (parts.hostname or "") != (parts.netloc.rsplit("@", 1)[-1].split(":")[0]).lower()
        and "upper-case host",
        port == default and "default port",
        not parts.path and "empty path",
        any(e != e.upper() for e in re.findall(r"%[0-9a-fA-F]{2}", value))
        and "lower-case percent escape",
        any(re.fullmatch(r"[A-Za-z0-9\-._~]", chr(int(e[1:], 16)))
            for e in re.findall(r"%[0-9a-fA-F]{2}", value)) and "escaped unreserved character",
    ]
    found = [p for p in problems if p]
    return ", ".join(found) if found else None


_MIME = re.compile(r'[^\s()<>,;:\\"/\[\]?=]+/[^\s()<>,;:\\"/\[\]?=]+$')
_ADDR_SPEC = re.compile(r"[A-Z0-9_\-+.']+@([A-Z0-9\-]+\.)+[A-Z0-9][-A-Z0-9]*$", re.I)


# --------------------------------------------------------------------------------- HTML

_RISKY = {"script", "style", "iframe", "object", "embed", "applet", "frame", "frameset",
          "meta", "link", "base", "param", "noframes"}


class _HtmlScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.relative: list[str] = []
        self.risky: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _RISKY:
            self.risky.append(tag)
        for name, value in attrs:
            if (tag, name) in (("a", "href"), ("img", "src")) and value is not None:
                ref = value.strip()
                if ref and not re.match(r"\w+:", ref):
                    self.relative.append(ref)
            if name.startswith("on"):
                self.risky.append(f"{tag} {name}")


def html_findings(html_text: str, where: str) -> list[Finding]:
    scan = _HtmlScan()
    scan.feed(html_text)
    scan.close()
    out = [Finding("ContainsRelRef", where, ref) for ref in scan.relative[:1]]
    out += [Finding("SecurityRisk", where, tag) for tag in scan.risky[:1]]
    return out


_END_TAG = re.compile(r"</(\w+)>")
_ENTITY = re.compile(r"&(#?\w+)")
_HTML_TAGS = {"a", "abbr", "b", "br", "blockquote", "code", "div", "em", "font", "h1", "h2",
              "h3", "h4", "h5", "h6", "i", "img", "li", "ol", "p", "pre", "q", "s", "small",
              "span", "strong", "sub", "sup", "table", "td", "th", "tr", "u", "ul", "script",
              "style", "iframe", "title", "body", "html", "head", "figure", "figcaption"}


def markup_in_text(value: str, *, hex_refs: bool, rss: bool) -> tuple[str, str] | None:
    """(rule, what) when ``value``, the decoded text of a plain-text element, reads as
    markup, in the validator's order: an HTML end tag; else, when an ``&name`` is in the
    text at all, an entity or character reference among them (unless the element's lines
    write ``&#x`` references); else, in RSS only, ``<`` before a letter or ``/`` or ``&#``
    (CharacterData, unless the lines write ``&#x`` references).  ``hex_refs``: whether they
    do."""
    html_rule = "ContainsHTML" if rss else "ContainsUndeclaredHTML"
    tags = [t for t in _END_TAG.findall(value) if t.lower() in _HTML_TAGS]
    if tags:
        return html_rule, f"</{tags[0]}>"
    names = _ENTITY.findall(value)
    if names:
        for name in names:
            if (name in entities.name2codepoint or name == "apos" or not name.isalpha()) \
                    and not hex_refs:
                return html_rule, f"&{name};"
        return None
    if rss and re.search(r"&#[x0-9]|<[/a-zA-Z]", value) and not hex_refs:
        return "CharacterData", value[:60]
    return None


# ---------------------------------------------------------------------------------- XML

class _Xml:
    def __init__(self, data: bytes) -> None:
        self.findings: list[Finding] = []
        self.lines = data.decode("utf-8", "replace").split("\n")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        self.root = etree.fromstring(data, parser)

    def add(self, rule: str, where: str, detail: str = "") -> None:
        self.findings.append(Finding(rule, where, detail))

    def hex_refs_on_lines(self, elem: Any) -> bool:
        """Whether the source lines of ``elem``'s text write a ``&#x`` reference."""
        first = (elem.sourceline or 1) - 1
        last = first + (elem.text or "").count("\n")
        return any("&#x" in line for line in self.lines[first:last + 1])

    def languages(self) -> None:
        for elem in self.root.iter():
            tag = elem.get(XML_LANG)
            if tag is not None and not language_ok(tag):
                self.add("InvalidLanguage", self.path(elem), f"xml:lang={tag!r}")

    def path(self, elem: Any) -> str:
        names = []
        while elem is not None:
            name = etree.QName(elem).localname
            parent = elem.getparent()
            if parent is not None:
                same = [c for c in parent if c.tag == elem.tag]
                if len(same) > 1:
                    name += f"[{same.index(elem) + 1}]"
            names.append(name)
            elem = parent
        return "/".join(reversed(names))

    def once(self, parent: Any, tags: tuple[str, ...]) -> None:
        counts = Counter(child.tag for child in parent)
        for tag in tags:
            if counts[tag] > 1:
                self.add("DuplicateElement", self.path(parent), tag)


class _Rss(_Xml):
    def run(self) -> list[Finding]:
        root = self.root
        channels = root.findall("channel")
        if root.tag != "rss" or root.get("version") != "2.0" or len(channels) != 1:
            self.add("InvalidRSSVersion", root.tag, f"version={root.get('version')!r}")
            return self.findings
        [channel] = channels
        where = "rss/channel"
        for name, rule in (("title", "MissingTitle"), ("link", "MissingLink"),
                           ("description", "MissingDescription")):
            if channel.find(name) is None:
                self.add(rule, where, name)
        self.once(channel, ("title", "link", "description", "language", "pubDate",
                            "lastBuildDate", "managingEditor", "generator", "ttl"))
        self.not_blank(channel.find("title"))
        for name in ("title", "description"):
            self.plain_text(channel.find(name))
        link = channel.find("link")
        if link is not None and iri_problem((link.text or "").strip()):
            self.add("InvalidFullLink", self.path(link), link.text or "")
        if not any(a.get("rel") == "self" for a in channel.findall(f"{A}link")):
            self.add("MissingAtomSelfLink", where)
        language = channel.find("language")
        if language is not None and not language_ok((language.text or "").strip()):
            self.add("InvalidLanguage", self.path(language), language.text or "")
        for name in ("pubDate", "lastBuildDate"):
            self.date(channel.find(name))
        self.contact(channel.find("managingEditor"))
        guids: Counter[str] = Counter()
        for item in channel.findall("item"):
            self.item(item, guids)
        self.languages()
        return self.findings

    def item(self, item: Any, guids: Counter[str]) -> None:
        where = self.path(item)
        children = [child.tag for child in item]
        if "title" not in children and "description" not in children:
            self.add("ItemMustContainTitleOrDescription", where)
        self.once(item, ("title", "link", "description", "guid", "pubDate", "author",
                         "source", "comments", f"{CONTENT}encoded"))
        title = item.find("title")
        self.not_blank(title)
        self.plain_text(title)
        for pair, rule in ((("author", f"{DC}creator"), "author and dc:creator"),
                           (("pubDate", f"{DC}date"), "pubDate and dc:date"),
                           (("category", f"{DC}subject"), "category and dc:subject"),
                           (("guid", f"{A}id"), "guid and atom:id")):
            if all(tag in children for tag in pair):
                self.add("DuplicateItemSemantics", where, rule)
        if f"{CONTENT}encoded" in children and (
                "description" not in children
                or children.index("description") > children.index(f"{CONTENT}encoded")):
            self.add("NeedDescriptionBeforeContent", where)
        self.guid(item.find("guid"), where, guids)
        self.date(item.find("pubDate"))
        self.contact(item.find("author"))
        link = item.find("link")
        if link is not None and iri_problem((link.text or "").strip()):
            self.add("InvalidFullLink", self.path(link), link.text or "")
        for category in item.findall("category"):
            self.not_blank(category)
            self.plain_text(category)
        enclosures = item.findall("enclosure")
        if len(enclosures) > 1:
            self.add("DuplicateEnclosure", where)
        for enclosure in enclosures:
            self.enclosure(enclosure)
        source = item.find("source")
        if source is not None:
            url = source.get("url")
            if url is None:
                self.add("MissingAttribute", self.path(source), "url")
            elif iri_problem(url):
                self.add("InvalidFullLink", self.path(source), url)
            self.plain_text(source)
        for name in ("description", f"{CONTENT}encoded"):
            elem = item.find(name)
            if elem is not None and elem.text:
                self.findings += html_findings(elem.text, self.path(elem))

    def guid(self, guid: Any, where: str, seen: Counter[str]) -> None:
        if guid is None:
            self.add("MissingGuid", where)
            return
        value = (guid.text or "").strip()
        permalink = guid.get("isPermaLink", "true")
        if permalink not in ("true", "false"):
            self.add("InvalidBooleanAttribute", self.path(guid), f"isPermaLink={permalink!r}")
        if not value:
            self.add("NotBlank", self.path(guid))
        elif permalink == "true":
            if iri_problem(value):
                self.add("InvalidHttpGUID", self.path(guid), value)
            elif value.lower().startswith(("tag:", "urn:uuid:")):
                self.add("InvalidPermalink", self.path(guid), value)
        elif len(value) < 9 and value.isdigit():
            self.add("NotSufficientlyUnique", self.path(guid), value)
        seen[value] += 1
        if seen[value] == 2:
            self.add("DuplicateValue", self.path(guid), value)

    def not_blank(self, elem: Any) -> None:
        if elem is not None and not (elem.text or "").strip():
            self.add("NotBlank", self.path(elem))

    def plain_text(self, elem: Any) -> None:
        """The validator's checks of a text-only RSS element (see the module docstring)."""
        if elem is None:
            return
        value = (elem.text or "").strip()
        found = markup_in_text(value, hex_refs=self.hex_refs_on_lines(elem), rss=True)
        if found:
            self.add(found[0], self.path(elem), found[1])

    def date(self, elem: Any) -> None:
        if elem is not None:
            problem = rfc822_problem((elem.text or "").strip())
            if problem:
                self.add(problem, self.path(elem), elem.text or "")

    def contact(self, elem: Any) -> None:
        """``address (Name)``: an e-mail address with the person's name in parentheses."""
        if elem is None:
            return
        value = (elem.text or "").strip()
        match = re.match(r"([^\s()]+@[^\s()]+)(?: \((.+)\))?$", value)
        if not match:
            self.add("InvalidContact", self.path(elem), value)
        elif not match[2]:
            self.add("MissingRealName", self.path(elem), value)
        elif not _ADDR_SPEC.match(match[1]):
            self.add("InvalidAddrSpec", self.path(elem), match[1])
        self.plain_text(elem)

    def enclosure(self, elem: Any) -> None:
        where = self.path(elem)
        url, length, kind = elem.get("url"), elem.get("length"), elem.get("type")
        if url is None or not re.match(r"https?://[^/\s]+", url) or iri_problem(url):
            self.add("InvalidURLAttribute" if url else "MissingAttribute", where, f"url={url!r}")
        if length is None or not length.isdigit():
            self.add("InvalidIntegerAttribute" if length else "MissingAttribute", where,
                     f"length={length!r}")
        if kind is None or not _MIME.match(kind):
            self.add("InvalidMIMEAttribute" if kind else "MissingAttribute", where,
                     f"type={kind!r}")


class _Atom(_Xml):
    def run(self) -> list[Finding]:
        root = self.root
        if root.tag != f"{A}feed":
            self.add("UndefinedElement", str(root.tag), "not an Atom feed")
            return self.findings
        self.metadata(root, "feed", "MissingElement")
        if not any(link.get("rel") == "self" for link in root.findall(f"{A}link")):
            self.add("MissingSelf", "feed")
        self.links(root)
        feed_author = root.find(f"{A}author") is not None
        for author in root.findall(f"{A}author"):
            self.person(author)
        ids: Counter[str] = Counter()
        updated: Counter[str] = Counter()
        for entry in root.findall(f"{A}entry"):
            self.entry(entry, feed_author, ids, updated)
        self.languages()
        return self.findings

    def metadata(self, elem: Any, where: str, rule: str) -> None:
        """id, title and updated, each once: of the feed, or of an entry's source."""
        for name in ("id", "title", "updated"):
            found = elem.findall(f"{A}{name}")
            if not found:
                self.add(rule, where, name)
            elif len(found) > 1:
                self.add("DuplicateElement", where, name)
        self.id(elem.find(f"{A}id"))
        self.text_construct(elem.find(f"{A}title"))
        for name in ("subtitle", "rights"):
            self.text_construct(elem.find(f"{A}{name}"))
        self.date(elem.find(f"{A}updated"))

    def entry(self, entry: Any, feed_author: bool, ids: Counter[str],
              updated: Counter[str]) -> None:
        where = self.path(entry)
        for name in ("id", "title", "updated"):
            if entry.find(f"{A}{name}") is None:
                self.add("MissingElement", where, name)
        for name in ("id", "title", "updated", "published", "content", "summary", "source",
                     "rights"):
            if len(entry.findall(f"{A}{name}")) > 1:
                self.add("DuplicateElement", where, name)
        elem = entry.find(f"{A}id")
        self.id(elem)
        if elem is not None:
            ids[elem.text or ""] += 1
            if ids[elem.text or ""] == 2:
                self.add("DuplicateEntries", self.path(elem), elem.text or "")
        for name in ("title", "summary", "content", "rights"):
            self.text_construct(entry.find(f"{A}{name}"))
        for name in ("updated", "published"):
            self.date(entry.find(f"{A}{name}"))
        authors = entry.findall(f"{A}author")
        source = entry.find(f"{A}source")
        if not authors and not feed_author and (
                source is None or source.find(f"{A}author") is None):
            self.add("MissingElement", where, "author")
        for author in authors:
            self.person(author)
        links = self.links(entry)
        content = entry.find(f"{A}content")
        if content is None:
            if entry.find(f"{A}summary") is None:
                self.add("MissingTextualContent", where)
            if not any(link.get("rel", "alternate") == "alternate" for link in links):
                self.add("MissingContentOrAlternate", where)
        if source is not None:
            self.metadata(source, self.path(source), "MissingSourceElement")
            self.links(source)
        if content is not None and content.get("type") == "html" and content.text:
            self.findings += html_findings(content.text, self.path(content))

    def id(self, elem: Any) -> None:
        if elem is None:
            return
        value = elem.text or ""
        problem = iri_problem(value)
        if value != value.strip():
            self.add("UnexpectedWhitespace", self.path(elem), repr(value))
        elif problem:
            self.add(problem, self.path(elem), value)
        else:
            canonical = canonical_problem(value)
            if canonical:
                self.add("NonCanonicalURI", self.path(elem), f"{value} ({canonical})")

    def date(self, elem: Any) -> None:
        if elem is not None and not rfc3339_ok(elem.text or ""):
            self.add("InvalidRFC3339Date", self.path(elem), elem.text or "")

    def text_construct(self, elem: Any) -> None:
        if elem is None:
            return
        where = self.path(elem)
        kind = elem.get("type", "text")
        if kind not in ("text", "html", "xhtml") and "/" not in kind:
            self.add("InvalidTextType", where, kind)
        children = len(elem)
        if children and kind != "xhtml":
            self.add("UndefinedElement", where, f"child element in type={kind!r} (escape it)")
        if not children and not elem.text and elem.get("src") is None:
            self.add("NotBlank", where)
        if kind == "text" and not children:
            found = markup_in_text(elem.text or "", hex_refs=self.hex_refs_on_lines(elem),
                                   rss=False)
            if found:
                self.add(found[0], where, found[1])

    def links(self, parent: Any) -> list[Any]:
        links = parent.findall(f"{A}link")
        seen: set[tuple[str, str]] = set()
        for link in links:
            href = link.get("href")
            if href is None:
                self.add("MissingHref", self.path(link))
            elif iri_problem(href, full=False):
                self.add(iri_problem(href, full=False) or "", self.path(link), href)
            kind = link.get("type")
            if kind is not None and not _MIME.match(kind):
                self.add("InvalidMIMEType", self.path(link), f"type={kind!r}")
            if link.get("rel", "alternate") == "alternate":
                key = (link.get("type", ""), link.get("hreflang", ""))
                if key in seen:
                    self.add("DuplicateAtomLink", self.path(link), str(key))
                seen.add(key)
            length = link.get("length")
            if length is not None and not length.isdigit():
                self.add("InvalidIntegerAttribute", self.path(link), f"length={length!r}")
        return list(links)

    def person(self, elem: Any) -> None:
        name = elem.find(f"{A}name")
        if name is None:
            self.add("MissingElement", self.path(elem), "name")
        elif not (name.text or "").strip():
            self.add("NotBlank", self.path(name))
        email = elem.find(f"{A}email")
        if email is not None and not _ADDR_SPEC.match((email.text or "").strip()):
            self.add("InvalidAddrSpec", self.path(email), email.text or "")
        uri = elem.find(f"{A}uri")
        if uri is not None and iri_problem((uri.text or "").strip(), full=False):
            self.add("InvalidIRI", self.path(uri), uri.text or "")


# --------------------------------------------------------------------------------- JSON

class _Json:
    VERSION = "https://jsonfeed.org/version/1.1"

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, rule: str, where: str, detail: str = "") -> None:
        self.findings.append(Finding(rule, where, detail))

    def run(self, data: bytes) -> list[Finding]:
        try:
            feed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            self.add("NotJson", "$", str(exc))
            return self.findings
        if not isinstance(feed, dict):
            self.add("NotJsonFeed", "$", type(feed).__name__)
            return self.findings
        if feed.get("version") != self.VERSION:
            self.add("InvalidVersion", "$.version", repr(feed.get("version")))
        if not self.string(feed.get("title")):
            self.add("MissingTitle", "$.title")
        for key in ("home_page_url", "feed_url", "icon", "favicon", "next_url"):
            if key in feed and not self.url(feed[key]):
                self.add("InvalidURL", f"$.{key}", repr(feed[key]))
        if "language" in feed and not (self.string(feed["language"])
                                       and language_ok(feed["language"])):
            self.add("InvalidLanguage", "$.language", repr(feed["language"]))
        self.authors(feed, "$")
        items = feed.get("items")
        if not isinstance(items, list):
            self.add("MissingItems", "$.items")
            return self.findings
        ids: Counter[str] = Counter()
        for index, item in enumerate(items):
            self.item(item, f"$.items[{index}]", ids)
        return self.findings

    @staticmethod
    def string(value: object) -> bool:
        return isinstance(value, str) and bool(value.strip())

    @staticmethod
    def url(value: object) -> bool:
        return isinstance(value, str) and iri_problem(value) is None

    def item(self, item: object, where: str, ids: Counter[str]) -> None:
        if not isinstance(item, dict):
            self.add("NotAnObject", where)
            return
        ident = item.get("id")
        if not self.string(ident):
            self.add("MissingId", f"{where}.id", repr(ident))
        else:
            ids[ident] += 1
            if ids[ident] == 2:
                self.add("DuplicateId", f"{where}.id", ident)
        if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
            self.add("MissingContent", where, "content_html or content_text")
        for key in ("content_html", "content_text", "title", "summary", "image",
                    "banner_image", "url", "external_url"):
            if key in item and not isinstance(item[key], str):
                self.add("NotAString", f"{where}.{key}", repr(item[key]))
        for key in ("url", "external_url", "image", "banner_image"):
            if isinstance(item.get(key), str) and not self.url(item[key]):
                self.add("InvalidURL", f"{where}.{key}", item[key])
        for key in ("date_published", "date_modified"):
            if key in item and not (isinstance(item[key], str) and rfc3339_ok(item[key])):
                self.add("InvalidRFC3339Date", f"{where}.{key}", repr(item[key]))
        if "language" in item and not (self.string(item["language"])
                                       and language_ok(item["language"])):
            self.add("InvalidLanguage", f"{where}.language", repr(item["language"]))
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(self.string(t) for t in tags):
            self.add("InvalidTags", f"{where}.tags", repr(tags))
        self.authors(item, where)
        for index, attachment in enumerate(item.get("attachments", [])):
            at = f"{where}.attachments[{index}]"
            if not isinstance(attachment, dict):
                self.add("NotAnObject", at)
                continue
            if not self.url(attachment.get("url")):
                self.add("InvalidURL", f"{at}.url", repr(attachment.get("url")))
            if not self.string(attachment.get("mime_type")):
                self.add("MissingMimeType", f"{at}.mime_type")
            size = attachment.get("size_in_bytes")
            if size is not None and not (isinstance(size, int) and size >= 0):
                self.add("InvalidSize", f"{at}.size_in_bytes", repr(size))
        if isinstance(item.get("content_html"), str):
            self.findings += html_findings(item["content_html"], f"{where}.content_html")

    def authors(self, holder: dict[str, Any], where: str) -> None:
        authors = holder.get("authors")
        if authors is None:
            return
        if not isinstance(authors, list):
            self.add("InvalidAuthors", f"{where}.authors", repr(authors))
            return
        for index, author in enumerate(authors):
            if not isinstance(author, dict) or not any(
                    self.string(author.get(key)) for key in ("name", "url", "avatar")):
                self.add("InvalidAuthor", f"{where}.authors[{index}]", repr(author))
