"""What survives ``sanitize_html``: a spec, one rule per test, read top to bottom."""

from __future__ import annotations

import pytest

from feeds.normalize.sanitize import (
    ALLOWED_TAGS,
    DROPPED_WITH_CONTENT,
    _simple_events,
    absolutize,
    html_to_text,
    sanitize_html,
)

BASE = "https://site.example/blog/post/"


def clean(html: str, base_url: str | None = BASE) -> str:
    return sanitize_html(html, base_url=base_url)


# --- tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<p>para</p>",
        "<h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5><h6>f</h6>",
        "<ul><li>a</li></ul><ol><li>b</li></ol>",
        "<dl><dt>term</dt><dd>definition</dd></dl>",
        "<blockquote>quoted</blockquote>",
        "<pre><code>x = 1</code></pre>",
        "<p><em>e</em><strong>s</strong><b>b</b><i>i</i><u>u</u><s>s</s><del>d</del><ins>i</ins></p>",
        "<p><mark>m</mark><small>s</small><kbd>k</kbd><samp>s</samp><var>v</var></p>",
        "<p>H<sub>2</sub>O and x<sup>2</sup></p>",
        '<p><abbr title="HyperText">HTML</abbr> <q>quote</q> <cite>Book</cite></p>',
        "<figure><figcaption>caption</figcaption></figure>",
        "<table><caption>c</caption><thead><tr><th>h</th></tr></thead>"
        "<tbody><tr><td>d</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>",
        "<p>line<br>break</p><hr>",
    ],
)
def test_feed_content_tags_survive_unchanged(html: str) -> None:
    assert clean(html) == html


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<div><span>text</span></div>", "text"),
        ('<font color="red">red</font>', "red"),
        ("<section><article>in article</article></section>", "in article"),
        ("<details><summary>s</summary>d</details>", "sd"),
        ("<picture><source srcset='a.webp'>fallback</picture>", "fallback"),
        ("<custom-element>custom</custom-element>", "custom"),
    ],
)
def test_other_tags_are_removed_but_their_text_stays(html: str, expected: str) -> None:
    assert clean(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<script src='https://evil.example/x.js'></script>",
        "<style>p { display: none }</style>",
        "<iframe src='https://evil.example/'>frame text</iframe>",
        "<object data='x.swf'>object text</object>",
        "<embed src='x.swf'>",
        "<form action='/steal'><input name='p'><button>Go</button></form>",
        "<textarea>typed</textarea><select><option>o</option></select>",
        "<video src='v.mp4'>Your browser cannot play this</video>",
        "<audio src='a.mp3'>no audio</audio>",
        "<svg><script>alert(1)</script><text>svg text</text></svg>",
        "<math><mi>x</mi></math>",
        "<noscript><img src='https://t.example/pixel.gif'></noscript>",
        "<template><p>inert</p></template>",
        "<!-- a comment -->",
    ],
)
def test_active_and_embedded_content_is_removed_with_everything_inside(html: str) -> None:
    assert clean(f"<p>before</p>{html}<p>after</p>") == "<p>before</p><p>after</p>"


def test_the_allowlist_and_the_drop_list_do_not_overlap() -> None:
    assert not ALLOWED_TAGS & DROPPED_WITH_CONTENT
    assert {"script", "style", "iframe", "form", "object", "embed"} <= DROPPED_WITH_CONTENT


# --- attributes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p onclick="alert(1)" onmouseover="x()">t</p>', "<p>t</p>"),
        ('<img src="https://i.example/a.png" onerror="alert(1)" onload="x()">',
         '<img src="https://i.example/a.png">'),
        ('<p style="position:fixed" class="x" id="y" data-track="1" dir="rtl">t</p>', "<p>t</p>"),
        ('<a href="https://x.example/" target="_blank" ping="https://t.example/" download>a</a>',
         '<a href="https://x.example/" rel="noopener noreferrer">a</a>'),
        ('<p><svg onload="alert(1)"></svg>t</p>', "<p>t</p>"),
    ],
)  # fmt: skip
def test_event_handlers_styles_classes_and_ids_are_removed(html: str, expected: str) -> None:
    assert clean(html) == expected


def test_images_keep_src_alt_title_and_numeric_size() -> None:
    html = '<img src="https://i.example/a.png" alt="A" title="T" width="640" height="480">'
    assert clean(html) == html


def test_image_sizes_that_are_not_plain_numbers_are_dropped() -> None:
    html = '<img src="https://i.example/a.png" width="100%" height="expression(alert(1))">'
    assert clean(html) == '<img src="https://i.example/a.png">'


def test_links_keep_href_and_title_and_get_noopener() -> None:
    assert clean('<a href="https://x.example/" title="X">x</a>') == (
        '<a href="https://x.example/" title="X" rel="noopener noreferrer">x</a>'
    )


