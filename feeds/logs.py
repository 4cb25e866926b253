"""Logging: one line per record, readable on a terminal, understood by journald.

On a terminal::

    2026-11-23 12:00:00.123 INFO    feeds.pipeline: fetch source=seeds new=3 duration=0.12s

Under systemd, when stderr *is* the journal stream (``JOURNAL_STREAM`` names its
``device:inode``), the journal adds the time and reads the priority from a ``<N>`` prefix::

    <6>INFO feeds.pipeline: fetch source=seeds new=3 duration=0.12s

Every line of a multi-line record (a traceback) carries the prefix, so it stays one priority.
Structured fields are the ``extra`` of a record, appended as ``key=value`` (values with
spaces are quoted).  ``log_work`` times a unit of work and logs its one line at the end.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TextIO

from feeds.errors import FeedsError

__all__ = [
    "LineFormatter",
    "is_journal_stream",
    "log_work",
    "parse_level",
    "setup_logging",
    "syslog_priority",
]

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# their per-request / per-run / per-batch INFO lines are noise
_QUIET = ("httpx", "httpcore", "apscheduler", "watchfiles")
# libraries whose DEBUG lines are theirs, not ours, even under -vv: markdown-it writes ~150
# per Markdown article (20 KB) and made reading 4x slower
_SILENT = ("markdown_it",)
_MARK = "_feeds_handler"


def parse_level(level: str | int) -> int:
    """``"info"``, ``"DEBUG"``, ``"20"`` or ``20`` -> 20; anything else raises ValueError."""
    if isinstance(level, int):
        return level
    text = level.strip()
    if text.isdigit():
        return int(text)
    number = logging.getLevelNamesMapping().get(text.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def syslog_priority(levelno: int) -> int:
    """The syslog priority journald reads from ``<N>`` (err 3, warning 4, info 6, debug 7)."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def is_journal_stream(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` is connected to the journal, as ``JOURNAL_STREAM`` documents."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is a ValueError
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))


class LineFormatter(logging.Formatter):
    """``time level logger: message key=value ...``; journal mode: ``<N>level logger: ...``."""

    def __init__(self, *, journal: bool = False) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.name}: {record.getMessage()}"
        fields = _fields(record)
        if fields:
            line += " " + fields
        extra = ""
        if record.exc_info:
            extra = self.formatException(record.exc_info)
        elif record.exc_text:
            extra = record.exc_text
        if record.stack_info:
            extra = (extra + "\n" if extra else "") + self.formatStack(record.stack_info)
        if self.journal:
            prefix = f"<{syslog_priority(record.levelno)}>"
            lines = [*f"{record.levelname} {line}".splitlines(), *extra.splitlines()]
            return "\n".join(prefix + text for text in lines)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
        text = f"{stamp}.{int(record.msecs):03d} {record.levelname:<7} {line}"
        return f"{text}\n{extra}" if extra else text


def _fields(record: logging.LogRecord) -> str:
    pairs = [
        f"{key}={_value(value)}"
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    ]
    return " ".join(pairs)


def _value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return f"{value.total_seconds():.2f}s"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if not text or any(c.isspace() or c in '"=\\' or not c.isprintable() for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def setup_logging(
    level: str | int, *, stream: TextIO | None = None, journal: bool | None = None
) -> logging.Handler:
    """Send every record to ``stream`` (default: the current ``sys.stderr``), one line each.

    ``journal=None`` detects the journal from ``JOURNAL_STREAM``.  Calling again replaces the
    handler installed before (other handlers on the root logger are left alone).  httpx,
    httpcore and apscheduler are held at WARNING unless ``level`` is DEBUG.
    """
    number = parse_level(level)
    out = sys.stderr if stream is None else stream
    if journal is None:
        journal = is_journal_stream(out)
    handler = logging.StreamHandler(out)
    handler.setFormatter(LineFormatter(journal=journal))
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    for name in _QUIET:
        logging.getLogger(name).setLevel(
            logging.NOTSET if number <= logging.DEBUG else logging.WARNING
        )
    for name in _SILENT:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler


@contextmanager
def log_work(
    logger: logging.Logger, message: str, /, *, level: int = logging.INFO, **fields: Any
) -> Iterator[dict[str, Any]]:
    """Log one line when a unit of work ends: ``message`` with ``fields`` and ``duration``.

    The body may add fields to the yielded dict (``work["new"] = 3``).  A ``FeedsError``
    logs a WARNING with ``error=...`` and no traceback; any other exception (a bug) logs an
    ERROR with its traceback.  The exception always propagates: do not log it again.
    """
    work: dict[str, Any] = dict(fields)
    started = time.monotonic()
    try:
        yield work
    except FeedsError as error:
        work["error"] = str(error)
        _emit(logger, logging.WARNING, message, work, started)
        raise
    except Exception as error:
        work["error"] = f"{type(error).__name__}: {error}"
        _emit(logger, logging.ERROR, message, work, started, exc_info=True)
        raise
    _emit(logger, level, message, work, started)


def _emit(
    logger: logging.Logger,
    level: int,
    message: str,
    work: dict[str, Any],
    started: float,
    *,
    exc_info: bool = False,
) -> None:
    extra = {(key + "_" if key in _STANDARD else key): value for key, value in work.items()}
    extra["duration"] = timedelta(seconds=time.monotonic() - started)
    logger.log(level, "%s", message, extra=extra, exc_info=exc_info)
