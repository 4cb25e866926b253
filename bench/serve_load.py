"""``python -m bench.serve_load``: a fixed-rate load on ``feeds serve``, with slow senders beside.

::

    feeds serve (a real process, its access log to a file)
        ▲  --connections keep-alive clients: request i is due at t0 + i / rate (open loop)
        ▲  --slow connections trickling a partial request, one byte every 4 s (reconnecting
        │  when the server closes them)
        └─ a probe: one fresh connection and one request every second, its latency

The latency of a request is counted from when it was *due*, not from when it was sent, so a
server that falls behind shows it (no coordinated omission).  Everything runs on 127.0.0.1 and
stops by itself after ``--duration`` seconds.  The exit status is 1 when any request failed
(a connection error, a status other than 200, a short body) or the rate fell short by more
than 2%.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Tally", "main"]

PARTIAL = b"GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # s, from due time to last byte
    errors: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    probes: list[float] = field(default_factory=list)
    slow_reconnects: int = 0


def _feed_bytes(path: Path | None) -> bytes:
    if path is not None:
        return path.read_bytes()
    from bench.feedserver import build_feed

    return build_feed(0, 20)


def _start_server(workdir: Path, feed: bytes) -> tuple[subprocess.Popen[bytes], str, Path]:
    """``feeds serve`` on an ephemeral port; its stderr (start-up line, access log) to a file."""
    public = workdir / "public"
    public.mkdir()
    (public / "feed.xml").write_bytes(feed)
    (workdir / "articles").mkdir()
    config = workdir / "feeds.toml"
    config.write_text(
        '[site]\ntitle = "load"\nlink = "http://127.0.0.1/"\n'
        '[store]\npath = "state/feeds.db"\n[output]\ndir = "public"\n'
        '[[sources]]\nname = "a"\nkind = "folder"\npath = "articles"\n'
        '[[feeds]]\nname = "all"\ntitle = "All"\n', encoding="utf-8")
    log = workdir / "serve.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "feeds", "serve", "-c", str(config),
                                 "--port", "0"], stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", log.read_text(errors="replace"))
        if match:
            return proc, match[1], log
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"feeds serve did not start:\n{log.read_text(errors='replace')}")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    match = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
    length = int(match[1]) if match else 0
    if length:
        await reader.readexactly(length)
    return status, length


class _ClientProtocol(asyncio.Protocol):
    """One kept-alive connection sending ``request`` at each due time, one at a time
    (a request due while the previous is unanswered waits for it: its latency shows that)."""

    def __init__(self, request: bytes, times: list[float], expected: int, tally: Tally,
                 done: asyncio.Future[None]) -> None:
        self.loop = asyncio.get_running_loop()
        self.request = request
        self.times = times
        self.next = 0  # index of the request to send next
        self.expected = expected
        self.tally = tally
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buffer = b""  # a response head being read
        self.remaining = 0  # bytes of the body still to come
        self.length = self.status = 0
        self.due = 0.0
        self.waiting = False
        self.timeout: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._schedule()

    def _schedule(self) -> None:
        if self.next >= len(self.times):
            self._finish()
            return
        due = self.times[self.next]
        if due > self.loop.time():
            self.loop.call_at(due, self._send)
        else:
            self._send()  # late: at once

    def _send(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.due = self.times[self.next]
        self.next += 1
        self.waiting = True
        self.transport.write(self.request)
        self.timeout = self.loop.call_later(10, self._timed_out)

    def data_received(self, data: bytes) -> None:
        if self.remaining:  # inside a body: count it, keep nothing
            taken = min(self.remaining, len(data))
            self.remaining -= taken
            data = data[taken:]
            if not self.remaining:
                self._answered()
            if not data:
                return
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end]
        match = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
        self.length = int(match[1]) if match else 0
        self.status = int(head[9:12])
        body = len(self.buffer) - end - 4
        self.buffer = b""
        if body > self.length:
            self.tally.errors["more than the body"] += 1
        self.remaining = max(0, self.length - body)
        if not self.remaining:
            self._answered()

    def _answered(self) -> None:
        if self.timeout is not None:
            self.timeout.cancel()
        self.waiting = False
        if self.status != 200:
            self.tally.errors[f"status {self.status}"] += 1
        elif self.length != self.expected:
            self.tally.errors["wrong length"] += 1
        else:
            self.tally.bytes += self.length
            self.tally.latencies.append(self.loop.time() - self.due)
        self._schedule()

    def _timed_out(self) -> None:
        self.tally.errors["timeout"] += 1
        assert self.transport is not None
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timeout is not None:
            self.timeout.cancel()
        if self.waiting or self.next < len(self.times):
            self.tally.errors[f"connection lost ({type(exc).__name__ if exc else 'closed'})"] += (
                len(self.times) - self.next + (1 if self.waiting else 0))
        self._finish()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


async def _client(port: int, request: bytes, times: list[float], expected: int,
                  tally: Tally) -> None:
    """Send ``request`` at each of ``times`` (loop time) on one kept-alive connection; a lost
    connection counts every request it still had as an error."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    try:
        await asyncio.wait_for(loop.create_connection(
            lambda: _ClientProtocol(request, times, expected, tally, done), "127.0.0.1", port),
            10)
    except (OSError, TimeoutError) as exc:
        tally.errors[f"connect {type(exc).__name__}"] += len(times)
        return
    await done


