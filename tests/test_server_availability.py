"""The server stays available: idle and slow clients cannot starve a normal request.

Raw sockets on 127.0.0.1.  Every test closes the sockets it opened (an ``ExitStack``) and is
bounded in time: each blocking call has a timeout of a few seconds at most.

The latency bound (a normal request answered in under a second while hundreds of other
connections sit idle or trickle a partial request) has a wide margin: on loopback an answer
takes a few milliseconds, so only a server that waits on those connections (a thread per
connection, all threads taken) misses it; the old thread-pool server took 9.5 s with eight
idle connections and over a minute with 200 slow senders.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from feeds.server import FeedServer, Limits

FEED = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel/></rss>\n'
PARTIAL = b"GET /rss.xml HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow"


@pytest.fixture
def public(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    root.mkdir()
    (root / "rss.xml").write_bytes(FEED)
    return root


@contextlib.contextmanager
def serving(public: Path, limits: Limits | None = None) -> Iterator[FeedServer]:
    srv = FeedServer(public, limits=limits) if limits is not None else FeedServer(public)
    srv.start("127.0.0.1", 0)
    try:
        yield srv
    finally:
        srv.stop()


@contextlib.contextmanager
def connections(port: int, count: int, first: bytes = b"") -> Iterator[list[socket.socket]]:
    """``count`` open connections, each having sent ``first`` (nothing: an idle one)."""
    with contextlib.ExitStack() as stack:
        socks = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            if first:
                sock.sendall(first)
            socks.append(sock)
        yield socks


def timed_get(url: str, timeout: float = 5) -> tuple[float, httpx.Response]:
    """A GET on a new connection, timed from connecting to the last byte (the client is made
    first: its set-up, an SSL context, takes ~0.1 s on a loaded machine)."""
    with httpx.Client(timeout=timeout) as client:
        started = time.monotonic()
        response = client.get(url + "rss.xml", headers={"Accept-Encoding": "identity"})
        return time.monotonic() - started, response


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing ``sock`` within ``within`` s; None if it did not."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


# -- no starvation -------------------------------------------------------------------------


def test_idle_connections_do_not_delay_a_request(public: Path) -> None:
    with serving(public) as srv, connections(srv.port, 16):
        elapsed, response = timed_get(srv.url)
    assert response.status_code == 200
    assert response.content == FEED
    assert elapsed < 1.0, f"answered after {elapsed:.2f}s"


def test_200_slow_senders_do_not_delay_a_request(public: Path) -> None:
    with serving(public) as srv, connections(srv.port, 200, PARTIAL) as slow:
        for sock in slow:  # one more byte each, as a slow sender does every few seconds
            sock.sendall(b"x")
        elapsed, response = timed_get(srv.url)
        for sock in slow:  # and they are still connected, not refused
            sock.sendall(b"y")
    assert response.status_code == 200
    assert response.content == FEED
    assert elapsed < 1.0, f"answered after {elapsed:.2f}s"


# -- bounded time and connection counts -----------------------------------------------------


def test_a_slow_sender_is_closed_when_the_header_time_is_up(public: Path) -> None:
    limits = Limits(header_timeout=0.5)
    with serving(public, limits) as srv, connections(srv.port, 1, PARTIAL) as (sock,):
        started = time.monotonic()
        sock.sendall(b"a")  # bytes keep coming, but the deadline does not move
        time.sleep(0.3)
        sock.sendall(b"b")
        received = closed_by_server(sock, within=3)
        elapsed = time.monotonic() - started
    assert received is not None, "the server kept a slow sender open"
    assert received == b"" or received.startswith(b"HTTP/1.1 408 ")
    assert 0.3 < elapsed < 3


def test_a_connection_that_sends_nothing_is_closed_when_the_header_time_is_up(
    public: Path,
) -> None:
    with serving(public, Limits(header_timeout=0.5)) as srv, connections(srv.port, 1) as (sock,):
        assert closed_by_server(sock, within=3) is not None


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    public: Path,
) -> None:
    limits = Limits(keep_alive_timeout=0.5, header_timeout=30)
    request = b"GET /rss.xml HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n"
    with serving(public, limits) as srv, connections(srv.port, 1, request) as (sock,):
        sock.settimeout(3)
        response = b""
        while not response.endswith(FEED):
            chunk = sock.recv(65536)
            assert chunk, "closed before the response was complete"
            response += chunk
        assert response.startswith(b"HTTP/1.1 200 ")
        assert closed_by_server(sock, within=3) == b""


def test_a_kept_alive_connection_serves_several_requests(public: Path) -> None:
    with serving(public) as srv, httpx.Client(timeout=5) as client:
        for _ in range(3):
            assert client.get(srv.url + "rss.xml").content == FEED


def test_pipelined_requests_are_answered_in_order(public: Path) -> None:
    one = b"GET /rss.xml HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n"
    last = b"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with serving(public) as srv, connections(srv.port, 1, one + one + last) as (sock,):
        received = closed_by_server(sock, within=3)
    assert received is not None
    assert received.count(b"HTTP/1.1 200 ") == 2
    assert received.count(FEED) == 2
    assert received.rindex(b"HTTP/1.1 404 ") > received.rindex(FEED)


def test_connections_beyond_the_limit_get_503_and_the_others_are_served(public: Path) -> None:
    limits = Limits(max_connections=4)
    with serving(public, limits) as srv, connections(srv.port, 4, PARTIAL):
        with connections(srv.port, 1) as (extra,):
            refused = closed_by_server(extra, within=3)
        assert refused is not None
        assert refused.startswith(b"HTTP/1.1 503 ")
        assert b"Retry-After:" in refused
    with serving(public, limits) as srv, connections(srv.port, 3, PARTIAL):
        # below the limit, a normal request still gets through
        _, response = timed_get(srv.url)
        assert response.status_code == 200


def test_an_idle_kept_alive_connection_makes_room_for_a_new_one(public: Path) -> None:
    limits = Limits(max_connections=2, keep_alive_timeout=30)
    with serving(public, limits) as srv, httpx.Client(timeout=5) as first:
        assert first.get(srv.url + "rss.xml").status_code == 200  # now idle, kept alive
        with connections(srv.port, 1, PARTIAL):  # the second slot
            _, response = timed_get(srv.url)  # over the limit: the idle one gives way
        assert response.status_code == 200
        assert first.get(srv.url + "rss.xml").status_code == 200  # httpx reconnects


def test_oversized_request_headers_get_431(public: Path) -> None:
    big = b"GET /rss.xml HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    with serving(public) as srv, connections(srv.port, 1) as (sock,):
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(big)
        received = closed_by_server(sock, within=3)
    assert received is not None
    assert received == b"" or received.startswith(b"HTTP/1.1 431 ")


def test_a_malformed_request_gets_400(public: Path) -> None:
    with serving(public) as srv, connections(srv.port, 1, b"NOT HTTP AT ALL\r\n\r\n") as (sock,):
        received = closed_by_server(sock, within=3)
    assert received is not None
    assert received.startswith(b"HTTP/1.1 400 ")


def test_stop_closes_idle_and_slow_connections_promptly(public: Path) -> None:
    srv = FeedServer(public)
    srv.start("127.0.0.1", 0)
    try:
        with connections(srv.port, 20, PARTIAL) as slow, connections(srv.port, 20):
            started = time.monotonic()
            srv.stop(timeout=2)
            assert time.monotonic() - started < 3
            assert not srv.running
            assert closed_by_server(slow[0], within=2) is not None
    finally:
        srv.stop()


# -- the protocol edges ----------------------------------------------------------------------


def exchange(port: int, request: bytes) -> bytes:
    """Send ``request``; everything the server sends until it closes (within 3 s)."""
    with connections(port, 1, request) as (sock,):
        received = closed_by_server(sock, within=3)
    assert received is not None, "the server did not close the connection"
    return received


def test_http_1_0_gets_its_answer_and_the_connection_closes(public: Path) -> None:
    with serving(public) as srv:
        received = exchange(srv.port, b"GET /rss.xml HTTP/1.0\r\nAccept-Encoding: identity\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 ")
    assert received.endswith(FEED)


def test_http_1_0_keep_alive_is_kept_alive_and_said_so(public: Path) -> None:
    request = (b"GET /rss.xml HTTP/1.0\r\nConnection: keep-alive\r\n"
               b"Accept-Encoding: identity\r\n\r\n")
    with serving(public) as srv, connections(srv.port, 1, request) as (sock,):
        sock.settimeout(3)
        response = b""
        while not response.endswith(FEED):
            response += sock.recv(65536)
        assert b"\r\nConnection: keep-alive\r\n" in response
        sock.sendall(request)  # the same connection answers again
        again = b""
        while not again.endswith(FEED):
            again += sock.recv(65536)
        assert again.startswith(b"HTTP/1.1 200 ")


def test_an_upgrade_request_is_answered_in_http_1_1_then_closed(public: Path) -> None:
    request = (b"GET /rss.xml HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
               b"Accept-Encoding: identity\r\n\r\n")
    with serving(public) as srv:
        received = exchange(srv.port, request)
    assert received.startswith(b"HTTP/1.1 200 ")
    assert received.endswith(FEED)


def test_a_post_with_a_body_gets_405_and_the_connection_closes(public: Path) -> None:
    request = b"POST /rss.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    with serving(public) as srv:
        received = exchange(srv.port, request)
    assert received.startswith(b"HTTP/1.1 405 ")
    assert b"\r\nAllow: GET, HEAD\r\n" in received


def test_an_absolute_form_target_is_served(public: Path) -> None:
    request = (b"GET http://localhost/rss.xml HTTP/1.1\r\nHost: localhost\r\n"
               b"Connection: close\r\n\r\n")
    with serving(public) as srv:
        received = exchange(srv.port, request)
    assert received.startswith(b"HTTP/1.1 200 ")


def test_a_request_in_many_small_pieces_within_the_deadline_is_served(public: Path) -> None:
    request = (b"GET /rss.xml HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n"
               b"Connection: close\r\n\r\n")
    with serving(public) as srv, connections(srv.port, 1) as (sock,):
        for i in range(0, len(request), 7):
            sock.sendall(request[i:i + 7])
            time.sleep(0.005)
        received = closed_by_server(sock, within=3)
    assert received is not None
    assert received.startswith(b"HTTP/1.1 200 ")
    assert received.endswith(FEED)


def test_a_header_growing_over_many_reads_gets_431(public: Path) -> None:
    with serving(public) as srv, connections(srv.port, 1, PARTIAL) as (sock,):
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            for _ in range(40):  # 40 KB of one header value, 1 KB a read
                sock.sendall(b"a" * 1024)
                time.sleep(0.002)
        received = closed_by_server(sock, within=3) or b""
    assert received == b"" or received.startswith(b"HTTP/1.1 431 ")
