"""``feeds run`` as systemd runs it: a real process, a real NOTIFY_SOCKET, real signals.

One daemon (module fixture) serves most tests; each test works on its own articles so the
tests do not depend on each other's order.  The stop tests start their own daemons.
Every wait polls with a generous deadline; the only timed assertion is the pickup latency.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest

from tests.daemon_support import (
    ROOT,
    DaemonProcess,
    NotifySocket,
    check_feed_bytes,
    explained,
    titles,
    wait_until,
    write_article,
    write_config,
)

#: the issue asks for 2 s; measured medians are printed and the worst case asserted
PICKUP_LIMIT = 2.0
STOP_LIMIT = 10.0
LATENCIES: list[float] = []


@dataclass
class Running:
    base: Path
    config: Path
    folder: Path
    public: Path
    notify: NotifySocket
    daemon: DaemonProcess
    port: int

    @property
    def atom(self) -> Path:
        return self.public / "all" / "atom.xml"

    def atom_has(self, title: str) -> bool:
        try:
            return title.encode() in self.atom.read_bytes()
        except FileNotFoundError:
            return False

    def log_since(self, mark: int) -> str:
        return self.daemon.log()[mark:]

    def quiet_mark(self, quiet: float = 0.6) -> int:
        """The log's length once nothing was added to it for ``quiet`` seconds."""
        last = [len(self.daemon.log()), time.monotonic()]

        def settled() -> bool:
            size = len(self.daemon.log())
            if size != last[0]:
                last[:] = [size, time.monotonic()]
            return time.monotonic() - last[1] >= quiet

        wait_until(settled, what="a quiet log")
        return int(last[0])


def _start(base: Path, *, server: bool, hub: str | None = None
           ) -> tuple[NotifySocket, DaemonProcess, Path, Path]:
    folder = base / "articles"
    folder.mkdir()
    write_article(folder, "seed.md", "Seed article", rename=False)
    os.utime(folder / "seed.md", (time.time() - 60, time.time() - 60))  # settled already
    config = base / "feeds.toml"
    write_config(config, sources=[("main", folder)], server_port=0 if server else None, hub=hub)
    notify = NotifySocket(base / "notify.sock")
    daemon = DaemonProcess(config, base / "daemon.log", notify=notify,
                           extra_env={"WATCHDOG_USEC": "1000000"})
    return notify, daemon, config, folder


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    base = tmp_path_factory.mktemp("daemon")
    notify, daemon, config, folder = _start(base, server=True)
    try:
        notify.wait_for("READY=1", timeout=30)
        status = next(m.fields["STATUS"] for m in notify.snapshot()
                      if "READY=1" in m and "STATUS" in m.fields)
        match = re.search(r"serving http://127\.0\.0\.1:(\d+)/", status)
        assert match, f"the READY status does not name the server: {status!r}"
        yield Running(base, config, folder, base / "public", notify, daemon, int(match.group(1)))
    finally:
        daemon.close()
        notify.close()


# --------------------------------------------------------------------------- start-up


def test_ready_comes_after_the_first_publish(running: Running) -> None:
    ready = running.notify.wait_for("READY=1")
    assert "Seed article" in titles(running.atom)  # published before READY was sent
    messages = running.notify.snapshot()
    assert any("STATUS" in m.fields for m in messages[:ready + 1])
    running.notify.wait_for("WATCHDOG=1", after=ready, timeout=10)  # WATCHDOG_USEC=1s
    assert running.daemon.alive()


def test_log_has_one_line_per_unit_of_work(running: Running) -> None:
    line = wait_until(lambda: re.search(r"^.*source main ingested.*$", running.daemon.log(),
                                        re.MULTILINE), what="an ingest line")
    assert line is not None
    for field in ("source=main", "status=ok", "new=", "changed=", "duration="):
        assert field in line.group(0), line.group(0)


# --------------------------------------------------------------------------- pickup


