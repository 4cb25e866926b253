"""Log lines: terminal mode (time, level, logger, message, key=value) and journal mode."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from feeds.errors import SourceError
from feeds.logs import (
    LineFormatter,
    is_journal_stream,
    log_work,
    parse_level,
    setup_logging,
    syslog_priority,
)

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level
             for name in ("httpx", "httpcore", "apscheduler", "markdown_it")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)
    logging.captureWarnings(False)


def test_terminal_line_has_time_level_logger_message_and_fields() -> None:
    out = io.StringIO()
    setup_logging("info", stream=out)
    logging.getLogger("feeds.test").info(
        "fetch",
        extra={
            "source": "seeds",
            "status": 200,
            "new": 3,
            "changed": 0,
            "duration": timedelta(seconds=0.123),
        },
    )
    logging.getLogger("feeds.test").debug("hidden at INFO")
    line = out.getvalue()
    assert re.fullmatch(
        STAMP + r" INFO    feeds\.test: fetch source=seeds status=200 new=3 changed=0 "
        r"duration=0\.12s\n",
        line,
    ), line


def test_field_values_are_quoted_when_needed() -> None:
    record = logging.makeLogRecord(
        {
            "name": "feeds.x",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "skip",
            "path": "my notes/a b.md",
            "reason": 'bad "date"',
            "empty": "",
            "none": None,
            "ok": True,
            "ratio": 0.5,
        }
    )
    text = LineFormatter(journal=True).format(record)
    assert text == (
        '<4>WARNING feeds.x: skip path="my notes/a b.md" reason="bad \\"date\\"" '
        'empty="" none=- ok=true ratio=0.5'
    )


def test_journal_mode_when_journal_stream_matches_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(tmp_path / "journal", "w+", encoding="utf-8") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert is_journal_stream(stream)
        setup_logging(logging.DEBUG, stream=stream)
        log = logging.getLogger("feeds.daemon")
        log.info("started", extra={"feeds": 3})
        log.debug("detail")
        log.warning("slow source", extra={"source": "seeds"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("bug")
        log.warning("two\nlines")
        stream.seek(0)
        lines = stream.read().splitlines()
    assert lines[0] == "<6>INFO feeds.daemon: started feeds=3"
    assert lines[-2:] == ["<4>WARNING feeds.daemon: two", "<4>lines"]
    assert lines[1] == "<7>DEBUG feeds.daemon: detail"
    assert lines[2] == "<4>WARNING feeds.daemon: slow source source=seeds"
    assert lines[3] == "<3>ERROR feeds.daemon: bug"
    assert lines[4] == "<3>Traceback (most recent call last):"
    assert all(line.startswith("<3>") for line in lines[3:-2])  # the traceback stays an error
    assert lines[-3] == "<3>ValueError: boom"
    assert not any(re.search(STAMP, line) for line in lines)  # the journal adds the time


def test_journal_stream_of_another_file_means_terminal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.write_text("")
    st = os.stat(other)
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stream:
        assert not is_journal_stream(stream)
        setup_logging("INFO", stream=stream)
        logging.getLogger("feeds").info("hello")
        stream.seek(0)
        assert re.fullmatch(STAMP + r" INFO    feeds: hello\n", stream.read())
    assert not is_journal_stream(io.StringIO())  # no file descriptor at all
    monkeypatch.setenv("JOURNAL_STREAM", "garbage")
    assert not is_journal_stream(io.StringIO())


def test_terminal_traceback_follows_the_line() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("feeds").exception("bug", extra={"source": "x"})
    first, *rest = out.getvalue().splitlines()
    assert re.fullmatch(STAMP + r" ERROR   feeds: bug source=x", first)
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ZeroDivisionError: division by zero"


def test_setup_twice_replaces_its_own_handler_only() -> None:
    other = logging.NullHandler()
    logging.getLogger().addHandler(other)
    first, second = io.StringIO(), io.StringIO()
    setup_logging("INFO", stream=first)
    setup_logging("INFO", stream=second)
    logging.getLogger("feeds").info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1
    assert other in logging.getLogger().handlers


def test_noisy_libraries_are_quiet_unless_debugging() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    logging.getLogger("httpx").info("HTTP Request: GET https://example.org 200")
    logging.getLogger("apscheduler.executors.default").info('Job "x" executed successfully')
    assert out.getvalue() == ""
    setup_logging("DEBUG", stream=out)
    logging.getLogger("httpx").info("HTTP Request: GET https://example.org 200")
    assert "HTTP Request" in out.getvalue()


def test_markdown_it_says_nothing_below_warning_even_when_debugging() -> None:
    out = io.StringIO()
    setup_logging("debug", stream=out)
    from feeds.normalize.markdown import read_markdown

    read_markdown(b"# Title\n\nA *paragraph* with [a link](https://e.org/).\n",
                  source="s", key="k.md", tz=UTC, base_url=None)
    logging.getLogger("feeds.test").debug("ours")
    assert "markdown_it" not in out.getvalue()
    assert "ours" in out.getvalue()


def test_log_work_logs_one_line_with_fields_and_duration() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out, journal=True)
    log = logging.getLogger("feeds.pipeline")
    with log_work(log, "fetch", source="seeds", name="clashes with LogRecord.name") as work:
        work["status"] = 200
        work["new"] = 3
    assert re.fullmatch(
        r'<6>INFO feeds\.pipeline: fetch source=seeds name_="clashes with LogRecord\.name" '
        r"status=200 new=3 duration=\d+\.\d\ds\n",
        out.getvalue(),
    ), out.getvalue()


def test_log_work_failure_of_a_feeds_error_is_a_warning_without_traceback() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out, journal=True)
    log = logging.getLogger("feeds.pipeline")
    with pytest.raises(SourceError), log_work(log, "fetch", source="seeds"):
        raise SourceError("timed out", source="seeds")
    assert re.fullmatch(
        r"<4>WARNING feeds\.pipeline: fetch source=seeds "
        r"error=\"source 'seeds': timed out\" duration=\d+\.\d\ds\n",
        out.getvalue(),
    ), out.getvalue()


def test_log_work_failure_of_a_bug_is_an_error_with_traceback() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out, journal=True)
    log = logging.getLogger("feeds.pipeline")
    with pytest.raises(KeyError), log_work(log, "publish", feed="news"):
        raise KeyError("title")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        "<3>ERROR feeds.pipeline: publish feed=news error=\"KeyError: 'title'\""
    )
    assert "<3>Traceback (most recent call last):" in lines
    assert lines[-1] == "<3>KeyError: 'title'"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("info", 20), ("DEBUG", 10), (" Warning ", 30), ("20", 20), (logging.ERROR, 40)],
)
def test_parse_level(given: str | int, expected: int) -> None:
    assert parse_level(given) == expected


def test_parse_level_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        parse_level("loud")


def test_syslog_priorities() -> None:
    assert [syslog_priority(n) for n in (10, 20, 30, 40, 50)] == [7, 6, 4, 3, 2]
