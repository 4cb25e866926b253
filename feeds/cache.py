"""The language model cache on disk: py3langid's model, decompressed once, memory-mapped back.

py3langid keeps its 69 MB model xz-compressed and spends about 0.6 s decompressing it in
every process that detects a language: most of the cost of a build that reads one new
article.  Given a cache folder (``use_cache``; the pipeline passes the user's cache folder,
``~/.cache/feeds`` or systemd's ``CacheDirectory``), the decompressed arrays are kept there,
one ``.npy`` file each, in a folder ``langid-<format>-<py3langid version>-<model digest>``
(the SHA-256 of the model file's bytes), and memory-mapped back: nothing is copied, pages
are read when a text touches them, and processes share them through the page cache.
Measured in a fresh process: loading from the cache takes about 2.5 ms (1 ms of it checking
the probe texts), against 0.1-0.2 s for the uncompressed ``.npz`` this replaces; the first
build, which writes the cache, pays py3langid's own loading plus about 0.06 s.  Importing numpy and
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
Entries are named after what the model file holds, not where or when it was installed:
two installs of one py3langid (two virtual environments, a pipx install beside a
development checkout) share one entry, and two different models keep one each, side by
side.  Hashing the 4.6 MB model costs about 4 ms, so it is done once per install: a small
record in ``langid.ids/``, named after the model file's path, keeps the digest with the
file's stat and is trusted while the stat is the same.  No entry another install may still
use is removed: loading an entry marks it used (its manifest's mtime, refreshed at most
once a day; its atime counts too, for older versions of feeds that never mark), and writing
a new entry removes only entries and records unused for 30 days, the least recently used
beyond eight entries unused for a day, and crashed writers' leftovers.  Every file is
written whole or not at all (temporary name, fsync, rename).

This is the I/O half of language detection, kept out of ``normalize/`` (which stays pure):
``feeds.normalize.language`` detects, and is handed this module's loader by ``use_cache``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from feeds.normalize.language import Classify, Model, own_classify, use_loader

log = logging.getLogger(__name__)

_cache_dir: Path | None = None

# A cache entry is a folder of .npy files and a manifest; _FORMAT names its layout.
_PREFIX = "langid-"
_FORMAT = "v4"  # v3: ptc as float32; v4: named after the model's digest, not its mtime
_MANIFEST = "manifest.json"
_ARRAYS = ("ptc", "pc", "nextmove", "row", "rowbase", "output")
# py3langid's answers on these are recorded with an entry and checked when it is loaded.
_PROBES = (
    "The council said on Monday that the new ferry timetable starts in June.",
    "Совет объявил в понедельник, что новое расписание начнётся в июне.",
)
# A temporary folder this old is a crashed writer's, not one being written.
_STALE_TEMP_SECONDS = 3600
# Per install (model file path): the model's digest, kept with the file's stat.
_IDS = "langid.ids"
# An entry or record unused this long is removed when a new entry is written; one used
# more recently is another install's, still in use.  Use is marked at most this often.
_UNUSED_SECONDS = 30 * 86400
_MARK_SECONDS = 86400
# Beyond this many entries, the least recently used ones not used for a day go too.
_MAX_ENTRIES = 8


def use_cache(directory: Path | None) -> None:
    """Keep the decompressed model in ``directory`` (None: no cache)."""
    global _cache_dir
    if directory != _cache_dir:
        _cache_dir = directory
        use_loader(None if directory is None else functools.partial(_cached_identifier, directory))


def _cached_identifier(directory: Path) -> Classify:
    """The cached model's ``classify``, or py3langid's own after (re)writing the cache."""
    from py3langid import langid

    model = _model_file()
    identity = _identity(directory, model)
    entry, stamp = _entry(directory, identity)
    try:
        loaded = _load(entry, stamp)
    except Exception as exc:
        if os.path.lexists(entry):
            log.debug("language model cache %s unusable, rebuilding it: %s", entry, exc)
            _discard(entry)
    else:
        _mark_used(entry / _MANIFEST)
        identity.remember()
        return _guarded(loaded, entry)
    reference = langid.LanguageIdentifier.from_model_file(model)
    try:
        _save(entry, stamp, reference)
        identity.remember()
    except Exception as exc:
        log.debug("language model cache not written: %s", exc)
    return Model(reference)


def _model_file() -> Path:
    from py3langid import langid

    return Path(langid.MODEL_DIR) / str(langid.MODEL_FILE)


@dataclass(frozen=True, slots=True)
class _Identity:
    """The model file's content digest, and its record in ``langid.ids/`` (``record``:
    what to write there once the entry is in place; None when it is there already)."""

    size: int
    sha256: str
    path: Path
    record: dict[str, object] | None

    def remember(self) -> None:
        """Keep the digest for this install's next process (best effort)."""
        if self.record is None:
            _mark_used(self.path)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path, json.dumps(self.record).encode("utf-8"))
        except OSError as exc:
            log.debug("language model digest not recorded in %s: %s", self.path, exc)