@pytest.mark.parametrize("rename", [True, False], ids=["renamed-into-place", "written-directly"])
def test_a_new_article_is_published_within_two_seconds(running: Running, rename: bool) -> None:
    seen: list[float] = []
    for n in range(3):
        title = f"Pickup {'renamed' if rename else 'direct'} {n}"
        started = time.monotonic()
        write_article(running.folder, f"pickup-{rename}-{n}.md", title, rename=rename)
        wait_until(lambda t=title: running.atom_has(t), timeout=20, interval=0.01,  # type: ignore[misc]
                   what=f"{title!r} in atom.xml")
        seen.append(time.monotonic() - started)
    LATENCIES.extend(seen)
    print(f"\npickup latency ({'rename' if rename else 'direct write'}): "
          + ", ".join(f"{s:.2f}s" for s in seen) + f"; median {statistics.median(seen):.2f}s")
    assert "\n.pickup" not in running.daemon.log()  # the hidden temp file was never named
    assert max(seen) <= PICKUP_LIMIT, f"pickup took {max(seen):.2f}s (limit {PICKUP_LIMIT}s)"


def test_an_edited_article_is_republished(running: Running) -> None:
    write_article(running.folder, "edited.md", "Edit before", rename=True)
    wait_until(lambda: running.atom_has("Edit before"), what="the first version")
    write_article(running.folder, "edited.md", "Edit after", rename=False)
    wait_until(lambda: running.atom_has("Edit after") and not running.atom_has("Edit before"),
               what="the edit")


def test_a_deleted_article_leaves_the_feed(running: Running) -> None:
    write_article(running.folder, "doomed.md", "Doomed article", rename=True)
    wait_until(lambda: running.atom_has("Doomed article"), what="the article")
    started = time.monotonic()
    (running.folder / "doomed.md").unlink()
    wait_until(lambda: not running.atom_has("Doomed article"), what="its removal")
    print(f"\ndeletion reflected after {time.monotonic() - started:.2f}s")
    assert "Seed article" in titles(running.atom)


def _ids(atom: Path, title: str) -> list[str]:
    parsed = feedparser.parse(atom.read_bytes())
    return [e.id for e in parsed.entries if e.title == title]


def test_a_renamed_article_keeps_its_id(running: Running) -> None:
    write_article(running.folder, "before-rename.md", "Renamed story", rename=True)
    wait_until(lambda: running.atom_has("Renamed story"), what="the article")
    ids = _ids(running.atom, "Renamed story")
    (running.folder / "before-rename.md").rename(running.folder / "after-rename.md")
    # the watcher reports in order: once this is in, the rename has been ingested
    write_article(running.folder, "after-the-rename.md", "Rename sentinel", rename=True)
    wait_until(lambda: running.atom_has("Rename sentinel"), what="the sentinel")
    assert _ids(running.atom, "Renamed story") == ids and len(ids) == 1


def test_a_folder_moved_in_is_read_whole(running: Running, tmp_path: Path) -> None:
    outside = tmp_path / "incoming"
    outside.mkdir()
    write_article(outside, "one.md", "Moved in one", rename=False)
    write_article(outside, "two.md", "Moved in two", rename=False)
    os.rename(outside, running.folder / "incoming")  # one event: the folder's own path
    wait_until(lambda: running.atom_has("Moved in one") and running.atom_has("Moved in two"),
               what="both articles of the folder moved in")


def test_files_being_written_and_editor_files_are_not_read(running: Running) -> None:
    mark = len(running.daemon.log())
    # Editor and hidden files holding perfectly good articles are never published.
    for name in ("notes.md~", ".hidden.md", "draft.md.swp", "#autosave.md#"):
        (running.folder / name).write_text("---\ntitle: Editor junk\n---\nJunk\n")
    # A file written slowly, a piece every 0.15 s (faster than it takes to settle).
    pieces = ["---\n", "title: Slow arrival\n", "date: 2024-01-05T12:00:00Z\n", "---\n",
              "First part of the body. ", "Second part. ", "END-OF-BODY\n"]
    with (running.folder / "slow.md").open("w", encoding="utf-8") as out:
        for piece in pieces:
            out.write(piece)
            out.flush()
            time.sleep(0.15)
    wait_until(lambda: running.atom_has("Slow arrival"), what="the slow article")
    atom = running.atom.read_text(encoding="utf-8")
    entry = atom[atom.index("Slow arrival"):]
    assert "END-OF-BODY" in entry[:entry.index("</entry>")]
    log = running.log_since(mark)
    assert "slow.md" not in log, f"the half-written file was read:\n{log}"
    assert "Editor junk" not in running.atom.read_text(encoding="utf-8")


def test_a_burst_of_changes_gives_one_rewrite(running: Running) -> None:
    mark = running.quiet_mark()
    for n in range(20):
        write_article(running.folder, f"burst-{n:02}.md", f"Burst {n:02}", rename=False)
    wait_until(lambda: all(running.atom_has(f"Burst {n:02}") for n in range(20)),
               what="the burst")
    time.sleep(1.0)  # let any straggling rewrite show up in the log before counting
    rewrites = re.findall(r"feed all published", running.log_since(mark))
    assert len(rewrites) == 1, running.log_since(mark)


