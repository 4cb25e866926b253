"""feeds: publish folders of articles and remote feeds as RSS 2.0, Atom 1.0 and JSON Feed 1.1."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    ArticleError,
    ConfigError,
    FeedsError,
    FetchError,
    LockedError,
    ParseError,
    PublishError,
    SourceError,
    StoreError,
)
from .model import Article, Author, Channel, Enclosure, FileState, Item, Origin

try:
    __version__ = version("feeds")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Article",
    "ArticleError",
    "Author",
    "Channel",
    "ConfigError",
    "Enclosure",
    "FeedsError",
    "FetchError",
    "FileState",
    "Item",
    "LockedError",
    "Origin",
    "ParseError",
    "PublishError",
    "SourceError",
    "StoreError",
    "__version__",
]
