"""Several ``feeds run`` nodes sharing one PostgreSQL store (issue 14's "done when"): they
divide the remote feeds (each fetched exactly once a round), publish the same bytes from
the shared store, take over the feeds of a node killed mid-round within a lease, and ride
out a restart of the database.

Each node is a real ``feeds run`` process with its own configuration, state and output
folder; the feeds come from a local server that answers each request 100 ms late and
counts the requests each feed received; the database is the session's throwaway server
(``tests.pgcluster``: these tests skip, saying why, only where PostgreSQL is absent).
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.delayed import DelayedFeeds
from tests.daemon_support import DaemonProcess, wait_until
from tests.pgcluster import Cluster, free_port

FEEDS, ITEMS = 300, 3


def node_config(root: Path, url: str, *, lease: str = "30s", port: int | None = None,
                folder: Path | None = None, role: str = "both") -> Path:
    """A node's configuration: the shared store, one OPML source of every feed, one feed
    showing every item, its own state and output folders."""
    root.mkdir(parents=True, exist_ok=True)
    server = (f"[server]\nenabled = true\nhost = \"127.0.0.1\"\nport = {port}\nmax_age = 0\n"
              if port else "")
    source = (f'[[sources]]\nname = "notes"\nkind = "folder"\npath = "{folder}"\n'
              if folder else "")
    text = f"""[site]
title = "nodes"
link = "https://nodes.example/"
base_url = "https://nodes.example/"
[store]
url = "{url}"
lease = "{lease}"
node = "{role}"
[output]
dir = "{root / 'public'}"
[fetch]
allow_private = true
concurrency = 10
per_host = 10
{server}
[[sources]]
name = "planet"
kind = "opml"
path = "{root.parent / 'planet.opml'}"
{source}
[[feeds]]
name = "all"
title = "All"
limit = {FEEDS * ITEMS + 100}
"""
    (root / "feeds.toml").write_text(text, encoding="utf-8")
    return root / "feeds.toml"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def items(folder: Path) -> list[dict[str, str]]:
    """The JSON Feed's items of feed ``all`` (none before it is published)."""
    try:
        data = json.loads((folder / "all" / "feed.json").read_bytes())
    except (OSError, ValueError):
        return []
    found: list[dict[str, str]] = data["items"]
    return found


@pytest.fixture
def feeds_server(tmp_path: Path) -> Iterator[DelayedFeeds]:
    with DelayedFeeds(FEEDS, items=ITEMS, delay=0.1) as server:
        (tmp_path / "planet.opml").write_text(server.opml(), encoding="utf-8")
        yield server


def start_nodes(tmp_path: Path, url: str, count: int, **kw: object) -> list[DaemonProcess]:
    nodes = []
    for n in range(count):
        config = node_config(tmp_path / f"node{n}", url, **kw)  # type: ignore[arg-type]
        nodes.append(DaemonProcess(config, tmp_path / f"node{n}" / "log"))
    return nodes


def converged(folders: list[Path], count: int) -> bool:
    """Every folder holds feed ``all`` with ``count`` items, all byte-identical."""
    if any(len(items(f)) != count for f in folders):
        return False
    first = files(folders[0])
    return all(files(f) == first for f in folders[1:])


def test_three_nodes_fetch_each_feed_once_and_publish_the_same_bytes(
        tmp_path: Path, pg_url: str, feeds_server: DelayedFeeds) -> None:
    nodes = start_nodes(tmp_path, pg_url, 3)
    folders = [tmp_path / f"node{n}" / "public" for n in range(3)]
    try:
        wait_until(lambda: converged(folders, FEEDS * ITEMS), timeout=180, interval=0.5)
        time.sleep(1)  # (a second fetch, were there one, would show by now)
        requests = feeds_server.requests()
        assert sorted(requests) == sorted(feeds_server.paths())
        assert set(requests.values()) == {1}, "a feed was fetched twice in one round"
        assert all(node.alive() for node in nodes)
        ids = [item["id"] for item in items(folders[0])]
        assert len(set(ids)) == FEEDS * ITEMS
        shares = [node.log().count("ingested") for node in nodes]
        assert all(shares), "every node took part"
    finally:
        for node in nodes:
            node.close()