# --------------------------------------------------------------------------- one writer


def test_a_second_daemon_on_the_same_state_is_refused(running: Running) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "feeds", "run", "--config", str(running.config)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
        env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"})
    assert done.returncode != 0
    assert f"held by PID {running.daemon.pid}" in done.stderr, done.stderr
    assert "another feeds process" in done.stderr
    assert running.daemon.alive()


def test_build_waits_then_says_why_it_cannot_proceed(running: Running) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "feeds", "build", "--wait", "1", "--config", str(running.config)],
        cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert f"held by PID {running.daemon.pid} (waited 1s)" in done.stderr, done.stderr
    assert time.monotonic() - started >= 1.0
    assert running.daemon.alive()


# --------------------------------------------------------------------------- serving


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str],
                                                                                bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_the_built_in_server_answers_a_repeated_request_with_304(running: Running) -> None:
    status, headers, body = _get(running.port, "/all/rss.xml")
    assert status == 200
    assert headers["Content-Type"].startswith("application/rss+xml")
    check_feed_bytes("rss.xml", body)
    status, again, body = _get(running.port, "/all/rss.xml", {"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert again["ETag"] == headers["ETag"]
    status, _, _ = _get(running.port, "/all/rss.xml",
                        {"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304


def test_readers_never_see_a_partial_file(running: Running) -> None:
    names = ("rss.xml", "atom.xml", "feed.json")
    problems: list[str] = []
    versions: set[str] = set()
    reads = [0]
    stop = threading.Event()

    def check(name: str, data: bytes) -> None:
        try:
            check_feed_bytes(name, data)
        except (AssertionError, ValueError, KeyError) as exc:
            problems.append(f"{name}: {exc!r}")
        versions.add(hashlib.sha256(data).hexdigest())
        reads[0] += 1

    def from_disk() -> None:
        while not stop.is_set():
            for name in names:
                check(name, (running.public / "all" / name).read_bytes())

    def from_server() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        while not stop.is_set():
            for name in names:
                conn.request("GET", f"/all/{name}")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    problems.append(f"{name}: HTTP {response.status}")
                check(name, body)
        conn.close()

    readers = [threading.Thread(target=f, daemon=True) for f in (from_disk, from_server)]
    for reader in readers:
        reader.start()
    try:
        for n in range(5):  # five rewrites, each a new article and a changed one
            write_article(running.folder, f"churn-{n}.md", f"Churn {n}", rename=False,
                          body="Churning " * (200 * (n + 1)))
            write_article(running.folder, "churning.md", f"Churning title {n}", rename=True)
            wait_until(lambda n=n: running.atom_has(f"Churn {n}"),  # type: ignore[misc]
                       what=f"churn {n}")
        # (pickup is quick now: the readers may need a moment more for their 50 reads)
        wait_until(lambda: reads[0] > 50, what="50 reads")
    finally:
        stop.set()
        for reader in readers:
            reader.join(10)
    assert not problems, problems[:5]
    assert reads[0] > 50 and len(versions) > 5, (reads[0], len(versions))


# --------------------------------------------------------------------------- reload


def test_sighup_adds_a_new_source(running: Running) -> None:
    second = running.base / "second"
    second.mkdir(exist_ok=True)
    write_article(second, "hello.md", "From the second source", rename=False)
    os.utime(second / "hello.md", (time.time() - 60, time.time() - 60))
    write_config(running.config, sources=[("main", running.folder), ("second", second)],
                 server_port=0)
    after = len(running.notify.snapshot())
    sent = time.monotonic()
    running.daemon.signal(signal.SIGHUP)
    reloading = running.notify.wait_for("RELOADING=1", after=after)
    message = running.notify.snapshot()[reloading]
    usec = int(message.fields["MONOTONIC_USEC"])  # CLOCK_MONOTONIC, as time.monotonic()
    assert sent - 1 <= usec / 1e6 <= time.monotonic() + 1
    ready = running.notify.wait_for("READY=1", after=reloading + 1)
    assert ready > reloading
    wait_until(lambda: running.atom_has("From the second source"), what="the new source")
    # The new folder is watched too.
    write_article(second, "later.md", "Later in the second source", rename=True)
    wait_until(lambda: running.atom_has("Later in the second source"), what="its pickup")
    assert running.daemon.alive()


def test_sighup_with_an_invalid_config_keeps_the_old_one(running: Running) -> None:
    good = running.config.read_text(encoding="utf-8")
    mark = len(running.daemon.log())
    try:
        running.config.write_text(good + '\n[[sources]]\nname = "broken"\nkind = "folder"\n'
                                  'path = "/nonexistent/folder"\nbogus_key = 1\n')
        after = len(running.notify.snapshot())
        running.daemon.signal(signal.SIGHUP)
        reloading = running.notify.wait_for("RELOADING=1", after=after)
        ready = running.notify.wait_for("READY=1", after=reloading + 1)
        status = running.notify.snapshot()[ready].fields.get("STATUS", "")
        assert "previous configuration" in status, status
        wait_until(lambda: "rejected" in running.log_since(mark), what="the rejection logged")
        log = running.log_since(mark)
        assert "keeping the previous one" in log
        assert "bogus_key" in log and "folder not found" in log, log
        assert running.daemon.alive()
        write_article(running.folder, "still.md", "Still working", rename=True)
        wait_until(lambda: running.atom_has("Still working"), what="the old source at work")
    finally:
        running.config.write_text(good, encoding="utf-8")


# --------------------------------------------------------------------------- stopping


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_finishes_the_work_and_exits_0(tmp_path: Path, signum: int) -> None:
    notify, daemon, _config, folder = _start(tmp_path, server=True)
    try:
        with explained(daemon):
            notify.wait_for("READY=1", timeout=30)
            for n in range(30):  # work in flight when the signal lands
                write_article(folder, f"late-{n:02}.md", f"Late {n:02}", rename=False)
            time.sleep(0.7)  # the watcher has seen them; the ingest waits for them to settle
            after = len(notify.snapshot())
            started = time.monotonic()
            daemon.signal(signum)
            code = daemon.wait(STOP_LIMIT + 5)
            took = time.monotonic() - started
            print(f"\n{signal.Signals(signum).name}: exit {code} after {took:.2f}s")
            assert code == 0, daemon.log()
            assert took <= STOP_LIMIT
            notify.wait_for("STOPPING=1", after=after, timeout=2)
            assert "stopped" in daemon.log()
            db = sqlite3.connect(f"file:{tmp_path / 'state' / 'feeds.db'}?mode=ro", uri=True)
            try:
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            finally:
                db.close()
            for name in ("rss.xml", "atom.xml", "feed.json"):
                check_feed_bytes(name, (tmp_path / "public" / "all" / name).read_bytes())
    finally:
        daemon.close()
        notify.close()


# --------------------------------------------------------------------------- websub


def test_websub_hub_is_notified_without_blocking_publication(tmp_path: Path) -> None:
    posts: list[tuple[float, dict[str, list[str]]]] = []
    answered: list[float] = []

    class SlowHub(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            posts.append((time.monotonic(), urllib.parse.parse_qs(body.decode())))
            time.sleep(3)  # a slow hub must not hold the daemon back
            self.send_response(204)
            self.end_headers()
            answered.append(time.monotonic())

        def log_message(self, format: str, *args: object) -> None:
            pass

    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHub)
    hub.daemon_threads = True
    threading.Thread(target=hub.serve_forever, args=(0.05,), daemon=True).start()
    notify, daemon, _config, folder = _start(
        tmp_path, server=False, hub=f"http://127.0.0.1:{hub.server_address[1]}/hub")
    atom = tmp_path / "public" / "all" / "atom.xml"
    try:
        with explained(daemon):
            notify.wait_for("READY=1", timeout=30)
            before = len(posts)
            write_article(folder, "one.md", "Announced one", rename=True)
            wait_until(lambda: len(posts) > before, what="a hub notification")
            _at, form = posts[-1]
            assert form["hub.mode"] == ["publish"]
            assert set(form["hub.url"]) == {f"http://127.0.0.1/all/{n}"
                                            for n in ("rss.xml", "atom.xml", "feed.json")}
            write_article(folder, "two.md", "Announced two", rename=True)
            wait_until(lambda: b"Announced two" in atom.read_bytes(), what="the next article")
            assert len(answered) < len(posts), "publication waited for the hub"
    finally:
        daemon.close()
        notify.close()
        hub.shutdown()
        hub.server_close()
