"""WebSub: the hub hears about changed feeds, and a failing hub is retried with backoff."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx

from feeds.websub import announce_with_retries


def test_the_hub_receives_a_publish_ping_for_every_url() -> None:
    seen: list[list[tuple[str, str]]] = []

    def hub(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qsl(request.content.decode()))
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(hub))
    ok = announce_with_retries("https://hub.example/", ["https://ex.org/all/rss.xml",
                                                        "https://ex.org/all/atom.xml"],
                               client=client, sleep=lambda s: None)
    assert ok
    assert seen == [[("hub.mode", "publish"), ("hub.url", "https://ex.org/all/rss.xml"),
                     ("hub.url", "https://ex.org/all/atom.xml")]]


def test_a_failing_hub_is_retried_with_growing_delays() -> None:
    answers = iter([503, 500, 202])
    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(next(answers))))
    assert announce_with_retries("https://hub.example/", ["u"], client=client,
                                 sleep=sleeps.append)
    assert sleeps == [2.0, 4.0]


def test_a_hub_that_stays_down_is_given_up_on() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(down))
    assert not announce_with_retries("https://hub.example/", ["u"], client=client,
                                     sleep=sleeps.append, attempts=3)
    assert sleeps == [2.0, 4.0]