def test_a_node_killed_mid_round_has_its_feeds_taken_over_within_a_lease(
        tmp_path: Path, pg_url: str, feeds_server: DelayedFeeds) -> None:
    nodes = start_nodes(tmp_path, pg_url, 3, lease="3s")
    survivors = [tmp_path / f"node{n}" / "public" for n in (1, 2)]
    try:
        wait_until(lambda: sum(feeds_server.requests().values()) >= 40, timeout=120,
                   interval=0.05)
        nodes[0].kill_group()  # SIGKILL, mid-round: its claimed feeds are leased to no one
        before = {item["url"]: item["id"] for folder in survivors for item in items(folder)}
        wait_until(lambda: converged(survivors, FEEDS * ITEMS), timeout=180, interval=0.5)
        requests = feeds_server.requests()
        assert sorted(requests) == sorted(feeds_server.paths()), "a feed was never fetched"
        twice = [path for path, n in requests.items() if n > 1]
        assert len(twice) <= 20, f"only what the killed node held is fetched again: {twice}"
        after = {item["url"]: item["id"] for item in items(survivors[0])}
        assert len(after) == FEEDS * ITEMS and len(set(after.values())) == FEEDS * ITEMS
        assert {url: after[url] for url in before} == before, "an id changed"
    finally:
        for node in nodes:
            node.close()


def test_nodes_ride_out_a_database_restart_and_keep_serving(
        tmp_path: Path, pg_url: str, pg_cluster: Cluster, feeds_server: DelayedFeeds) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    ports = [free_port(), free_port()]
    nodes = [DaemonProcess(node_config(tmp_path / f"node{n}", pg_url, lease="3s",
                                       port=ports[n], folder=folder),
                           tmp_path / f"node{n}" / "log") for n in range(2)]
    folders = [tmp_path / f"node{n}" / "public" for n in range(2)]

    def served(port: int) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/all/feed.json", timeout=5) as r:
            body: bytes = r.read()
            return body

    try:
        wait_until(lambda: converged(folders, FEEDS * ITEMS), timeout=180, interval=0.5)
        pg_cluster.stop()
        try:
            for port in ports:  # the database is down: what was published is still served
                assert len(json.loads(served(port))["items"]) == FEEDS * ITEMS
            (folder / "fresh.md").write_text("---\ntitle: After the restart\n"
                                             "date: 2026-01-02T12:00:00Z\n---\nBody.\n")
            time.sleep(2)  # the watcher sees it while the database is down
            assert all(node.alive() for node in nodes)
        finally:
            pg_cluster.restart_after_stop()
        # recovered without restarting: the new article (ingested by whichever node holds
        # the folder's claim) reaches both outputs, the same bytes on both
        wait_until(lambda: converged(folders, FEEDS * ITEMS + 1), timeout=120, interval=0.5)
        assert all(node.alive() for node in nodes)
        for port in ports:
            assert any(i.get("title") == "After the restart"
                       for i in json.loads(served(port))["items"])
        assert "unreachable" in nodes[0].log() + nodes[1].log() or \
            "cannot" in nodes[0].log() + nodes[1].log()
    finally:
        for node in nodes:
            node.signal(signal.SIGTERM)
            node.close()


def test_a_fetch_only_node_stores_and_a_publish_only_node_publishes(
        tmp_path: Path, pg_url: str, feeds_server: DelayedFeeds) -> None:
    fetcher = DaemonProcess(node_config(tmp_path / "node0", pg_url, role="fetch"),
                            tmp_path / "node0" / "log")
    publisher = DaemonProcess(node_config(tmp_path / "node1", pg_url, role="publish"),
                              tmp_path / "node1" / "log")
    try:
        out = tmp_path / "node1" / "public"
        wait_until(lambda: len(items(out)) == FEEDS * ITEMS, timeout=180, interval=0.5)
        assert set(feeds_server.requests().values()) == {1}
        assert not (tmp_path / "node0" / "public" / "all").exists()  # it writes no feed
        assert "ingested" not in publisher.log()  # it fetches nothing
    finally:
        fetcher.close()
        publisher.close()


def test_a_node_started_before_its_database_waits_for_it(
        tmp_path: Path, pg_url: str, pg_cluster: Cluster, feeds_server: DelayedFeeds) -> None:
    pg_cluster.stop()
    node = None
    try:
        node = DaemonProcess(node_config(tmp_path / "node0", pg_url), tmp_path / "node0" / "log")
        wait_until(lambda: "trying again" in node.log(), timeout=60, interval=0.2)
        time.sleep(1.5)
        assert node.alive(), node.log()  # waiting, not exiting (and restarted in a loop)
    finally:
        pg_cluster.restart_after_stop()
    try:
        out = tmp_path / "node0" / "public"
        wait_until(lambda: len(items(out)) == FEEDS * ITEMS, timeout=180, interval=0.5)
        assert node.alive()
    finally:
        node.close()


def test_the_nodes_bench_runs_at_a_toy_size(tmp_path: Path, pg_cluster: Cluster) -> None:
    """``python -m bench.nodes`` end to end at a toy size (no timing is asserted)."""
    from bench.nodes import one_round

    with DelayedFeeds(8, items=2, delay=0.0) as server:
        (tmp_path / "planet.opml").write_text(server.opml(), encoding="utf-8")
        for nodes in (1, 2):
            stored, converged_at, per_feed = one_round(pg_cluster, server, tmp_path, nodes, 2)
            assert 0 < stored <= converged_at and per_feed == 1.0
