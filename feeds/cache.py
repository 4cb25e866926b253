"""The language model cache on disk: py3langid's model, decompressed once, memory-mapped back.

py3langid keeps its 69 MB model xz-compressed and spends about 0.6 s decompressing it in
every process that detects a language: most of the cost of a build that reads one new
article.  Given a cache folder (``use_cache``; the pipeline passes the user's cache folder,
``~/.cache/feeds`` or systemd's ``CacheDirectory``), the decompressed arrays are kept there,
one ``.npy`` file each, in a folder ``langid-<format>-<py3langid version>-<model size>-
<model mtime>``, and memory-mapped back: nothing is copied, pages are read when a text
touches them, and processes share them through the page cache.  Measured in a fresh
process: loading from the cache takes about 2.5 ms (1 ms of it checking the probe texts),
against 0.1-0.2 s for the uncompressed ``.npz`` this replaces; the first build, which
writes the cache, pays py3langid's own loading plus about 0.06 s.  Importing numpy and
py3langid (about 0.1 s) is now nearly all the model costs a build.  A model not in the page
cache is read on first use (the kernel's read-ahead: about 0.1 s here).  The score table
is kept as float32 (py3langid ships float16 and casts every row it gathers): detection takes
about 0.10 ms per 400-character sample against 0.165 ms on py3langid's own tables, with
bit-identical scores.

A cache folder is written whole or not at all (temporary folder, fsync, rename) and is
checked when read: its stamp, every array's type, shape and file size, and py3langid's own
answers on a few probe texts, recorded when the folder was written.  Anything wrong with the
cache (missing, stale, truncated, corrupt, unwritable, a py3langid whose internals moved,
a mapped table failing mid-run) falls back to py3langid's own loading, a bad folder is
rebuilt, and the answers are the same either way (``tests/test_normalize_language.py``).
Writing a new folder removes our others (a reinstalled py3langid's, an older format's,
crashed writers' leftovers).

This is the I/O half of language detection, kept out of ``normalize/`` (which stays pure):
``feeds.normalize.language`` detects, and is handed this module's loader by ``use_cache``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from feeds.normalize.language import Classify, Model, own_classify, use_loader

log = logging.getLogger(__name__)

_cache_dir: Path | None = None

# A cache entry is a folder of .npy files and a manifest; _FORMAT names its layout.
_PREFIX = "langid-"
_FORMAT = "v3"  # v3: ptc as float32
_MANIFEST = "manifest.json"
_ARRAYS = ("ptc", "pc", "nextmove", "row", "rowbase", "output")
# py3langid's answers on these are recorded with an entry and checked when it is loaded.
_PROBES = (
    "The council said on Monday that the new ferry timetable starts in June.",
    "Совет объявил в понедельник, что новое расписание начнётся в июне.",
)
# A temporary folder this old is a crashed writer's, not one being written.
_STALE_TEMP_SECONDS = 3600


def use_cache(directory: Path | None) -> None:
    """Keep the decompressed model in ``directory`` (None: no cache)."""
    global _cache_dir
    if directory != _cache_dir:
        _cache_dir = directory
        use_loader(None if directory is None else functools.partial(_cached_identifier, directory))


def _cached_identifier(directory: Path) -> Classify:
    """The cached model's ``classify``, or py3langid's own after (re)writing the cache."""
    from py3langid import langid

    entry, stamp = _entry(directory)
    try:
        return _guarded(_load(entry, stamp), entry)
    except Exception as exc:
        if os.path.lexists(entry):
            log.debug("language model cache %s unusable, rebuilding it: %s", entry, exc)
            _discard(entry)
    reference = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    try:
        _save(entry, stamp, reference)
    except Exception as exc:
        log.debug("language model cache not written: %s", exc)
    return Model(reference)


def _entry(directory: Path) -> tuple[Path, dict[str, object]]:
    """The cache folder for the installed py3langid's model, and the stamp it must carry."""
    import py3langid
    from py3langid import langid

    st = (Path(langid.MODEL_DIR) / langid.MODEL_FILE).stat()
    version = str(getattr(py3langid, "__version__", "0"))
    stamp: dict[str, object] = {"format": _FORMAT, "py3langid": version,
                                "model_size": st.st_size, "model_mtime_ns": st.st_mtime_ns,
                                "byteorder": sys.byteorder}
    safe_version = re.sub(r"[^A-Za-z0-9._+-]", "_", version)
    return directory / f"{_PREFIX}{_FORMAT}-{safe_version}-{st.st_size}-{st.st_mtime_ns}", stamp


