"""What the pipeline tells its caller (reports, progress) and asks it (stop now?)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import Stopped
from ..store import Changes

log = logging.getLogger("feeds.pipeline")

Progress = Callable[[str, int, int], None]  # (what, done, total)
Cancelled = Callable[[], bool]  # asked between steps: stop now?


def check(cancelled: Cancelled | None) -> None:
    """``Stopped`` when ``cancelled`` says so (asked between two steps)."""
    if cancelled is not None and cancelled():
        raise Stopped


@dataclass
class SourceReport:
    name: str
    kind: str
    changes: Changes | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    error: str | None = None  # the source failed as a whole (why: the name is ``name``)
    read: int = 0
    skipped: int = 0  # unchanged by stat, not read
    ignored: int = 0
    not_published: list[tuple[str, str]] = field(default_factory=list)  # (key, why): drafts,
    #                                               scheduled, expired, Status: hidden ...
    #: (key, why) of each file or folder ("key/") the scan left out: the layout's rules,
    #: include/exclude, hidden and temporary files, files no reader reads
    skips: list[tuple[str, str]] = field(default_factory=list)
    layout: str | None = None  # a folder's layout, resolved
    warning: str | None = None  # e.g. the layout or the globs leave out every file
    wake_at: datetime | None = None  # the earliest time a scheduled post or an expiry is due
    unsettled: list[str] = field(default_factory=list)  # modified too recently to read yet
    collisions: list[tuple[str, str]] = field(default_factory=list)  # (key, what link it got)
    duration: float = 0.0
    elsewhere: int = 0  # remote feeds another node of a shared store was fetching

    @property
    def rejected(self) -> int:
        return len(self.problems) + (1 if self.error else 0)


@dataclass
class FeedReport:
    name: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # files whose bytes were already right
    deleted: list[Path] = field(default_factory=list)  # archive pages left without items
    error: str | None = None


@dataclass
class BuildReport:
    output_dir: Path
    sources: list[SourceReport] = field(default_factory=list)
    feeds: list[FeedReport] = field(default_factory=list)
    pages_written: list[Path] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)

    @property
    def failed_feeds(self) -> int:
        return sum(1 for f in self.feeds if f.error)


class ChangeTotals:
    """The changes of several store calls (batches, feeds of one source), as one."""

    def __init__(self) -> None:
        self.calls = 0
        self.parts: list[Changes] = []

    def add(self, changes: Changes) -> None:
        self.calls += 1
        self.parts.append(changes)

    def result(self) -> Changes:
        return Changes(
            added=tuple(x for c in self.parts for x in c.added),
            changed=tuple(x for c in self.parts for x in c.changed),
            removed=tuple(x for c in self.parts for x in c.removed),
            unchanged=sum(c.unchanged for c in self.parts),
            renamed=tuple(x for c in self.parts for x in c.renamed),
            rejected=tuple(x for c in self.parts for x in c.rejected),
        )


def log_source(report: SourceReport) -> None:
    """One line per source at INFO (``-v``); problems are the caller's to print."""
    c = report.changes
    extra = {
        "source": report.name,
        "new": len(c.added) if c else 0,
        "changed": len(c.changed) if c else 0,
        "removed": len(c.removed) if c else 0,
        "rejected": report.rejected,
        "duration": f"{report.duration:.2f}s",
    }
    log.info("source %s %s", report.name, "failed" if report.error else "ingested", extra=extra)

