"""The sd_notify protocol, spoken directly (no dependency).

systemd passes ``NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace) to a
``Type=notify`` service; the service sends newline-separated ``KEY=VALUE`` datagrams to it::

    READY=1                       start-up (or a reload) is complete
    RELOADING=1 + MONOTONIC_USEC  a reload begins (systemd >= 253 wants the timestamp)
    STOPPING=1                    shutdown begins
    STATUS=...                    one line shown by ``systemctl status``
    WATCHDOG=1                    keep-alive, at least every WATCHDOG_USEC / 2

Outside systemd (no ``NOTIFY_SOCKET``) every method is a silent no-op.  A failure to send
is logged once and never raised: the service must not die because its supervisor is slow.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping

__all__ = ["Notifier"]

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to ``address`` (``None``: do nothing).

    Use ``Notifier.from_environ()``; the constructor is for tests and special cases.
    """

    def __init__(
        self,
        address: str | None,
        *,
        watchdog_usec: int | None = None,
        watchdog_pid: int | None = None,
    ) -> None:
        self.address = address or None
        self._watchdog_usec = watchdog_usec
        self._watchdog_pid = watchdog_pid
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Read ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID`` (default: os.environ)."""
        env = os.environ if environ is None else environ
        return cls(
            env.get("NOTIFY_SOCKET"),
            watchdog_usec=_positive_int(env.get("WATCHDOG_USEC")),
            watchdog_pid=_positive_int(env.get("WATCHDOG_PID")),
        )

    from_env = from_environ  # the shorter name feeds.daemon uses

    @property
    def enabled(self) -> bool:
        return self.address is not None

    # -- the messages ----------------------------------------------------------------------

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *_status(status))

    def status(self, text: str) -> bool:
        return self.notify(*_status(text))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def reloading(self, status: str | None = None) -> bool:
        """Announce a reload; send ``ready()`` when it is done."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}", *_status(status))

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *_status(status))

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start, reload or stop (``EXTEND_TIMEOUT_USEC``)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(0, int(seconds * 1_000_000))}")

    def watchdog_interval(self) -> float | None:
        """Seconds between ``watchdog()`` calls (half of WATCHDOG_USEC), or None if not ours."""
        if not self._watchdog_usec:
            return None
        if self._watchdog_pid is not None and self._watchdog_pid != os.getpid():
            return None
        return self._watchdog_usec / 2 / 1_000_000

    # -- the transport ---------------------------------------------------------------------

    def notify(self, *fields: str) -> bool:
        """Send one datagram of ``KEY=VALUE`` lines.  True if sent; never raises."""
        if self.address is None or not fields:
            return False
        message = ("\n".join(fields) + "\n").encode("utf-8")
        try:
            target = _socket_address(self.address)
            with self._lock:
                if self._socket is None:
                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.sendto(message, target)
        except (OSError, ValueError) as error:
            self._failed(error)
            return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _failed(self, error: Exception) -> None:
        if self._warned:
            log.debug("sd_notify to %s failed again: %s", self.address, error)
            return
        self._warned = True
        log.warning(
            "cannot notify systemd at %s: %s (further failures are quiet)", self.address, error
        )


def _socket_address(address: str) -> str | bytes:
    if address.startswith("@"):
        return b"\0" + address[1:].encode("utf-8")  # abstract namespace
    if address.startswith("/"):
        return address
    raise ValueError(f"unsupported NOTIFY_SOCKET address {address!r}")  # e.g. vsock:


def _status(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return ("STATUS=" + " ".join(text.split()),)  # one line: a newline would end the field


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number and number > 0 else None
