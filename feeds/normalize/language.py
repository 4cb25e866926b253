"""Offline language detection (py3langid: its model ships inside the wheel).

Pure: this module reads no files of its own.  py3langid keeps its 69 MB model xz-compressed
and spends about 0.6 s decompressing it in every process that detects a language; the
pipeline hands a loader of the decompressed, memory-mapped model kept on disk
(``use_loader``, given by ``feeds.cache.use_cache``: the file I/O, fsync and rename live
there).  A loader that fails falls back to py3langid's own loading, and the answers are the
same either way (``tests/test_normalize_language.py``).  The score table is used as the
loader gives it: detection takes about 0.10 ms per 400-character sample on the cache's
float32 table against 0.165 ms on py3langid's own, with bit-identical scores.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

# The title and the start of the body decide the language.  py3langid's cost grows with the
# sample (a Python loop over its bytes); on the development set, the seeds and the test
# articles every sample from 150 characters up gives the answer 2,000 gave.  400 keeps a
# margin over that (measured: 2,000 -> 400 characters cut detection from ~0.7 ms to
# ~0.13 ms per article, about a quarter of reading a plain-text article).
_MAX_CHARS = 400

class Classify(Protocol):
    """A loaded model: ``classify`` (the call) and ``rank``, as py3langid's own."""

    def __call__(self, text: str) -> tuple[str, float]: ...

    def rank(self, text: str) -> list[tuple[str, float]]: ...

    def detect(self, text: str) -> tuple[str, float]:
        """The best label and its normalized probability (see :func:`confidence`)."""
        ...


class Model:
    """A py3langid ``LanguageIdentifier`` (raw scores) as a :class:`Classify`."""

    def __init__(self, identifier: Any) -> None:
        self.identifier = identifier

    def __call__(self, text: str) -> tuple[str, float]:
        code, score = self.identifier.classify(text)
        return str(code), float(score)

    def rank(self, text: str) -> list[tuple[str, float]]:
        return [(str(code), float(score)) for code, score in self.identifier.rank(text)]

    def detect(self, text: str) -> tuple[str, float]:
        """:func:`confidence` of ``rank`` in one pass over py3langid's raw scores (an
        aliased label's second column holds its floor: it adds nothing)."""
        import numpy as np

        identifier = self.identifier
        scores = identifier._decide(text)
        best = int(scores.argmax())
        size = len(identifier._encode(text))
        total = float(np.exp((scores - scores[best]) / math.sqrt(size or 1)).sum())
        return str(identifier.nb_classes[best]), 1.0 / total

_loader: Callable[[], Classify] | None = None


def use_loader(loader: Callable[[], Classify] | None) -> None:
    """Load the model with ``loader`` (``feeds.cache`` gives one reading the on-disk cache),
    falling back to py3langid's own loading if it fails; None: py3langid's own loading."""
    global _loader
    _loader = loader
    _identifier.cache_clear()


@functools.cache
def _identifier() -> Classify:
    if _loader is not None:
        try:
            return _loader()
        except Exception as exc:  # the cache is an optimisation: never a failure
            log.debug("language model cache not used: %s", exc)
    return own_classify()


def own_classify() -> Classify:
    from py3langid import langid

    return Model(langid._get_identifier())


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None: nothing to judge, no confident
    answer, or a language without a two-letter code (see :func:`language_tag`)."""
    sample = text[:_MAX_CHARS].strip()
    if not sample:
        return None
    code, sure = _identifier().detect(sample)
    if sure < MIN_CONFIDENCE:
        return None
    return language_tag(code)


# How sure py3langid must be before an article is labelled with a language: its own
# normalized probability (a softmax over the raw scores at temperature sqrt(bytes), as
# py3langid's ``norm_probs``).  Measured over 806 texts (the development set, the seeds,
# the test articles and the 757 posts of a real Zola blog): every article with a body
# scores 0.82 or more, all correctly labelled; the wrong labels (Nigerian Pidgin, Crimean
# Tatar, Luganda for an English headline of two or three words) all score 0.15 or less.
# 0.5 keeps short English titles such as "Release notes" (0.51).  Below it, the article
# has no language of its own and takes the feed's (the site's), or none.
MIN_CONFIDENCE = 0.5


def confidence(ranked: list[tuple[str, float]], size: int) -> float:
    """The normalized probability of the first of ``ranked`` (raw scores, best first) for
    a sample of ``size`` UTF-8 bytes."""
    if not ranked:
        return 0.0
    temperature = math.sqrt(size or 1)
    best = ranked[0][1]
    total = sum(math.exp((score - best) / temperature) for _code, score in ranked)
    return 1.0 / total


# py3langid labels some languages with ISO 639-3 codes.  A feed's language must be a code
# the W3C Feed Validator accepts (ISO 639-1, and a list of ISO 639-2 codes); the two-letter
# code is the one readers know.  These map a variety onto its macrolanguage's code; every
# other label without a two-letter code (pcm, crh, ace, ...) is not written.
_MACROLANGUAGE = {
    "ary": "ar", "arz": "ar",  # Moroccan, Egyptian Arabic
    "fuv": "ff",  # Nigerian Fulfulde: Fulah
    "gug": "gn",  # Paraguayan Guaraní
    "kik": "ki",  # Kikuyu's ISO 639-2 code
    "sdh": "ku",  # Southern Kurdish
    "uzs": "uz",  # Southern Uzbek
    "wuu": "zh", "yue": "zh",  # Wu, Cantonese: Chinese
}
# ISO 639-1: the two-letter codes (as listed by ISO; "mo" and "sh", withdrawn, left out).
_ISO_639_1_TEXT = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw
ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_TEXT.split())


def language_tag(code: str) -> str | None:
    """``code`` (a py3langid label) as an ISO 639-1 code, or None when it has none."""
    code = _MACROLANGUAGE.get(code, code)
    return code if code in ISO_639_1 else None
