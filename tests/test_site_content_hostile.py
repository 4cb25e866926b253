"""Real site content a new user brings, and hostile metadata: each case here was found by
building real sites (Jekyll's news posts, Pelican's sample and test content, the Rust blog,
the OpenTelemetry blog) and comparing with what their generator publishes."""

from __future__ import annotations

from pathlib import Path

from feeds import config as config_module
from feeds.pipeline import build
from tests.conftest import NOW
from tests.test_folder_layouts_build import make_site, titles


def pelican_post(title: str, extra: str = "") -> str:
    return f"Title: {title}\nDate: 2024-01-01\n{extra}\nBody of {title}.\n"


def test_pelican_reads_every_markdown_suffix_it_claims(tmp_path: Path) -> None:
    # Pelican's Markdown reader takes .md, .markdown, .mkd and .mdown (Hugo .mdown too)
    toml = make_site(tmp_path, {"pelicanconf.py": "", "content/a.md": pelican_post("A"),
                                "content/b.mkd": pelican_post("B"),
                                "content/c.mdown": pelican_post("C")})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert titles(toml) == ["A", "B", "C"]
    assert dict(report.skips) == {"pelicanconf.py": "no reader for .py files"}


def test_pelican_status_skip_is_never_published(tmp_path: Path) -> None:
    # Pelican's reader drops "Status: skip" files before any generator sees them
    toml = make_site(tmp_path, {"pelicanconf.py": "", "content/a.md": pelican_post("A"),
                                "content/s.md": pelican_post("Skipped", "Status: skip\n")})
    [report] = build(config_module.load(toml), now=NOW).sources
    assert titles(toml) == ["A"]
    assert report.not_published == [("content/s.md", "Status: skip")]
