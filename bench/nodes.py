"""The remote first pass with 1, 2 and 3 ``feeds run`` nodes sharing one PostgreSQL store
(issue 14), against a local server whose every answer is 100 ms late.

    python -m bench.nodes [--feeds 300] [--items 3] [--delay 0.1] [--repeats 2] [--nodes 1,2,3]

For each node count and repeat: a fresh database on a throwaway PostgreSQL server
(``tests.pgcluster``: Debian's ``postgresql`` package), N node processes started at once,
each with its own configuration and output folder (one OPML source of every feed,
``[fetch] concurrency = per_host = 10``); timed from the launch (interpreter start-up
included) until the store holds every item (the first pass: feeds/s), and until every
node's feed shows them all.  Rounds alternate node counts (1, 2, 3,
1, 2, 3 ...) so that a busy machine weighs on all alike.  Prints one table row per node
count: the median wall time, feeds per second, the ratio to one node, and the requests the
server received per feed (1.00: each fetched exactly once).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.delayed import DelayedFeeds
from tests.daemon_support import DaemonProcess
from tests.pgcluster import Cluster, unavailable

CONFIG = """[site]
title = "bench nodes"
link = "https://nodes.example/"
[store]
url = "{url}"
lease = "30s"
[output]
dir = "{root}/public"
[fetch]
allow_private = true
concurrency = 10
per_host = 10
[[sources]]
name = "planet"
kind = "opml"
path = "{opml}"
[[feeds]]
name = "all"
title = "All"
limit = {limit}
"""


def shown(folder: Path) -> int:
    try:
        return len(json.loads((folder / "all" / "feed.json").read_bytes())["items"])
    except (OSError, ValueError, KeyError):
        return 0


def one_round(cluster: Cluster, server: DelayedFeeds, work: Path, nodes: int,
              items: int) -> tuple[float, float, float]:
    """(seconds until the store holds every item, until every node shows every item,
    requests per feed) for ``nodes``."""
    import psycopg

    url = cluster.database()
    from feeds.store.postgres import PostgresStore

    PostgresStore.open(url).close()  # the schema, before the nodes race to make it
    total = server.count * items
    before = sum(server.requests().values())
    procs = []
    started = time.monotonic()
    for n in range(nodes):
        root = work / f"r{time.monotonic_ns()}-{n}"
        root.mkdir(parents=True)
        (root / "feeds.toml").write_text(CONFIG.format(
            url=url, root=root, opml=work / "planet.opml", limit=total + 10), encoding="utf-8")
        procs.append((root, DaemonProcess(root / "feeds.toml", root / "log")))
    fetched = 0.0
    try:
        deadline = started + 600
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                if not fetched:
                    row = conn.execute("SELECT count(*) FROM articles").fetchone()
                    if row is not None and row[0] == total:
                        fetched = time.monotonic() - started
                if fetched and all(shown(root / "public") == total for root, _ in procs):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"{nodes} nodes: not done in 600 s")
        elapsed = time.monotonic() - started
    finally:
        for _root, proc in procs:
            proc.close()
    return fetched, elapsed, (sum(server.requests().values()) - before) / server.count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nodes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--nodes", default="1,2,3")
    args = parser.parse_args(argv)
    why = unavailable()
    if why:
        print(f"bench.nodes: cannot run: {why}", file=sys.stderr)
        return 1
    counts = [int(n) for n in args.nodes.split(",")]
    times: dict[int, list[float]] = {n: [] for n in counts}
    published: dict[int, list[float]] = {n: [] for n in counts}
    per_feed: dict[int, list[float]] = {n: [] for n in counts}
    cluster = Cluster().start()
    try:
        with tempfile.TemporaryDirectory(prefix="feeds-bench-nodes-") as tmp, \
                DelayedFeeds(args.feeds, items=args.items, delay=args.delay) as server:
            work = Path(tmp)
            (work / "planet.opml").write_text(server.opml(), encoding="utf-8")
            for repeat in range(args.repeats):
                for n in counts:
                    fetched, elapsed, requests = one_round(cluster, server, work, n,
                                                           args.items)
                    times[n].append(fetched)
                    published[n].append(elapsed)
                    per_feed[n].append(requests)
                    print(f"round {repeat + 1}: {n} node(s): stored in {fetched:.2f} s, "
                          f"published everywhere in {elapsed:.2f} s, "
                          f"{requests:.2f} requests per feed", file=sys.stderr)
    finally:
        cluster.destroy()
    base = statistics.median(times[counts[0]])
    print(f"remote first pass: {args.feeds} feeds x {args.items} items, every answer "
          f"{args.delay * 1000:.0f} ms late, median of {args.repeats}")
    print("| nodes | every item stored (s), min-max | feeds/s | ratio to one node |"
          " every output converged (s) | requests per feed |")
    print("|---|---|---|---|---|---|")
    for n in counts:
        med = statistics.median(times[n])
        print(f"| {n} | {med:.2f} ({min(times[n]):.2f}-{max(times[n]):.2f}) | "
              f"{args.feeds / med:.1f} | {base / med:.2f}x | "
              f"{statistics.median(published[n]):.2f} | "
              f"{statistics.median(per_feed[n]):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
