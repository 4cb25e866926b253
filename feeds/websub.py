"""WebSub: tell the hub that feeds changed (``hub.mode=publish``), without blocking publishing.

Each announcement runs in a daemon thread and is retried with exponential backoff; a hub
that stays down is logged and given up on after ``ATTEMPTS`` tries (the next change
announces again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import httpx

from . import __version__

log = logging.getLogger("feeds.websub")

ATTEMPTS = 5
FIRST_DELAY = 2.0


def ping(hub: str, urls: Sequence[str], *, client: httpx.Client) -> None:
    """One publish notification; raises ``httpx.HTTPError`` on failure."""
    data: dict[str, str | list[str]] = {"hub.mode": "publish", "hub.url": list(urls)}
    response = client.post(hub, data=data)
    if response.status_code >= 300:
        raise httpx.HTTPStatusError(f"hub answered {response.status_code}",
                                    request=response.request, response=response)


def announce_with_retries(hub: str, urls: Sequence[str], *, client: httpx.Client,
                          sleep: Callable[[float], object], attempts: int = ATTEMPTS) -> bool:
    delay = FIRST_DELAY
    for attempt in range(1, attempts + 1):
        try:
            ping(hub, urls, client=client)
        except httpx.HTTPError as exc:
            log.warning("websub hub %s: attempt %d/%d failed: %s", hub, attempt, attempts, exc)
            if attempt < attempts:
                sleep(delay)
                delay *= 2
            continue
        log.info("websub hub %s notified of %d feed URLs", hub, len(urls))
        return True
    log.error("websub hub %s: giving up after %d attempts", hub, attempts)
    return False


def announce(hub: str, urls: Sequence[str]) -> threading.Thread:
    """Notify ``hub`` in the background; returns the thread (tests may join it)."""

    def work() -> None:
        headers = {"User-Agent": f"feeds/{__version__}"}
        stop = threading.Event()
        with httpx.Client(timeout=10.0, headers=headers) as client:
            announce_with_retries(hub, list(urls), client=client, sleep=stop.wait)

    thread = threading.Thread(target=work, name="feeds-websub", daemon=True)
    thread.start()
    return thread
