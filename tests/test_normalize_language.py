"""Language detection: offline, and the same answers with or without the model cache."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds import cache as model_cache
from feeds.normalize import language

SAMPLES = {
    "en": "The city council said on Monday that the new ferry timetable starts in June.",
    "fr": "Le conseil municipal a annoncé lundi que le nouvel horaire du bac commence en juin.",
    "es": "El ayuntamiento anunció el lunes que el nuevo horario del ferry empieza en junio.",
    "de": "Der Stadtrat teilte am Montag mit, dass der neue Fährfahrplan im Juni beginnt.",
    "ar": "أعلن المجلس البلدي يوم الاثنين أن الجدول الزمني الجديد للعبارة يبدأ في يونيو.",
    "it": "Il consiglio comunale ha annunciato lunedì che il nuovo orario del traghetto inizia.",
}
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def no_cache_after() -> Iterator[None]:
    yield
    model_cache.use_cache(None)


def new_process(directory: Path | None) -> None:
    """Forget the loaded model, as a new process would."""
    model_cache.use_cache(None)
    model_cache.use_cache(directory)


def answers() -> dict[str, str | None]:
    return {code: language.detect_language(text) for code, text in SAMPLES.items()}


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("langid-*"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache entry written the real way (py3langid's model decompressed), to copy."""
    directory = tmp_path_factory.mktemp("built")
    new_process(directory)
    language.detect_language("warm up")
    model_cache.use_cache(None)
    [entry] = entries(directory)
    return entry


@pytest.fixture
def cache(tmp_path: Path, built: Path) -> Path:
    """A cache folder holding a copy of the built entry."""
    directory = tmp_path / "cache"
    directory.mkdir()
    shutil.copytree(built, directory / built.name)
    return directory


@pytest.fixture
def own_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count py3langid's own model loads (each returns the one already loaded: faster)."""
    from py3langid import langid

    shared = langid._get_identifier()
    calls: list[int] = []

    def from_model_file(*args: object, **kwargs: object) -> Any:
        calls.append(1)
        return shared

    monkeypatch.setattr(langid.LanguageIdentifier, "from_model_file", from_model_file)
    return calls


def test_languages_are_detected_without_a_cache() -> None:
    model_cache.use_cache(None)
    assert answers() == {code: code for code in SAMPLES}


def test_the_cache_is_written_once_and_gives_the_same_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from py3langid import langid

    new_process(tmp_path)
    first = answers()
    [cached] = entries(tmp_path)
    assert cached.is_dir()
    assert not list(tmp_path.glob(".*")), "no temporary folder is left behind"

    def packaged_model_is_not_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the packaged model was decompressed again")

    monkeypatch.setattr(langid, "_load_model_file", packaged_model_is_not_read)
    monkeypatch.setattr(langid, "classify", packaged_model_is_not_read)
    new_process(tmp_path)  # now read from the cache
    second = answers()
    assert first == second == {code: code for code in SAMPLES}
    assert entries(tmp_path) == [cached]


def texts() -> list[str]:
    """The samples, pieces of them, and windows over the test articles."""
    out = [text[:n] for text in SAMPLES.values() for n in (1, 5, 20, 200)]
    out += ["", "   ", "1234 5678", "¿?", "https://example.org/a/b"]
    for path in sorted(DATA.rglob("*")):
        if path.is_file():
            body = path.read_bytes().decode("utf-8", "replace")
            out += [body[start:start + 400] for start in range(0, min(len(body), 3000), 300)]
    return out


def test_the_memory_mapped_model_gives_py3langids_own_answers_and_scores(cache: Path) -> None:
    from py3langid import langid

    new_process(cache)
    cached = language._identifier()
    samples = texts()
    assert len(samples) > 150
    assert [cached(text) for text in samples] == [langid.classify(text) for text in samples]


def test_loading_from_the_cache_copies_nothing_big(cache: Path, own_loads: list[int]) -> None:
    import numpy  # noqa: F401  (imports are not what is measured)
    import py3langid.langid  # noqa: F401

    new_process(cache)
    tracemalloc.start()
    try:
        assert language.detect_language(SAMPLES["de"]) == "de"
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert own_loads == []
    assert peak < 2_000_000, f"{peak} bytes allocated loading a 69 MB model"


