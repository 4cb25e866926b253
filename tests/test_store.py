"""feeds.store: the SQLite store, its migrations, ids that never change, and its errors."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import feeds.store.sqlite.schema as store_module
from feeds.errors import LockedError, StoreError
from feeds.model import Article, Author, Enclosure, FetchState, FileState, Origin
from feeds.select import story_keys
from feeds.store import (
    MIGRATIONS,
    Encoded,
    FeedState,
    Migration,
    SqliteStore,
    article_from_json,
    article_to_json,
)

SRC = "notes"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


def art(key: str, body: str | None = None, source: str = SRC, **kw: object) -> Article:
    return Article(source=source, key=key, title=f"Title {key}", body=body or f"body {key}", **kw)  # type: ignore[arg-type]


def fs(inode: int, size: int = 10, digest: str | None = None) -> FileState:
    return FileState(size=size, mtime_ns=inode * 1000, inode=inode, device=3, digest=digest)


def counter(prefix: str = "id") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "feeds.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore.open(db_path, id_factory=counter()) as s:
        yield s


def reopen(path: Path) -> SqliteStore:
    return SqliteStore.open(path, id_factory=counter("later"))


# --------------------------------------------------------------------------- JSON


FULL = Article(
    source="notes",
    key="2026/a.md",
    title="Ünïcode “title”",
    content_html="<p>Hello <em>world</em></p>",
    body="Hello world\nsecond line",
    summary="A summary",
    published=datetime(2026, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))),
    published_text="2026-05-01T10:30+02:00",
    date_source="front-matter",
    updated=datetime(2026, 5, 2, 8, 0, 0, 123456, tzinfo=UTC),
    authors=(Author("Ada", "ada@example.org", "https://ada.example"), Author("Bob")),
    tags=("one", "two"),
    link="https://example.org/a",
    image="https://example.org/a.jpg",
    caption="A caption",
    credit="Photo: C",
    dateline="PARIS",
    summary_bullets=("first", "second"),
    language="fr",
    enclosures=(Enclosure("https://example.org/a.mp3", "audio/mpeg", 1234),
                Enclosure("https://example.org/b.bin")),
    explicit_id="tag:example.org,2026:a",
    origin=Origin("https://other.example/feed", "Other", "https://other.example/"),
    draft=True,
    categories=("Releases", "Rust"),
    slug="four-twenty",
    permalink="/2024/05/01/four-twenty/",
    expires=datetime(2030, 1, 1, tzinfo=UTC),
    unpublished="draft",
)


def test_full_article_sets_every_field() -> None:
    blank = Article(source="", key="", title="")
    unset = [f.name for f in fields(Article) if getattr(FULL, f.name) == getattr(blank, f.name)]
    assert unset == [], "the round-trip article must exercise every field"


def test_article_json_round_trip_covers_every_field() -> None:
    back = article_from_json(article_to_json(FULL))
    assert back == FULL
    assert back.content_hash() == FULL.content_hash()
    for f in fields(Article):
        assert getattr(back, f.name) == getattr(FULL, f.name), f.name


def test_article_json_datetimes_come_back_aware_utc() -> None:
    back = article_from_json(article_to_json(FULL))
    assert back.published is not None and back.updated is not None
    assert back.published.tzinfo is UTC and back.updated.tzinfo is UTC
    assert back.published == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


def test_article_json_round_trip_of_a_minimal_article() -> None:
    minimal = Article(source="s", key="k", title="t")
    assert article_from_json(article_to_json(minimal)) == minimal


# --------------------------------------------------------------------------- open / schema


def test_open_creates_parent_directories_and_sets_pragmas(db_path: Path) -> None:
    with SqliteStore.open(db_path) as s:
        assert s.schema_version == len(MIGRATIONS)
    assert db_path.is_file()
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_connection_pragmas(store: SqliteStore) -> None:
    db = store._db  # white box: these are per-connection settings
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_migrations_are_recorded_and_reopening_applies_nothing(db_path: Path) -> None:
    with SqliteStore.open(db_path) as s:
        assert s.migrations() == [m.name for m in MIGRATIONS]
        s.ingest(SRC, [(art("a.md"), None)], now=NOW)
    with SqliteStore.open(db_path) as s:
        assert s.migrations() == [m.name for m in MIGRATIONS]
        assert s.schema_version == len(MIGRATIONS)
        assert s.count() == 1


def test_new_migrations_apply_in_order_on_reopen(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqliteStore.open(db_path).close()
    applied: list[str] = []

    def step(name: str) -> Migration:
        def apply(db: sqlite3.Connection) -> None:
            applied.append(name)
            db.execute(f"CREATE TABLE t_{name} (x)")

        return Migration(name, apply)

    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, step("a"), step("b")))
    with SqliteStore.open(db_path) as s:
        assert s.migrations()[-2:] == ["a", "b"]
        assert s.schema_version == len(MIGRATIONS) + 2
    SqliteStore.open(db_path).close()
    assert applied == ["a", "b"]


def test_a_failing_migration_leaves_the_previous_version(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqliteStore.open(db_path).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("bug in migration")

    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, Migration("broken", broken)))
    with pytest.raises(RuntimeError, match="bug in migration"):
        SqliteStore.open(db_path)
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[
        0
    ] == 0
    raw.close()


def test_a_store_from_a_newer_version_is_refused(db_path: Path) -> None:
    SqliteStore.open(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StoreError, match="newer") as info:
        SqliteStore.open(db_path)
    assert str(db_path) in str(info.value)


def test_a_store_with_unknown_recorded_migrations_is_refused(db_path: Path) -> None:
    SqliteStore.open(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE migrations SET name = 'someone_elses' WHERE version = 1")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="recorded migrations"):
        SqliteStore.open(db_path)


def test_another_programs_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE theirs (x)")
    raw.close()
    with pytest.raises(StoreError, match="not a feeds store") as info:
        SqliteStore.open(db_path)
    assert str(db_path) in str(info.value)


def test_a_corrupt_file_is_a_store_error_naming_the_path(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(StoreError) as info:
        SqliteStore.open(db_path)
    assert str(db_path) in str(info.value)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_a_directory_in_place_of_the_file_is_a_store_error(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(StoreError) as info:
        SqliteStore.open(db_path)
    assert str(db_path) in str(info.value)


def test_a_file_in_place_of_the_directory_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file")
    path = tmp_path / "state" / "feeds.sqlite"
    with pytest.raises(StoreError) as info:
        SqliteStore.open(path)
    assert str(path) in str(info.value)


def test_an_unwritable_store_is_a_store_error(db_path: Path) -> None:
    with SqliteStore.open(db_path) as s:
        s.ingest(SRC, [(art("a.md"), None)], now=NOW)
    # A read-only connection stands in for an unwritable directory (tests may run as root).
    readonly = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    s = SqliteStore(readonly, str(db_path), counter())
    with pytest.raises(StoreError, match="readonly") as info:
        s.ingest(SRC, [(art("b.md"), None)], now=NOW)
    assert str(db_path) in str(info.value)
    assert s.count() == 1  # reading still works
    s.close()


def test_a_held_write_lock_is_a_locked_error_naming_the_path(db_path: Path) -> None:
    SqliteStore.open(db_path).close()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with SqliteStore.open(db_path, busy_timeout=0) as s:
            with pytest.raises(LockedError) as info:
                s.ingest(SRC, [(art("a.md"), None)], now=NOW)
            assert str(db_path) in str(info.value)
            assert s.count() == 0  # readers are not blocked by a writer (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_programming_errors_pass_through_untranslated(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.ingest(SRC, [(art("a.md"), None)], now=datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        store.set_source_states({SRC: FetchState(moves=(object(),))})  # type: ignore[arg-type]
    with pytest.raises(sqlite3.OperationalError, match="syntax"), store._read("test") as db:
        db.execute("SELEC 1")


def test_an_exception_mid_ingest_writes_nothing(db_path: Path) -> None:
    with SqliteStore.open(db_path, id_factory=counter()) as s:
        s.ingest(SRC, [(art("a.md"), fs(1))], now=NOW, present={"a.md"})
    calls = itertools.count()

    def failing() -> str:
        number = next(calls)
        if number == 3:
            raise RuntimeError("factory broke")
        return f"x-{number}"

    batch = [(art(f"n{i}.md"), fs(10 + i)) for i in range(10)]
    with SqliteStore.open(db_path, id_factory=failing) as s, pytest.raises(RuntimeError):
        s.ingest(SRC, [(art("a.md", "edited"), fs(1)), *batch], now=LATER, present=set())
    with reopen(db_path) as s:
        (item,) = s.items()
        assert (item.article.key, item.article.body, item.updated) == ("a.md", "body a.md", NOW)


def test_open_copy_never_writes_to_the_file(db_path: Path) -> None:
    with SqliteStore.open(db_path, id_factory=counter()) as s:
        s.ingest(SRC, [(art("a.md"), None)], now=NOW)
    with SqliteStore.open_copy(db_path, id_factory=counter("copy")) as copy:
        assert copy.lookup_id(SRC, "a.md") == "id-1"
        copy.ingest(SRC, [(art("b.md"), None)], now=NOW)
        assert copy.count() == 2
    with reopen(db_path) as s:
        assert s.count() == 1


def test_open_copy_of_a_missing_store_is_empty(tmp_path: Path) -> None:
    with SqliteStore.open_copy(tmp_path / "none.sqlite") as copy:
        assert copy.count() == 0
    assert not (tmp_path / "none.sqlite").exists()


# --------------------------------------------------------------------------- ingest


def test_reingesting_unchanged_articles_moves_nothing(db_path: Path) -> None:
    batch = [(art(f"{i}.md"), fs(i)) for i in range(5)]
    with SqliteStore.open(db_path, id_factory=counter()) as s:
        s.ingest(SRC, batch, now=NOW, present={a.key for a, _ in batch})
        before = s.items()
    with reopen(db_path) as s:
        changes = s.ingest(SRC, batch, now=LATER, present={a.key for a, _ in batch})
        assert (changes.added, changes.changed, changes.removed, changes.unchanged) == (
            (), (), (), 5)
        assert s.items() == before


def test_a_factory_repeating_an_existing_id_is_a_bug(db_path: Path) -> None:
    with SqliteStore.open(db_path, id_factory=lambda: "same") as s:
        s.ingest("one", [(art("a.md", source="one"), None)], now=NOW)
        with pytest.raises(sqlite3.IntegrityError):
            s.ingest("two", [(art("b.md", source="two"), None)], now=NOW)
        (item,) = s.items()  # the half-written transaction was rolled back
        assert (item.id, item.article.source, item.article.key) == ("same", "one", "a.md")


# --------------------------------------------------------------------------- reading


def test_items_use_an_index_in_newest_first_order(store: SqliteStore) -> None:
    for sources in (None, ["a"]):
        plan = " / ".join(store.explain_items(sources, limit=50))
        assert "USING INDEX articles_" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_source_state_and_feed_state_survive_reopening(db_path: Path) -> None:
    with SqliteStore.open(db_path) as s:
        assert s.source_state("r") is None and s.feed_state("f") is None
        s.set_source_states({"r": FetchState(etag='"abc"', last_status=304, errors=2)})
        s.set_source_states({"r": FetchState(etag='"def"')})
        s.set_feed_state("f", FeedState(items="d1"))
        s.set_feed_state("f", FeedState(items="d2", count=3))
    with SqliteStore.open(db_path) as s:
        assert s.source_state("r") == FetchState(etag='"def"')
        assert s.feed_state("f") == FeedState(items="d2", count=3)


def test_state_is_stored_as_the_json_earlier_versions_wrote(db_path: Path) -> None:
    """The same bytes on disk: a store written before the typed protocol reads back, and
    writing it again gives the very text it had."""
    state_text = ('{"channel": "c", "count": 2, "files": {"atom": null, "rss": [1, 2, 3, 4]},'
                  ' "items": "d", "rows": "r", "seen": "", "until":'
                  ' "2026-11-24T12:00:00.000000+00:00"}')
    index_text = ('{"ids":["a"],"keys":["k"],"updated":["2026-11-23T12:00:00.000000+00:00"],'
                  '"formats":{"rss":{"start":3}}}')
    fetch_text = ('{"config_url": "https://e/f", "errors": 1, "etag": "\\"x\\"",'
                  ' "last_fetch": "2026-11-23T12:00:00Z", "moves": ["a -> b"]}')
    with SqliteStore.open(db_path) as s:
        s._db.execute("INSERT INTO feed_state VALUES ('f', ?)", (state_text,))
        s._db.execute("INSERT INTO feed_index VALUES ('f', ?)", (index_text,))
        s._db.execute("INSERT INTO source_state VALUES ('r', ?)", (fetch_text,))
        state, index, fetch = s.feed_state("f"), s.feed_index("f"), s.source_state("r")
        assert state is not None and state.selection is not None
        assert (state.selection.seen, state.selection.until) == (None, LATER - timedelta(days=2))
        assert index is not None and fetch is not None and fetch.last_fetch == NOW
        s.set_feed_state("f", state, index)
        s.set_source_states({"r": fetch})
        assert s._db.execute("SELECT digest FROM feed_state").fetchone()[0] == state_text
        assert s._db.execute("SELECT data FROM feed_index").fetchone()[0] == index_text
        assert s._db.execute("SELECT state FROM source_state").fetchone()[0] == fetch_text


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '"a digest"', '{"seen": 3}'])
def test_unreadable_feed_state_is_no_state_or_no_selection(db_path: Path, text: str) -> None:
    with SqliteStore.open(db_path) as s:
        s._db.execute("INSERT INTO feed_state VALUES ('f', ?)", (text,))
        s._db.execute("INSERT INTO feed_index VALUES ('f', ?)", (text,))
        state = s.feed_state("f")
        assert state is None or state.selection is None
        index = s.feed_index("f")
        assert index is None or index.keys == ()


# --------------------------------------------------------------------------- performance


def _synthetic(n: int, source: str = SRC, offset: int = 0) -> list[tuple[Article, FileState]]:
    base = datetime(2020, 1, 1, tzinfo=UTC)
    return [
        (
            Article(
                source=source,
                key=f"posts/{i:06}.md",
                title=f"Post number {i}",
                content_html=f"<p>Body of post {i}</p>" * 5,
                body=f"Body of post {i}\n" * 5,
                published=base + timedelta(minutes=i),
                tags=("t1", "t2"),
                authors=(Author("Ada"),),
            ),
            FileState(500 + i, 10**18 + i, i + 1, 1, None),
        )
        for i in range(offset, offset + n)
    ]


@pytest.mark.slow
def test_performance_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Timings are printed (run with -s), not asserted; the query plans are."""
    lines = []
    with SqliteStore.open(tmp_path / "10k.sqlite") as s:
        batch = _synthetic(10_000)
        started = time.perf_counter()
        s.ingest(SRC, batch, now=NOW, present={a.key for a, _ in batch})
        lines.append(f"ingest 10k new: {time.perf_counter() - started:.3f}s")
        started = time.perf_counter()
        s.ingest(SRC, batch, now=LATER, present={a.key for a, _ in batch})
        lines.append(f"re-ingest 10k unchanged: {time.perf_counter() - started:.3f}s")
    with SqliteStore.open(tmp_path / "50k.sqlite") as s:
        batch = _synthetic(50_000)
        started = time.perf_counter()
        s.ingest(SRC, batch, now=NOW, present={a.key for a, _ in batch})
        lines.append(f"ingest 50k new: {time.perf_counter() - started:.3f}s")
        started = time.perf_counter()
        s.ingest(SRC, batch[:100], now=LATER, present={a.key for a, _ in batch})
        lines.append(f"ingest 100 into 50k (full scan, present=50k): "
                     f"{time.perf_counter() - started:.3f}s")
        started = time.perf_counter()
        head = s.items(limit=50)
        lines.append(f"items(limit=50) at 50k: {time.perf_counter() - started:.4f}s")
        started = time.perf_counter()
        s.items([SRC], limit=50)
        lines.append(f"items([source], limit=50) at 50k: {time.perf_counter() - started:.4f}s")
        started = time.perf_counter()
        states = s.file_states(SRC)
        lines.append(f"file_states at 50k: {time.perf_counter() - started:.3f}s")
        assert len(head) == 50 and len(states) == 50_000
        assert head[0].article.key == "posts/049999.md"
        for sources in (None, [SRC]):
            plan = " / ".join(s.explain_items(sources, limit=50))
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
    with capsys.disabled():
        print("\n" + "\n".join(lines))