def _identity(directory: Path, model: Path) -> _Identity:
    """``model``'s digest: from this install's record while the file's stat matches it,
    else computed (once per install: about 4 ms)."""
    st = model.stat()
    where = str(model.absolute())
    path = directory / _IDS / f"{hashlib.sha256(where.encode()).hexdigest()[:32]}.json"
    stat = {"path": where, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ino": st.st_ino, "dev": st.st_dev}
    with contextlib.suppress(OSError, ValueError, TypeError):
        record = json.loads(path.read_bytes())
        digest = record["sha256"]
        if record["stat"] == stat and isinstance(digest, str) \
                and re.fullmatch(r"[0-9a-f]{64}", digest):
            return _Identity(st.st_size, digest, path, None)
    with open(model, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return _Identity(st.st_size, digest, path, {"stat": stat, "sha256": digest})


def _entry(directory: Path, identity: _Identity | None = None) -> tuple[Path, dict[str, object]]:
    """The cache folder for the installed py3langid's model, and the stamp it must carry."""
    import py3langid

    if identity is None:
        identity = _identity(directory, _model_file())
    version = str(getattr(py3langid, "__version__", "0"))
    stamp: dict[str, object] = {"format": _FORMAT, "py3langid": version,
                                "model_size": identity.size, "model_sha256": identity.sha256,
                                "byteorder": sys.byteorder}
    safe_version = re.sub(r"[^A-Za-z0-9._+-]", "_", version)
    return directory / f"{_PREFIX}{_FORMAT}-{safe_version}-{identity.sha256[:32]}", stamp


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


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file beside it, fsync, rename)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _mark_used(path: Path) -> None:
    """Mark ``path`` (an entry's manifest, an install's record) as used now, at most once a
    day: a process loading the model writes nothing more often."""
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > _MARK_SECONDS:
            os.utime(path)


def _last_used(path: Path) -> float:
    """When ``path`` (an entry, an old single-file entry, a record) was last used."""
    st = path.lstat()
    if path.is_dir() and not path.is_symlink():
        with contextlib.suppress(OSError):
            st = (path / _MANIFEST).stat()
    return max(st.st_mtime, st.st_atime)


def _prune(directory: Path, *, keep: str) -> None:
    """Remove our cache entries (other than ``keep``) and install records unused for long,
    the least recently used entries beyond ``_MAX_ENTRIES``, and crashed writers' temporary
    folders.  An entry used lately may be another install's: it stays."""
    try:
        paths = list(directory.iterdir())
        ids = directory / _IDS
        paths += list(ids.iterdir()) if ids.is_dir() else []
    except OSError as exc:
        log.debug("stale language model caches not removed: %s", exc)
        return
    now = time.time()
    kept: list[tuple[float, Path]] = []
    for path in paths:
        name = path.name
        try:
            record = path.parent.name == _IDS and name.endswith(".json")
            if (name.startswith(_PREFIX) and name != keep) or record:
                used = _last_used(path)
                if now - used > _UNUSED_SECONDS:
                    log.debug("removing language model cache %s, unused for long", path)
                    _discard(path)
                elif not record:
                    kept.append((used, path))
            elif (name.startswith(".") and name.endswith(".tmp")
                  and (name.startswith("." + _PREFIX) or path.parent.name == _IDS)
                  and now - path.lstat().st_mtime > _STALE_TEMP_SECONDS):
                _discard(path)
        except OSError as exc:  # gone meanwhile, or not ours to remove
            log.debug("%s not removed: %s", path, exc)
    kept.sort(reverse=True)  # the most recently used first
    for used, path in kept[_MAX_ENTRIES - 1:]:
        if now - used > _MARK_SECONDS:
            log.debug("removing language model cache %s, the least recently used", path)
            _discard(path)


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