def damage_manifest(entry: Path) -> None:
    (entry / "manifest.json").write_bytes(b"{not json")


def truncate_ptc(entry: Path) -> None:
    path = entry / "ptc.npy"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def remove_nextmove(entry: Path) -> None:
    (entry / "nextmove.npy").unlink()


def break_npy_header(entry: Path) -> None:
    path = entry / "row.npy"
    data = bytearray(path.read_bytes())
    data[:6] = b"NOTNPY"
    path.write_bytes(bytes(data))


def zero_ptc_keeping_its_size(entry: Path) -> None:
    """Undetectable by sizes and headers: the probe texts' answers catch it."""
    path = entry / "ptc.npy"
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(1024)
        handle.write(bytes(size - 1024))


def change_stamp(entry: Path) -> None:
    manifest = json.loads((entry / "manifest.json").read_bytes())
    manifest["stamp"]["model_size"] += 1
    (entry / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage", [damage_manifest, truncate_ptc, remove_nextmove,
                                    break_npy_header, zero_ptc_keeping_its_size, change_stamp])
def test_a_damaged_cache_falls_back_to_py3langid_and_is_rebuilt(
        cache: Path, own_loads: list[int], monkeypatch: pytest.MonkeyPatch,
        damage: Callable[[Path], None]) -> None:
    [entry] = entries(cache)
    damage(entry)
    new_process(cache)
    assert answers() == {code: code for code in SAMPLES}
    assert own_loads == [1]
    assert entries(cache) == [entry]
    assert not list(cache.glob(".*")), "no temporary folder is left behind"

    new_process(cache)  # the rebuilt entry is used
    assert answers() == {code: code for code in SAMPLES}
    assert own_loads == [1]


def test_a_cache_failing_while_detecting_falls_back_for_good(
        cache: Path, own_loads: list[int]) -> None:
    [entry] = entries(cache)
    new_process(cache)
    assert language.detect_language(SAMPLES["en"]) == "en"
    path = entry / "nextmove.npy"  # mapped: the damage shows through, as a disk error would
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(1024)
        handle.write(b"\xff" * (size - 1024))
    assert answers() == {code: code for code in SAMPLES}
    assert entries(cache) == [], "the failing entry is dropped, to be rebuilt"


LONG_AGO = (1_000_000_000, 1_000_000_000)  # (atime, mtime): 2001


def test_stale_entries_are_removed_when_a_new_one_is_written(tmp_path: Path,
                                                             own_loads: list[int]) -> None:
    old_npz = tmp_path / "langid-0.4.0-4586720-1795468745807557499.npz"
    old_npz.write_bytes(b"an older format")
    os.utime(old_npz, LONG_AGO)
    reinstalled = tmp_path / "langid-v2-0.3.0-1-2"
    reinstalled.mkdir()
    (reinstalled / "ptc.npy").write_bytes(b"x")
    os.utime(reinstalled, LONG_AGO)
    older_format = tmp_path / "langid-v3-0.4.0-4586720-1796216566879100624"
    older_format.mkdir()
    (older_format / "manifest.json").write_text("{}")
    os.utime(older_format / "manifest.json", LONG_AGO)
    gone_install = tmp_path / "langid.ids" / "0123456789abcdef.json"
    gone_install.parent.mkdir()
    gone_install.write_text("{}")
    os.utime(gone_install, LONG_AGO)
    other_install = tmp_path / "langid-v3-0.4.0-4586720-1796216566879100625"
    other_install.mkdir()
    (other_install / "manifest.json").write_text("{}")  # used now: another install's
    crashed = tmp_path / ".langid-v2-0.4.0-1-2.abc123.tmp"
    crashed.mkdir()
    (crashed / "ptc.npy").write_bytes(b"x")
    os.utime(crashed, (1_000_000_000, 1_000_000_000))
    being_written = tmp_path / ".langid-v2-0.4.0-1-2.def456.tmp"
    being_written.mkdir()
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("not ours")

    new_process(tmp_path)
    assert answers() == {code: code for code in SAMPLES}
    [entry] = [e for e in entries(tmp_path) if e != other_install]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [entry.name, other_install.name, being_written.name, unrelated.name, "langid.ids"])
    assert not gone_install.exists()


