"""feeds: publish folders of articles and remote feeds as RSS 2.0, Atom 1.0 and JSON Feed 1.1."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    "Config",
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
    "build",
    "load_config",
]

if TYPE_CHECKING:
    from .config import Config
    from .config import load as load_config
    from .pipeline import build


def __getattr__(name: str) -> object:
    """``Config``, ``load_config`` and ``build`` are imported on first use, so that
    ``import feeds`` (every command, every worker) does not load the config checks and the
    whole pipeline."""
    value: object
    if name == "Config":
        from .config import Config as value
    elif name == "load_config":
        from .config import load as value
    elif name == "build":
        from .pipeline import build as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