def _load(entry: Path, stamp: Mapping[str, object]) -> Classify:
    """Memory-map ``entry``'s arrays into a LanguageIdentifier and check it on the probes."""
    manifest = json.loads((entry / _MANIFEST).read_bytes())
    if manifest["stamp"] != stamp:
        raise ValueError(f"stamp {manifest['stamp']!r}, expected {stamp!r}")
    arrays = {name: _map(entry / f"{name}.npy", manifest["arrays"][name]) for name in _ARRAYS}
    identifier = _assemble(arrays, [str(c) for c in manifest["classes"]])
    _check(identifier, manifest["probes"])
    return Model(identifier)


def _map(path: Path, spec: Mapping[str, Any]) -> Any:
    """The array in the .npy file ``path``, memory-mapped read-only, checked against ``spec``.

    The kernel's read-ahead is left as it is.  MADV_RANDOM would read only the pages touched
    when the model is not in the page cache, but as many small reads: measured (8 MB
    read-ahead, virtio disk), 70 ms instead of 95 ms for one article, 1.0 s instead of
    0.45 s for 2,000, and worse on slow-to-seek disks.  In the page cache, both are equal.
    """
    import mmap

    import numpy as np

    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ValueError(f"{path.name}: .npy format {version}")
        if fortran_order or dtype.str != spec["dtype"] or list(shape) != spec["shape"]:
            raise ValueError(f"{path.name}: {dtype.str} {shape}, expected "
                             f"{spec['dtype']} {spec['shape']}")
        offset = handle.tell()
        count = math.prod(shape)
        size = os.fstat(handle.fileno()).st_size
        if size != spec["bytes"] or size != offset + count * dtype.itemsize:
            raise ValueError(f"{path.name}: {size} bytes, expected {spec['bytes']}")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype=dtype, count=count, offset=offset).reshape(shape)


def _assemble(arrays: Mapping[str, Any], classes: list[str]) -> Any:
    """A LanguageIdentifier over ``arrays`` as they are (memory-mapped: nothing copied).

    py3langid indexes the DFA tables (nextmove, the per-state row offsets, output) one item
    at a time in a Python loop, so they become memoryviews, whose items are plain ints (a
    numpy array's are slow scalars); ptc is fancy-indexed, so it stays a (read-only) array.
    The constructor's one O(model) step, the row offsets it derives from ``tk_row``, was
    done when the entry was written: it gets no rows, and both are set afterwards.
    """
    import numpy as np
    from py3langid import langid

    def items(name: str) -> memoryview:
        array = arrays[name]
        return memoryview(array).cast("B").cast(array.dtype.char)

    row = items("row")
    identifier = langid.LanguageIdentifier(
        np.asarray(arrays["ptc"]), np.array(arrays["pc"]), classes, items("nextmove"),
        items("output"), tk_row=row[:0])
    identifier.tk_row = row
    identifier._rowbase = items("rowbase")
    return identifier


def _probe(classify: Classify, texts: tuple[str, ...] = _PROBES) -> list[dict[str, Any]]:
    return [{"text": text, "code": str(code), "score": float(score)}
            for text in texts for code, score in [classify(text)]]


def _check(identifier: Any, probes: list[dict[str, Any]]) -> None:
    """Raise unless ``identifier`` gives the recorded answers on the probe texts."""
    if not probes:
        raise ValueError("no probes recorded")
    for probe in probes:
        code, score = identifier.classify(probe["text"])
        if code != probe["code"] or not math.isclose(score, probe["score"], rel_tol=1e-5):
            raise ValueError(f"probe {probe['text'][:20]!r}: {code} {score}, expected "
                             f"{probe['code']} {probe['score']}")


_T = TypeVar("_T")


