"""The HTTP server: media types, validators, conditional requests, gzip, path safety.

A real server on 127.0.0.1 (ephemeral port) and httpx; raw sockets where httpx would
normalize the request target (``/../``) before sending it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from feeds.server import FeedServer, make_app, media_type_for

RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0"><channel><title>T\xc3\xa9</title></channel></rss>\n'
)
ATOM = b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"/>\n'
JSON = b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []}\n'
OPML = b'<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0"><body/></opml>\n'
INDEX = b"<!doctype html><title>feeds</title>\n"
SECRET = b"TOPSECRET outside the root\n"
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}
MTIME = 1_700_000_000  # 2023-11-14T22:13:20Z


def build_site(base: Path) -> Path:
    root = base / "public"
    (root / "news").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "withindex").mkdir()
    files = {
        "index.html": INDEX,
        "feeds.opml": OPML,
        "news/rss.xml": RSS,
        "news/atom.xml": ATOM,
        "news/feed.json": JSON,
        "withindex/index.html": INDEX,
        "news/.rss.xml.tmp1234": b"<rss>partial",
        ".hidden": b"hidden",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
        os.utime(root / name, (MTIME, MTIME))
    (root / ".git").mkdir()
    (root / ".git" / "config").write_bytes(b"[core]\n")
    (base / "secret.txt").write_bytes(SECRET)
    (root / "leak.xml").symlink_to(base / "secret.txt")
    (root / "leakdir").symlink_to(base)
    (root / "alias.xml").symlink_to(root / "news" / "rss.xml")
    return root


@contextlib.contextmanager
def running(root: Path) -> Iterator[FeedServer]:
    srv = FeedServer(root, max_age=600)
    srv.start("127.0.0.1", 0)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site shared by the tests that only read it."""
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def server(public: Path) -> Iterator[FeedServer]:
    with running(public) as srv:
        yield srv


@pytest.fixture
def client(server: FeedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url.rstrip("/"), timeout=10) as c:
        yield c


@pytest.fixture
def fresh_public(tmp_path: Path) -> Path:
    """A site of its own, for tests that change files."""
    return build_site(tmp_path)


@pytest.fixture
def fresh_server(fresh_public: Path) -> Iterator[FeedServer]:
    with running(fresh_public) as srv:
        yield srv


@pytest.fixture
def fresh_client(fresh_server: FeedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fresh_server.url.rstrip("/"), timeout=10) as c:
        yield c


def raw_status(port: int, target: str) -> tuple[int, bytes]:
    """Send ``GET target`` byte for byte (no client-side normalization)."""
    request = f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response.split(b" ", 2)[1]), response


