"""The exception tree.  Everything a user can cause is a ``FeedsError``::

    FeedsError
    ├── ConfigError            bad or missing configuration (names the file and the key)
    ├── ArticleError           one input file is not an article (names the file and the reason)
    ├── SourceError            one source failed as a whole (names the source)
    │   └── FetchError         an HTTP fetch failed (network, status, size, redirects)
    │       └── ParseError     a fetched body is not a feed we can read
    ├── StoreError             the SQLite store cannot be opened, migrated or written
    │   ├── LockedError        another writer holds the state directory
    │   └── UnreachableError   the shared store's database cannot be reached (yet)
    ├── PublishError           an output file could not be rendered, verified or written
    │   └── OutputError        the file system refused a write (full, read-only, no
    │                          permission): no feed can be published, the build stops
    └── ListenError            the server cannot listen on its address (also an OSError)

Every error has ``message`` (the whole line) and ``reason`` (the same without what it names:
the file, the source), for callers that name it themselves.  Anything else that escapes is a
bug and deserves its traceback.
"""

from __future__ import annotations

import os


class FeedsError(Exception):
    """Root of every error a user can cause."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = message

    def __str__(self) -> str:
        return self.message


class ConfigError(FeedsError):
    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ": ".join(p for p in (path, key) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message
        self.path = path
        self.key = key


class ArticleError(FeedsError):
    """One input is not an article.  ``reason`` is a short phrase, ``path`` the file."""

    def __init__(self, reason: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path


class SourceError(FeedsError):
    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(f"source {source!r}: {message}" if source else message)
        self.reason = message
        self.source = source


class FetchError(SourceError):
    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, source=source)
        self.url = url
        self.status = status


class ParseError(FetchError):
    pass


class StoreError(FeedsError):
    pass


class LockedError(StoreError):
    pass


class UnreachableError(StoreError):
    pass


class PublishError(FeedsError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.reason = message
        self.path = path


class ListenError(FeedsError, OSError):
    """``feeds serve`` / ``[server]`` cannot listen: the port is in use, a port below 1024
    without the right, an unknown host name.  An ``OSError`` too, with the ``errno`` of the
    failed call (None for a host name that does not resolve)."""

    def __init__(self, host: str, port: int, reason: str, *, errno: int | None = None) -> None:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        super().__init__(f"cannot listen on {where}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason
        self.errno = errno


class OutputError(PublishError):
    """The file system refused to let an output file (or its temporary file) be written.

    Made from the ``OSError`` by :meth:`of`: the path and the system's reason, in one line.
    """

    @classmethod
    def of(cls, error: OSError, path: str | os.PathLike[str], doing: str = "cannot write"
           ) -> OutputError:
        return cls(f"{doing}: {os_reason(error)}", path=os.fspath(path))


def os_reason(error: OSError) -> str:
    """An ``OSError`` as a short phrase: ``No space left on device``, not
    ``[Errno 28] No space left on device: '/long/path/.rss.xml.x1y2.tmp'``."""
    return error.strerror or str(error) or type(error).__name__


class Stopped(Exception):  # not a FeedsError: nothing went wrong, the caller asked for it
    """A build stopped because its ``cancelled`` said so (``feeds build`` got SIGTERM).
    What the store committed is kept, no file is half written; the next build carries on."""