# --------------------------------------------------------------------------- heads


def test_a_store_of_the_first_schema_gains_heads_when_migrated(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    store_module._m0001_initial(raw)
    raw.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)")
    raw.execute("INSERT INTO migrations VALUES (1, '0001_initial', '2024-01-01')")
    raw.execute("PRAGMA user_version = 1")
    stamp = "2024-05-01T00:00:00.000000+00:00"
    for n, link in ((1, "https://e/a"), (2, None)):
        data = article_to_json(art(f"{n}.md", link=link))
        raw.execute("INSERT INTO articles VALUES (?, ?, ?, 'h', ?, ?, ?, ?)",
                    (f"id-{n}", SRC, f"{n}.md", stamp, stamp, stamp, data))
    raw.commit()
    raw.close()
    with reopen(db_path) as s:
        assert s.migrations()[1:] == ["0002_feed_heads", "0003_story", "0004_reading",
                                      "0005_folder_state"]
        assert sorted((h.id, h.title, h.link) for h in s.heads([SRC])) == [
            ("id-1", "Title 1.md", "https://e/a"), ("id-2", "Title 2.md", None)]
        # the migration fills the story keys merging compares, as ingest would
        items = s.items_by_id(["id-1", "id-2"])
        assert {h.id: h.story_keys() for h in s.heads([SRC])} == {
            i: list(story_keys(item)) for i, item in items.items()}
        assert "link:e/a" in next(h for h in s.heads([SRC]) if h.id == "id-1").story_keys()


