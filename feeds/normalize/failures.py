"""What a reader's unexpected exception means: this input's rejection, or our bug.

A reader (plain text, Markdown, HTML, a remote feed's bytes) says "not an article" with
``ArticleError`` (``ParseError`` for a feed).  Whatever else escapes it for one input is
sorted here by :func:`input_failure`, so that one hostile file never stops a build:

* **The input's fault** (returned as a one-line reason, the input is rejected):

  - exceptions whose type says "this data cannot be read", wherever they are raised:
    ``ValueError`` (with ``UnicodeError``, ``json.JSONDecodeError``,
    ``tomllib.TOMLDecodeError``), ``LookupError`` raised by a codec lookup (an unknown or
    non-text encoding name), ``OverflowError``, ``RecursionError`` (deeply nested input),
    ``MemoryError``, ``lxml.etree.Error``, ``yaml.YAMLError``, ``zlib.error``;
  - any other ``Exception`` raised inside a third-party parser or the standard library
    (the innermost frame of its traceback is outside the ``feeds`` package): feedparser,
    lxml, markdown-it, PyYAML, dateutil ... choking on the bytes we handed them.  It is
    their bug or their limit, the data triggered it, and only that input is lost.

* **Our bug** (``None``: the caller re-raises, the traceback is shown):

  - a ``TypeError``, ``AttributeError``, ``NameError``, ``KeyError``, ``IndexError``,
    ``AssertionError`` ... raised by code of the ``feeds`` package itself;
  - ``OSError`` (the environment, not the input: reading the file is translated earlier),
    ``FeedsError`` (already a user's error, handled by its caller), ``Stopped`` (the build
    was asked to stop), and every ``BaseException`` that is not an ``Exception``
    (``KeyboardInterrupt``, ``SystemExit``).

The reason is a plain string, so it crosses a process pool's pickling with nothing
unpicklable attached; the traceback is logged at debug level where it happened.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import zlib
from types import TracebackType

from feeds.errors import FeedsError, Stopped

__all__ = ["input_failure"]

log = logging.getLogger(__name__)

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_MAX_REASON = 160
_CODEC_LOOKUP = re.compile(r"encoding|codec", re.IGNORECASE)


_DATA_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, OverflowError, RecursionError, MemoryError, zlib.error,
)  # fmt: skip


def _data_errors() -> tuple[type[BaseException], ...]:
    """``_DATA_ERRORS`` and the parsers' own error roots, for the parsers already imported
    (one not imported raised nothing; importing it here would cost every build)."""
    found = list(_DATA_ERRORS)
    for module, name in (("lxml.etree", "Error"), ("yaml", "YAMLError")):
        error = getattr(sys.modules.get(module), name, None)
        if isinstance(error, type) and issubclass(error, BaseException):
            found.append(error)
    return tuple(found)


def _innermost_file(tb: TracebackType | None) -> str | None:
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return os.path.abspath(last.tb_frame.f_code.co_filename) if last is not None else None


def _raised_outside_feeds(exc: BaseException) -> bool:
    filename = _innermost_file(exc.__traceback__)
    return filename is not None and not filename.startswith(_PACKAGE)


def input_failure(exc: BaseException) -> str | None:
    """A short one-line reason when ``exc`` is this input's fault, ``None`` when it is a
    bug (or not an error at all) and must propagate.  See the module docstring."""
    if not isinstance(exc, Exception) or isinstance(exc, FeedsError | Stopped | OSError):
        return None
    codec = (isinstance(exc, LookupError) and not isinstance(exc, KeyError | IndexError)
             and _CODEC_LOOKUP.search(str(exc)) is not None)
    if not (isinstance(exc, _data_errors()) or codec or _raised_outside_feeds(exc)):
        return None
    log.debug("input rejected on %s", type(exc).__name__, exc_info=exc)
    return describe(exc)


def describe(exc: BaseException) -> str:
    """``unreadable (TypeName: message)``, on one line and at most about 200 characters."""
    message = " ".join(str(exc).split())
    if len(message) > _MAX_REASON:
        message = message[: _MAX_REASON - 1] + "…"
    name = type(exc).__name__
    return f"unreadable ({name}: {message})" if message else f"unreadable ({name})"
