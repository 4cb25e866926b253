"""Helpers for the tests that run ``feeds run`` as a real process.

* ``NotifySocket``: a unix datagram socket standing in for systemd's ``NOTIFY_SOCKET``; it
  records every message with the time it arrived.
* ``DaemonProcess``: ``python -m feeds run`` in its own session (so a SIGKILL can take its
  process pool with it), stderr in a log file, stopped for sure at the end.
* ``write_config``, ``write_article``, ``titles``: the files the daemon reads and writes.

Every wait polls with a generous deadline; nothing here sleeps a fixed time to decide.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import feedparser

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 15.0, interval: float = 0.02,
               what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class Message:
    at: float  # time.monotonic() on arrival
    fields: dict[str, str]

    def __contains__(self, item: str) -> bool:
        key, _, value = item.partition("=")
        return self.fields.get(key) == value if value else key in self.fields


class NotifySocket:
    """Receives sd_notify datagrams at ``path`` in a background thread."""

    def __init__(self, path: Path) -> None:
        if len(str(path)) > 100:  # sun_path is 108 bytes
            raise ValueError(f"socket path too long: {path}")
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._closed.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.partition("=")[::2] for line in data.decode().splitlines() if line)
            with self._lock:
                self.messages.append(Message(time.monotonic(), fields))

    def snapshot(self) -> list[Message]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, item: str, *, after: int = 0, timeout: float = 15.0) -> int:
        """Index of the first message from ``after`` on that has ``item`` (``KEY=VALUE``)."""

        def find() -> int | None:
            for i, message in enumerate(self.snapshot()[after:], after):
                if item in message:
                    return i + 1  # truthy even for index 0
            return None

        found = wait_until(find, timeout, what=f"{item} on the notify socket")
        assert found is not None
        return found - 1

    def close(self) -> None:
        self._closed.set()
        self.sock.close()
        self._thread.join(2)


class DaemonProcess:
    """``feeds run --config CONFIG`` as a child process."""

    def __init__(self, config: Path, log: Path, *, notify: NotifySocket | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_PID",
                            "LISTEN_FDS", "JOURNAL_STREAM", "FEEDS_CONFIG")}
        if notify is not None:
            env["NOTIFY_SOCKET"] = str(notify.path)
        env.update(extra_env or {})
        self.log_path = log
        self._log = log.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feeds", "run", "--log-level", "info", "--config", str(config)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def kill_group(self) -> None:
        """SIGKILL the daemon and its process pool, as systemd does to the cgroup."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        """Make sure nothing is left running (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        if self.proc.poll() is None:
            self.kill_group()
        else:
            # a pool worker its parent left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


def write_config(path: Path, *, sources: Iterable[tuple[str, Path]], server_port: int | None = None,
                 limit: int = 50, hub: str | None = None, extra: str = "") -> None:
    """A config with folder ``sources`` (name, path), one feed ``all`` of every source."""
    site = '[site]\ntitle = "daemon test"\nbase_url = "http://127.0.0.1/"\n'
    if hub:
        site += f'hub = "{hub}"\n'
    parts = [
        site,
        f'[store]\npath = "{path.parent / "state" / "feeds.db"}"\n',
        f'[output]\ndir = "{path.parent / "public"}"\n',
    ]
    if server_port is not None:
        parts.append(f'[server]\nenabled = true\nhost = "127.0.0.1"\nport = {server_port}\n'
                     "max_age = 0\n")
    for name, folder in sources:
        parts.append(f'[[sources]]\nname = "{name}"\nkind = "folder"\npath = "{folder}"\n')
    parts.append(f'[[feeds]]\nname = "all"\ntitle = "All"\nlimit = {limit}\n')
    text = "\n".join(parts) + extra
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def article_text(title: str, *, body: str = "Some body text.", day: int = 1) -> str:
    return f"---\ntitle: {title}\ndate: 2024-01-{day:02d}T12:00:00Z\n---\n{body}\n"


def write_article(folder: Path, name: str, title: str, *, rename: bool, **kw: Any) -> None:
    """Write an article directly, or to a hidden temp name renamed into place."""
    text = article_text(title, **kw)
    if rename:
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(folder / name)
    else:
        (folder / name).write_text(text, encoding="utf-8")


def titles(path: Path) -> list[str]:
    """Entry titles of an Atom/RSS file ([] while it does not exist yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, f"{path} does not parse: {parsed.get('bozo_exception')}"
    return [e.title for e in parsed.entries]


def check_feed_bytes(name: str, data: bytes) -> None:
    """Raise AssertionError unless ``data`` is a complete, valid feed file."""
    if name.endswith(".json"):
        document = json.loads(data)
        assert document["version"].startswith("https://jsonfeed.org/version/"), name
        assert isinstance(document["items"], list)
        return
    parsed = feedparser.parse(data)
    assert not parsed.bozo, f"{name}: {parsed.get('bozo_exception')} in {len(data)} bytes"
    assert parsed.version, f"{name}: not recognised as a feed"


@contextlib.contextmanager
def explained(daemon: DaemonProcess, lines: int = 40) -> Iterator[None]:
    """Add the tail of the daemon's log to an assertion failing inside the block."""
    try:
        yield
    except AssertionError as exc:
        tail = "\n".join(daemon.log().splitlines()[-lines:])
        raise AssertionError(f"{exc}\n--- daemon log (tail) ---\n{tail}") from exc