def test_heads_are_items_without_their_json(store: SqliteStore) -> None:
    store.ingest(SRC, [(art(f"{n}.md", published=NOW - timedelta(hours=n)), None)
                       for n in range(5)], now=NOW)
    items = store.items([SRC], limit=3)
    heads = store.heads([SRC], limit=3)
    assert [h.id for h in heads] == [i.id for i in items]
    assert [h.title for h in heads] == [i.article.title for i in items]
    assert [datetime.fromisoformat(h.published) for h in heads] == [i.published for i in items]
    assert store.items_by_id([h.id for h in heads] + ["nope"]) == {i.id: i for i in items}
    plan = " ".join(store.explain_items([SRC]))
    assert "articles_source_newest" in plan or "articles_heads" in plan


def test_an_article_encoded_ahead_is_stored_as_encoded_only_for_that_very_object(
        store: SqliteStore) -> None:
    mine, other = art("a.md"), art("b.md")
    ahead = Encoded.of(mine)
    assert ahead.content_hash == mine.content_hash()
    assert ahead.data == article_to_json(mine)
    twin = replace(other)  # equal to ``other`` but another object
    stale = Encoded(other, "0" * 32, article_to_json(replace(other, title="Stale")))
    store.ingest(SRC, [(mine, None), (twin, None)], now=NOW,
                 encoded={"a.md": ahead, "b.md": stale})
    items = {i.article.key: i for i in store.items([SRC])}
    assert items["a.md"].article == mine
    assert items["b.md"].article.title == other.title  # encoded again, not the stale form
    heads = {h.id: h for h in store.heads([SRC])}
    assert heads[items["b.md"].id].content_hash == other.content_hash()


def test_articles_and_their_encoded_forms_pickle_by_value_and_come_back_equal() -> None:
    """Reading workers send (article, encoded) pairs to the writer by pickling them."""
    import pickle

    from feeds.model import Author, Enclosure, Origin
    from feeds.store import Encoded

    article = Article(
        source="s", key="k.md", title="T", body="b", published=datetime(2024, 1, 2, tzinfo=UTC),
        authors=(Author("A", "a@example.org"),), enclosures=(Enclosure("https://e/x.mp3"),),
        origin=Origin("https://o/feed"), tags=("x",), draft=True)
    encoded = Encoded.of(article)
    back_article, back_encoded = pickle.loads(pickle.dumps((article, encoded)))
    assert back_article == article and back_encoded == encoded
    assert back_encoded.article is back_article  # one object still: the store relies on it
