"""``feeds serve`` on the command line: the start-up line, the access log, clean errors when it
cannot listen, and ``[server]`` inside ``feeds run`` when the port is taken.

Real processes (``python -m feeds``) on 127.0.0.1; every one is waited for with a timeout and
killed if it outlives the test.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from feeds.errors import FeedsError, ListenError
from feeds.server import _listen, _reason

from .conftest import ONE_FOLDER_CONFIG

FEED = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel/></rss>\n'
# 127.0.0.1 - - [02/Dec/2026:07:30:00 +0000] "GET /all/rss.xml HTTP/1.1" 200 80
CLF = re.compile(
    r'feeds\.access: 127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<size>\d+|-)$'
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "rss.xml").write_bytes(FEED)
    config = tmp_path / "feeds.toml"
    config.write_text(ONE_FOLDER_CONFIG, encoding="utf-8")
    return config


def feeds(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NOTIFY_SOCKET", None)
    env.pop("JOURNAL_STREAM", None)
    return subprocess.Popen([sys.executable, "-m", "feeds", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


# -- cannot listen ---------------------------------------------------------------------------


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(site: Path) -> None:
    with busy_port() as port:
        code, out, err = finish(feeds("serve", "-c", str(site), "--port", str(port),
                                      cwd=site.parent))
    assert code == 2, err
    assert err == f"feeds: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert out == ""


def test_serve_with_an_invalid_host_name_says_so_and_exits_2(site: Path) -> None:
    host = "a" * 64 + ".example"  # a label over 63 characters: refused without any lookup
    code, _, err = finish(feeds("serve", "-c", str(site), "--host", host, "--port", "0",
                                cwd=site.parent))
    assert code == 2, err
    assert err == f"feeds: cannot listen on {host}:0: invalid host name\n"


def test_serve_with_a_port_out_of_range_says_so_and_exits_2(site: Path) -> None:
    code, _, err = finish(feeds("serve", "-c", str(site), "--port", "70000", cwd=site.parent))
    assert code == 2, err
    assert err == "feeds: cannot listen on 127.0.0.1:70000: the port must be between 0 and 65535\n"


def test_an_unknown_host_name_is_a_listen_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(ListenError) as caught:
        _listen("feeds.invalid", 8080)
    assert str(caught.value) == (
        "cannot listen on feeds.invalid:8080: unknown host name (Name or service not known)")
    assert isinstance(caught.value, FeedsError)


def test_listen_errors_name_the_reason() -> None:
    denied = OSError(errno.EACCES, "Permission denied")
    assert _reason(denied, 80) == (
        "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)")
    assert _reason(denied, 8080) == "permission denied"
    assert _reason(OSError(errno.EADDRINUSE, "Address already in use"), 80) == (
        "address already in use")
    assert _reason(OSError(errno.EADDRNOTAVAIL, "x"), 80) == (
        "address not available on this machine")
    with busy_port() as port, pytest.raises(ListenError) as caught:
        _listen("127.0.0.1", port)
    assert caught.value.errno == errno.EADDRINUSE
    assert str(caught.value) == f"cannot listen on 127.0.0.1:{port}: address already in use"


def test_run_with_the_server_port_taken_exits_2_naming_server(site: Path) -> None:
    with busy_port() as port:
        text = site.read_text(encoding="utf-8")
        site.write_text(text + f'[server]\nenabled = true\nport = {port}\n', encoding="utf-8")
        code, _, err = finish(feeds("run", "-c", str(site), cwd=site.parent), timeout=60)
    assert code == 2, err
    assert f"server: cannot listen on 127.0.0.1:{port}: address already in use" in err
    assert "Traceback" not in err


# -- start-up line and access log ------------------------------------------------------------


def test_serve_prints_its_url_then_one_access_log_line_per_request(site: Path) -> None:
    proc = feeds("serve", "-c", str(site), "--port", "0", cwd=site.parent)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        match = re.fullmatch(r"feeds: serving (\S+) at (http://127\.0\.0\.1:\d+/)\n", first)
        assert match, first
        assert match[1] == str(site.parent / "public")
        url = match[2]
        with httpx.Client(timeout=10) as client:
            assert client.get(url + "rss.xml", headers={"Accept-Encoding": "identity"}
                              ).content == FEED
            assert client.get(url + "missing.xml").status_code == 404
            assert client.head(url + "rss.xml").status_code == 200
        lines = [proc.stderr.readline().rstrip("\n") for _ in range(3)]
        proc.send_signal(signal.SIGTERM)
        code, _, rest = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, rest
    found = [CLF.search(line) for line in lines]
    assert all(found), lines
    summary = [(m["request"], m["status"], m["size"]) for m in found if m]
    assert summary == [
        ("GET /rss.xml HTTP/1.1", "200", str(len(FEED))),
        ("GET /missing.xml HTTP/1.1", "404", "10"),  # "Not Found\n"
        ("HEAD /rss.xml HTTP/1.1", "200", "-"),  # no body sent
    ]


def test_serve_quiet_writes_no_access_log(site: Path) -> None:
    proc = feeds("serve", "-q", "-c", str(site), "--port", "0", cwd=site.parent)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        url = first.rsplit(" at ", 1)[1].strip()
        assert httpx.get(url + "rss.xml", timeout=10).status_code == 200
        proc.send_signal(signal.SIGINT)
        code, _, rest = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, rest
    assert "feeds.access" not in rest