class _Guarded:
    """``cached``, switching for good to py3langid's own model if the cached one fails."""

    def __init__(self, cached: Classify, entry: Path) -> None:
        self.cached = cached
        self.current = cached
        self.entry = entry

    def __call__(self, text: str) -> tuple[str, float]:
        return self._answer(lambda model: model(text))

    def rank(self, text: str) -> list[tuple[str, float]]:
        return self._answer(lambda model: model.rank(text))

    def detect(self, text: str) -> tuple[str, float]:
        return self._answer(lambda model: model.detect(text))

    def _answer(self, ask: Callable[[Classify], _T]) -> _T:
        try:
            return ask(self.current)
        except Exception as exc:
            if self.current is not self.cached:
                raise
            own = own_classify()
            answer = ask(own)  # when py3langid fails as well, the cache was not the problem
            log.debug("language model cache %s failed, using py3langid's own: %s",
                      self.entry, exc)
            self.current = own
            _discard(self.entry)
            return answer


def _guarded(classify: Classify, entry: Path) -> Classify:
    """``classify``, switching for good to py3langid's own model if the cached one fails."""
    return _Guarded(classify, entry)


def _save(entry: Path, stamp: Mapping[str, object], reference: Any) -> None:
    """Write ``reference``'s arrays as the cache folder ``entry``, atomically."""
    import numpy as np

    arrays = {
        # float32, not py3langid's float16: scoring casts the rows it gathers to float32
        # anyway (in software, ~40% of detection); cast once here, the scores are the same
        # bits (the probes check) for twice the file (57 MB, mapped, shared)
        "ptc": np.ascontiguousarray(reference.nb_ptc, dtype=np.float32),
        "pc": np.ascontiguousarray(reference.nb_pc),
        "nextmove": np.ascontiguousarray(reference.tk_nextmove),  # array('I'): same items
        "row": np.ascontiguousarray(reference.tk_row),
        "rowbase": np.asarray(reference._rowbase, dtype=np.int64),
        "output": np.asarray(reference.tk_output, dtype=np.int64),
    }
    classes = [str(c) for c in reference.nb_classes]
    probes = _probe(Model(reference))
    _check(_assemble(arrays, classes), probes)  # our way of loading gives py3langid's answers

    directory = entry.parent
    directory.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory, prefix=f".{entry.name}.", suffix=".tmp"))
    try:
        specs = {}
        for name, array in arrays.items():
            path = tmp / f"{name}.npy"
            with open(path, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
                handle.flush()
                os.fsync(handle.fileno())
            specs[name] = {"dtype": array.dtype.str, "shape": list(array.shape),
                           "bytes": path.stat().st_size}
        manifest = {"stamp": dict(stamp), "classes": classes, "arrays": specs, "probes": probes}
        with open(tmp / _MANIFEST, "wb") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(tmp)
        try:
            os.rename(tmp, entry)
        except OSError:
            if not entry.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process wrote it first: keep it
            return
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(directory)
    _prune(directory, keep=entry.name)


def _fsync_dir(directory: Path) -> None:
    """Make renames in ``directory`` durable (best effort: some systems cannot open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prune(directory: Path, *, keep: str) -> None:
    """Remove our cache entries other than ``keep`` and crashed writers' temporary folders."""
    try:
        paths = list(directory.iterdir())
    except OSError as exc:
        log.debug("stale language model caches not removed: %s", exc)
        return
    now = time.time()
    for path in paths:
        name = path.name
        try:
            if name.startswith(_PREFIX) and name != keep:
                log.debug("removing stale language model cache %s", path)
                _discard(path)
            elif (name.startswith("." + _PREFIX) and name.endswith(".tmp")
                  and now - path.lstat().st_mtime > _STALE_TEMP_SECONDS):
                _discard(path)
        except OSError as exc:  # gone meanwhile, or not ours to remove
            log.debug("%s not removed: %s", path, exc)


def _discard(path: Path) -> None:
    """Remove a cache entry, file or folder (best effort): readers see it whole or not at all."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            trash = path.with_name(f".{path.name.lstrip('.')}.{secrets.token_hex(4)}.tmp")
            try:
                os.rename(path, trash)
            except OSError:
                trash = path
            shutil.rmtree(trash, ignore_errors=True)
        else:
            path.unlink()
