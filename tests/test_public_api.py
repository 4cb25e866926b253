"""The public API of ``feeds`` is pinned: the model types, the errors, ``Config`` with
``load_config``, and ``build`` (as encode/httpx pins its own in
``tests/test_exported_members.py``).  A name leaves or joins ``feeds.__all__`` only by
changing the list below on purpose.
"""

from __future__ import annotations

import subprocess
import sys
import types

import feeds

PUBLIC_API = [
    # the model
    "Article", "Author", "Channel", "Enclosure", "FileState", "Item", "Origin",
    # the errors
    "ArticleError", "ConfigError", "FeedsError", "FetchError", "LockedError", "ParseError",
    "PublishError", "SourceError", "StoreError",
    # configuration and the one call that does a build
    "Config", "load_config", "build",
    "__version__",
]


def test_all_is_exactly_the_pinned_public_api() -> None:
    assert sorted(feeds.__all__) == sorted(PUBLIC_API)
    assert len(feeds.__all__) == len(set(feeds.__all__))


def test_every_name_in_all_resolves() -> None:
    for name in feeds.__all__:
        assert getattr(feeds, name) is not None, name
    assert isinstance(feeds.__version__, str)


def test_nothing_public_is_defined_beyond_all() -> None:
    for name in feeds.__all__:  # the lazily imported ones included
        getattr(feeds, name)
    helpers = {"annotations", "TYPE_CHECKING"}  # used by __init__ itself
    public = {name for name, value in vars(feeds).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public - helpers == set(feeds.__all__) - {"__version__"}


def test_the_entry_points_are_the_pipelines_and_the_configs() -> None:
    from feeds import config, errors, model, pipeline

    assert feeds.build is pipeline.build
    assert feeds.load_config is config.load
    assert feeds.Config is config.Config
    assert feeds.FeedsError is errors.FeedsError
    assert feeds.Article is model.Article
    assert "build" in dir(feeds) and "load_config" in dir(feeds)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        _ = feeds.no_such_name  # type: ignore[attr-defined]
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("feeds.no_such_name resolved")


def test_importing_feeds_loads_neither_the_pipeline_nor_the_config() -> None:
    """``import feeds`` runs in every command and worker: ``build`` and ``load_config``
    are imported on first use only."""
    code = ("import sys, feeds\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('feeds'))))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout.split()
    assert loaded == ["feeds", "feeds.errors", "feeds.model"]
