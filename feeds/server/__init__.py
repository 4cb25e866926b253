"""Serve the output directory to feed readers.

An asyncio server speaking HTTP/1.1 through httptools (llhttp, the parser of Node.js), over
one pure request handler (``FeedApp.respond``, also a WSGI application by ``make_app``)::

    connection ──► llhttp parses ──► resolve path ──► stat ──► entity cache ──► 304 / 200
    (at most        (headers      (no traversal,            (bytes, ETag,
     max_connections, within       no hidden,                gzip body by
     idle ones make  header_timeout) no listing)             dev, inode, size,
     room)                                                   mtime_ns, ctime_ns)

* Media types come from the file name: ``rss.xml``, ``atom.xml`` and ``feed.json`` get the
  feed types of ``feeds.publish.FORMATS``; ``feeds.opml`` is ``text/x-opml``.
* Every 200 and 304 carries a strong ``ETag`` (a content hash; the gzip variant has its own,
  ``"<hash>-gzip"``), ``Last-Modified`` and ``Cache-Control``; compressible types also
  ``Vary: Accept-Encoding``.  ``If-None-Match`` wins over ``If-Modified-Since``.  gzip is
  sent when ``Accept-Encoding`` gives it a q-value above 0 (``gzip;q=0`` refuses it) and
  not below that of ``identity`` when named.
* Paths with ``..``, hidden components (``.tmp`` files of atomic writes), NUL bytes, or that
  resolve (through symlinks) outside the root are 404.  There is no directory listing: a
  directory serves its ``index.html`` or is 404.
* A file's bytes, hash and gzip body are cached by its identity and times, and read again only
  when the ``stat`` differs.  A file changed less than two seconds ago is read again on each
  request and compared byte for byte (the "racy" rule of git's index): within one tick of a
  coarse file-system clock an in-place rewrite of the same size keeps its times.

Availability (``Limits``): one event loop serves every connection, so idle or slow clients
cost a socket each, never a worker.  A request must arrive whole within ``header_timeout``
(from the connection's start, or from the first byte of a kept-alive connection's next
request; data trickling in does not move the deadline), else the connection gets 408 and is
closed.  An idle kept-alive connection is closed after ``keep_alive_timeout``; a client that
does not read its response, after ``send_timeout``.  Beyond ``max_connections`` the oldest
idle kept-alive connection is closed to make room, or else the newcomer gets 503.

One access log line per response goes to the ``feeds.access`` logger at INFO, in Common Log
Format (``127.0.0.1 - - [02/Dec/2026:07:30:00 +0000] "GET /rss.xml HTTP/1.1" 200 5120``).

``FeedServer`` runs the loop in a background thread (inside the daemon, beside the
scheduler); ``serve_forever`` runs it for ``feeds serve`` until SIGINT or SIGTERM.
"""


from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any
from wsgiref.types import WSGIApplication

from feeds.errors import ListenError
from feeds.server.connection import ClientConnection, ConnectionHub, Limits, wsgi_responder
from feeds.server.files import FeedApp, Reply, make_app, media_type_for

__all__ = ["FeedApp", "FeedServer", "Limits", "Reply", "Routes", "make_app", "media_type_for",
           "serve_forever"]

log = logging.getLogger(__name__)
_DEFAULT_LIMITS = Limits()


def _listen(host: str, port: int, backlog: int = 512) -> socket.socket:
    """A listening, non-blocking socket on ``host:port``; ``ListenError`` says why not."""
    if not 0 <= port <= 65535:
        raise ListenError(host, port, "the port must be between 0 and 65535")
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(host, port, f"unknown host name ({exc.strerror})") from None
    except UnicodeError:  # the idna codec: an empty label, or one over 63 characters
        raise ListenError(host, port, "invalid host name") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(host, port, _reason(exc, port), errno=exc.errno) from None
    return sock