def test_a_rel_attribute_from_the_input_is_replaced() -> None:
    assert clean('<a href="https://x.example/" rel="opener">x</a>') == (
        '<a href="https://x.example/" rel="noopener noreferrer">x</a>'
    )


def test_code_keeps_only_a_language_class() -> None:
    assert clean('<pre><code class="hl language-rust big">fn</code></pre>') == (
        '<pre><code class="language-rust">fn</code></pre>'
    )
    assert clean('<code class="evil">x</code>') == "<code>x</code>"


def test_table_cells_keep_spans_and_lists_keep_start() -> None:
    html = '<table><tbody><tr><td colspan="2" rowspan="3">c</td></tr></tbody></table>'
    assert clean(html) == html
    assert clean('<ol start="4"><li>d</li></ol>') == '<ol start="4"><li>d</li></ol>'


# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "ftp://files.example/x",
    ],
)
def test_links_with_other_schemes_lose_the_link_but_keep_the_text(href: str) -> None:
    assert clean(f'<p><a href="{href}">click</a></p>') == "<p>click</p>"


@pytest.mark.parametrize(
    "src",
    ["javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=", "relative.png"],
)
def test_images_with_unusable_sources_are_removed(src: str) -> None:
    assert clean(f'<p>a<img src="{src}" alt="x">b</p>', base_url=None) == "<p>ab</p>"


def test_mailto_links_are_kept() -> None:
    assert clean('<a href="mailto:ed@news.example">mail</a>') == (
        '<a href="mailto:ed@news.example" rel="noopener noreferrer">mail</a>'
    )


@pytest.mark.parametrize(
    ("href", "absolute"),
    [
        ("other", "https://site.example/blog/post/other"),
        ("../up", "https://site.example/blog/up"),
        ("/root", "https://site.example/root"),
        ("?page=2", "https://site.example/blog/post/?page=2"),
        ("#section", "https://site.example/blog/post/#section"),
        ("//cdn.example/lib", "https://cdn.example/lib"),
        ("/\\evil.example/x", "https://evil.example/x"),
        ("  /padded  ", "https://site.example/padded"),
    ],
)
def test_relative_urls_become_absolute_against_base_url(href: str, absolute: str) -> None:
    assert clean(f'<a href="{href}">x</a>') == (
        f'<a href="{absolute}" rel="noopener noreferrer">x</a>'
    )


def test_relative_urls_without_base_url_are_dropped_and_the_text_kept() -> None:
    assert clean('<p><a href="/a">text</a> <img src="b.png" alt="b"></p>', base_url=None) == (
        "<p>text </p>"
    )


def test_absolute_urls_are_kept_without_base_url() -> None:
    html = '<a href="https://x.example/a?b=1&amp;c=2" rel="noopener noreferrer">x</a>'
    assert clean(html, base_url=None) == html


def test_a_base_url_that_is_not_http_is_ignored() -> None:
    assert clean('<a href="/a">x</a>', base_url="javascript:alert(1)//") == "x"


# --- text ---------------------------------------------------------------------------------


def test_output_is_nfc() -> None:
    assert clean("<p>Cafe\u0301</p>") == "<p>Caf\u00e9</p>"


def test_characters_illegal_in_xml_are_removed() -> None:
    assert clean("<p>a\x00b\x0bc\x1fd\ufffee</p>") == "<p>abcde</p>"


def test_nbsp_is_written_as_a_character_not_an_html_entity() -> None:
    assert clean("<p>a&nbsp;b</p>") == "<p>a\u00a0b</p>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
         "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<p>&amp;lt;b&amp;gt;</p>", "<p>&amp;lt;b&amp;gt;</p>"),
        ("<p>&#60;img src=x onerror=alert(1)&#62;</p>",
         "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ('<img src="https://i.example/a.png" alt="&quot;&gt;&lt;script&gt;">',
         '<img src="https://i.example/a.png" alt="&quot;&gt;&lt;script&gt;">'),
        ("<p>&unknown; &amp &copy &#0; &#xD800; &#x110000;</p>",
         "<p>&amp;unknown; &amp; © \ufffd \ufffd \ufffd</p>"),
        ("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
        ("<<p>>x", "&lt;<p>&gt;x</p>"),
    ],
)  # fmt: skip
def test_entity_tricks_stay_text(html: str, expected: str) -> None:
    assert clean(html) == expected


def test_unclosed_and_misnested_tags_are_repaired() -> None:
    assert clean("<p><b>bold<i>both</b>italic") == "<p><b>bold<i>both</i></b><i>italic</i></p>"


def test_deeply_nested_html_is_handled() -> None:
    html = "<div>" * 10_000 + "deep" + "</div>" * 10_000
    assert clean(html) == "deep"
    quotes = "<blockquote>" * 10_000 + "q" + "</blockquote>" * 10_000
    assert "q" in clean(quotes)


