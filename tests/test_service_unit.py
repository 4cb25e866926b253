"""Deployment files: config/feeds.service (systemd) and config/nginx.conf.

``systemd-analyze verify`` checks that ExecStart's binary exists, and /usr/local/bin/feeds
does not on a build machine, so it verifies a copy whose ExecStart points at /bin/true (the
rest of the file is unchanged).  MemoryDenyWriteExecute= is checked for real: the whole
dependency stack runs under the kernel's equivalent restriction (prctl PR_SET_MDWE, the
mechanism systemd >= 253 uses), compared against a run without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "config" / "feeds.service"
NGINX = ROOT / "config" / "nginx.conf"


def unit_entries(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for each assignment; systemd allows repeated keys."""
    entries: list[tuple[str, str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {raw!r}"
        entries.append((section, key.strip(), value.strip()))
    return entries


def service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for section, key, value in unit_entries(UNIT.read_text(encoding="utf-8")):
        if section == "Service":
            values.setdefault(key, []).append(value)
    return values


# -- the systemd unit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecStart", "/usr/local/bin/feeds run --config /etc/feeds/feeds.toml"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("WatchdogSec", "30"),
        ("Restart", "on-failure"),
        ("TimeoutStopSec", "15"),
        ("StateDirectory", "feeds"),
        ("User", "feeds"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("ReadWritePaths", "/var/www/feeds"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallArchitectures", "native"),
        ("UMask", "0022"),
    ],
)
def test_unit_has_directive(key: str, value: str) -> None:
    assert value in service().get(key, []), f"{key}={value} missing"


def test_unit_restarts_with_a_delay_and_is_installable() -> None:
    values = service()
    assert int(values["RestartSec"][0]) > 0
    assert "DynamicUser" not in values  # a dedicated user: see the comment in the unit
    entries = unit_entries(UNIT.read_text(encoding="utf-8"))
    assert ("Install", "WantedBy", "multi-user.target") in entries


def verifiable_copy(tmp_path: Path) -> Path:
    text = UNIT.read_text(encoding="utf-8")
    copy = tmp_path / "feeds.service"
    copy.write_text(text.replace("ExecStart=/usr/local/bin/feeds ", "ExecStart=/bin/true "))
    return copy


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    copy = verifiable_copy(tmp_path)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    # verify exits 0 even for unknown keys, so its complaints about our file are failures.
    ours = [line for line in output.splitlines() if "feeds.service" in line]
    assert result.returncode == 0, output
    assert ours == [], output


def test_systemd_analyze_security_exposure(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    copy = verifiable_copy(tmp_path)
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    if "--offline" in result.stderr and result.returncode != 0:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0, result.stdout  # 0 = locked down, 10 = exposed


SMOKE = r"""
import importlib, json, mmap, re, sys, sqlite3
from importlib.metadata import packages_distributions, requires
from pathlib import Path

results = {}

def step(name, fn):
    try:
        fn()
        results[name] = "ok"
    except BaseException as error:
        results[name] = f"{type(error).__name__}: {error}"

def wx():
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()

step("write+execute mapping", wx)

wanted = set()
for requirement in requires("feeds") or []:
    if "extra ==" not in requirement:
        name = re.split(r"[\s;\[<>=!~]", requirement, maxsplit=1)[0]
        wanted.add(name.lower().replace("_", "-"))
for module, dists in sorted(packages_distributions().items()):
    if module.startswith("_") or not module.isidentifier():
        continue
    if any(d.lower().replace("_", "-") in wanted for d in dists):
        step(f"import {module}", lambda m=module: importlib.import_module(m))

def stack():
    import feedgen.feed, feedparser, lxml.etree, nh3, py3langid, yaml
    fg = feedgen.feed.FeedGenerator()
    fg.id("urn:x"); fg.title("t"); fg.link(href="https://example.org/"); fg.description("d")
    body = fg.rss_str()
    assert feedparser.parse(body).feed.title == "t"
    lxml.etree.fromstring(body)
    assert nh3.clean("<b>x</b><script>y</script>") == "<b>x</b>"
    py3langid.classify("Ceci est une phrase en français, assez longue pour être reconnue.")
    yaml.safe_load("a: 1")
    db = sqlite3.connect(":memory:"); db.execute("create table t (x)"); db.close()

step("feed stack", stack)

def serve():
    import httpx
    from feeds.server import FeedServer
    root = Path(sys.argv[1])
    server = FeedServer(root)
    server.start("127.0.0.1", 0)
    try:
        assert httpx.get(server.url + "rss.xml", timeout=10).status_code == 200
    finally:
        server.stop()

step("serve", serve)

def ctypes_callback():
    import ctypes
    assert ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 7)() == 7

step("ctypes callback", ctypes_callback)
print(json.dumps(results))
"""

UNDER_MDWE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit(77)  # kernel < 6.3 or not Linux
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def test_the_stack_runs_under_memory_deny_write_execute(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("MemoryDenyWriteExecute is Linux only")
    (tmp_path / "rss.xml").write_bytes(b"<rss/>")
    script = tmp_path / "smoke.py"
    script.write_text(SMOKE, encoding="utf-8")

    def run(*prefix: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *prefix, str(script), str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    baseline = run()
    assert baseline.returncode == 0, baseline.stderr
    restricted = run("-c", UNDER_MDWE)
    if restricted.returncode == 77:
        pytest.skip("prctl(PR_SET_MDWE) unavailable (needs Linux >= 6.3)")
    assert restricted.returncode == 0, restricted.stderr
    free, mdwe = json.loads(baseline.stdout), json.loads(restricted.stdout)
    assert free.pop("write+execute mapping") == "ok"
    assert mdwe.pop("write+execute mapping") != "ok"  # the restriction is really on
    assert any(name.startswith("import ") for name in mdwe)
    assert mdwe == free  # nothing behaves differently under the restriction


# -- nginx ---------------------------------------------------------------------------------


def test_nginx_example_has_the_essentials() -> None:
    text = NGINX.read_text(encoding="utf-8")
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # no comments
    for media_type in (
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "text/x-opml",
    ):
        assert re.search(rf"default_type {re.escape(media_type)};", body), media_type
        assert media_type in body.split("gzip_types", 1)[1].split(";", 1)[0], media_type
    assert re.search(r"^\s*etag on;", body, re.M)
    assert re.search(r'add_header Cache-Control "public, max-age=\d+";', body)
    assert re.search(r"^\s*gzip on;", body, re.M)
    assert re.search(r"^\s*gzip_vary on;", body, re.M)
    assert re.search(r"^\s*autoindex off;", body, re.M)
    assert "autoindex on" not in body
    assert "charset utf-8;" in body
    assert re.search(r"location ~ /\\\. \{\s*return 404;", body)  # hidden files


def nginx_wrapper(tmp_path: Path, site: str) -> Path:
    (tmp_path / "logs").mkdir(exist_ok=True)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read pytest's 0700 dirs
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"""
        {user}
        worker_processes 1;
        daemon off;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/logs/error.log;
        events {{ worker_connections 64; }}
        http {{
            {mime}
            default_type application/octet-stream;
            access_log off;
            client_body_temp_path {tmp_path}/body;
            proxy_temp_path {tmp_path}/proxy;
            fastcgi_temp_path {tmp_path}/fastcgi;
            uwsgi_temp_path {tmp_path}/uwsgi;
            scgi_temp_path {tmp_path}/scgi;
            include {tmp_path}/site.conf;
        }}
        """,
        encoding="utf-8",
    )
    return wrapper


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return nginx


def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    nginx = nginx_binary()
    wrapper = nginx_wrapper(tmp_path, NGINX.read_text(encoding="utf-8"))
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(wrapper)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving_nginx(tmp_path: Path, public: Path) -> Iterator[httpx.Client]:
    """config/nginx.conf serving ``public`` on a free port of 127.0.0.1: a client of it."""
    nginx = nginx_binary()
    port = free_port()
    site = NGINX.read_text(encoding="utf-8")
    site = re.sub(r"^\s*listen .*$", "", site, flags=re.M)
    site = re.sub(r"^(\s*)server_name .*$", rf"\1listen 127.0.0.1:{port};", site, flags=re.M)
    site = site.replace("root /var/www/feeds;", f"root {public};")
    wrapper = nginx_wrapper(tmp_path, site)
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(wrapper)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:  # wait for it to listen
            try:
                httpx.get(base + "/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=10) as client:
            yield client
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_nginx_serves_feeds_like_feeds_serve(tmp_path: Path) -> None:
    public = tmp_path / "public"
    (public / "news").mkdir(parents=True)
    rss = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">' + b"<!-- x -->" * 60
    (public / "news" / "rss.xml").write_bytes(rss + b"</rss>\n")
    (public / "news" / "atom.xml").write_bytes(b"<feed/>")
    (public / "news" / "feed.json").write_bytes(b"{}")
    (public / "feeds.opml").write_bytes(b"<opml/>")
    (public / "index.html").write_bytes(b"<!doctype html>")
    (public / "news" / ".rss.xml.tmp1").write_bytes(b"partial")
    with serving_nginx(tmp_path, public) as client:
        plain = {"Accept-Encoding": "identity"}
        expected = {
            "/news/rss.xml": "application/rss+xml; charset=utf-8",
            "/news/atom.xml": "application/atom+xml; charset=utf-8",
            "/news/feed.json": "application/feed+json; charset=utf-8",
            "/feeds.opml": "text/x-opml; charset=utf-8",
            "/": "text/html; charset=utf-8",
        }
        for path, media_type in expected.items():
            response = client.get(path, headers=plain)
            assert response.status_code == 200, path
            assert response.headers["content-type"] == media_type, path
            assert response.headers["cache-control"] == "public, max-age=300", path
            assert "etag" in response.headers and "last-modified" in response.headers
        etag = client.get("/news/rss.xml", headers=plain).headers["etag"]
        again = client.get("/news/rss.xml", headers={**plain, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
        zipped = client.get("/news/rss.xml", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert zipped.content == rss + b"</rss>\n"
        assert client.get("/news/.rss.xml.tmp1").status_code == 404
        assert client.get("/news/").status_code == 404  # no listing
        assert client.post("/news/rss.xml").status_code == 405


def test_nginx_sends_a_browser_from_outside_to_the_feeds_page(tmp_path: Path) -> None:
    """As ``feeds run`` does (tests/test_server_feed_urls.py): a browser's navigation from
    outside the site to a feed's URL is a 303 to the feed's page; a reader, and a link on
    the site itself, get the document; a feed without a page is served as it is."""
    public = tmp_path / "public"
    for name in ("news/rss.xml", "news/atom.xml", "news/feed.json", "bare/rss.xml"):
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_bytes(b"<rss/>")
    (public / "news" / "index.html").write_bytes(b"<!doctype html>")
    browser = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate",
               "Sec-Fetch-Site": "none", "Accept": "text/html,*/*;q=0.8"}
    with serving_nginx(tmp_path, public) as client:
        for document in ("rss.xml", "atom.xml", "feed.json"):
            for site_header in ("none", "cross-site"):
                sent = client.get(f"/news/{document}",
                                  headers={**browser, "Sec-Fetch-Site": site_header})
                assert sent.status_code == 303, (document, site_header)
                assert sent.headers["location"].endswith("/news/")
                assert sent.headers["cache-control"] == "no-cache"
            assert client.get(f"/news/{document}").status_code == 200
            own_link = client.get(f"/news/{document}",
                                  headers={**browser, "Sec-Fetch-Site": "same-origin"})
            assert own_link.status_code == 200
        assert client.get("/bare/rss.xml", headers=browser).status_code == 200
