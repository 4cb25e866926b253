"""The language model cache shared by several installs on one machine (issue 13).

Entries are named after the model's content, not its file's mtime, and no entry another
install may still use is removed: two installs taking turns build the cache once each.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds import cache as model_cache
from feeds.normalize import language

ENGLISH = "The city council said on Monday that the new ferry timetable starts in June."


@pytest.fixture(autouse=True)
def no_cache_after() -> Iterator[None]:
    yield
    model_cache.use_cache(None)


@pytest.fixture
def own_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """py3langid's own model loads (a rebuild of the cache), by model file; each returns
    the model already loaded (faster)."""
    from py3langid import langid

    shared = langid._get_identifier()
    calls: list[Path] = []

    def from_model_file(model_file: Any, *args: object, **kwargs: object) -> Any:
        calls.append(Path(model_file))
        return shared

    monkeypatch.setattr(langid.LanguageIdentifier, "from_model_file", from_model_file)
    return calls


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every model file hashed (by name of the install folder)."""
    calls: list[str] = []
    digest = hashlib.file_digest

    def counting(handle: Any, name: Any) -> Any:
        calls.append(install_of(Path(handle.name)))
        return digest(handle, name)

    monkeypatch.setattr(model_cache.hashlib, "file_digest", counting)
    return calls


def install_of(model: Path) -> str:
    """The install folder a model file is in (tests name them)."""
    from py3langid import langid

    return model.parents[len(Path(str(langid.MODEL_FILE)).parts) - 1].name


def install(root: Path, name: str, *, other_bytes: bool = False, mtime: int = 0) -> Path:
    """A py3langid model folder of its own: the installed model copied (``other_bytes``: the
    same model compressed otherwise, so another file), with its own mtime."""
    from py3langid import langid

    folder = root / name
    folder.mkdir()
    source = Path(langid.MODEL_DIR) / str(langid.MODEL_FILE)
    target = folder / str(langid.MODEL_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    if other_bytes:
        target.write_bytes(lzma.compress(lzma.decompress(source.read_bytes()), preset=0))
    else:
        shutil.copyfile(source, target)
    when = mtime or time.time_ns()
    os.utime(target, ns=(when, when))
    return folder


def run_with(model_dir: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process of the install whose model is in ``model_dir`` detects a language."""
    from py3langid import langid

    monkeypatch.setattr(langid, "MODEL_DIR", model_dir)
    model_cache.use_cache(None)
    model_cache.use_cache(cache)
    assert language.detect_language(ENGLISH) == "en"


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("langid-*"))


def test_two_installs_taking_turns_build_the_cache_once_each(
        tmp_path: Path, own_loads: list[Path], hashed: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    venv = install(tmp_path, "venv", mtime=1_700_000_000_000_000_000)
    pipx = install(tmp_path, "pipx", other_bytes=True, mtime=1_800_000_000_000_000_000)
    for model_dir in [venv, pipx, venv, pipx, venv, pipx]:
        run_with(model_dir, cache, monkeypatch)
    assert [install_of(p) for p in own_loads] == ["venv", "pipx"]
    assert len(entries(cache)) == 2
    assert hashed == ["venv", "pipx"], "each install hashes its model once"


def test_installs_of_the_same_model_share_one_entry(
        tmp_path: Path, own_loads: list[Path], hashed: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = install(tmp_path, "first", mtime=1_700_000_000_000_000_000)
    second = install(tmp_path, "second", mtime=1_800_000_000_000_000_000)
    for model_dir in [first, second, first, second]:
        run_with(model_dir, cache, monkeypatch)
    assert [install_of(p) for p in own_loads] == ["first"]
    assert len(entries(cache)) == 1
    assert hashed == ["first", "second"]


def test_a_reinstalled_model_is_hashed_again_but_not_rebuilt(
        tmp_path: Path, own_loads: list[Path], hashed: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    venv = install(tmp_path, "venv", mtime=1_700_000_000_000_000_000)
    run_with(venv, cache, monkeypatch)
    [model] = [p for p in venv.rglob("*") if p.is_file()]
    os.utime(model, ns=(1_750_000_000_000_000_000,) * 2)  # pip install --force-reinstall
    run_with(venv, cache, monkeypatch)
    run_with(venv, cache, monkeypatch)
    assert len(own_loads) == 1
    assert hashed == ["venv", "venv"]


def test_a_wrong_digest_record_is_caught_by_the_stamp(
        tmp_path: Path, own_loads: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A record is trusted only with the file's stat; a damaged one is hashed again."""
    cache = tmp_path / "cache"
    venv = install(tmp_path, "venv")
    run_with(venv, cache, monkeypatch)
    [record] = (cache / "langid.ids").iterdir()
    record.write_text("{not json")
    run_with(venv, cache, monkeypatch)
    assert len(own_loads) == 1
    assert "sha256" in record.read_text()


def fake_entry(cache: Path, name: str, used: float) -> Path:
    entry = cache / name
    entry.mkdir(parents=True)
    (entry / "manifest.json").write_text("{}")
    os.utime(entry / "manifest.json", (used, used))
    return entry


def test_entries_beyond_the_bound_go_least_recently_used_first(
        tmp_path: Path, own_loads: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    now = time.time()
    days = 86400
    stale = [fake_entry(cache, f"langid-v4-0.4.0-{i:032x}", now - (2 + i) * days)
             for i in range(model_cache._MAX_ENTRIES + 2)]  # used 2, 3, ... days ago
    today = [fake_entry(cache, f"langid-v4-0.4.0-{i:032x}", now - 3600)
             for i in range(100, 100 + model_cache._MAX_ENTRIES)]  # used within the day
    venv = install(tmp_path, "venv")
    run_with(venv, cache, monkeypatch)
    [written] = [e for e in entries(cache) if e not in stale + today]
    left = set(entries(cache))
    assert set(today) <= left, "entries used today may be another install's: they stay"
    assert not set(stale) & left, "beyond the bound, entries unused for a day go"
    assert written in left


def test_a_few_entries_unused_for_days_stay(
        tmp_path: Path, own_loads: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    now = time.time()
    kept = [fake_entry(cache, f"langid-v4-0.4.0-{i:032x}", now - (3 + i) * 86400)
            for i in range(3)]
    venv = install(tmp_path, "venv")
    run_with(venv, cache, monkeypatch)
    assert set(kept) < set(entries(cache))


def test_loading_marks_the_entry_used(
        tmp_path: Path, own_loads: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    venv = install(tmp_path, "venv")
    run_with(venv, cache, monkeypatch)
    [entry] = entries(cache)
    manifest = entry / "manifest.json"
    os.utime(manifest, (1_000_000_000, 1_000_000_000))
    run_with(venv, cache, monkeypatch)
    assert time.time() - manifest.stat().st_mtime < model_cache._MARK_SECONDS
    assert len(own_loads) == 1
