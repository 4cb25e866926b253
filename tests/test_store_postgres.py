"""What only the PostgreSQL store has, besides the protocol every store passes
(``test_store_protocol.py`` runs that against it too): its configuration, its recorded
migrations, claims with leases, ``feeds store copy`` both ways, and its faults (a server
that restarts or cannot be reached).  Against the session's throwaway server
(``tests.pgcluster``); skipped, saying why, only where PostgreSQL is absent.
"""

from __future__ import annotations

import threading
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds import config as config_module
from feeds.cli import main
from feeds.errors import ConfigError, StoreError
from feeds.model import Article, FetchState
from feeds.store import MIGRATIONS, SqliteStore, open_store
from feeds.store.postgres import PostgresStore, redact
from feeds.store.postgres.connection import sql_for_postgres
from feeds.storecmd import store_copy
from tests.conftest import TWO_FEED_SITE
from tests.pgcluster import Cluster, free_port

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
SITE = '[site]\ntitle = "t"\nlink = "https://x.example/"\n[[feeds]]\nname = "all"\ntitle = "All"\n'


def parse(store: str) -> config_module.Config:
    return config_module.parse(tomllib.loads(SITE + "[store]\n" + store), Path("/x/feeds.toml"))


def problems(store: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(store)
    return str(caught.value)


# --------------------------------------------------------------------------- configuration


def test_a_url_selects_the_shared_store_and_path_stays_the_default() -> None:
    plain = parse('path = "state/feeds.db"')
    assert plain.shared is None and plain.store == Path("/x/state/feeds.db")
    shared = parse('url = "postgresql://feeds@db.example:5432/feeds"\nlease = "30s"\n'
                   'node = "fetch"')
    assert shared.shared is not None and shared.store == "postgresql://feeds@db.example:5432/feeds"
    assert (shared.shared.lease, shared.shared.fetches, shared.shared.publishes) == \
        (timedelta(seconds=30), True, False)
    assert parse('url = "postgres://h/d"').shared.role == "both"  # type: ignore[union-attr]


@pytest.mark.parametrize(("store", "message"), [
    ('url = "mysql://h/d"', "must be a PostgreSQL URL"),
    ('url = "postgresql://u@h:5432/"', "must name a database"),
    ('url = "postgresql:///feeds"', "must name a host"),
    ('url = "postgresql://u@h:99999/d"', "not a usable URL"),
    ('url = "postgresql://u@h/d b"', "spaces or control characters"),
    ('url = ""', "must be a PostgreSQL URL"),
    ('url = 5', "store.url"),
    ('url = "postgresql://h/d"\npath = "x.db"', "not both"),
    ('lease = "1m"', "store.lease: applies only with store.url"),
    ('node = "publish"', "store.node: applies only with store.url"),
    ('url = "postgresql://h/d"\nnode = "everything"', "store.node: must be one of"),
    ('url = "postgresql://h/d"\nlease = "forever"', "store.lease"),
])
def test_a_bad_store_url_is_named_by_feeds_check(store: str, message: str) -> None:
    assert message in problems(store)


def test_without_psycopg_the_error_names_the_url_and_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "psycopg" else real(name, *a))
    text = problems('url = "postgresql://h/d"')
    assert "store.url" in text and "pip install 'feeds[postgresql]'" in text


def test_passwords_are_kept_out_of_messages() -> None:
    assert redact("postgresql://feeds:s3cret@db:5432/feeds") == "postgresql://feeds:***@db:5432/feeds"
    assert redact("postgresql://db/feeds") == "postgresql://db/feeds"


def test_the_dialect_keeps_the_meaning_of_the_sqlite_queries() -> None:
    assert sql_for_postgres("SELECT a FROM t WHERE b = ? AND c IS NOT excluded.c"
                            " AND d IS NOT NULL") == \
        "SELECT a FROM t WHERE b = %s AND c IS DISTINCT FROM excluded.c AND d IS NOT NULL"
    assert "jsonb_set(data::jsonb, '{key}', to_jsonb(%s::text))" in \
        sql_for_postgres("UPDATE articles SET data = json_set(data, '$.key', ?)")
    assert sql_for_postgres("SELECT '50%'") == "SELECT '50%%'"


# --------------------------------------------------------------------------- schema


