"""Content cleanup (issue 12): GitHub's Markdown extensions render, and template syntax
(Liquid, Hugo shortcodes) is rendered or removed, never left raw, except in code that
documents it."""

from __future__ import annotations

import pytest

from feeds.model import Article
from feeds.normalize import ReadContext
from feeds.normalize.cleanup import clean_templates
from feeds.normalize.markdown import read_markdown

SITE = "https://blog.example/"


def read(body: str, key: str = "posts/post.md") -> Article:
    data = f"---\ntitle: T\n---\n{body}".encode()
    return read_markdown(data, source="blog", key=key, context=ReadContext(base_url=SITE))


# --- GitHub Flavored Markdown ---------------------------------------------------------------


def test_tables_render() -> None:
    html = read("| Line | Trains |\n|------|-------:|\n| Valley | 12 |\n").content_html
    assert "<table>" in html and "<td>Valley</td>" in html


def test_strikethrough_renders() -> None:
    assert "<s>late</s>" in read("The train was ~~late~~ on time.").content_html


def test_footnotes_render_with_their_text() -> None:
    article = read("Sleepers are back.[^1]\n\n[^1]: After twelve years.")
    assert "[^1]" not in article.content_html
    assert "<sup" in article.content_html and "After twelve years." in article.body


def test_bare_urls_become_links() -> None:
    html = read("Timetables at https://rail.example/times and www.railways.org.").content_html
    assert '<a href="https://rail.example/times"' in html
    assert '<a href="http://www.railways.org"' in html


# --- Liquid ---------------------------------------------------------------------------------


def test_liquid_output_and_tags_are_removed() -> None:
    article = read("Welcome to {{ site.title }}!\n\n{% include signup.html %}\n\n"
                   "{% if page.comments %}Comments open.{% endif %}")
    assert "{" not in article.content_html
    assert "Welcome to !" in article.body and "Comments open." in article.body


def test_liquid_url_filters_give_their_url() -> None:
    html = read('![Map]({{ "/assets/map.png" | relative_url }})').content_html
    assert 'src="https://blog.example/assets/map.png"' in html


def test_liquid_highlight_becomes_a_code_block_with_its_code_verbatim() -> None:
    html = read("{% highlight ruby %}\nputs '{{ not liquid }}'\n{% endhighlight %}").content_html
    assert '<pre><code class="language-ruby">' in html and "{{ not liquid }}" in html


def test_liquid_raw_keeps_its_text_verbatim() -> None:
    assert read("Write {% raw %}{{ page.title }}{% endraw %}.").body == "Write {{ page.title }}."


def test_liquid_comment_is_removed_with_its_text() -> None:
    assert read("A {% comment %}secret{% endcomment %}B").body == "A B"


def test_liquid_in_code_blocks_and_spans_that_document_it_is_kept() -> None:
    article = read("Use `{{ page.title }}` like this:\n\n```liquid\n{% for post in site.posts %}"
                   "\n{% endfor %}\n```\n")
    assert "{{ page.title }}" in article.body
    assert "{% for post in site.posts %}" in article.body


# --- Hugo shortcodes ------------------------------------------------------------------------


def test_figure_shortcode_renders_an_image_with_its_caption() -> None:
    article = read('{{< figure src="skyline.jpg" caption="The skyline at dusk" >}}',
                   key="posts/city/index.md")
    assert 'src="https://blog.example/posts/city/skyline.jpg"' in article.content_html
    assert "<figcaption>The skyline at dusk</figcaption>" in article.content_html


def test_paired_shortcodes_keep_their_inner_text_rendered() -> None:
    article = read("{{% note %}}\nMind the **gap**.\n{{% /note %}}")
    assert "<strong>gap</strong>" in article.content_html and "{{" not in article.content_html


def test_unknown_shortcodes_are_removed() -> None:
    assert read('Before {{< tweet user="x" id="1" >}} after.').body == "Before after."


def test_hugo_escaped_shortcodes_show_as_written() -> None:
    assert read("Write {{</* figure src=\"x\" */>}} in Markdown.").body == (
        'Write {{< figure src="x" >}} in Markdown.')


def test_hugo_highlight_shortcode_becomes_a_code_block() -> None:
    html = read('{{< highlight go "linenos=table" >}}\nfunc main() {}\n{{< /highlight >}}'
                ).content_html
    assert '<pre><code class="language-go">func main() {}' in html


def test_shortcodes_in_code_spans_are_kept() -> None:
    assert "{{< youtube id >}}" in read("Embed with `{{< youtube id >}}`.").body


@pytest.mark.parametrize("text", ["plain text", "a { brace } and }} and {%"])
def test_text_without_templates_is_unchanged(text: str) -> None:
    assert clean_templates(text) == text


@pytest.mark.parametrize("opening", ["{% raw %}", "{% comment %}", "{% highlight go %}\n",
                                     "{{</* x ", "{{%/* x "])
def test_openings_never_closed_cost_linear_time(opening: str) -> None:
    # each used to scan to the end of the text: 20,000 took 30-50 s, 200,000 would take
    # over an hour; now the unclosed openings are just removed (or kept as text)
    cleaned = clean_templates(opening * 200_000 + "end")
    assert cleaned.endswith("end") and ("{%" not in cleaned or opening.startswith("{{"))


def test_html_code_openings_never_closed_cost_linear_time() -> None:
    text = "<pre>{{ x }}" * 100_000 + "</code>"
    assert clean_templates(text, as_html=True) == "<pre>" * 100_000 + "</code>"


def test_a_megabyte_of_openings_with_far_closings_costs_linear_time() -> None:
    # the bounded patterns ({{ .{0,2000}? }}) tried 2,000 characters from every opening:
    # 6 s on 200 KB of "{{" before its "}}"s; the one match is "{{", 2,000 characters, "}}"
    text = "{{" * 500_000 + "}}" * 10
    assert clean_templates(text) == "{{" * (500_000 - 1001) + "}}" * 9
