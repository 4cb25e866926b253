"""Entry keys for entries without an id of their own (pure, no third-party import).

The keys that compare ids and stories across harmless changes (``canonical_key``,
``story_keys_of``) are shared with the store and ``select``, so they live in
:mod:`feeds.text`.
"""

from __future__ import annotations

import hashlib


def hash_key(*parts: str | None) -> str:
    blob = "\x1f".join(p or "" for p in parts)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
