"""What ``feeds run`` shows of itself: ``/metrics`` (Prometheus text format, parsed with
``prometheus_client``'s own parser), ``/healthz``, ``/status`` and ``/status.json``.

The pure part (outcomes, bounded labels, registries kept apart) is tested on a
:class:`~feeds.monitor.Monitor` told made-up reports; the rest on a real daemon (a child
process) serving on 127.0.0.1, with a folder source and a remote feed served locally.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from feeds import config as config_module
from feeds.errors import ConfigError
from feeds.model import Changes, FetchState
from feeds.monitor import Monitor, fetch_outcome
from feeds.pipeline import FeedReport, SourceReport
from feeds.pipeline.overview import FeedRow, Overview, SourceRow
from tests.conftest import NOW
from tests.daemon_support import DaemonProcess, wait_until, write_article
from tests.test_build_remote import FeedServer, rss


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def config_of(tmp_path: Path, sources: int, limit: int) -> config_module.Config:
    lines = [f'[server]\nmetrics_sources = {limit}\n']
    for i in range(sources):
        (tmp_path / f"f{i}").mkdir()
        lines.append(f'[[sources]]\nname = "s{i}"\nkind = "folder"\npath = "f{i}"\n')
    (tmp_path / "feeds.toml").write_text("\n".join(lines) + '[[feeds]]\nname = "all"\n'
                                         'title = "All"\n', encoding="utf-8")
    return config_module.load(tmp_path / "feeds.toml")


def monitor_of(config: config_module.Config) -> Monitor:
    return Monitor(config, queue_depth=lambda: 3, scheduler_running=lambda: True)


def scanned(monitor: Monitor, name: str, added: int = 1) -> None:
    report = SourceReport(name, "folder", changes=Changes(
        added=tuple(f"k{i}" for i in range(added)), changed=(), removed=(), unchanged=0),
        duration=0.2)
    monitor.observe_ingest(report, [SourceRow(name, name, "folder")], NOW)


# --------------------------------------------------------------------------- pure


def remote_row(**state: object) -> SourceRow:
    return SourceRow("r", "r", "feed", url="https://example.org/feed",
                     fetch=FetchState(**state))  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "outcome"), [
    ({"last_fetch": NOW, "last_success": NOW, "last_status": 200}, "ok"),
    ({"last_fetch": NOW, "last_success": NOW, "last_status": 304}, "not_modified"),
    ({"last_fetch": NOW, "last_success": NOW - timedelta(hours=1), "last_status": 500,
      "errors": 1}, "error"),
    ({"last_fetch": NOW, "last_status": 410, "gone": True}, "gone"),
])
def test_a_fetch_outcome_is_read_from_the_fetch_state(state: dict[str, object],
                                                      outcome: str) -> None:
    assert fetch_outcome(remote_row(**state), NOW - timedelta(minutes=30), False) == outcome


def test_a_feed_not_due_was_not_fetched_and_is_not_counted() -> None:
    row = remote_row(last_fetch=NOW, last_success=NOW, last_status=200)
    assert fetch_outcome(row, NOW, False) is None
    assert fetch_outcome(SourceRow("r", "r", "feed", url="https://x.example/"), None,
                         False) is None


def test_per_source_series_stop_at_the_configured_number_of_sources(tmp_path: Path) -> None:
    monitor = monitor_of(config_of(tmp_path, sources=5, limit=2))
    for name in ("s0", "s1", "s2", "s3", "s4"):
        scanned(monitor, name)
    found = samples(monitor.respond("GET", b"/metrics", {}).body.decode())  # type: ignore[union-attr]
    per_source = {dict(labels)["source"] for (name, labels) in found
                  if name == "feeds_source_fetches_total"}
    assert per_source == {"s0", "s1"}
    stamps = {dict(labels)["source"] for (name, labels) in found
              if name == "feeds_source_last_success_timestamp_seconds"}
    assert stamps == {"s0", "s1"}
    # the totals still count every source
    assert found[("feeds_fetches_total", (("kind", "folder"), ("outcome", "ok")))] == 5
    assert found[("feeds_items_ingested_total", (("change", "added"),))] == 5
    assert found[("feeds_queue_depth", ())] == 3


def test_each_monitor_has_its_own_registry(tmp_path: Path) -> None:
    config = config_of(tmp_path, sources=1, limit=10)
    first, second = monitor_of(config), monitor_of(config)
    scanned(first, "s0", added=4)
    text = second.respond("GET", b"/metrics", {}).body.decode()  # type: ignore[union-attr]
    assert samples(text).get(("feeds_items_ingested_total", (("change", "added"),)), 0) == 0


def test_metrics_sources_is_validated_by_feeds_check(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text('[server]\nmetrics_sources = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.metrics_sources"):
        config_module.load(tmp_path / "feeds.toml")
    (tmp_path / "feeds.toml").write_text('[server]\nmetrics_sources = "many"\n',
                                         encoding="utf-8")
    with pytest.raises(ConfigError, match="must be an integer"):
        config_module.load(tmp_path / "feeds.toml")


def test_healthz_says_why_it_is_unhealthy(tmp_path: Path) -> None:
    config = config_of(tmp_path, sources=1, limit=10)
    running = [True]
    monitor = Monitor(config, queue_depth=lambda: 0, scheduler_running=lambda: running[0])
    reply = monitor.respond("GET", b"/healthz", {})
    assert reply is not None and (reply.status, reply.body) == (200, b"ok\n")
    monitor.observe_publish(None, 0.1, "cannot write /srv/public/all: not a directory", [], NOW)
    reply = monitor.respond("GET", b"/healthz", {})
    assert reply is not None and reply.status == 503
    assert b"last publication failed: cannot write /srv/public/all" in reply.body
    monitor.observe_publish([FeedReport("all", added=1, written=[tmp_path])], 0.1, None,
                            [FeedRow("all", "All", 1, [])], NOW)
    assert monitor.health() == (True, "ok")
    running[0] = False
    reply = monitor.respond("HEAD", b"/healthz", {})
    assert reply is not None and reply.status == 503 and b"scheduler" in reply.body


def test_other_paths_are_left_to_the_files_and_writes_are_refused(tmp_path: Path) -> None:
    monitor = monitor_of(config_of(tmp_path, sources=1, limit=10))
    assert monitor.respond("GET", b"/all/rss.xml", {}) is None
    assert monitor.respond("GET", b"/metrics/", {}) is None
    reply = monitor.respond("POST", b"/metrics", {})
    assert reply is not None and reply.status == 405


def test_the_status_document_is_the_one_of_feeds_status_json(tmp_path: Path) -> None:
    import jsonschema

    from tests.test_status_json import SCHEMA

    config = config_of(tmp_path, sources=2, limit=10)
    monitor = monitor_of(config)
    monitor.refresh(Overview(NOW, config, [SourceRow("s0", "s0", "folder"),
                                           SourceRow("s1", "s1", "folder")], []))
    scanned(monitor, "s1")
    reply = monitor.respond("GET", b"/status.json", {})
    assert reply is not None and reply.status == 200
    doc = json.loads(reply.body)
    jsonschema.validate(doc, SCHEMA)
    assert [s["name"] for s in doc["sources"]] == ["s0", "s1"]


# --------------------------------------------------------------------------- a real daemon


@dataclass
class Daemon:
    base: Path
    folder: Path
    public: Path
    process: DaemonProcess
    port: int
    remote: FeedServer

    def get(self, path: str) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return (response.status, response.getheader("Content-Type") or "",
                    response.read().decode("utf-8"))
        finally:
            conn.close()

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, content_type, body = self.get("/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        return samples(body)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    remote = FeedServer()
    remote.thread.start()
    remote.documents["/one.xml"] = rss([("g1", "From afar", "https://one.example/a")])
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "seed.md", "Seed article", rename=False)
    os.utime(folder / "seed.md", (time.time() - 60, time.time() - 60))  # settled already
    (tmp_path / "feeds.toml").write_text(f"""
