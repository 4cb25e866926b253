"""The ``feeds`` command: a thin shell over ``config`` and ``pipeline``.

Exit codes (also in the README):

* 0 — everything was read and published;
* 1 — feeds were published, but some inputs were rejected (each named on stderr);
* 2 — nothing could be published: bad configuration, store or output unusable, bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .cli_args import parse
from .errors import ArticleError, ConfigError, FeedsError, Stopped
from .storecmd import cmd_store

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_FAILED = 2

log = logging.getLogger("feeds")


#: what main() returns when a signal stopped the command
STOPPED = (130, 143)


def entry() -> None:
    """The ``feeds`` command (and ``python -m feeds``): :func:`main`, then exit.

    After Ctrl-C, which Python raises wherever the main thread happens to be, ``main``
    has unwound (temporary files removed, the store's transaction rolled back); the
    process then leaves at once, without the interpreter's exit handlers: they would join
    the threads of a process pool the interrupt may have caught mid-call, which need not
    ever return.  Pool workers die with this process (see ``feeds.pipeline.workers``).
    """
    code = main()
    if code in STOPPED:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    _setup_logging(args)
    try:
        result: int = COMMANDS[args.command](args)
        return result
    except FeedsError as exc:
        print(f"feeds: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("feeds: interrupted", file=sys.stderr)
        return 130
    except Stopped:
        print("feeds: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # `feeds inspect ... | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _setup_logging(args: argparse.Namespace) -> None:
    if args.log_level:
        level = getattr(logging, args.log_level.upper())
    elif args.command == "run" and not args.verbose:
        level = logging.ERROR if args.quiet else logging.INFO  # a service says what it does
    elif args.quiet:
        level = logging.ERROR
    else:
        level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    try:
        from .logs import setup_logging
    except ImportError:  # pragma: no cover - logs.py always ships
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    else:
        setup_logging(level)


def _load_config(args: argparse.Namespace) -> Any:
    from . import config

    path = config.resolve_path(args.config, os.environ)
    return config.load(path)


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- build


#: seconds a stop signal gives the build to unwind by itself before the process exits anyway
GRACE = 5.0
#: the stop signals, and the exit code of a process they stopped
_STOP_CODES: dict[int, int] = {signal.SIGTERM: 143, signal.SIGINT: 130}


@contextlib.contextmanager
def _terminated(abandon: Callable[[], None] = lambda: None) -> Iterator[threading.Event]:
    """An event SIGTERM sets, for the build to stop at its next step (each file read, each
    chunk rendered).  A flag, not an exception raised wherever the signal lands: that
    could be inside a lock or a finalizer, which would swallow it or deadlock.

    A step can take long without asking the flag (a C call, a slow disk, a reader stuck on
    a file), so a :class:`_Backstop` also watches: :data:`GRACE` seconds after SIGTERM
    (or SIGINT), or at once on a second one, it calls ``abandon`` (temporary files,
    workers) and ends the process with 143 (or 130)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    backstop = _Backstop(stop, abandon)
    try:
        yield stop
    finally:
        backstop.close()
        signal.signal(signal.SIGTERM, previous)


class _Backstop:
    """Ends the process when a stop signal is not obeyed in time.

    Python runs a signal handler in the main thread, between two bytecodes: never while
    the main thread is inside a long C call.  The C-level handler does write the signal's
    number to the wakeup fd (:func:`signal.set_wakeup_fd`) at once, and this thread reads
    it there.
    """

    def __init__(self, stop: threading.Event, abandon: Callable[[], None]) -> None:
        import socket

        self.stop = stop
        self.abandon = abandon
        self.reader, self.writer = socket.socketpair()
        self.writer.setblocking(False)
        self.previous_fd = signal.set_wakeup_fd(self.writer.fileno(), warn_on_full_buffer=False)
        self.thread = threading.Thread(target=self._watch, name="feeds-stop-backstop",
                                       daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        code: int | None = None
        deadline = 0.0
        while True:
            if code is not None:
                # (never 0: a zero timeout is non-blocking mode, no TimeoutError)
                self.reader.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data = self.reader.recv(64)
            except TimeoutError:
                self._exit(code)
            except OSError:
                return
            if not data:
                return  # closed: the build is over
            for signum in data:
                if signum not in _STOP_CODES:
                    continue
                if signum == signal.SIGTERM:
                    self.stop.set()
                if code is not None:
                    self._exit(code)  # a second stop signal: at once
                code, deadline = _STOP_CODES[signum], time.monotonic() + GRACE

    def _exit(self, code: int | None) -> None:
        with contextlib.suppress(Exception):
            self.abandon()
        with contextlib.suppress(OSError):
            os.write(2, b"feeds: terminated\n" if code == 143 else b"feeds: interrupted\n")
        os._exit(code or 143)

    def close(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            signal.set_wakeup_fd(self.previous_fd)
        self.writer.close()
        self.thread.join(timeout=1.0)
        self.reader.close()


def cmd_build(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from .lock import lock_state_dir
    from .pipeline import abandon, build

    config = _load_config(args)
    progress = _Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    lock = nullcontext() if args.dry_run else lock_state_dir(config.store_path, wait=args.wait)
    try:
        with lock, _terminated(lambda: abandon(config)) as stop:
            report = build(config, now=_now(), dry_run=args.dry_run,
                           progress=progress.update if progress else None,
                           cancelled=stop.is_set)
    finally:
        if progress:
            progress.clear()
    out = sys.stdout
    for source in report.sources:
        if source.error:
            print(f"feeds: source {source.name}: {source.error}", file=sys.stderr)
        for key, reason in source.problems + source.collisions:
            print(f"feeds: {source.name}: {key}: {reason}", file=sys.stderr)
        _print_skips(source, verbose=args.verbose)
    prefix = "would write" if args.dry_run else "wrote"
    for feed in report.feeds:
        if feed.error:
            print(f"feeds: feed {feed.name}: {feed.error}", file=sys.stderr)
            continue
        if args.quiet:
            continue
        files = ", ".join(p.name for p in feed.written)
        written = f"{prefix} {files}" if feed.written else "files unchanged"
        if feed.deleted:  # archive pages left without items
            gone = ", ".join(p.name for p in feed.deleted)
            written += f"; {'would delete' if args.dry_run else 'deleted'} {gone}"
        print(f"{feed.name}: {feed.added} added, {feed.changed} changed, {feed.removed} removed, "
              f"{feed.unchanged} unchanged; {written}", file=out)
    if not args.quiet:
        where = "would be in" if args.dry_run else "in"
        print(f"output {where} {report.output_dir}", file=out)
    if report.feeds and all(f.error for f in report.feeds):
        return EXIT_FAILED
    if report.rejected or report.failed_feeds:
        return EXIT_REJECTED
    return EXIT_OK


def _print_skips(source: Any, *, verbose: int) -> None:
    """A source's warning; under ``-v`` one line per file it left out, with the reason,
    and a count per source."""
    if source.warning:
        print(f"feeds: source {source.name}: {source.warning}", file=sys.stderr)
    if not verbose:
        return
    for key, reason in source.skips:
        print(f"feeds: {source.name}: {key}: skipped: {reason}", file=sys.stderr)
    for key, reason in source.not_published:
        print(f"feeds: {source.name}: {key}: not published: {reason}", file=sys.stderr)
    if source.skips or source.not_published or source.layout:
        layout = f" ({source.layout} layout)" if source.layout else ""
        print(f"feeds: {source.name}{layout}: {len(source.skips)} files skipped, "
              f"{len(source.not_published)} not published", file=sys.stderr)


class _Progress:
    """A one-line counter on a terminal, erased when done."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def update(self, what: str, done: int, total: int) -> None:
        if total < 50 or (done % 25 and done != total):
            return
        self.stream.write(f"\rreading {what}: {done}/{total}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


# --------------------------------------------------------------------------- inspect


def cmd_inspect(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from .pipeline import explain_path, locate, lookup_id, model_cache_dir, read_path

    path: Path = args.path
    config = _optional_config(args)
    tz = config.site.timezone if config else ZoneInfo("UTC")
    base_url = config.site.base_url if config else None
    found = locate(config, path)
    source, key = found.source, found.key
    if found.skipped:
        print(f"feeds: note: {key}: feeds build leaves it out ({found.layout} layout): "
              f"{found.skipped}", file=sys.stderr)
    try:
        article = read_path(path, tz=tz, base_url=base_url, source=source or "", key=key,
                            model_cache=model_cache_dir(), layout=found.layout,
                            link_pattern=found.link_pattern)
    except ArticleError as exc:  # the line ``feeds build`` prints for it, where a source holds it
        where = f"{source}: {key}" if source and key else str(path)
        print(f"feeds: {where}: {exc.reason}", file=sys.stderr)
        return EXIT_REJECTED
    item_id = article.explicit_id or lookup_id(config, source, key)
    data = {
        "title": article.title,
        "published": article.published_text,
        "published_at": article.published.isoformat() if article.published else None,
        "date_source": article.date_source,
        "updated": article.updated.isoformat() if article.updated else None,
        "author": article.author,
        "authors": [{k: v for k, v in (("name", a.name), ("email", a.email), ("url", a.url)) if v}
                    for a in article.authors],
        "dateline": article.dateline,
        "summary_bullets": list(article.summary_bullets),
        "caption": article.caption,
        "credit": article.credit,
        "body": article.body,
        "content_html": article.content_html,
        "summary": article.summary,
        "language": article.language,
        "tags": list(article.tags),
        "link": article.link,
        "image": article.image,
        "draft": article.draft,
        "id": item_id,
    }
    explained = explain_path(path, tz=tz) if getattr(args, "explain", False) else []
    if explained:
        data["explain"] = explained
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return EXIT_OK
    width = max(len(k) for k in data)
    for name, value in data.items():
        if name in ("body", "content_html", "explain"):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        print(f"{name:>{width}}: {'' if shown is None else shown}")
    for line in explained:
        print(f"{line['line']:>4} {line['role']:<16} {line['text'][:60]:<60}  {line['why']}")
    print(f"\n{article.body}")
    return EXIT_OK


def _optional_config(args: argparse.Namespace) -> Any:
    from . import config

    path = config.resolve_path(args.config, os.environ)
    if not args.config and not os.environ.get("FEEDS_CONFIG") and not path.is_file():
        return None
    try:
        return config.load(path)
    except ConfigError as exc:
        log.warning("ignoring the configuration: %s", exc)
        return None


# --------------------------------------------------------------------------- run, serve


def cmd_run(args: argparse.Namespace) -> int:
    from . import config as config_module
    from .daemon import run

    return run(config_module.resolve_path(args.config, os.environ))


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM: one start-up line with the URL on stderr, then one access
    log line per request (Common Log Format, INFO of ``feeds.access``; not with -q)."""
    from .errors import ListenError
    from .server import serve_forever

    config = _load_config(args)
    srv = config.server
    if not getattr(args, "quiet", False) and getattr(args, "log_level", None) is None:
        logging.getLogger("feeds.access").setLevel(logging.INFO)

    def announce(url: str) -> None:
        print(f"feeds: serving {config.output_dir} at {url}", file=sys.stderr, flush=True)

    try:
        serve_forever(config.output_dir, args.host or srv.host,
                      srv.port if args.port is None else args.port, max_age=srv.max_age,
                      announce=announce)
    except ListenError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# --------------------------------------------------------------------------- add, status


def cmd_add(args: argparse.Namespace) -> int:
    from . import config as config_module
    from .configedit import add_feed_source
    from .pipeline import discover_feed

    path = config_module.resolve_path(args.config, os.environ)
    config = config_module.load(path)
    url = args.url
    if not args.no_discover:
        url = discover_feed(config, url)
        if url != args.url:
            print(f"found the feed at {url}")
    name = add_feed_source(path, url, args.name)
    print(f"added source {name!r} ({url}) to {path}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from .pipeline.overview import print_status

    return print_status(_load_config(args), now=_now(), as_json=args.json, only=args.source)


# --------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    from . import config as config_module

    path = config_module.resolve_path(args.config, os.environ)
    try:
        config = config_module.load(path)
    except ConfigError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print(f"{path}: OK ({len(config.sources)} sources, {len(config.feeds)} feeds)")
        for feed in config.feeds:
            sources = ", ".join(config.feed_sources(feed)) or "no sources"
            print(f"  feed {feed.name}: {', '.join(feed.formats)} from {sources}")
    return EXIT_OK


# --------------------------------------------------------------------------- recover


def cmd_recover(args: argparse.Namespace) -> int:
    """One line per feed (items read, ids recovered, unmatched), each unmatched item named
    on stderr, then one line for the store.  Exit 1 when some item or input was left out."""
    from .lock import lock_state_dir
    from .pipeline import recover

    config = _load_config(args)
    with lock_state_dir(config.store_path, wait=args.wait):
        report = recover(config, now=_now(), force=args.force)
    for source in report.sources:
        if source.error:
            print(f"feeds: source {source.name}: {source.error}", file=sys.stderr)
        for key, reason in source.problems:
            print(f"feeds: {source.name}: {key}: {reason}", file=sys.stderr)
    result = report.result
    recovered = {row.id for rows in result.restored.values() for row in rows}
    unmatched = {entry.id for entry in result.unmatched}
    for file in report.files:
        if file.error:
            print(f"feeds: feed {file.feed}: {file.path}: {file.error}", file=sys.stderr)
            continue
        ids = [e.id for e in file.entries]
        missing = [e for e in file.entries if e.id in unmatched]
        if not args.quiet:
            print(f"{file.feed}: {len(ids)} items in {file.path.name}, "
                  f"{sum(1 for i in ids if i in recovered)} ids recovered, "
                  f"{len(missing)} unmatched")
        for entry in missing:
            date = "" if entry.published is None else \
                f" ({datetime.fromtimestamp(entry.published, UTC):%Y-%m-%d %H:%M})"
            print(f"feeds: {file.feed}: unmatched: {entry.id} {entry.title!r}{date}",
                  file=sys.stderr)
    if not args.quiet:
        how = ", ".join(f"{n} by {rule}" for rule, n in sorted(result.how.items())) or "none"
        kept = f"; the old store is kept as {report.kept_aside}" if report.kept_aside else ""
        edited = f", {len(result.edited)} edited since" if result.edited else ""
        print(f"store {report.store_path}: {report.articles} articles, {len(recovered)} ids "
              f"recovered ({how}{edited}), {report.articles - len(recovered)} new{kept}")
    failed = any(f.error for f in report.files)
    return EXIT_REJECTED if unmatched or failed or report.rejected else EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": cmd_build, "inspect": cmd_inspect, "run": cmd_run, "serve": cmd_serve,
    "add": cmd_add, "status": cmd_status, "check": cmd_check, "recover": cmd_recover,
    "store": cmd_store,
}
