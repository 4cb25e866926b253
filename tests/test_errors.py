"""The error tree: every error says what it names once, in ``message``; ``reason`` is the
same without the name, for callers that print the name themselves."""

from __future__ import annotations

import errno
import pickle

import pytest

from feeds.errors import (
    ArticleError,
    ConfigError,
    FeedsError,
    FetchError,
    OutputError,
    ParseError,
    PublishError,
    SourceError,
)


@pytest.mark.parametrize(("error", "message", "reason"), [
    (SourceError("timed out", source="s"), "source 's': timed out", "timed out"),
    (FetchError("HTTP 404", source="s", url="u"), "source 's': HTTP 404", "HTTP 404"),
    (ParseError("not a feed", source="s"), "source 's': not a feed", "not a feed"),
    (SourceError("folder x cannot be opened"), "folder x cannot be opened",
     "folder x cannot be opened"),
    (ArticleError("empty file", path="a.txt"), "a.txt: empty file", "empty file"),
    (PublishError("cannot write", path="p/rss.xml"), "p/rss.xml: cannot write", "cannot write"),
    (ConfigError("unknown key", path="f.toml", key="site.x"), "f.toml: site.x: unknown key",
     "unknown key"),
    (FeedsError("plain"), "plain", "plain"),
])
def test_message_names_once_and_reason_leaves_the_name_out(
        error: FeedsError, message: str, reason: str) -> None:
    assert str(error) == error.message == message
    assert error.reason == reason


def test_an_os_error_becomes_one_line_naming_the_path() -> None:
    error = OutputError.of(OSError(errno.ENOSPC, "No space left on device", "/o/.x.tmp"), "/o")
    assert isinstance(error, PublishError)
    assert str(error) == "/o: cannot write: No space left on device"


def test_errors_cross_process_boundaries_whole() -> None:
    """Spooling runs in pool workers: what they raise arrives with its attributes."""
    for error in (FetchError("HTTP 500", source="s", url="u", status=500),
                  OutputError("cannot write: No space left on device", path="/o")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert vars(copy) == vars(error)
        assert str(copy) == str(error)
