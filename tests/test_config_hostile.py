"""Hostile configuration values: what ``feeds check`` accepts, ``feeds build`` and ``feeds run``
can run.  Every bad value is one problem line naming the key, never a traceback, and
``feeds check`` exits 2 with all of them at once."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds import config
from feeds.cli import EXIT_FAILED, main
from feeds.daemon import _trigger
from feeds.model import Article
from feeds.normalize.fallbacks import apply_folder_fallbacks

FOLDER = '[[sources]]\nname = "news"\nkind = "folder"\npath = "articles"\n'
REMOTE = '[[sources]]\nname = "remote"\nkind = "feed"\nurl = "https://ex.org/feed.xml"\n'
FEED = '[[feeds]]\nname = "all"\ntitle = "All"\n'


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "articles").mkdir(exist_ok=True)
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(config.ConfigProblems) as info:
        config.load(write(tmp_path, text))
    return info.value.problems


# (where the line goes, the TOML line, the key the one problem must name)
HOSTILE: list[tuple[str, str, str]] = [
    # cron: APScheduler's own parser decides, at load time
    ("folder", 'cron = "99 * * * *"', "sources[0].cron"),
    ("folder", 'cron = "0 24 * * *"', "sources[0].cron"),
    ("folder", 'cron = "0 0 * * 8"', "sources[0].cron"),
    ("folder", 'cron = "*/0 * * * *"', "sources[0].cron"),
    ("folder", 'cron = "0 0 1,,2 * *"', "sources[0].cron"),
    ("folder", 'cron = "0 0 30 2 *"', "sources[0].cron"),  # never fires
    # link_pattern: only {stem} and {slug}, plain
    ("folder", 'link_pattern = "{stem}{x}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{stem}}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{{stem}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{stem:d}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{stem!r}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{stem.upper}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{stem[0]}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{0}{stem}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "{}{stem}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "//[{stem}"', "sources[0].link_pattern"),
    ("folder", 'link_pattern = "a\\n{stem}"', "sources[0].link_pattern"),
    # durations: bounded, positive, never an OverflowError
    ("folder", 'every = "99999999999d"', "sources[0].every"),
    ("folder", f'every = "{"9" * 400}"', "sources[0].every"),
    ("folder", 'every = "367d"', "sources[0].every"),
    ("folder", 'every = "0.2s"', "sources[0].every"),
    ("folder", "every = 0", "sources[0].every"),
    ("folder", "every = -5", "sources[0].every"),
    ("folder", "every = nan", "sources[0].every"),
    ("folder", 'every = ""', "sources[0].every"),
    ("feed", 'since = "99999999999d"', "feeds[0].since"),
    ("feed", f'since = "{"9" * 400}w"', "feeds[0].since"),
    ("top", '[fetch]\nevery = "99999999999d"', "fetch.every"),
    ("top", '[schedule]\nfolder_every = "99999999999w"', "schedule.folder_every"),
    # sizes
    ("folder", f'max_size = "{"9" * 400} GiB"', "sources[0].max_size"),
    ("folder", "max_size = 9223372036854775807", "sources[0].max_size"),
    ("folder", 'max_size = "0.1 b"', "sources[0].max_size"),
    ("folder", "max_size = -1", "sources[0].max_size"),
    ("top", "[fetch]\nmax_size = 9223372036854775807", "fetch.max_size"),
    # numbers
    ("top", "[fetch]\ntimeout = nan", "fetch.timeout"),
    ("top", "[fetch]\ntimeout = inf", "fetch.timeout"),
    ("top", "[fetch]\nconnect_timeout = 1e300", "fetch.connect_timeout"),
    ("top", '[fetch]\ntimeout = "30"', "fetch.timeout"),
    ("top", "[fetch]\nconcurrency = 9223372036854775807", "fetch.concurrency"),
    ("top", "[server]\nport = 65536", "server.port"),
    ("top", "[server]\nport = -1", "server.port"),
    ("top", '[server]\nport = "8080"', "server.port"),
    ("top", "[server]\nmax_age = 9223372036854775807", "server.max_age"),
    ("top", '[server]\nhost = ""', "server.host"),
    ("top", '[server]\nhost = "local\\u0000host"', "server.host"),
    ("feed", "limit = 9223372036854775807", "feeds[0].limit"),
    ("feed", "limit = -3", "feeds[0].limit"),
    ("feed", 'limit = "50"', "feeds[0].limit"),
    # paths
    ("top", '[store]\npath = "~nosuchuser/feeds.db"', "store.path"),
    ("top", '[store]\npath = "state\\u0000/feeds.db"', "store.path"),
    ("top", '[output]\ndir = "pub\\u0007lic"', "output.dir"),
    ("top", '[output]\ndir = ""', "output.dir"),
    ("top", f'[output]\ndir = "{"a" * 5000}"', "output.dir"),
    # URLs, headers, time zone
    ("top", '[site]\nlink = "http://[::1"', "site.link"),
    ("top", '[site]\nbase_url = "http://ex.org:99999/"', "site.base_url"),
    ("top", '[site]\nlink = "https://exämple.org/"', "site.link"),  # the User-Agent is ASCII
    ("top", '[site]\nhub = "http://exa mple.org/hub"', "site.hub"),
    ("top", '[site]\ntimezone = "Europe/Paris\\u0000"', "site.timezone"),
    ("top", f'[site]\ntimezone = "{"a" * 5000}"', "site.timezone"),
    ("remote", 'headers = {"X-Token" = "a\\nb"}', "sources[1].headers"),
    ("remote", 'headers = {"Bad Name" = "x"}', "sources[1].headers"),
    ("remote", 'headers = {"X-Name" = "é"}', "sources[1].headers"),
    ("remote", 'user_agent = "bot\\r\\nX-Evil: 1"', "sources[1].user_agent"),
    ("top", '[fetch]\nuser_agent = "bot/é"', "fetch.user_agent"),
    # filters: RE2 syntax, one line naming the key
    ("feed", 'include = ["(.)\\\\1"]', "feeds[0].include"),
    ("feed", 'exclude = ["(?=lookahead)"]', "feeds[0].exclude"),
    ("feed", 'exclude = ["(?<!x)y"]', "feeds[0].exclude"),
    ("feed", 'include = ["(unclosed"]', "feeds[0].include"),
    ("feed", f'include = ["{"a" * 400}"]', "feeds[0].include"),
    ("feed", 'include = [".{1000}!"]', "feeds[0].include"),  # too big to match fast
]


def hostile_config(where: str, line: str) -> str:
    folder, remote, feed, top = FOLDER, REMOTE, FEED, ""
    if where == "folder":
        folder += line + "\n"
    elif where == "remote":
        remote += line + "\n"
    elif where == "feed":
        feed += line + "\n"
    else:
        top = line + "\n"
    return top + folder + remote + feed


@pytest.mark.parametrize(("where", "line", "key"), HOSTILE, ids=[c[1][:40] for c in HOSTILE])
def test_a_hostile_value_is_one_problem_naming_its_key(
    tmp_path: Path, where: str, line: str, key: str
) -> None:
    found = problems(tmp_path, hostile_config(where, line))
    assert len(found) == 1, found
    assert found[0].startswith(f"{key}: "), found
    assert "\n" not in found[0]


def test_the_checker_reports_every_hostile_value_at_once_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        '[store]\npath = "~nosuchuser/feeds.db"\n'
        + FOLDER + 'cron = "99 * * * *"\nlink_pattern = "{stem}{x}"\n'
        + REMOTE + 'every = "99999999999d"\n'
        + FEED + 'include = ["(.)\\\\1"]\n'
    )
    path = write(tmp_path, text)
    assert main(["check", "--config", str(path)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert str(path) in err
    for key in ("store.path", "sources[0].cron", "sources[0].link_pattern", "sources[1].every",
                "feeds[0].include"):
        assert sum(line.strip().startswith(f"{key}: ") for line in err.splitlines()) == 1, err


@pytest.mark.parametrize(
    "line",
    ['cron = "*/10 * * * *"', 'cron = "0 6 * * mon-fri"', 'every = "366d"', 'every = "1s"',
     'every = "15m"', "every = 90", 'link_pattern = "articles/{stem}.html"',
     'link_pattern = "{slug}/"', 'link_pattern = "{{literal}}/{stem}-{slug}"',
     'max_size = "1 GiB"'],
)
def test_sound_values_are_accepted_and_run(tmp_path: Path, line: str) -> None:
    text = '[site]\nbase_url = "https://ex.org/"\n' + FOLDER + line + "\n" + FEED
    cfg = config.load(write(tmp_path, text))
    source = cfg.sources[0]
    assert _trigger(source, cfg).get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC))
    article = Article(source="news", key="2024/a b.md", title="A title",
                      published=datetime(2024, 1, 1, tzinfo=UTC), date_source="content")
    linked = apply_folder_fallbacks(article, mtime_ns=0, tz=UTC, base_url=cfg.site.base_url,
                                    link_pattern=source.link_pattern)
    assert linked.link is None or linked.link.startswith("https://ex.org/")


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [("0 6 * * 1", {"Mon"}), ("0 6 * * 0", {"Sun"}), ("0 6 * * 7", {"Sun"}),
     ("0 6 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}), ("0 6 * * 0,6", {"Sat", "Sun"}),
     ("0 6 * * */2", {"Sun", "Tue", "Thu", "Sat"}), ("0 6 * * sat,sun", {"Sat", "Sun"})],
)
def test_cron_weekdays_count_as_crontab_does(tmp_path: Path, cron: str,
                                             weekdays: set[str]) -> None:
    """APScheduler 3 alone reads ``1`` as Tuesday; a crontab line means Monday."""
    cfg = config.load(write(tmp_path, FOLDER + f'cron = "{cron}"\n' + FEED))
    trigger = _trigger(cfg.sources[0], cfg)
    fired, moment = set(), datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(14):
        moment = trigger.get_next_fire_time(None, moment) + timedelta(minutes=1)
        fired.add(moment.strftime("%a"))
    assert fired == weekdays


CATASTROPHIC = [r"(a|a)*b", r"(x|x|x)*y", r"(.|\s)*!", r".*.*.*.*=", r"[a-z]*[a-z]*[a-z]*[a-z]*!"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_the_patterns_that_used_to_backtrack_are_accepted(tmp_path: Path, pattern: str) -> None:
    text = FOLDER + FEED + f"include = ['{pattern}']\nexclude = ['{pattern}']\n"  # literal
    cfg = config.load(write(tmp_path, text))
    assert cfg.feeds[0].include == (pattern,)


_MATCH_ADVERSARIAL = """
import sys, time
from datetime import UTC, datetime, timedelta
from feeds.model import Article, Item
from feeds.select import select_items
now = datetime(2026, 1, 1, tzinfo=UTC)
patterns = sys.argv[1:]
titles = ["a" * 500, "x" * 500, " \\t" * 250, "=" * 500, "abc" * 166 + "de", "é" * 500]
items = []
for i, title in enumerate(titles):
    article = Article(source="s", key=str(i), title=title, summary=title * 4, tags=(title[:100],),
                      published=now - timedelta(hours=i + 1), date_source="feed")
    items.append(Item(id=str(i), article=article, first_seen=article.published,
                      updated=article.published))
worst = 0.0
for pattern in patterns:
    for item in items:
        started = time.perf_counter()
        select_items([item], include=[pattern], exclude=[pattern], now=now)
        worst = max(worst, time.perf_counter() - started)
print(f"{worst:.6f}")
"""


def test_adversarial_titles_match_in_milliseconds() -> None:
    """In a child process with a timeout, so a matcher that backtracks fails the test instead
    of hanging the run.  The bound is generous (1 s per item); it takes well under 10 ms."""
    result = subprocess.run([sys.executable, "-c", _MATCH_ADVERSARIAL, *CATASTROPHIC],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 1.0
