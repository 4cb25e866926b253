"""Offline language detection (py3langid: its model ships inside the wheel).

py3langid keeps its 69 MB model xz-compressed and spends about 0.6 s decompressing it in
every process that detects a language: most of the cost of a build that reads one new
article.  Given a cache folder (``use_cache``; the pipeline passes the user's cache folder,
``~/.cache/feeds`` or systemd's ``CacheDirectory``), the decompressed arrays are kept
there as an uncompressed ``.npz`` read back in about 0.1 s.  Anything wrong with the
cache (missing, stale, corrupt, unwritable, a py3langid whose internals moved) falls
back to py3langid's own loading, and the answers are the same either way
(``tests/test_normalize_language.py``).
"""

from __future__ import annotations

import array
import contextlib
import functools
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The title and the start of the body decide the language.  py3langid's cost grows with the
# sample (a Python loop over its bytes); on the development set, the seeds and the test
# articles every sample from 150 characters up gives the answer 2,000 gave.  400 keeps a
# margin over that (measured: 2,000 -> 400 characters cut detection from ~0.7 ms to
# ~0.13 ms per article, about a quarter of reading a plain-text article).
_MAX_CHARS = 400

_cache_dir: Path | None = None


def use_cache(directory: Path | None) -> None:
    """Keep the decompressed model in ``directory`` (None: no cache)."""
    global _cache_dir
    if directory != _cache_dir:
        _cache_dir = directory
        _identifier.cache_clear()


@functools.cache
def _identifier() -> Any:
    if _cache_dir is not None:
        try:
            return _cached_identifier(_cache_dir)
        except Exception as exc:  # the cache is an optimisation: never a failure
            log.debug("language model cache not used: %s", exc)
    from py3langid.langid import classify

    return classify


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when there is nothing to judge."""
    sample = text[:_MAX_CHARS].strip()
    if not sample:
        return None
    code, _score = _identifier()(sample)
    return str(code)


def _cached_identifier(directory: Path) -> Any:
    import numpy as np
    from py3langid import langid

    model = Path(langid.MODEL_DIR) / langid.MODEL_FILE
    st = model.stat()
    version = getattr(__import__("py3langid"), "__version__", "0")
    path = directory / f"langid-{version}-{st.st_size}-{st.st_mtime_ns}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            parts = (data["ptc"], data["pc"], data["classes"].tolist(),
                     array.array(str(data["nextmove_type"]), data["nextmove"].tobytes()),
                     array.array(str(data["row_type"]), data["row"].tobytes()),
                     data["output"].tolist())
    else:
        parts = langid._load_model_file(model)
        _save(path, parts)
    ptc, pc, classes, nextmove, row, output = parts
    identifier = langid.LanguageIdentifier(np.asarray(ptc), np.asarray(pc), classes, nextmove,
                                           output, tk_row=row)
    return identifier.classify


def _save(path: Path, parts: tuple[Any, ...]) -> None:
    import numpy as np

    ptc, pc, classes, nextmove, row, output = parts
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, ptc=ptc, pc=pc, classes=np.array(classes),
                     nextmove=np.frombuffer(nextmove, dtype=np.uint8),
                     nextmove_type=np.array(nextmove.typecode),
                     row=np.frombuffer(row, dtype=np.uint8), row_type=np.array(row.typecode),
                     output=np.array(output, dtype=np.int64))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