def test_the_schema_records_the_same_named_migrations_as_sqlite(pg_url: str,
                                                               tmp_path: Path) -> None:
    with PostgresStore.open(pg_url) as store:
        assert store.migrations() == [m.name for m in MIGRATIONS]
        assert store.schema_version == len(MIGRATIONS)
    with SqliteStore.open(tmp_path / "feeds.db") as sqlite:
        assert sqlite.migrations() == [m.name for m in MIGRATIONS]
    with PostgresStore.open(pg_url) as again:  # reopening migrates nothing
        assert again.migrations() == [m.name for m in MIGRATIONS]


def test_nodes_opening_a_new_database_at_once_migrate_it_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            PostgresStore.open(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PostgresStore.open(pg_url) as store:
        assert store.migrations() == [m.name for m in MIGRATIONS]


def test_a_database_holding_other_tables_is_refused(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (n integer)")
    with pytest.raises(StoreError, match="not a feeds store"):
        PostgresStore.open(pg_url)


def test_a_store_from_a_newer_feeds_is_refused(pg_url: str) -> None:
    PostgresStore.open(pg_url).close()
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO migrations VALUES (99, '0099_future', '')")
    with pytest.raises(StoreError, match="newer than this version"):
        PostgresStore.open(pg_url)


# --------------------------------------------------------------------------- claims


def test_claims_divide_feeds_between_nodes(pg_url: str) -> None:
    feeds = [f"f{n:02d}" for n in range(12)]
    with PostgresStore.open(pg_url) as a, PostgresStore.open(pg_url) as b:
        first = a.claim(feeds, lease=LEASE, limit=5)
        second = b.claim(feeds, lease=LEASE, limit=5)
        assert len(first) == len(second) == 5 and not set(first) & set(second)
        assert a.claim(first, lease=LEASE) == first  # a node's own lease is its own
        rest = b.claim(feeds, lease=LEASE)  # its own and what nobody held
        assert set(second) <= set(rest) and sorted(first + rest) == feeds
        assert a.claim(feeds, lease=LEASE) == first  # nothing of b's
        a.release(first)
        assert b.claim(feeds, lease=LEASE) == feeds  # released: anyone's
        b.release(["f00"])
        a.release(["f01"])  # (not a's: left alone)
        assert a.claim(feeds, lease=LEASE) == ["f00"]


def test_a_dead_nodes_lease_expires(pg_url: str) -> None:
    with PostgresStore.open(pg_url) as a, PostgresStore.open(pg_url) as b:
        assert a.claim(["x", "y"], lease=timedelta(milliseconds=50)) == ["x", "y"]
        assert b.claim(["x", "y"], lease=LEASE) == []
        time.sleep(0.1)  # a never comes back
        assert b.claim(["x", "y"], lease=LEASE) == ["x", "y"]


def test_a_claim_in_progress_is_skipped_not_waited_for(pg_url: str) -> None:
    import psycopg

    with PostgresStore.open(pg_url) as store:
        store.claim(["busy", "free"], lease=timedelta(0))
        with psycopg.connect(pg_url) as other:  # another node, mid-claim: the row locked
            other.execute("SELECT * FROM claims WHERE feed = 'busy' FOR UPDATE")
            started = time.monotonic()
            assert store.claim(["busy", "free"], lease=LEASE) == ["free"]
            assert time.monotonic() - started < 30  # (it did not wait for the lock)
            other.rollback()


def test_single_node_stores_give_every_feed(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "feeds.db") as store:
        assert store.claim(["b", "a"], lease=LEASE, limit=1) == ["a", "b"]
        store.release(["a"])
        store.announce("a")  # nobody to tell: nothing happens


def test_publication_state_is_kept_per_output(pg_url: str) -> None:
    from feeds.store import FeedState

    with PostgresStore.open(pg_url) as a, PostgresStore.open(pg_url) as b:
        a.output, b.output = "host:/srv/a", "host:/srv/b"
        a.set_feed_state("all", FeedState(channel="c", items="d", count=1))
        assert b.feed_state("all") is None  # b has not written its own files yet
        assert a.feed_state("all") == FeedState(channel="c", items="d", count=1)


def test_changes_are_heard_by_the_other_nodes(pg_url: str) -> None:
    heard: list[str] = []
    with PostgresStore.open(pg_url) as a, PostgresStore.open(pg_url) as b:
        listener = b.listen(heard.append, every=3600)
        try:
            deadline = time.monotonic() + 10
            while "" not in heard and time.monotonic() < deadline:
                time.sleep(0.02)  # connected: "" (anything may have changed meanwhile)
            a.announce("planet")
            b.announce("own")  # a node does not hear itself
            while "planet" not in heard and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            listener.stop()
    assert heard == ["", "planet"]


# --------------------------------------------------------------------------- copy


def write_site(root: Path, store: str) -> Path:
    (root / "articles").mkdir(parents=True, exist_ok=True)
    for n in range(6):
        (root / "articles" / f"a{n}.txt").write_text(
            f"Story {n}\n\nPublished {1 + n} May 2024\n\nText of story {n}.\n", encoding="utf-8")
    text = TWO_FEED_SITE.format(author="").replace('path = "state/feeds.db"', store)
    (root / "feeds.toml").write_text(text, encoding="utf-8")
    return root / "feeds.toml"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_store_copy_to_postgresql_and_back_rebuilds_the_same_bytes(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from feeds.pipeline import build

    sqlite_path = tmp_path / "one" / "state" / "feeds.db"
    build(config_module.load(write_site(tmp_path / "one", 'path = "state/feeds.db"')), now=NOW)
    state = FetchState(etag='"e1"', last_modified="Sat, 01 Jun 2024 12:00:00 GMT",
                       retry_after=NOW + timedelta(hours=2), errors=3, gone=True,
                       next_due=NOW + timedelta(hours=1))
    with SqliteStore.open(sqlite_path) as store:
        store.set_source_states({"remote-x": state})
        ids = {i.article.key: i.id for i in store.items()}
    assert main(["store", "copy", "--from", str(sqlite_path), "--to", pg_url]) == 0
    assert "6 articles" in capsys.readouterr().out
    with PostgresStore.open(pg_url) as pg:
        assert pg.source_state("remote-x") == state
        assert {i.article.key: i.id for i in pg.items()} == ids
    build(config_module.load(write_site(tmp_path / "two", f'url = "{pg_url}"')), now=NOW)
    assert files(tmp_path / "two" / "public") == files(tmp_path / "one" / "public")

    back = tmp_path / "three" / "state" / "feeds.db"
    store_copy(pg_url, str(back))
    with SqliteStore.open(back) as store:
        assert store.source_state("remote-x") == state
    build(config_module.load(write_site(tmp_path / "three", 'path = "state/feeds.db"')),
          now=NOW)
    assert files(tmp_path / "three" / "public") == files(tmp_path / "one" / "public")


def test_store_copy_refuses_a_store_that_holds_ids_and_a_missing_source(
        tmp_path: Path, pg_url: str) -> None:
    with SqliteStore.open(tmp_path / "a.db") as store:
        store.ingest("s", [(Article(source="s", key="k", title="T", body="b"), None)], now=NOW)
    store_copy(str(tmp_path / "a.db"), pg_url)
    with pytest.raises(StoreError, match="not empty"):
        store_copy(str(tmp_path / "a.db"), pg_url)
    with pytest.raises(StoreError, match="no store there"):
        store_copy(str(tmp_path / "missing.db"), pg_url)
    with pytest.raises(StoreError, match="into itself"):
        store_copy(str(tmp_path / "a.db"), str(tmp_path / "a.db"))


def test_a_dry_run_works_on_a_copy_and_leaves_the_database_alone(pg_url: str) -> None:
    with PostgresStore.open(pg_url) as store:
        store.ingest("s", [(Article(source="s", key="k", title="T", body="b"), None)], now=NOW)
    with open_store(pg_url, dry_run=True) as copy:
        assert copy.count() == 1
        copy.ingest("s", [(Article(source="s", key="k2", title="U", body="c"), None)], now=NOW)
    with PostgresStore.open(pg_url) as store:
        assert store.count() == 1


# --------------------------------------------------------------------------- faults


def test_an_unreachable_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    url = f"postgresql://feeds:s3cret@127.0.0.1:{free_port()}/feeds"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert "postgresql://feeds:***@127.0.0.1" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_restarted_database_is_reconnected_to(pg_url: str, pg_cluster: Cluster) -> None:
    with PostgresStore.open(pg_url) as store:
        store.ingest("s", [(Article(source="s", key="k", title="T", body="b"), None)], now=NOW)
        pg_cluster.restart()
        try:  # the first call may learn that the old connection is gone ...
            count = store.count()
        except StoreError as exc:
            assert redact(pg_url) in str(exc)
            count = store.count()  # ... the next reconnects
        assert count == 1


# --------------------------------------------------------------------------- the pipeline


def test_a_remote_ingest_leaves_the_feeds_another_node_holds_and_looks_again_later(
        tmp_path: Path, pg_url: str) -> None:
    from bench.delayed import DelayedFeeds
    from feeds.pipeline import ingest_remote, remote_specs

    with DelayedFeeds(4, items=2, delay=0.0) as server:
        (tmp_path / "planet.opml").write_text(server.opml(), encoding="utf-8")
        (tmp_path / "feeds.toml").write_text(
            f'[site]\ntitle = "t"\nlink = "https://x.example/"\n[store]\nurl = "{pg_url}"\n'
            'lease = "90s"\n[fetch]\nallow_private = true\n'
            '[[sources]]\nname = "planet"\nkind = "opml"\npath = "planet.opml"\n'
            '[[feeds]]\nname = "all"\ntitle = "All"\n', encoding="utf-8")
        config = config_module.load(tmp_path / "feeds.toml")
        with PostgresStore.open(pg_url) as other, PostgresStore.open(pg_url) as store:
            names = sorted(spec.name for spec in remote_specs(config.sources[0]))
            held = other.claim(names[:1], lease=LEASE)  # another node, mid-fetch
            started = time.monotonic()
            [report] = ingest_remote(config, store, config.sources, now=NOW, force=False)
            took = timedelta(seconds=time.monotonic() - started)
            assert report.error is None and report.elsewhere == 1
            assert report.wake_at is not None  # a lease after it last asked for them
            lease = timedelta(seconds=90)
            assert NOW + lease <= report.wake_at <= NOW + took + lease
            assert store.count() == 6 and len(server.requests()) == 3
            other.release(held)
            [again] = ingest_remote(config, store, config.sources, now=NOW, force=False)
            assert again.elsewhere == 0 and store.count() == 8
            assert sum(server.requests().values()) == 4  # the others were not due: not asked


def test_feeds_held_elsewhere_are_looked_at_again_a_lease_after_the_round_not_its_start(
        tmp_path: Path, pg_url: str) -> None:
    """A round longer than the lease (slow feeds, a loaded machine) must still ask for the
    held feeds again later: a wake-up counted from the round's start would already be past
    when the round ends, and the daemon drops past wake-ups, so a dead node's feeds would
    wait for the next scheduled round (an hour) instead of a lease."""
    from bench.delayed import DelayedFeeds
    from feeds.pipeline import ingest_remote, remote_specs

    with DelayedFeeds(3, items=1, delay=1.5) as server:
        (tmp_path / "planet.opml").write_text(server.opml(), encoding="utf-8")
        (tmp_path / "feeds.toml").write_text(
            f'[site]\ntitle = "t"\nlink = "https://x.example/"\n[store]\nurl = "{pg_url}"\n'
            'lease = "1s"\n[fetch]\nallow_private = true\n'
            '[[sources]]\nname = "planet"\nkind = "opml"\npath = "planet.opml"\n'
            '[[feeds]]\nname = "all"\ntitle = "All"\n', encoding="utf-8")
        config = config_module.load(tmp_path / "feeds.toml")
        with PostgresStore.open(pg_url) as other, PostgresStore.open(pg_url) as store:
            names = sorted(spec.name for spec in remote_specs(config.sources[0]))
            other.claim(names[:1], lease=timedelta(minutes=5))  # a node that then died
            [report] = ingest_remote(config, store, config.sources, now=NOW, force=False)
            assert report.elsewhere == 1 and store.count() == 2
            assert report.wake_at is not None
            # the others took at least 1.5 s to answer; the held one is asked for again a
            # lease (1 s) after that, not a lease after the round began
            assert report.wake_at >= NOW + timedelta(seconds=2.5)


def test_recover_says_it_rebuilds_sqlite_stores_only(tmp_path: Path, pg_url: str) -> None:
    config = config_module.load(write_site(tmp_path, f'url = "{pg_url}"'))
    from feeds.pipeline import recover

    with pytest.raises(StoreError, match="feeds store copy"):
        recover(config, now=NOW)