def test_empty_input_gives_empty_output() -> None:
    assert clean("") == ""
    assert clean("  \n ") == ""
    assert clean("<script>x</script>") == ""


# --- absolutize ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://a.example/x", None, "https://a.example/x"),
        ("HTTP://A.example/x", None, "http://A.example/x"),
        ("x.html", "https://a.example/dir/", "https://a.example/dir/x.html"),
        ("x.html", None, None),
        ("//a.example/x", None, "https://a.example/x"),
        ("//a.example/x", "http://b.example/", "http://a.example/x"),
        ("mailto:a@b.example", None, None),
        ("javascript:alert(1)", "https://a.example/", None),
        ("https://", None, None),
        ("https://a.example:99999/", None, None),
        ("", "https://a.example/", None),
        ("x", "not a url", None),
        ("x", "ftp://a.example/", None),
        # what a URI cannot hold is percent-encoded (the W3C Feed Validator's InvalidUriChar)
        ("entry[1]^id", "https://a.example/d/", "https://a.example/d/entry%5B1%5D%5Eid"),
        ("https://a.example/float size?q=a b#c d", None,
         "https://a.example/float%20size?q=a%20b#c%20d"),
        ("https://a.example/caf\u00e9?x=%41&y=1", None, "https://a.example/caf%C3%A9?x=%41&y=1"),
    ],
)
def test_absolutize(url: str, base: str | None, expected: str | None) -> None:
    assert absolutize(url, base) == expected


# --- html_to_text --------------------------------------------------------------------------------


def test_html_to_text_separates_paragraphs_by_a_blank_line() -> None:
    assert html_to_text("<h2>Head</h2><p>One\n  two</p><p>Three</p>") == "Head\n\nOne two\n\nThree"


def test_html_to_text_puts_list_items_and_breaks_on_their_own_lines() -> None:
    assert html_to_text("<p>a<br>b</p><ul><li>x</li><li>y <b>z</b></li></ul>") == "a\nb\n\nx\ny z"


def test_html_to_text_keeps_preformatted_lines() -> None:
    assert html_to_text("<pre>def f():\n    return 1\n</pre>") == "def f():\n    return 1"


def test_html_to_text_decodes_entities_and_ignores_scripts() -> None:
    assert html_to_text("<p>a &amp; b &lt;c&gt;</p><script>x()</script>") == "a & b <c>"


def test_html_to_text_of_nothing_is_empty() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<p> </p>") == ""


# The HTML that sanitize_html writes is tokenized by splitting on its tags, not by
# HTMLParser.  An empty comment sends the same markup through HTMLParser (and adds no text).
SANITIZER_INPUTS = [
    "<h1>T</h1><p>One &amp; two &lt;three&gt; four&nbsp;five</p><ul><li>a</li><li>b</li></ul>",
    "<p>x<br>y<br/>z</p><pre><code class='language-py'>a = 1\n\n  b &lt; 2\n</code></pre>",
    '<p><a href="/rel" title="a>b &quot;q&quot;">link</a> <img src="p.png" alt="x<y"></p>',
    "<table><tr><th>h</th><td colspan=2>d</td></tr></table><dl><dt>t</dt><dd>d</dd></dl>",
    "<div><span>loose</span> text <script>x()</script><iframe>f</iframe></div>tail &amp",
    "<blockquote><p>q</p></blockquote><hr><p>e\u0301 \u00a0 \t end</p><!-- c -->",
    "a <b>bold <i>both</b> italic</i> &#169; &#x41; &copy &bogus; < not a tag",
]


@pytest.mark.parametrize("html", SANITIZER_INPUTS)
def test_sanitized_html_reads_as_html_parser_reads_it(html: str) -> None:
    cleaned = clean(html)
    assert _simple_events(cleaned) is not None  # the quick path is taken
    assert html_to_text(cleaned) == html_to_text(cleaned + "<!---->")


@pytest.mark.parametrize(
    "html",
    [
        "<P>upper</P>",
        "<p>a < b</p>",
        "<p class=x>unquoted</p>",
        "<p>a<!-- c -->b</p>",
        "<script><p>not a tag</p></script><p>x</p>",
        "<textarea><p>raw</p></textarea>",
        "<custom-el>c</custom-el>",
    ],
)
def test_other_html_is_read_by_html_parser(html: str) -> None:
    assert _simple_events(html) is None


def test_each_base_url_resolves_with_its_own_base() -> None:
    html = '<a href="x">x</a>'
    assert clean(html, "https://a.example/") == (
        '<a href="https://a.example/x" rel="noopener noreferrer">x</a>'
    )
    assert clean(html, "https://b.example/") == (
        '<a href="https://b.example/x" rel="noopener noreferrer">x</a>'
    )
    assert clean(html, None) == "x"
