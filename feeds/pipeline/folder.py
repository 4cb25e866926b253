"""Folder ingest: scan, read only what changed (by a process pool when there is much),
normalize, and store in batches.  Also the reading of one file outside any scan
(``feeds inspect``)."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from .. import normalize
from ..config import Config, SourceConfig
from ..errors import ArticleError
from ..model import Article, FileState, RawInput
from ..normalize.fallbacks import apply_folder_fallbacks
from ..sources import folder
from ..sources.layouts import Rules
from ..store import Encoded, FolderState, Store, instant, stamp
from .links import LinkClaims, reading_fingerprint
from .reports import Cancelled, ChangeTotals, Progress, SourceReport, check
from .workers import map_surviving

log = logging.getLogger("feeds.pipeline")

#: below this many files to read, a process pool costs more than it saves
PARALLEL_THRESHOLD = 400
#: articles handed to the store per transaction on a large build.  The writer stores a
#: batch while the workers read on; the last batch is stored after the last read, so a
#: smaller one shortens that tail (2,000 -> 500: about 8% off a cold 1,000-article build)
BATCH = 500
#: the batch size once fewer than BATCH files are left to read, so that what is stored
#: after the last read (with the workers idle) is small
TAIL_BATCH = 100


@dataclass(frozen=True)
class _ReadJob:
    found: folder.FoundFile
    source: str
    max_size: int
    tz: tzinfo
    base_url: str | None
    link_pattern: str | None
    model_cache: Path | None = None  # where the language model is kept decompressed
    module: str = folder.__name__  # the source kind's module (``SOURCES``): its ``read``
    encode: bool = True  # also encode the article for the store (not for ``feeds inspect``)
    layout: str = "plain"  # the source's layout, resolved (never "auto")
    now: datetime | None = None  # the build's time


_Read = tuple[str, Article | None, FileState | None, str | None, Encoded | None]


def _read_one(job: _ReadJob) -> _Read:
    """Read and normalize one file: (key, article, state, problem, the article encoded for
    the store).  Runs in workers too: encoding there spares the single writer.

    Whatever a reader raises for this file that is not a bug of ours (see
    :mod:`feeds.normalize.failures`) becomes its one-line ``problem``, a plain string: no
    exception object, picklable or not, crosses back from a worker for a bad file."""
    found = job.found
    if job.model_cache is not None:
        from ..cache import use_cache

        use_cache(job.model_cache)
    try:
        raw: RawInput = importlib.import_module(job.module).read(
            found, source=job.source, max_size=job.max_size)
        state = raw.file
        assert state is not None  # a local source states its files
        # ``normalize.read`` looked up on the module: a test may wrap it (workers inherit it)
        context = normalize.ReadContext(job.tz, job.base_url, job.link_pattern, job.layout,
                                        job.now)
        article = normalize.read(raw, context)
        article = apply_folder_fallbacks(article, mtime_ns=state.mtime_ns, tz=job.tz,
                                         base_url=job.base_url, link_pattern=job.link_pattern)
        encoded = Encoded.of(article) if job.encode else None
    except ArticleError as exc:
        return found.key, None, None, exc.reason, None
    except Exception as exc:  # a reader or its parser choked: that file's rejection
        from ..normalize.failures import input_failure

        reason = input_failure(exc)
        if reason is None:
            raise  # a bug in our own code: the traceback says where
        return found.key, None, None, reason, None
    return found.key, article, state, None, encoded


def read_path(path: Path, *, tz: tzinfo, base_url: str | None = None, source: str = "",
              max_size: int = 5 * 1024 * 1024, key: str | None = None,
              model_cache: Path | None = None, layout: str = "plain",
              link_pattern: str | None = None) -> Article:
    """Read one article file outside of any scan (``feeds inspect``), as a folder of
    ``layout`` reads it."""
    reader = folder.reader_for(path.name, normalize.suffixes())
    if reader is None:
        raise ArticleError("not an article file (unknown extension)", path=str(path))
    try:
        st = path.stat()
    except OSError as exc:
        raise ArticleError(folder._reason(exc), path=str(path)) from None
    found = folder.FoundFile(key or path.name, str(path),
                             reader, FileState(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev))
    job = _ReadJob(found, source, max_size, tz, base_url, link_pattern, model_cache,
                   encode=False, layout=layout)
    _key, article, _state, problem, _encoded = _read_one(job)
    if article is None:
        raise ArticleError(problem or "unreadable", path=str(path))
    return article


def ingest_folder(
    store: Store,
    source: SourceConfig,
    config: Config,
    *,
    now: datetime,
    progress: Progress | None = None,
    workers: int | None = None,
    settle_ns: int = 0,
    model_cache: Path | None = None,
    paths: Collection[str] | None = None,
    cancelled: Cancelled | None = None,
) -> SourceReport:
    """Bring one folder into the store: read only files whose stat changed.

    With ``settle_ns`` (the daemon), a file modified less than that long ago may still be
    being written: it is left for a later pass (``report.unsettled``) rather than read.
    With ``paths`` (the daemon's watcher: keys relative to the folder that changed), only
    those are looked at, unless :func:`folder.scan_paths` says a full scan is needed;
    every other stored file is taken as it was.
    """
    assert source.path is not None
    started = time.monotonic()
    report = SourceReport(source.name, source.kind)
    rules = _rules(source)
    layout = rules.layout if rules is not None else "plain"
    # (the layout resolved: a folder that turns into a Hugo site is read again)
    fingerprint = reading_fingerprint(
        config, dataclasses.replace(source, layout=layout) if rules is not None else source)
    reread = store.reading_fingerprint(source.name) != fingerprint
    if reread:  # read with other settings: every file is read again (module links)
        paths = None
    files, known, present, removed = _scan(store, source, paths, report, rules)
    previous = store.folder_state(source.name) if rules is not None else None
    due = dict(previous.due) if previous is not None else {}
    now_stamp = stamp(now)
    to_read = _to_read(files, {} if reread else known, report, settle_ns=settle_ns,
                       again={key for key, at in due.items() if at <= now_stamp})
    if reread:
        to_read.sort(key=lambda f: (f.key in known, f.key))  # new keys first, as always
    vanished = set(known) - present if present is not None else set(known) & removed
    claims = LinkClaims(store, source.name, freed=vanished | removed,
                        stored=bool(known) or present is None)
    jobs = [_ReadJob(f, source.name, source.max_size, config.site.timezone, config.site.base_url,
                     source.link_pattern, model_cache, source.source_kind.module,
                     layout=layout, now=now)
            for f in to_read]
    # A renamed file has a new key and its old key vanishes: both must reach the store in
    # the same ingest for the id to follow the file, so new keys go in the first batch.
    first = max(BATCH, sum(1 for f in to_read if f.key not in known)) if vanished else BATCH
    batches = _Batches(store, source.name, now=now, present=present, removed=removed,
                       first_size=first, vanished=bool(vanished))
    for done, (key, article, state, problem, ready) in enumerate(_read_all(jobs, workers), 1):
        check(cancelled)  # (batches already stored stay: the next build skips them)
        if progress is not None:
            progress(source.name, done, len(jobs))
        if article is None:
            report.problems.append((key, problem or "unreadable"))
            continue
        report.read += 1
        if not _published(key, article, layout, now, report, batches, due):
            continue
        article, collision = claims.claim(_keep_guessed_date(store, article))
        if collision:
            report.collisions.append((key, collision))
        batches.add(key, article, state, ready)
        batches.flush_if_due(left=len(jobs) - done)
    batches.flush()
    if reread:
        store.set_reading_fingerprint(source.name, fingerprint)
    report.changes = batches.totals.result()
    if rules is not None:
        _save_state(store, report, previous, due, present=present, removed=removed)
    report.duration = time.monotonic() - started
    return report


def _published(key: str, article: Article, layout: str, now: datetime, report: SourceReport,
               batches: _Batches, due: dict[str, str]) -> bool:
    """Whether ``article`` is published (:func:`not_published`); if not, it goes away
    (were it published before) with its reason.  ``due`` keeps its expiry date."""
    why = not_published(article, layout, now)
    if why is not None:
        batches.drop(key)
        report.not_published.append((key, why))
        due.pop(key, None)
        if why.startswith("scheduled") and article.published is not None:
            report.wake_at = min(report.wake_at or article.published, article.published)
        return False
    if article.expires is not None:
        due[key] = stamp(article.expires)  # read again then, changed or not
    else:
        due.pop(key, None)
    return True


def _rules(source: SourceConfig) -> Rules | None:
    """The source's layout and globs, compiled (None for a kind that takes no layout)."""
    if "layout" not in source.source_kind.keys or source.path is None:
        return None
    return Rules.build(source.path, source.layout, source.include, source.exclude)


def not_published(article: Article, layout: str, now: datetime) -> str | None:
    """Why ``article`` is not published at ``now`` (None: it is), as its generator decides:
    the author's metadata (a draft, ``published: false``, ``Status: hidden`` ...), an
    expiry date passed (Hugo ``expiryDate``), and, for Hugo and Jekyll (not Pelican, whose
    ``WITH_FUTURE_DATES`` is on by default, nor plain folders), a date of its own still to
    come."""
    if article.unpublished:
        return article.unpublished
    if article.draft:
        return "draft"
    if article.expires is not None and article.expires <= now:
        return f"expired on {_when(article.expires)}"
    if layout in ("hugo", "jekyll") and article.published is not None \
            and article.date_source not in ("mtime", "first-seen") and article.published > now:
        return f"scheduled for {_when(article.published)}"
    return None


def _when(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _save_state(store: Store, report: SourceReport, previous: FolderState | None,
                due: dict[str, str], *, present: set[str] | None, removed: set[str]) -> None:
    """Keep what ``feeds status`` shows and the expiry dates of stored articles.  After a
    partial scan the counts stay those of the last full one."""
    if present is not None:
        due = {key: at for key, at in due.items() if key in present}
        state = FolderState(len(report.skips), len(report.not_published), due)
    else:
        due = {key: at for key, at in due.items() if key not in removed}
        state = FolderState(previous.skipped if previous else len(report.skips),
                            previous.not_published if previous else len(report.not_published),
                            due)
    expiring = [instant(at) for at in due.values()]
    if expiring:
        report.wake_at = min([*expiring, *([report.wake_at] if report.wake_at else [])])
    if state != previous:
        store.set_folder_state(report.name, state)


def _scan(store: Store, source: SourceConfig, paths: Collection[str] | None,
          report: SourceReport, rules: Rules | None
          ) -> tuple[list[folder.FoundFile], dict[str, FileState], set[str] | None, set[str]]:
    """The files found (by the source kind's module, picking the readers' suffixes, leaving
    out what ``rules`` skip), the stored states of the keys that matter, and either every
    key still there (after a full scan; then the last value is empty) or, after a partial
    one (``paths``; then None), the keys that went away."""
    assert source.path is not None
    name, root, suffixes = source.name, source.path, normalize.suffixes()
    local = source.source_kind.implementation()
    extra = {"rules": rules} if rules is not None else {}
    partial = local.scan_paths(root, paths, suffixes, **extra) if paths is not None else None
    scan, gone = partial if partial is not None else (local.scan(root, suffixes, **extra), None)
    report.ignored = len(scan.ignored)
    report.skips = [*scan.skipped, *((key, folder.ignore_reason(key)) for key in scan.ignored)]
    report.layout = rules.layout if rules is not None else None
    if gone is None and not scan.files and scan.skipped and rules is not None:
        globs = " and the include/exclude globs" if rules.include_text or rules.exclude_text \
            else ""
        report.warning = (f"nothing to read: the {rules.layout} layout{globs} leave out all "
                          f"{len(scan.skipped)} files and folders (see feeds build -v)")
    report.problems.extend((p.key, p.reason) for p in scan.problems)
    if gone is None:
        present = {f.key for f in scan.files} | {p.key for p in scan.problems}
        return scan.files, store.file_states(name), present, set()
    # the rest of the folder is as the last scan left it: only these keys are loaded
    removed = set(gone) | store.keys_under(name, gone)
    return scan.files, store.file_states(name, {f.key for f in scan.files} | removed), None, \
        removed


def _to_read(files: Sequence[folder.FoundFile], known: Mapping[str, FileState],
             report: SourceReport, *, settle_ns: int,
             again: Collection[str] = ()) -> list[folder.FoundFile]:
    """The files to read: not those whose stat is unchanged (``report.skipped``), unless
    ``again`` names them (an expiry date passed), nor those modified too recently
    (``report.unsettled``); keys not stored yet first."""
    to_read: list[folder.FoundFile] = []
    newest_allowed = time.time_ns() - settle_ns
    for found in files:
        old = known.get(found.key)
        if old is not None and _same_stat(old, found.state) and found.key not in again:
            report.skipped += 1
        elif settle_ns and found.state.mtime_ns > newest_allowed:
            report.unsettled.append(found.key)
        else:
            to_read.append(found)
    to_read.sort(key=lambda f: (f.key in known, f.key))
    return to_read


class _Batches:
    """Articles handed to the store in batches.  After a full scan (``present``), the
    first batch settles what went away since the last scan (renames too), and later ones
    load only their own keys; after a partial one, every batch removes ``removed``."""

    def __init__(self, store: Store, source: str, *, now: datetime, present: set[str] | None,
                 removed: set[str], first_size: int, vanished: bool) -> None:
        self.store, self.source, self.now = store, source, now
        self.present, self.removed = present, removed
        self.first_size, self.vanished = first_size, vanished
        self.batch: list[tuple[Article, FileState | None]] = []
        self.encoded: dict[str, Encoded] = {}
        self.totals = ChangeTotals()
        self.late: set[str] = set()  # after a full scan: drafts found once the first batch was in

    def drop(self, key: str) -> None:
        """``key`` is a draft now: a published article goes away."""
        if self.present is None:
            self.removed.add(key)
        elif self.totals.calls:
            self.late.add(key)
        else:
            self.present.discard(key)

    def add(self, key: str, article: Article, state: FileState | None,
            ready: Encoded | None) -> None:
        self.batch.append((article, state))
        if ready is not None:
            self.encoded[key] = ready  # unused if the date kept made it another article

    def flush_if_due(self, *, left: int) -> None:
        """Store the batch when full; near the end (``left`` files to read), in smaller
        batches: the last one waits for nothing."""
        limit = self.first_size if not self.totals.calls else BATCH
        if len(self.batch) >= limit or (
                len(self.batch) >= TAIL_BATCH and left < limit
                and (self.totals.calls or not self.vanished)):
            self.flush()

    def flush(self) -> None:
        if not self.batch and self.totals.calls:
            return
        if self.present is not None and not self.totals.calls:
            changes = self.store.ingest(self.source, list(self.batch), now=self.now,
                                        present=self.present, encoded=self.encoded)
        else:  # the others load only their own keys, not every key of the source
            changes = self.store.ingest(self.source, list(self.batch), now=self.now,
                                        gone=self.removed if self.present is None else self.late,
                                        encoded=self.encoded)
        self.totals.add(changes)
        self.batch.clear()
        self.encoded.clear()
        self.late.clear()


def _keep_guessed_date(store: Store, article: Article) -> Article:
    """An edited file with no date keeps the date it was first published under."""
    if article.date_source not in ("mtime", "first-seen"):
        return article
    item_id = store.lookup_id(article.source, article.key)
    item = store.get_item(item_id) if item_id else None
    if item is None or item.article.published is None:
        return article
    return dataclasses.replace(article, published=item.article.published,
                               date_source=item.article.date_source)


def _same_stat(old: FileState, new: FileState) -> bool:
    return old[:4] == new[:4]  # size, mtime, inode, device: not the digest


def _read_all(jobs: Sequence[_ReadJob], workers: int | None) -> Iterator[_Read]:
    """``_read_one`` of every job, in order; by a process pool when there are many (see
    :func:`workers.map_surviving`: a file whose reading kills its worker is reported as a
    problem, and the rest is read on).  One bad file never stops its folder."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
        for job in jobs:
            yield _read_one(job)
        return
    yield from map_surviving(_read_one, jobs, workers, killed=_killed,
                             readers={job.found.reader for job in jobs},
                             model_cache=jobs[0].model_cache)


def _killed(job: _ReadJob) -> _Read:
    log.error("%s: reading it killed the worker process", job.found.key)
    return (job.found.key, None, None,
            "reading it killed the worker process (a crash in a parser, or out of memory)",
            None)
