"""What keeps a folder source's published items right as files and configuration change:
distinct links, and the reading fingerprint.

**Links.**  Two files of one folder source never share a link silently (two posts titled
the same make the same ``{slug}``).  :class:`LinkClaims` checks each article read against
the links this ingest already gave out and against the store
(:meth:`~feeds.store.Store.link_holders`), so it also works incrementally: a new file
whose link an already stored, unchanged article holds.  The check lives here, between
reading and storing, because only the pipeline sees both: a reader is pure and sees one
file; the store could refuse, but not re-derive, the article (its ``Encoded`` form).
Resolution is deterministic and stable: a link stays with the key that holds it (stored
first); among files read together, the first key in sort order keeps it (new files are
read in key order); every other gets ``-2``, ``-3``... before its extension or trailing
``/``.  Each collision is reported, naming both keys.  A stored holder that vanished or is
re-read with another link in this ingest frees its link.

**Reading fingerprint.**  :func:`reading_fingerprint` digests what reading a folder
source depends on besides its files (``site.base_url``, ``site.timezone``, the source's
settings but its schedule, and :data:`READING_VERSION`).  The store keeps the one every
stored article was read with; when it differs, the next ingest reads every file again
regardless of stat, so a new ``base_url`` or ``link_pattern`` reaches every item.  Ids
stay (the registry is by key); ``updated`` moves only if the content hash changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit

from ..config import Config, SourceConfig
from ..model import Article
from ..store import Store

__all__ = ["READING_VERSION", "LinkClaims", "numbered", "reading_fingerprint"]

#: bump when a reader's output changes for the same input: stored articles are read again
# 2: the readers of issue 12 (site metadata, reST, GFM, templates); 3: news pages (issue 16);
# 4: the zola layout, dates in permalinks and bundle folder names; 5: news pages, third round
READING_VERSION = 5
#: source settings reading does not depend on (when and how often, not how)
_SCHEDULE = frozenset({"name", "every", "cron", "retention", "headers", "user_agent"})


def reading_fingerprint(config: Config, source: SourceConfig) -> str:
    """A digest of everything reading ``source``'s files depends on besides the files."""
    settings = {f.name: getattr(source, f.name) for f in dataclasses.fields(source)
                if f.name not in _SCHEDULE}
    facts = [READING_VERSION, config.site.base_url, str(config.site.timezone),
             sorted((name, repr(value)) for name, value in settings.items())]
    text = json.dumps(facts, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def numbered(link: str, n: int) -> str:
    """``link`` with ``-n`` before the extension of its last segment, or before its
    trailing ``/``: ``/a/x/`` -> ``/a/x-2/``, ``/a/x.html`` -> ``/a/x-2.html``."""
    parts = urlsplit(link)
    path = parts.path or "/"
    head, _, last = path.rstrip("/").rpartition("/")
    trail = "/" if path.endswith("/") else ""
    stem, dot, ext = last.rpartition(".") if "." in last.lstrip(".") else (last, "", "")
    return urlunsplit(parts._replace(path=f"{head}/{stem}-{n}{dot}{ext}{trail}"))


class LinkClaims:
    """The links given out in one ingest of one folder source (see the module docstring)."""

    def __init__(self, store: Store, source: str, *, freed: Collection[str] = (),
                 stored: bool = True) -> None:
        self.store, self.source = store, source
        self.stored = stored  # False: the store holds nothing of this source (not asked)
        self.freed = set(freed)  # keys whose stored link no longer counts (vanished)
        self.claimed: dict[str, str] = {}  # link -> key, this ingest
        self.link_of: dict[str, str | None] = {}  # key -> its link, this ingest

    def claim(self, article: Article) -> tuple[Article, str | None]:
        """``article`` with a link no other key holds, and the collision report (or None)."""
        wanted = article.link
        self.link_of[article.key] = wanted
        if wanted is None:
            return article, None
        link, n, first = wanted, 1, None
        while (holder := self._holder(link)) not in (None, article.key):
            first = first or holder
            n += 1
            link = numbered(wanted, n)
        self.claimed[link] = article.key
        self.link_of[article.key] = link
        if first is None:
            return article, None
        return (dataclasses.replace(article, link=link),
                f"link {wanted} is also {first}'s: published as {link}")

    def _holder(self, link: str) -> str | None:
        if link in self.claimed:
            return self.claimed[link]
        if not self.stored:
            return None
        stored = self.store.link_holders(self.source, [link]).get(link)
        if stored is None or stored in self.freed:
            return None
        if stored in self.link_of and self.link_of[stored] != link:
            return None  # re-read in this ingest with another link
        return stored
