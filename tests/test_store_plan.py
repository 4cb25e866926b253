"""feeds.store.plan: id resolution and change detection, as pure functions over data."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feeds.model import Article, FileState
from feeds.store.plan import (
    Holder,
    Plan,
    Registered,
    Stored,
    content_hash,
    explicit_id_problem,
    initial_updated,
    moved_updated,
    plan_ingest,
)

from .test_store import FULL  # an article with every field set

SRC = "notes"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def art(key: str, body: str | None = None, **kw: object) -> Article:
    return Article(source=SRC, key=key, title=f"Title of {key}", body=body or f"body {key}", **kw)  # type: ignore[arg-type]


def fs(inode: int, digest: str | None = None, size: int = 10) -> FileState:
    return FileState(size=size, mtime_ns=1_000, inode=inode, device=7, digest=digest)


def row(id_: str, article: Article, file: FileState | None = None) -> Stored:
    return Stored(id_, article.key, article.content_hash(), T0, T0 + timedelta(hours=1), file)


def minter(prefix: str = "new") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


def plan(
    incoming: Sequence[tuple[Article, FileState | None]],
    stored: Sequence[Stored] = (),
    *,
    registry: Mapping[str, Registered] | None = None,
    holders: Mapping[str, Holder] | None = None,
    present: Collection[str] | None = None,
    now: datetime = NOW,
) -> Plan:
    rows = {r.key: r for r in stored}
    reg = {r.key: Registered(r.id, r.first_seen) for r in stored}
    reg.update(registry or {})
    return plan_ingest(
        SRC, incoming, stored=rows, registry=reg, holders=holders or {}, present=present,
        now=now, mint=minter(),
    )


def ids(p: Plan) -> dict[str, str]:
    return {w.key: w.id for w in p.writes}


# --------------------------------------------------------------------------- new / unchanged


def test_new_article_gets_a_minted_id_and_first_seen_now() -> None:
    p = plan([(art("a.md"), fs(1))], present={"a.md"})
    (w,) = p.writes
    assert (w.id, w.status, w.minted, w.register) == ("new-1", "added", True, True)
    assert w.first_seen == NOW
    assert p.changes.added == ("a.md",)


def test_new_article_updated_is_declared_updated_else_published_else_now() -> None:
    published = datetime(2025, 5, 1, tzinfo=UTC)
    declared = datetime(2025, 6, 1, tzinfo=UTC)
    assert initial_updated(art("a", updated=declared, published=published), NOW) == declared
    assert initial_updated(art("a", published=published), NOW) == published
    assert initial_updated(art("a"), NOW) == NOW


def test_unchanged_article_keeps_id_first_seen_and_updated_exactly() -> None:
    a = art("a.md")
    old = row("id-a", a, fs(1))
    p = plan([(a, fs(1))], [old], present={"a.md"}, now=NOW + timedelta(days=30))
    (w,) = p.writes
    assert (w.id, w.status, w.first_seen, w.updated) == ("id-a", "unchanged", old.first_seen,
                                                         old.updated)
    assert not w.register and not p.delete_ids
    assert p.changes.unchanged == 1 and p.changes.empty


def test_unchanged_content_with_a_new_file_state_is_still_unchanged() -> None:
    a = art("a.md")
    p = plan([(a, fs(99, "other-digest", size=11))], [row("id-a", a, fs(1))], present={"a.md"})
    assert p.writes[0].status == "unchanged"
    assert p.writes[0].updated == T0 + timedelta(hours=1)


def test_a_guessed_date_moving_is_no_edit() -> None:
    a = art("a.md", published=T0, date_source="mtime")
    touched = replace(a, published=NOW, date_source="mtime")
    p = plan([(touched, fs(1))], [row("id-a", a)], present={"a.md"})
    assert p.writes[0].status == "unchanged"


# --------------------------------------------------------------------------- edits


def test_edited_article_moves_only_updated() -> None:
    old = row("id-a", art("a.md"))
    p = plan([(art("a.md", "edited"), None)], [old], present={"a.md"})
    (w,) = p.writes
    assert (w.id, w.status, w.first_seen, w.updated) == ("id-a", "changed", old.first_seen, NOW)
    assert p.changes.changed == ("a.md",)


def test_edit_takes_a_declared_updated_later_than_now() -> None:
    later = NOW + timedelta(hours=2)
    assert moved_updated(T0, art("a", updated=later), NOW) == later
    assert moved_updated(T0, art("a", updated=T0 - timedelta(days=1)), NOW) == NOW


def test_edit_never_moves_updated_backward() -> None:
    future = NOW + timedelta(days=1)
    old = replace(row("id-a", art("a.md")), updated=future)
    p = plan([(art("a.md", "edited"), None)], [old], present={"a.md"})
    assert p.writes[0].updated == future + timedelta(seconds=1)


# --------------------------------------------------------------------------- renames


def test_rename_with_same_content_keeps_the_id_and_counts_as_unchanged() -> None:
    old = row("id-a", art("a.md"), fs(1))
    moved = replace(art("a.md"), key="b.md")
    p = plan([(moved, fs(2))], [old], present={"b.md"})
    (w,) = p.writes
    assert (w.key, w.id, w.status, w.updated) == ("b.md", "id-a", "unchanged", old.updated)
    assert p.changes.renamed == (("a.md", "b.md"),)
    assert p.changes.removed == () and p.changes.added == () and p.changes.unchanged == 1
    assert w.register and not p.delete_ids


def test_rename_with_an_edit_is_found_by_inode() -> None:
    old = row("id-a", art("a.md"), fs(41))
    p = plan([(art("b.md", "rewritten"), fs(41))], [old], present={"b.md"})
    (w,) = p.writes
    assert (w.id, w.status, w.first_seen) == ("id-a", "changed", old.first_seen)
    assert p.changes.renamed == (("a.md", "b.md"),)


def test_rename_is_found_by_file_digest() -> None:
    old = row("id-a", art("a.md"), fs(1, "d1"))
    p = plan([(art("b.md", "parsed differently"), fs(2, "d1"))], [old], present={"b.md"})
    assert ids(p) == {"b.md": "id-a"}


def test_inode_zero_is_no_evidence_of_a_rename() -> None:
    old = row("id-a", art("a.md"), fs(0))
    p = plan([(art("b.md", "other"), fs(0))], [old], present={"b.md"})
    assert ids(p) == {"b.md": "new-1"}
    assert p.changes.removed == ("a.md",)


def test_same_content_beats_a_reused_inode() -> None:
    a, b = art("a.md"), art("b.md")
    rows = [row("id-a", a, fs(1)), row("id-b", b, fs(2))]
    # a.md -> c.md (same content), and a new d.md got b.md's recycled inode... and b's content
    c = replace(a, key="c.md")
    d = replace(b, key="d.md")
    p = plan([(c, fs(2)), (d, fs(9))], rows, present={"c.md", "d.md"})
    assert ids(p) == {"c.md": "id-a", "d.md": "id-b"}


def test_no_rename_from_an_article_that_is_still_present() -> None:
    a = art("a.md")
    p = plan([(replace(a, key="copy.md"), fs(5))], [row("id-a", a, fs(1))],
             present={"a.md", "copy.md"})
    assert ids(p) == {"copy.md": "new-1"}
    assert p.changes.added == ("copy.md",) and p.changes.removed == ()


def test_each_vanished_article_lends_its_id_once() -> None:
    a = art("a.md")
    copies = [(replace(a, key=k), None) for k in ("x.md", "y.md")]
    p = plan(copies, [row("id-a", a)], present={"x.md", "y.md"})
    assert ids(p) == {"x.md": "id-a", "y.md": "new-1"}


def test_registry_beats_rename() -> None:
    a = art("a.md")
    p = plan([(replace(a, key="b.md"), None)], [row("id-a", a)],
             registry={"b.md": Registered("id-b-old", T0)}, present={"b.md"})
    assert ids(p) == {"b.md": "id-b-old"}
    assert p.changes.removed == ("a.md",)


# --------------------------------------------------------------------------- removal


def test_stored_keys_missing_from_present_and_batch_are_removed() -> None:
    a, b = art("a.md"), art("b.md")
    p = plan([], [row("id-a", a), row("id-b", b)], present={"b.md"})
    assert p.changes.removed == ("a.md",)
    assert p.delete_ids == ("id-a",)


def test_a_present_but_unreadable_key_keeps_its_article() -> None:
    p = plan([], [row("id-a", art("a.md"))], present={"a.md"})
    assert p.changes.removed == () and p.delete_ids == ()


def test_without_present_nothing_is_removed() -> None:
    rows = [row("id-a", art("a.md")), row("id-b", art("b.md"))]
    p = plan([(art("c.md"), None)], rows, present=None)
    assert p.changes.removed == () and p.delete_ids == ()
    assert p.changes.added == ("c.md",)


def test_a_removed_key_that_comes_back_gets_its_id_and_first_seen_back() -> None:
    p = plan([(art("a.md"), None)], registry={"a.md": Registered("id-a", T0)}, present={"a.md"})
    (w,) = p.writes
    assert (w.id, w.status, w.first_seen, w.minted) == ("id-a", "added", T0, False)


# --------------------------------------------------------------------------- explicit ids


def test_explicit_id_wins_over_the_registry() -> None:
    old = row("id-a", art("a.md"))
    p = plan([(art("a.md", explicit_id="tag:me,2026:a"), None)], [old], present={"a.md"})
    (w,) = p.writes
    assert (w.id, w.status, w.first_seen, w.register) == ("tag:me,2026:a", "changed",
                                                          old.first_seen, True)
    assert p.delete_ids == ("id-a",)


def test_explicit_id_held_by_another_live_key_rejects_the_newcomer() -> None:
    a = art("a.md", explicit_id="X")
    p = plan([(art("b.md", explicit_id="X"), None)], [row("X", a)],
             holders={"X": Holder(SRC, "a.md", T0, live=True)}, present={"a.md", "b.md"})
    assert p.writes == ()
    assert p.changes.rejected == (("b.md", "id 'X' is already used by a.md"),)


def test_explicit_id_held_by_a_live_key_of_another_source_is_rejected() -> None:
    p = plan([(art("b.md", explicit_id="X"), None)],
             holders={"X": Holder("other", "z.md", T0, live=True)}, present={"b.md"})
    assert p.writes == ()
    assert p.changes.rejected == (("b.md", "id 'X' is already used by other:z.md"),)


def test_explicit_id_kept_when_a_live_key_drops_it_and_another_claims_it() -> None:
    a = art("a.md", explicit_id="X")
    p = plan([(art("a.md"), None), (art("b.md", explicit_id="X"), None)], [row("X", a)],
             holders={"X": Holder(SRC, "a.md", T0, live=True)}, present={"a.md", "b.md"})
    assert ids(p) == {"a.md": "X"}
    assert [k for k, _ in p.changes.rejected] == ["b.md"]


def test_duplicate_explicit_ids_in_one_batch_go_to_the_smallest_key() -> None:
    batch = [(art(k, explicit_id="X"), None) for k in ("c.md", "a.md", "b.md")]
    p = plan(batch, present={"a.md", "b.md", "c.md"})
    assert ids(p) == {"a.md": "X"}
    assert [k for k, _ in p.changes.rejected] == ["b.md", "c.md"]


def test_a_current_holder_keeps_its_explicit_id_against_a_smaller_key() -> None:
    z = art("z.md", explicit_id="X")
    batch = [(z, None), (art("a.md", explicit_id="X"), None)]
    p = plan(batch, [row("X", z)], holders={"X": Holder(SRC, "z.md", T0, live=True)},
             present={"a.md", "z.md"})
    assert ids(p) == {"z.md": "X"}
    assert p.changes.rejected[0][0] == "a.md"


def test_explicit_id_follows_a_rename() -> None:
    a = art("a.md", explicit_id="X")
    p = plan([(art("b.md", "new text", explicit_id="X"), None)], [row("X", a)],
             holders={"X": Holder(SRC, "a.md", T0, live=True)}, present={"b.md"})
    assert ids(p) == {"b.md": "X"}
    assert p.changes.renamed == (("a.md", "b.md"),) and p.changes.removed == ()


def test_explicit_id_of_a_removed_article_is_reused_with_its_first_seen() -> None:
    p = plan([(art("b.md", explicit_id="X"), None)],
             holders={"X": Holder(SRC, "gone.md", T0, live=False)}, present={"b.md"})
    (w,) = p.writes
    assert (w.id, w.first_seen, w.register, w.minted) == ("X", T0, True, False)


def test_a_key_coming_back_after_its_id_was_claimed_gets_a_new_id() -> None:
    batch = [(art("b.md", explicit_id="X"), None), (art("gone.md"), None)]
    p = plan(batch, registry={"gone.md": Registered("X", T0)},
             holders={"X": Holder(SRC, "gone.md", T0, live=False)}, present={"b.md", "gone.md"})
    assert ids(p) == {"b.md": "X", "gone.md": "new-1"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [("", "empty"), ("  ", "empty"), (" x", "white space"), ("a\nb", "control"),
     ("x" * 2000, "longer")],
)
def test_unusable_explicit_ids_are_rejected(value: str, reason: str) -> None:
    assert reason in (explicit_id_problem(value) or "")
    p = plan([(art("a.md", explicit_id=value), None)], present={"a.md"})
    assert p.writes == () and reason in p.changes.rejected[0][1]


def test_usable_explicit_id_has_no_problem() -> None:
    assert explicit_id_problem("tag:example.com,2026:notes/a") is None


# --------------------------------------------------------------------------- contracts


def test_a_duplicate_key_in_one_batch_is_rejected_and_the_first_kept() -> None:
    p = plan([(art("a.md", "first"), None), (art("a.md", "second"), None)], present={"a.md"})
    assert [w.article.body for w in p.writes] == ["first"]
    assert p.changes.rejected == (("a.md", "duplicate key in the same batch"),)


def test_an_article_of_another_source_is_a_bug() -> None:
    with pytest.raises(ValueError, match="not 'notes'"):
        plan([(replace(art("a.md"), source="other"), None)])


def test_an_id_factory_repeating_itself_is_a_bug() -> None:
    with pytest.raises(ValueError, match="already in use"):
        plan_ingest(SRC, [(art("a.md"), None), (art("b.md"), None)], stored={}, registry={},
                    holders={}, present=None, now=NOW, mint=lambda: "same")


def test_a_naive_now_is_a_bug() -> None:
    with pytest.raises(ValueError, match="naive"):
        plan([(art("a.md"), None)], now=datetime(2026, 1, 1))


def test_the_plan_does_not_depend_on_the_order_articles_were_read_in() -> None:
    a, b, c = art("a.md"), art("b.md"), art("c.md", explicit_id="X")
    rows = [row("id-a", a, fs(1)), row("id-b", b, fs(2))]
    batch: list[tuple[Article, FileState | None]] = [
        (replace(a, key="a2.md"), fs(3)), (replace(a, key="a3.md"), fs(4)),
        (art("b.md", "edited"), fs(2)), (c, None), (art("d.md", explicit_id="X"), None),
        (art("e.md"), None),
    ]
    expected = plan(batch, rows, present={k for k in ("a2.md", "a3.md", "b.md", "c.md", "d.md",
                                                     "e.md")})
    for seed in range(5):
        shuffled = batch[:]
        random.Random(seed).shuffle(shuffled)
        got = plan(shuffled, rows, present={"a2.md", "a3.md", "b.md", "c.md", "d.md", "e.md"})
        assert got == expected


# --------------------------------------------------------------------------- content hash


@pytest.mark.parametrize(
    "date_source", [None, "content", "front-matter", "feed", "filename", "mtime", "first-seen"]
)
def test_content_hash_covers_exactly_what_a_reader_sees(date_source: str | None) -> None:
    """The fast hash equals a plain asdict() reference over every field."""
    import dataclasses
    import hashlib
    import json

    from feeds.model import _json_default

    def reference(a: Article) -> str:
        data = dataclasses.asdict(a)
        for name in ("source", "key", "date_source", "published_text",
                     # they decide the link or whether it is published: not seen as such
                     "slug", "permalink", "expires", "unpublished"):
            data.pop(name)
        if not a.categories:  # added later: hashed only when set, so old hashes hold
            data.pop("categories")
        if a.date_source in ("mtime", "first-seen"):
            data.pop("published")
        blob = json.dumps(data, sort_keys=True, default=_json_default, ensure_ascii=False)
        return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()

    for article in (FULL, art("a.md"), Article(source="s", key="k", title="")):
        variant = replace(article, date_source=date_source)  # type: ignore[arg-type]
        assert content_hash(variant) == reference(variant)
