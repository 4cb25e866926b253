"""The ``feeds`` command line: its commands, their options, and the global options.

Parsing only: :mod:`feeds.cli` runs the command named ``args.command``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__


def global_options(*, after: bool) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The options every command takes (-v, -q, --log-level) and --config, as parents.

    They are accepted before the command (``feeds -q build``) and after it (``feeds build
    -q``): the main parser holds the defaults, and the copies ``after`` the command
    default to nothing (``SUPPRESS``), so they never undo what was given before it.
    ``-v`` counts in both places (``feeds -v build -v`` is ``-vv``).
    """
    def unset(default: object) -> Any:
        return argparse.SUPPRESS if after else default

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=unset(0),
                        dest="verbose_after" if after else "verbose",
                        help="say more (twice for debug output)")
    common.add_argument("-q", "--quiet", action="store_true", default=unset(False),
                        help="print errors only")
    common.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        default=unset(None), help="log level (overrides -v/-q)")
    with_config = argparse.ArgumentParser(add_help=False)
    with_config.add_argument("--config", "-c", metavar="PATH", default=unset(None),
                             help="config file (default: $FEEDS_CONFIG, else ./config/feeds.toml)")
    return common, with_config


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    args.verbose += vars(args).pop("verbose_after", 0)
    return args


def parser() -> argparse.ArgumentParser:
    common, with_config = global_options(after=False)
    main = argparse.ArgumentParser(
        prog="feeds", parents=[common, with_config],
        description="Publish folders of articles and remote feeds as RSS, Atom and JSON Feed.")
    common, with_config = global_options(after=True)  # for every command
    main.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", parents=[common, with_config],
                       help="ingest every source once, then regenerate every feed")
    p.add_argument("--dry-run", action="store_true",
                   help="report what would change without writing anything")
    _wait_option(p)

    p = sub.add_parser("inspect", parents=[common, with_config],
                       help="show how one article file is read")
    p.add_argument("path", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--explain", action="store_true",
                   help="also show, for each header line of a plain-text article, what it "
                        "was taken for and why")

    p = sub.add_parser("run", parents=[common, with_config],
                       help="run as a service: schedule sources, watch folders, publish on change")

    p = sub.add_parser("serve", parents=[common, with_config],
                       help="serve the output directory to feed readers")
    p.add_argument("--host", help="address to bind (default: [server] host, else 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: [server] port, else 8080)")

    p = sub.add_parser("add", parents=[common, with_config],
                       help="add a remote feed source to the configuration file")
    p.add_argument("url", help="the feed's URL, or a page that links to it")
    p.add_argument("--name", help="the source's name (default: made from the host)")
    p.add_argument("--no-discover", action="store_true",
                   help="take the URL as it is: do not fetch it to find the feed")

    p = sub.add_parser("status", parents=[common, with_config],
                       help="one line per source: last fetch, status, next due, errors")
    p.add_argument("--json", action="store_true",
                   help="one JSON document (docs/status.schema.json) with the feeds too")
    p.add_argument("--source", metavar="NAME", help="this source only")

    p = sub.add_parser("check", parents=[common, with_config],
                       help="validate the configuration and report every problem")

    p = sub.add_parser("recover", parents=[common, with_config],
                       help="rebuild a lost store's ids from the published feeds")
    p.add_argument("--force", action="store_true",
                   help="replace a store that still holds ids (the old file is kept aside)")
    _wait_option(p)

    p = sub.add_parser("store", parents=[common], help="work on a store as a whole")
    verbs = p.add_subparsers(dest="store_command", required=True, metavar="STORE_COMMAND")
    p = verbs.add_parser("copy", parents=[common],
                         help="copy a whole store (ids, validators, politeness state) into a "
                              "new one: SQLite to PostgreSQL, or back")
    p.add_argument("--from", dest="source", required=True, metavar="PATH_OR_URL",
                   help="the store to copy: a SQLite file or a postgresql:// URL")
    p.add_argument("--to", dest="destination", required=True, metavar="PATH_OR_URL",
                   help="the new store (it must be empty): a SQLite file or a postgresql:// URL")
    return main


def _wait_option(parser: argparse.ArgumentParser) -> None:
    """``--wait``, for the commands that take the state directory's lock."""
    parser.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for another feeds process to release the state "
                             "directory (default: 10)")