def _reason(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno == errno.EACCES:
        if 0 < port < 1024:
            return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        return "permission denied"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "address not available on this machine"
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _drop_foreign_listen_fds() -> None:
    """Unset socket-activation variables meant for another process (sd_listen_fds(3) rule):
    a child started later must not take them for its own."""
    listen_pid = os.environ.get("LISTEN_PID")
    if listen_pid is not None and listen_pid.strip() != str(os.getpid()):
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
        log.debug("ignored LISTEN_PID=%s: socket activation for another process", listen_pid)


class FeedServer:
    """Serve ``root`` over HTTP from an event loop in a background thread.

    ``start()`` binds before it returns (a busy port raises ``ListenError``, an ``OSError``,
    in the caller) and ``stop()`` closes idle connections at once, lets responses being sent
    finish (up to ``timeout`` s), and joins the thread.
    """

    def __init__(
        self, root: Path, *, max_age: int = 300, limits: Limits = _DEFAULT_LIMITS,
        routes: Routes | None = None,
    ) -> None:
        self.root = Path(root)
        # paths answered before the files (``feeds run``'s /metrics, /healthz, /status):
        # a reply, or None for the files to answer
        self.routes = routes
        # any WSGI application may stand in (a recording middleware in the tests)
        self.app: FeedApp | WSGIApplication = FeedApp(self.root, max_age=max_age)
        self.limits = limits
        self._address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._hub: ConnectionHub | None = None

    @property
    def port(self) -> int:
        """The bound port (useful after ``start(port=0)``)."""
        if self._address is None:
            raise RuntimeError("FeedServer is not started")
        return self._address[1]

    @property
    def host(self) -> str:
        if self._address is None:
            raise RuntimeError("FeedServer is not started")
        return self._address[0]

    @property
    def url(self) -> str:
        host = self.host
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        if self._thread is not None:
            raise RuntimeError("FeedServer is already started")
        _drop_foreign_listen_fds()
        sock = _listen(host, port)
        bound: Any = sock.getsockname()
        self._address = (str(bound[0]), int(bound[1]))
        loop = asyncio.new_event_loop()
        app = self.app
        respond = app.respond if isinstance(app, FeedApp) else wsgi_responder(app)
        hub = ConnectionHub(respond if self.routes is None else _routed(self.routes, respond),
                            self.limits)
        try:
            hub.server = loop.run_until_complete(
                loop.create_server(lambda: ClientConnection(hub), sock=sock, start_serving=False))
        except BaseException:
            sock.close()
            loop.close()
            self._address = None
            raise
        self._loop, self._hub = loop, hub
        self._thread = threading.Thread(target=self._run, args=(loop, hub.server),
                                        name="feeds-http", daemon=True)
        self._thread.start()
        log.debug("serving %s on %s", self.root, self.url)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, server: asyncio.Server) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start_serving())
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)  # accepts still in flight after a timeout
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    def stop(self, timeout: float = 5) -> None:
        """Stop listening, close idle connections, let replies being sent finish (up to
        ``timeout`` s), then drop the rest and join the thread.  Idempotent."""
        loop, thread, hub = self._loop, self._thread, self._hub
        if loop is None or thread is None or hub is None:
            return
        if thread.is_alive():
            asyncio.run_coroutine_threadsafe(_shutdown(loop, hub, timeout), loop)
            thread.join(timeout + 2)
            if thread.is_alive():
                log.warning("HTTP server thread did not stop within %.1fs", timeout)
        self._loop = self._thread = self._hub = None
        self._address = None

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


Routes = Callable[[str, bytes, Mapping[str, str]], Reply | None]


def _routed(routes: Routes, files: Callable[[str, bytes, Mapping[str, str]], Reply]
            ) -> Callable[[str, bytes, Mapping[str, str]], Reply]:
    def respond(method: str, path: bytes, headers: Mapping[str, str]) -> Reply:
        reply = routes(method, path, headers)
        return files(method, path, headers) if reply is None else reply

    return respond


async def _shutdown(loop: asyncio.AbstractEventLoop, hub: ConnectionHub, timeout: float) -> None:
    """Stop listening; close every connection once its reply is sent; abort what is left
    after ``timeout``."""
    hub.stopping = True
    deadline = loop.time() + timeout
    # Stop accepting first.  A connection accepted just before gets its transport (and a 503:
    # the hub is stopping) in a task of its own, a few loop turns later; closing the server
    # before those tasks ran would make them fail and leave their sockets open (CPython's
    # _accept_connection2 asserts the server is open and does not close the socket).
    server = hub.server
    if server is not None:
        for listening in server.sockets:
            loop.remove_reader(listening.fileno())
    this = asyncio.current_task()
    while any(task is not this for task in asyncio.all_tasks()) and loop.time() < deadline:
        await asyncio.sleep(0.01)
    if server is not None:
        server.close()
    for conn in list(hub.live):
        conn.close()
    while hub.live and loop.time() < deadline:
        await asyncio.sleep(0.02)
    for conn in list(hub.live):
        conn.abort()
    for _ in range(3):  # let connection_lost run
        await asyncio.sleep(0)
    loop.stop()


def serve_forever(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_age: int = 300,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``root`` in the foreground until SIGINT or SIGTERM (for ``feeds serve``).

    ``announce`` is given the URL once the port is bound (default: an INFO log line).  A port
    that cannot be bound raises ``ListenError``.  Must be called from the main thread (it
    installs signal handlers, and restores them).
    """
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = FeedServer(root, max_age=max_age)
    try:
        if not Path(root).is_dir():
            log.warning("%s is not a directory (yet): every request is 404 until it is", root)
        server.start(host, port)
        if announce is None:
            log.info("serving %s on %s", root, server.url)
        else:
            announce(server.url)
        while not stopping.wait(0.5):
            pass
        log.info("stopping")
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