[site]
title = "Monitored"
base_url = "http://127.0.0.1/"
[store]
path = "{tmp_path / 'state' / 'feeds.db'}"
[output]
dir = "{tmp_path / 'public'}"
[server]
host = "127.0.0.1"
port = 0
[[sources]]
name = "notes"
kind = "folder"
path = "{folder}"
[[sources]]
name = "afar"
kind = "feed"
url = "{remote.base}/one.xml"
[[feeds]]
name = "all"
title = "All"
""", encoding="utf-8")
    process = DaemonProcess(tmp_path / "feeds.toml", tmp_path / "daemon.log")
    try:
        match = wait_until(lambda: re.search(r"serving \S+ on http://127\.0\.0\.1:(\d+)/",
                                             process.log()), timeout=60, what="the server")
        assert match is not None
        yield Daemon(tmp_path, folder, tmp_path / "public", process, int(match.group(1)),
                     remote)
    finally:
        process.close()
        remote.httpd.shutdown()
        remote.httpd.server_close()


def test_metrics_parse_and_count_what_the_daemon_fetched(daemon: Daemon) -> None:
    found = daemon.metrics()
    assert found[("feeds_fetches_total", (("kind", "feed"), ("outcome", "ok")))] == 1
    assert found[("feeds_source_fetches_total", (("outcome", "ok"), ("source", "afar")))] == 1
    assert found[("feeds_source_last_success_timestamp_seconds", (("source", "afar"),))] > 0
    assert found[("feeds_store_bytes", ())] > 0
    assert ("feeds_queue_depth", ()) in found
    assert found[("feeds_publish_duration_seconds_count", ())] >= 1
    assert found[("feeds_fetch_duration_seconds_count", (("kind", "feed"),))] == 1
    assert found[("feeds_feed_items", (("feed", "all"),))] == 2
    before_scans = found[("feeds_fetches_total", (("kind", "folder"), ("outcome", "ok")))]
    before_added = found[("feeds_items_ingested_total", (("change", "added"),))]
    before_published = found[("feeds_items_published_total", ())]
    write_article(daemon.folder, "new.md", "A new one", rename=True)

    def moved() -> bool:
        now = daemon.metrics()
        return (now[("feeds_items_ingested_total", (("change", "added"),))] > before_added
                and now[("feeds_items_published_total", ())] > before_published)

    wait_until(moved, what="the counters to move")
    after = daemon.metrics()
    assert after[("feeds_fetches_total", (("kind", "folder"), ("outcome", "ok")))] > before_scans
    assert after[("feeds_feed_items", (("feed", "all"),))] == 3


def test_a_rejected_input_is_counted(daemon: Daemon) -> None:
    before = daemon.metrics()[("feeds_rejected_inputs_total", ())]
    (daemon.folder / "broken.md").write_bytes(b"---\ntitle: [unclosed\n---\n\x00\xff")
    wait_until(lambda: daemon.metrics()[("feeds_rejected_inputs_total", ())] > before,
               what="the rejected input to be counted")


def test_healthz_turns_503_while_the_output_folder_cannot_be_written(daemon: Daemon) -> None:
    status, _, body = daemon.get("/healthz")
    assert (status, body) == (200, "ok\n")
    moved = daemon.base / "public.away"
    daemon.public.rename(moved)
    daemon.public.write_text("not a folder any more")  # unwritable, even for root
    write_article(daemon.folder, "later.md", "Published later", rename=True)
    wait_until(lambda: daemon.get("/healthz")[0] == 503, what="/healthz to fail")
    status, content_type, body = daemon.get("/healthz")
    assert content_type.startswith("text/plain") and "last publication failed" in body
    assert str(daemon.public) in body
    daemon.public.unlink()
    moved.rename(daemon.public)
    wait_until(lambda: daemon.get("/healthz")[0] == 200, what="/healthz to recover")
    wait_until(lambda: "Published later" in (daemon.public / "all" / "atom.xml").read_text(),
               what="the retried publication")
    assert daemon.process.alive()


def test_status_page_and_document_are_served(daemon: Daemon) -> None:
    status, content_type, body = daemon.get("/status")
    assert status == 200 and content_type == "text/html; charset=utf-8"
    assert "afar" in body and f"{daemon.remote.base}/one.xml" in body and "Health" in body
    status, content_type, body = daemon.get("/status.json")
    assert status == 200 and content_type == "application/json"
    doc = json.loads(body)
    assert {s["name"]: s["http_status"] for s in doc["sources"]} == {"notes": None, "afar": 200}
    assert not (daemon.public / "status.html").exists()  # not asked for


def test_a_monitoring_failure_is_logged_and_never_stops_the_service(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    monitor = monitor_of(config_of(tmp_path, sources=1, limit=10))

    class Broken:
        config = monitor.config
        store = None
        publish_error = None

        def overview(self, only: str | None = None) -> Overview:
            raise RuntimeError("store gone")

        def clock(self) -> object:
            return NOW

    monitor.ingested(Broken(), SourceReport("s0", "folder"))  # type: ignore[arg-type]
    monitor.reset(Broken())  # type: ignore[arg-type]
    assert caplog.text.count("monitor: could not record") == 2


@pytest.mark.parametrize(("table", "key"), [
    ("[server]\nmetrics_sources = 1001\n", "server.metrics_sources"),
    ("[output]\nstatus_page = \"yes\"\n", "output.status_page"),
])
def test_feeds_check_names_a_bad_monitoring_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, key: str) -> None:
    from feeds.cli import main

    (tmp_path / "feeds.toml").write_text(table, encoding="utf-8")
    assert main(["check", "--config", str(tmp_path / "feeds.toml")]) == 2
    assert key in capsys.readouterr().err