def blake(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# -- media types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "media_type", "body"),
    [
        ("/news/rss.xml", "application/rss+xml; charset=utf-8", RSS),
        ("/news/atom.xml", "application/atom+xml; charset=utf-8", ATOM),
        ("/news/feed.json", "application/feed+json; charset=utf-8", JSON),
        ("/feeds.opml", "text/x-opml; charset=utf-8", OPML),
        ("/index.html", "text/html; charset=utf-8", INDEX),
        ("/", "text/html; charset=utf-8", INDEX),
        ("/withindex/", "text/html; charset=utf-8", INDEX),
    ],
)
def test_media_types(client: httpx.Client, path: str, media_type: str, body: bytes) -> None:
    response = client.get(path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == body
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["cache-control"] == "public, max-age=600"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_media_type_for_other_names() -> None:
    assert media_type_for("other.xml") == "application/xml; charset=utf-8"
    assert media_type_for("style.css") == "text/css; charset=utf-8"
    assert media_type_for("photo.png") == "image/png"
    assert media_type_for("blob.unknownext") == "application/octet-stream"


# -- validators and conditional requests ---------------------------------------------------


def test_strong_etag_is_a_stable_content_hash(client: httpx.Client) -> None:
    first = client.get("/news/rss.xml", headers=IDENTITY)
    second = client.get("/news/rss.xml", headers=IDENTITY)
    assert first.headers["etag"] == f'"{blake(RSS)}"'
    assert not first.headers["etag"].startswith("W/")
    assert second.headers["etag"] == first.headers["etag"]
    assert first.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    other = client.get("/news/atom.xml", headers=IDENTITY)
    assert other.headers["etag"] != first.headers["etag"]


def test_etag_changes_when_the_file_is_replaced(
    fresh_client: httpx.Client, fresh_public: Path
) -> None:
    client, public = fresh_client, fresh_public
    before = client.get("/news/rss.xml", headers=IDENTITY).headers["etag"]
    new = RSS.replace(b"T\xc3\xa9", b"Changed")
    tmp = public / "news" / ".rss.xml.tmp"
    tmp.write_bytes(new)
    os.replace(tmp, public / "news" / "rss.xml")
    after = client.get("/news/rss.xml", headers=IDENTITY)
    assert after.content == new
    assert after.headers["etag"] == f'"{blake(new)}"' != before


def test_if_none_match_gives_304_with_validators(client: httpx.Client) -> None:
    etag = client.get("/news/rss.xml", headers=IDENTITY).headers["etag"]
    response = client.get("/news/rss.xml", headers={**IDENTITY, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert response.headers["cache-control"] == "public, max-age=600"
    # A list, a weak form of the same tag, and "*" all match (weak comparison).
    for value in (f'"nope", {etag}', f"W/{etag}", "*"):
        again = client.get("/news/rss.xml", headers={**IDENTITY, "If-None-Match": value})
        assert again.status_code == 304, value
    stale = client.get("/news/rss.xml", headers={**IDENTITY, "If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == RSS


def test_if_modified_since_gives_304_with_validators(client: httpx.Client) -> None:
    for since in (MTIME, MTIME + 3600):
        response = client.get(
            "/news/atom.xml",
            headers={**IDENTITY, "If-Modified-Since": formatdate(since, usegmt=True)},
        )
        assert response.status_code == 304
        assert response.headers["etag"] == f'"{blake(ATOM)}"'
        assert response.headers["last-modified"] == formatdate(MTIME, usegmt=True)
    earlier = formatdate(MTIME - 1, usegmt=True)
    response = client.get("/news/atom.xml", headers={**IDENTITY, "If-Modified-Since": earlier})
    assert response.status_code == 200
    garbage = client.get("/news/atom.xml", headers={**IDENTITY, "If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(client: httpx.Client) -> None:
    headers = {
        **IDENTITY,
        "If-None-Match": '"stale"',
        "If-Modified-Since": formatdate(MTIME + 3600, usegmt=True),
    }
    assert client.get("/news/rss.xml", headers=headers).status_code == 200
    headers["If-None-Match"] = f'"{blake(RSS)}"'
    headers["If-Modified-Since"] = formatdate(MTIME - 3600, usegmt=True)
    assert client.get("/news/rss.xml", headers=headers).status_code == 304


def test_head_has_headers_and_no_body(client: httpx.Client) -> None:
    response = client.head("/news/feed.json", headers=IDENTITY)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(JSON))
    assert response.headers["etag"] == f'"{blake(JSON)}"'
    assert response.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert client.head("/missing.xml").status_code == 404


def test_other_methods_are_refused(client: httpx.Client) -> None:
    response = client.post("/news/rss.xml", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# -- gzip ----------------------------------------------------------------------------------


def test_gzip_variant_has_its_own_etag(client: httpx.Client) -> None:
    plain = client.get("/news/rss.xml", headers=IDENTITY)
    zipped = client.get("/news/rss.xml", headers=GZIP)
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == RSS  # httpx decodes
    assert plain.headers["vary"] == zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.headers["etag"] == f'"{blake(RSS)}-gzip"'
    assert zipped.headers["content-type"] == "application/rss+xml; charset=utf-8"
    again = client.get("/news/rss.xml", headers=GZIP)
    assert again.headers["etag"] == zipped.headers["etag"]
    # Each variant validates only against its own tag.
    gz_tag, plain_tag = zipped.headers["etag"], plain.headers["etag"]
    assert client.get("/news/rss.xml", headers={**GZIP, "If-None-Match": gz_tag}).status_code == 304
    not_modified = client.get("/news/rss.xml", headers={**GZIP, "If-None-Match": gz_tag})
    assert not_modified.headers["etag"] == gz_tag
    assert not_modified.headers["vary"] == "Accept-Encoding"
    assert (
        client.get("/news/rss.xml", headers={**IDENTITY, "If-None-Match": gz_tag}).status_code
        == 200
    )
    assert (
        client.get("/news/rss.xml", headers={**GZIP, "If-None-Match": plain_tag}).status_code == 200
    )


def gzip_body(port: int, path: str) -> bytes:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head
    return body


def test_gzip_bytes_on_the_wire_are_deterministic(server: FeedServer, public: Path) -> None:
    first = gzip_body(server.port, "/news/feed.json")
    assert gzip.decompress(first) == JSON
    # A fresh app (no cache) compresses to the very same bytes: the strong ETag holds.
    _, headers, body = call_app(make_app(public), "/news/feed.json", accept_encoding="gzip")
    assert body == first
    assert headers["ETag"] == f'"{blake(JSON)}-gzip"'


@pytest.mark.parametrize(
    ("accept", "zipped"),
    [
        ("gzip, deflate, br", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("br;q=1, *;q=0", False),
        ("identity", False),
        ("", False),
        ("gzip;q=0, *", False),  # refused by name: * does not bring it back
        ("*;q=0, gzip", True),
        ("GZIP; Q=0.000", False),
        ("gzip;q=0.001", True),
        ("x-gzip;q=0, gzip", True),  # either name, the better q-value
        ("gzip;q=0.5, identity", False),  # identity named with a better q-value
        ("identity;q=0, gzip;q=0.1", True),
        ("identity;q=0", False),  # nothing acceptable: identity all the same, not 406
        ("gzip;q=2", False),  # an invalid q-value: the element is ignored
        ("gzip;q=abc", False),
    ],
)
def test_accept_encoding_parsing(client: httpx.Client, accept: str, zipped: bool) -> None:
    response = client.get("/news/rss.xml", headers={"Accept-Encoding": accept})
    assert (response.headers.get("content-encoding") == "gzip") is zipped
    assert response.content == RSS


# -- path safety ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/news/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/secret.txt",
        "/news/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "//etc/passwd",
        "/etc/passwd",
        "/leak.xml",
        "/leakdir/secret.txt",
        "/news/rss.xml%00.html",
        "/news%00/rss.xml",
        "/./news/rss.xml",
        "/news/./rss.xml",
        "/%ff%fe",
    ],
)
def test_traversal_attempts_are_404(server: FeedServer, target: str) -> None:
    status, response = raw_status(server.port, target)
    # "//..." (a network-path reference, naming a host) is 400; everything else reaches the
    # handler: 404.
    assert status == (400 if target.startswith("//") else 404), response[:200]
    assert b"TOPSECRET" not in response
    assert b"root:" not in response


def test_app_level_traversal_is_404() -> None:
    """The same targets straight into the WSGI app, so the app itself is what refuses."""
    root = Path(__file__).resolve().parent  # any real directory with a parent
    app = make_app(root)
    for path_info in ("/../pyproject.toml", "/..", "/./conftest.py", "/x\x00y", "/%2e%2e"):
        status, _, _ = call_app(app, path_info)
        assert status.startswith("404"), path_info


def test_symlink_inside_the_root_is_served(client: httpx.Client) -> None:
    response = client.get("/alias.xml", headers=IDENTITY)
    assert response.status_code == 200
    assert response.content == RSS


@pytest.mark.parametrize(
    "path", ["/news/.rss.xml.tmp1234", "/.hidden", "/.git/config", "/news/%2erss.xml.tmp1234"]
)
def test_hidden_files_are_never_served(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_no_directory_listing(client: httpx.Client) -> None:
    assert client.get("/news/").status_code == 404
    assert client.get("/news").status_code == 404
    assert client.get("/empty-dir/").status_code == 404
    redirect = client.get("/withindex")
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "/withindex/"
    assert client.get("/news/rss.xml/").status_code == 404
    assert client.get("/missing").status_code == 404


def test_root_without_index_is_404(fresh_public: Path, fresh_client: httpx.Client) -> None:
    (fresh_public / "index.html").unlink()
    assert fresh_client.get("/").status_code == 404


# -- caching of hashes ---------------------------------------------------------------------


def call_app(app: Any, path_info: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path_info, "SCRIPT_NAME": ""}
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_etag_is_computed_once_per_file_version(
    fresh_public: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = fresh_public
    calls: list[int] = []
    real = hashlib.blake2b
    expected = f'"{blake(RSS)}"'

    def counting(data: bytes, **kwargs: Any) -> Any:
        calls.append(len(data))
        return real(data, **kwargs)

    monkeypatch.setattr(hashlib, "blake2b", counting)  # the module feeds.server.files uses
    app = make_app(public)
    for _ in range(5):
        status, headers, _ = call_app(app, "/news/rss.xml")
        assert status == "200 OK"
        assert headers["ETag"] == expected
    assert len(calls) == 1
    os.utime(public / "news" / "rss.xml", (MTIME + 10, MTIME + 10))
    call_app(app, "/news/rss.xml")
    assert len(calls) == 2


def test_a_settled_file_is_read_once_and_then_served_from_memory(
    fresh_public: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.server.files

    opened: list[str] = []
    real_open = os.open

    def counting_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("rss.xml"):
            opened.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(feeds.server.files, "_RACY_NS", 0)  # no file is too fresh to trust
    monkeypatch.setattr(os, "open", counting_open)
    app = make_app(fresh_public)
    for encoding in ("identity", "gzip", "identity", "gzip"):
        status, _, body = call_app(app, "/news/rss.xml", accept_encoding=encoding)
        assert status == "200 OK"
        assert (gzip.decompress(body) if encoding == "gzip" else body) == RSS
    assert len(opened) == 1
    new = RSS.replace(b"T\xc3\xa9", b"New")
    tmp = fresh_public / "news" / ".rss.xml.tmp"
    tmp.write_bytes(new)
    os.replace(tmp, fresh_public / "news" / "rss.xml")
    assert call_app(app, "/news/rss.xml")[2] == new
    assert len(opened) == 2


def test_a_fresh_file_is_read_on_every_request(
    fresh_public: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the racy window a file is compared byte for byte: a rewrite in place of the
    same size and mtime (one tick of a coarse clock) is seen."""
    import feeds.server.files

    monkeypatch.setattr(feeds.server.files, "_RACY_NS", 3600 * 10**9)
    app = make_app(fresh_public)
    target = fresh_public / "news" / "rss.xml"
    assert call_app(app, "/news/rss.xml")[2] == RSS
    same_size = RSS.replace(b"T\xc3\xa9", b"XYZ")
    assert len(same_size) == len(RSS)
    with open(target, "r+b") as handle:  # in place: same inode, same size
        handle.write(same_size)
    os.utime(target, (MTIME, MTIME))
    status, headers, body = call_app(app, "/news/rss.xml")
    assert status == "200 OK"
    assert body == same_size
    assert headers["ETag"] == f'"{blake(same_size)}"'


def test_every_response_has_a_date(client: httpx.Client) -> None:
    for path in ("/news/rss.xml", "/missing"):
        date = client.get(path).headers["date"]
        assert date.endswith(" GMT"), date


# -- atomic replacement under load ---------------------------------------------------------


def make_version(n: int) -> bytes:
    items = "".join(f"<item><title>{n}-{i}</title></item>" for i in range(n % 37 * 20))
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>v{n}</title>{items}</channel></rss>\n"
    ).encode()


def test_reader_never_sees_a_partial_file(fresh_server: FeedServer, fresh_public: Path) -> None:
    server, public = fresh_server, fresh_public
    target = public / "news" / "rss.xml"
    target.write_bytes(make_version(0))
    done = threading.Event()
    failures: list[str] = []

    def writer() -> None:
        try:
            for n in range(1, 201):
                tmp = target.with_name(f".rss.xml.{n}.tmp")
                with open(tmp, "wb") as handle:
                    data = make_version(n)
                    half = len(data) // 2
                    handle.write(data[:half])  # two writes: a torn read would show
                    handle.flush()
                    handle.write(data[half:])
                os.replace(tmp, target)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    fetched = 0
    with httpx.Client(base_url=server.url.rstrip("/"), timeout=10) as client:
        thread.start()
        while not done.is_set() or fetched < 20:
            for headers in (IDENTITY, GZIP):
                response = client.get("/news/rss.xml", headers=headers)
                fetched += 1
                if response.status_code != 200:
                    failures.append(f"status {response.status_code}")
                    continue
                body = response.content
                try:
                    ElementTree.fromstring(body)
                except ElementTree.ParseError as error:
                    failures.append(f"invalid XML ({error}): {body[-60:]!r}")
                suffix = "-gzip" if headers is GZIP else ""
                if response.headers["etag"] != f'"{blake(body)}{suffix}"':
                    failures.append("ETag does not match the body")
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert failures == []
    assert fetched >= 20
    assert client_sees_last_version(server, make_version(200))


def client_sees_last_version(server: FeedServer, expected: bytes) -> bool:
    response = httpx.get(server.url + "news/rss.xml", headers=IDENTITY, timeout=10)
    return response.content == expected


# -- lifecycle -----------------------------------------------------------------------------


def test_start_stop_is_prompt_and_port_is_freed(fresh_public: Path) -> None:
    public = fresh_public
    srv = FeedServer(public)
    srv.start("127.0.0.1", 0)
    port = srv.port
    assert srv.running
    with httpx.Client(timeout=10) as client:  # leave a keep-alive connection open
        assert client.get(f"http://127.0.0.1:{port}/").status_code == 200
        started = time.monotonic()
        srv.stop(timeout=2)
        assert time.monotonic() - started < 4  # generous; typically well under a second
    assert not srv.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    srv.stop()  # idempotent


def test_socket_activation_variables_of_another_process_are_ignored(
    public: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTEN_PID", str(os.getpid() + 1))
    monkeypatch.setenv("LISTEN_FDS", "1")
    with running(public) as srv, httpx.Client(timeout=10) as client:
        assert client.get(srv.url + "feeds.opml").content == OPML
    assert "LISTEN_PID" not in os.environ


def test_busy_port_raises_in_the_caller(server: FeedServer, public: Path) -> None:
    other = FeedServer(public)
    with pytest.raises(OSError):
        other.start("127.0.0.1", server.port)


def test_port_before_start_is_an_error(public: Path) -> None:
    with pytest.raises(RuntimeError):
        _ = FeedServer(public).port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_forever_exits_cleanly_on_signal(fresh_public: Path, sig: signal.Signals) -> None:
    public = fresh_public
    code = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "from feeds.server import serve_forever\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')\n"
        "serve_forever(Path(sys.argv[1]), '127.0.0.1', 0)\n"
        "print('clean exit', flush=True)\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("LISTEN_PID", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(public)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving" in line, line
        url = line.split(" on ", 1)[1].strip()
        assert httpx.get(url + "news/atom.xml", timeout=10).content == ATOM
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "clean exit" in out
