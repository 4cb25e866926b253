"""Language detection: offline, and the same answers with or without the model cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.normalize import language

SAMPLES = {
    "en": "The city council said on Monday that the new ferry timetable starts in June.",
    "fr": "Le conseil municipal a annoncé lundi que le nouvel horaire du bac commence en juin.",
    "es": "El ayuntamiento anunció el lunes que el nuevo horario del ferry empieza en junio.",
    "de": "Der Stadtrat teilte am Montag mit, dass der neue Fährfahrplan im Juni beginnt.",
    "ar": "أعلن المجلس البلدي يوم الاثنين أن الجدول الزمني الجديد للعبارة يبدأ في يونيو.",
    "it": "Il consiglio comunale ha annunciato lunedì che il nuovo orario del traghetto inizia.",
}


@pytest.fixture(autouse=True)
def no_cache_after() -> Iterator[None]:
    yield
    language.use_cache(None)


def test_languages_are_detected_without_a_cache() -> None:
    language.use_cache(None)
    assert {code: language.detect_language(text) for code, text in SAMPLES.items()} == {
        code: code for code in SAMPLES}


def test_the_cache_is_written_once_and_gives_the_same_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from py3langid import langid

    language.use_cache(tmp_path)
    first = {code: language.detect_language(text) for code, text in SAMPLES.items()}
    [cached] = list(tmp_path.glob("langid-*.npz"))

    def packaged_model_is_not_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the packaged model was decompressed again")

    monkeypatch.setattr(langid, "_load_model_file", packaged_model_is_not_read)
    monkeypatch.setattr(langid, "classify", packaged_model_is_not_read)
    language.use_cache(None)
    language.use_cache(tmp_path)  # a new process, as it were: now read from the cache
    second = {code: language.detect_language(text) for code, text in SAMPLES.items()}
    assert first == second == {code: code for code in SAMPLES}
    assert list(tmp_path.glob("langid-*.npz")) == [cached]


def test_a_corrupt_cache_falls_back_to_the_packaged_model(tmp_path: Path) -> None:
    language.use_cache(tmp_path)
    language.detect_language("warm up")
    [cached] = list(tmp_path.glob("langid-*.npz"))
    cached.write_bytes(b"not a zip file")
    language.use_cache(None)
    language.use_cache(tmp_path)
    assert language.detect_language(SAMPLES["fr"]) == "fr"


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    language.use_cache(blocker / "cache")
    assert language.detect_language(SAMPLES["es"]) == "es"


def test_empty_text_has_no_language() -> None:
    assert language.detect_language("   \n ") is None


def test_the_cache_folder_is_per_user_and_systemd_can_choose_it() -> None:
    from feeds.pipeline import model_cache_dir

    assert model_cache_dir({"CACHE_DIRECTORY": "/var/cache/feeds"}) == Path("/var/cache/feeds")
    assert model_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/feeds")
    assert model_cache_dir({}) == Path.home() / ".cache" / "feeds"