async def _slow_sender(port: int, until: float, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(1)
            continue
        try:
            writer.write(PARTIAL)
            while loop.time() < until and not reader.at_eof():
                await asyncio.sleep(4)
                writer.write(b"x")
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    if await asyncio.wait_for(reader.read(4096), 0.01) == b"":
                        break  # closed by the server (its header deadline)
        except OSError:
            pass
        finally:
            writer.close()
        tally.slow_reconnects += 1


async def _probe(port: int, until: float, tally: Tally, request: bytes) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        started = loop.time()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 10)
            writer.write(request)
            status, _ = await asyncio.wait_for(_read_response(reader), 10)
            writer.close()
            if status == 200:
                tally.probes.append(loop.time() - started)
            else:
                tally.errors[f"probe status {status}"] += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            tally.errors[f"probe {type(exc).__name__}"] += 1
        await asyncio.sleep(1)


async def _load(port: int, rate: float, duration: float, connections: int, slow: int,
                use_gzip: bool, expected: int) -> tuple[Tally, float]:
    encoding = "gzip" if use_gzip else "identity"
    request = (f"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Accept-Encoding: {encoding}\r\n\r\n").encode()
    tally = Tally()
    loop = asyncio.get_running_loop()
    slow_tasks = [asyncio.create_task(_slow_sender(port, loop.time() + duration + 3, tally))
                  for _ in range(slow)]
    await asyncio.sleep(1 if slow else 0)  # the slow senders are connected first
    t0 = loop.time() + 0.2
    total = int(rate * duration)
    schedule: list[list[float]] = [[] for _ in range(connections)]
    for i in range(total):
        schedule[i % connections].append(t0 + i / rate)
    probe = asyncio.create_task(_probe(port, t0 + duration, tally, request))
    await asyncio.gather(*(_client(port, request, times, expected, tally)
                           for times in schedule))
    elapsed = loop.time() - t0  # from the first due time to the last answer
    await probe
    for task in slow_tasks:
        task.cancel()
    await asyncio.gather(*slow_tasks, return_exceptions=True)
    return tally, elapsed


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=2000, help="requests per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load")
    parser.add_argument("--connections", type=int, default=50, help="kept-alive clients")
    parser.add_argument("--slow", type=int, default=0, help="slow senders beside the load")
    parser.add_argument("--gzip", action="store_true", help="ask for gzip")
    parser.add_argument("--file", type=Path, help="the feed to serve (default: a built RSS)")
    args = parser.parse_args(argv)

    feed = _feed_bytes(args.file)
    expected = len(gzip.compress(feed, mtime=0)) if args.gzip else len(feed)
    with tempfile.TemporaryDirectory(prefix="feeds-serve-load-") as tmp:
        proc, url, log = _start_server(Path(tmp), feed)
        port = int(url.rsplit(":", 1)[1].strip("/"))
        print(f"serving {len(feed)} bytes at {url}feed.xml", file=sys.stderr)
        try:
            server_cpu, own_cpu = _cpu_seconds(proc.pid), time.process_time()
            tally, elapsed = asyncio.run(_load(port, args.rate, args.duration,
                                               args.connections, args.slow, args.gzip,
                                               expected))
            server_cpu = _cpu_seconds(proc.pid) - server_cpu
            own_cpu = time.process_time() - own_cpu
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        access_lines = log.read_text(errors="replace").count("feeds.access")

    done = len(tally.latencies)
    errors = sum(tally.errors.values())
    target = int(args.rate * args.duration)
    achieved = done / elapsed if elapsed else 0.0
    lat = sorted(tally.latencies) or [0.0]
    quantiles = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    print(f"requests: {done} ok of {target} due over {args.duration:g} s "
          f"({args.connections} connections, {'gzip' if args.gzip else 'identity'}, "
          f"{args.slow} slow senders)")
    print(f"rate: {achieved:.0f} req/s achieved for {args.rate:g} due; "
          f"{tally.bytes / elapsed / 1e6:.1f} MB/s of bodies")
    print(f"errors: {errors}" + (f" {dict(tally.errors)}" if errors else ""))
    print(f"latency from due time: p50 {_ms(quantiles[49])}, p90 {_ms(quantiles[89])}, "
          f"p99 {_ms(quantiles[98])}, max {_ms(lat[-1])}")
    if tally.probes:
        print(f"fresh-connection probe (1/s): median {_ms(statistics.median(tally.probes))}, "
              f"max {_ms(max(tally.probes))} over {len(tally.probes)}")
    if args.slow:
        print(f"slow senders: {args.slow} held, {tally.slow_reconnects} closed by the server "
              f"and reconnected")
    print(f"access log lines: {access_lines}")
    if done:
        print(f"CPU: server {server_cpu:.1f} s ({server_cpu / done * 1e6:.0f} us a request), "
              f"this load generator {own_cpu:.1f} s, over {elapsed:.1f} s")
    short = achieved < args.rate * 0.98
    return 1 if errors or short or done < target else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