def test_failing_to_remove_stale_entries_is_not_an_error(
        tmp_path: Path, own_loads: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(self: Path) -> Iterator[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", unreadable)
    new_process(tmp_path)
    assert answers() == {code: code for code in SAMPLES}
    assert len(entries(tmp_path)) == 1


def test_a_py3langid_our_loading_does_not_fit_is_not_cached(
        tmp_path: Path, own_loads: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    assemble = model_cache._assemble

    def internals_moved(*args: Any) -> Any:
        identifier = assemble(*args)
        identifier._rowbase = [0] * len(identifier.tk_row)
        return identifier

    monkeypatch.setattr(model_cache, "_assemble", internals_moved)
    new_process(tmp_path)
    assert answers() == {code: code for code in SAMPLES}
    assert entries(tmp_path) == []
    assert not list(tmp_path.iterdir())


def test_a_concurrent_writer_keeps_the_entry_already_there(cache: Path) -> None:
    from py3langid import langid

    [entry] = entries(cache)
    before = (entry / "manifest.json").stat().st_ino
    written, stamp = model_cache._entry(cache)
    assert written == entry
    model_cache._save(written, stamp, langid._get_identifier())
    assert entries(cache) == [entry]
    assert (entry / "manifest.json").stat().st_ino == before
    assert not list(cache.glob(".*"))


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    model_cache.use_cache(blocker / "cache")
    assert language.detect_language(SAMPLES["es"]) == "es"


def test_empty_text_has_no_language() -> None:
    assert language.detect_language("   \n ") is None


def test_the_cache_folder_is_per_user_and_systemd_can_choose_it() -> None:
    from feeds.pipeline import model_cache_dir

    assert model_cache_dir({"CACHE_DIRECTORY": "/var/cache/feeds"}) == Path("/var/cache/feeds")
    assert model_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/feeds")
    assert model_cache_dir({}) == Path.home() / ".cache" / "feeds"


# What the W3C Feed Validator accepts as a language: ISO 639-1 (and a list of ISO 639-2
# codes, which we never write).  A detected language is written as xml:lang in Atom and as
# "language" in JSON Feed, so it must be one of these or nothing.
SHORT_HEADLINES = ["Inside Rust Blog", "Rust Blog", "Hello world", "Rust 1.88.0", "Ok",
                   "Tom & Jerry", "Title line Body."]


@pytest.mark.parametrize("headline", SHORT_HEADLINES)
def test_a_few_words_py3langid_is_unsure_about_get_no_language(headline: str) -> None:
    from py3langid import langid

    guess, _score = langid.classify(headline)
    assert guess != "en"  # what made feeds say xml:lang="pcm" for an English headline
    assert language.detect_language(headline) is None


def test_a_sentence_gets_its_language_with_confidence() -> None:
    for code, text in SAMPLES.items():
        ranked = language._identifier().rank(text)
        assert ranked[0][0] == code
        assert language.confidence(ranked, len(text.encode())) > 0.8 > language.MIN_CONFIDENCE


def test_detect_is_rank_and_confidence_in_one_pass() -> None:
    model = language._identifier()
    for text in texts()[:60] + SHORT_HEADLINES:
        if not text.strip():
            continue
        ranked = model.rank(text)
        code, sure = model.detect(text)
        assert code == ranked[0][0]
        assert sure == pytest.approx(language.confidence(ranked, len(text.encode())),
                                     rel=1e-4, abs=1e-3)  # featureless: 1/142 or 1/140


def test_labels_without_a_two_letter_code_are_mapped_to_their_macrolanguage_or_dropped(
) -> None:
    assert language.language_tag("en") == "en"
    assert language.language_tag("yue") == "zh"
    assert language.language_tag("arz") == "ar"
    assert language.language_tag("pcm") is None
    assert language.language_tag("crh") is None
    assert language.language_tag("zxx") is None


def test_every_language_detected_is_an_iso_639_1_code() -> None:
    from py3langid import langid

    tags = {language.language_tag(label) for label in langid._get_identifier().nb_classes}
    tags.discard(None)
    assert tags <= language.ISO_639_1
    assert {"en", "fr", "ar", "zh", "de", "es"} <= tags
    detected = {language.detect_language(text) for text in texts()}
    assert detected - {None} <= language.ISO_639_1
