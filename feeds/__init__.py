"""feeds: publish folders of articles and remote feeds as RSS 2.0, Atom 1.0 and JSON Feed 1.1."""

from __future__ import annotations

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

# The one place the version is written (pyproject.toml reads it from here): asking
# importlib.metadata instead cost every command ~35 ms of start-up.
__version__ = "0.1.0"

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
