"""Folder source: a directory tree -> article files, read safely.

``scan`` walks the tree and sorts what it finds into article files (with their ``stat``
and input kind, by the file ``suffixes`` the caller hands it: ``feeds.normalize.suffixes()``),
problems (a file that should be an article but cannot be read: one line each) and
ignored names (hidden files, editor temp files, unknown extensions).  ``read`` reads one
file into a :class:`~feeds.model.RawInput` without ever blocking (FIFOs are never opened),
following no link that leaves the folder, and refusing files over the size limit or
changing under our feet.

Nothing here parses articles: that is ``feeds.normalize``'s job.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from ..errors import ArticleError, SourceError
from ..model import FileState, RawInput
from .layouts import DirState, Rules

#: file suffix (".md", lower case) -> the input kind of such files
Suffixes = Mapping[str, str]
#: suffixes of the temp files editors and downloaders leave around
_TEMP_SUFFIXES = frozenset({"swp", "swo", "swx", "swpx", "tmp", "temp", "part", "partial",
                            "crdownload", "bak", "orig", "rej"})


class FoundFile(NamedTuple):  # one per file of a scan: a tuple is cheap to build
    key: str  # path relative to the folder, '/'-separated: the article's key in its source
    path: str  # the real path (links resolved, known to be inside the folder)
    reader: str  # the input kind: "text", "markdown", "html" ...
    state: FileState


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    reason: str


@dataclass(slots=True)
class Scan:
    files: list[FoundFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # hidden, temp, no reader: see ignore_reason
    #: (key, reason): what the source's layout and globs leave out (a folder: "key/")
    skipped: list[tuple[str, str]] = field(default_factory=list)


def is_ignored_name(name: str) -> bool:
    """Hidden files (``.x``), and editor temp files (``x~``, ``#x#``, ``x.swp``, ``4913``)."""
    return _classify(name, {}) is False  # the rules are written once, in _classify


def ignore_reason(key: str) -> str:
    """Why a scan ignored ``key`` (one of ``Scan.ignored``), in a few words."""
    parts = key.split("/")
    for part in parts:
        if part and part[0] == ".":
            return "hidden"
        if _classify(part, {}) is False:
            return "an editor's or a download's temporary file"
    stem, dot, suffix = parts[-1].rpartition(".")
    return f"no reader for .{suffix.lower()} files" if dot and stem else "no reader (no suffix)"


def reader_for(name: str, suffixes: Suffixes) -> str | None:
    stem, dot, suffix = name.rpartition(".")
    return suffixes.get("." + suffix.lower()) if dot and stem else None


def _classify(name: str, suffixes: Suffixes) -> str | Literal[False] | None:
    """False for an ignored name (:func:`is_ignored_name`), else :func:`reader_for`: both
    at once, since a scan asks for every file (one ``rpartition``).  The only place the
    ignore rules are written."""
    if not name or name[0] in ".#" or name[-1] == "~" or name == "4913":
        return False
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return None
    suffix = suffix.lower()
    if suffix in _TEMP_SUFFIXES:
        return False
    return suffixes.get("." + suffix) if stem else None


def scan(root: Path, suffixes: Suffixes, rules: Rules | None = None) -> Scan:
    """Walk ``root`` (following links only while they stay inside it), leaving out what
    ``rules`` (the source's layout and globs) say is no article (``Scan.skipped``)."""
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise SourceError(f"folder {root} cannot be opened: {_reason(exc)}") from None
    if not real_root.is_dir():
        raise SourceError(f"{root} is not a folder")
    result = Scan()
    rules = rules or Rules("plain")
    _walk(real_root, str(real_root), "", {}, result, suffixes, rules, rules.root_state(),
          frozenset({real_root}))
    result.files.sort(key=lambda f: f.key)
    return result


def scan_paths(root: Path, keys: Iterable[str], suffixes: Suffixes,
               rules: Rules | None = None) -> tuple[Scan, set[str]] | None:
    """What :func:`scan` would say of just ``keys`` (paths relative to ``root``, as a
    watcher reports them), and the keys that are gone; None when only a full scan can
    tell (a folder or a link among them, a key leaving the folder, the folder itself).

    One ``lstat`` per key (and, for Hugo, a listing of each folder on its way): the
    daemon's answer to one changed file, whatever the size of the archive.
    """
    rules = rules or Rules("plain")
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise SourceError(f"folder {root} cannot be opened: {_reason(exc)}") from None
    result = Scan()
    gone: set[str] = set()
    for key in sorted(set(keys)):
        parts = key.split("/")
        if not key or any(part in ("", ".", "..") for part in parts):
            return None
        if any(is_ignored_name(part) for part in parts):
            result.ignored.append(key)
            continue
        parent = real_root.joinpath(*parts[:-1])
        try:
            if parent != real_root and parent.resolve(strict=True) != parent:
                return None  # a link on the way: the full scan knows where it leads
            st = os.lstat(parent / parts[-1])
        except FileNotFoundError:
            gone.add(key)
            continue
        except (OSError, RuntimeError):
            return None
        if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
            return None
        reader = _classify(parts[-1], suffixes) or None
        state = _state_of(real_root, parts, rules)
        if state is None:
            return None
        if not isinstance(state, DirState):  # (a NamedTuple is a tuple too)
            result.skipped.append(state)
            gone.add(key)  # (a stored article it was goes away)
            continue
        why = rules.file(state, key, parts[-1]) if reader is not None else None
        if why is not None:
            result.skipped.append((key, why))
            gone.add(key)
            continue
        _sort(result, key, str(parent / parts[-1]), reader, st)
    return result, gone


def _state_of(real_root: Path, parts: list[str], rules: Rules
              ) -> DirState | tuple[str, str] | None:
    """The state of the folder holding ``parts`` (a key, split), as :func:`_walk` would
    find it; (folder key, reason) when the rules skip that folder; None when a folder on
    the way cannot be listed (a full scan will say why)."""
    state = rules.root_state()
    for i, name in enumerate(parts[:-1]):
        sub = "/".join(parts[:i + 1])
        entered = rules.enter(state, sub, name)
        if isinstance(entered, str):
            return sub + "/", entered
        state = entered
        if rules.needs_listing:
            try:
                state = rules.listed(state, sub, os.listdir(real_root / sub))
            except OSError:
                return None
    return state


def _sort(result: Scan, key: str, path: str, reader: str | None, st: os.stat_result) -> None:
    """File a non-folder entry, as :func:`scan` and :func:`scan_paths` both do."""
    if reader is None:
        result.ignored.append(key)
    elif not stat.S_ISREG(st.st_mode):
        result.problems.append(Problem(key, f"not a regular file ({_file_type(st.st_mode)})"))
    else:
        state = FileState(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        result.files.append(FoundFile(key, path, reader, state))


def _walk(real_root: Path, directory: str, prefix: str, seen: dict[tuple[Path, DirState], str],
          result: Scan, suffixes: Suffixes, rules: Rules, state: DirState,
          ancestors: frozenset[Path]) -> None:
    """One ``stat`` per regular file (``DirEntry`` caches it); links are resolved and
    checked.  A folder the rules skip is one entry of ``result.skipped``, not walked.

    A folder reached again through a link (``_posts -> archive``) is walked again only
    when the rules see it differently there (Jekyll's posts, not pages), else skipped as
    the same folder; ``seen`` holds each (folder, state) walked, so links cost at most
    one walk per state.  A link to a folder above is a cycle (``ancestors``).  Entries
    are walked in name order: the same tree gives the same keys."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        result.problems.append(Problem(prefix.rstrip("/") or ".", _reason(exc)))
        return
    if prefix and rules.needs_listing:
        state = rules.listed(state, prefix.rstrip("/"), [e.name for e in entries])
    file_rule = rules.file
    for entry in entries:
        name = entry.name
        key = prefix + name
        reader = _classify(name, suffixes)
        if reader is False:
            result.ignored.append(key)
            continue
        path = entry.path
        try:
            if entry.is_symlink():
                try:
                    target = Path(path).resolve(strict=True)
                except RuntimeError:
                    result.problems.append(Problem(key, "symlink loop"))
                    continue
                except OSError as exc:
                    reason = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
                    result.problems.append(Problem(key, reason))
                    continue
                if not target.is_relative_to(real_root):
                    result.problems.append(
                        Problem(key, "symlink leads outside the source folder: not followed"))
                    continue
                path = str(target)
                st = os.stat(path)
            elif entry.is_dir(follow_symlinks=False):
                st = None
            elif reader is None:
                result.ignored.append(key)  # not an article: not even a stat
                continue
            elif (why := file_rule(state, key, name)) is not None:
                result.skipped.append((key, why))  # nor a file the rules leave out
                continue
            else:
                st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            result.problems.append(Problem(key, _reason(exc)))
            continue
        if st is None or stat.S_ISDIR(st.st_mode):
            entered = rules.enter(state, key, name)
            if isinstance(entered, str):
                result.skipped.append((key + "/", entered))
                continue
            real = Path(path).resolve()
            if real in ancestors:
                result.problems.append(Problem(key, "symlink cycle (a folder above)"))
                continue
            walked = seen.setdefault((real, entered), key)
            if walked != key:
                result.skipped.append((key + "/", f"the same folder as {walked}/"))
                continue
            _walk(real_root, path, key + "/", seen, result, suffixes, rules, entered,
                  ancestors | {real})
            continue
        if path != entry.path and reader is not None \
                and (why := file_rule(state, key, name)) is not None:  # a link to a file
            result.skipped.append((key, why))
            continue
        _sort(result, key, path, reader, st)


def read(found: FoundFile, *, source: str, max_size: int) -> RawInput:
    """The file's bytes, kind and state (with a digest) as source ``source``'s input;
    ``ArticleError`` naming the reason."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(found.path, flags)
    except OSError as exc:
        raise ArticleError(_reason(exc), path=found.key) from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise ArticleError(f"not a regular file ({_file_type(before.st_mode)})", path=found.key)
        if before.st_size > max_size:
            raise ArticleError(
                f"file too large ({_human(before.st_size)}; the limit is {_human(max_size)})",
                path=found.key)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_size:
                raise ArticleError(f"file too large (over {_human(max_size)})", path=found.key)
            chunks.append(chunk)
        after = os.fstat(fd)
    except OSError as exc:
        raise ArticleError(_reason(exc), path=found.key) from None
    finally:
        os.close(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or \
            total != after.st_size:
        raise ArticleError("file changed while it was being read (still being written?)",
                           path=found.key)
    data = b"".join(chunks)
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    state = FileState(after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev, digest)
    return RawInput(data, found.key, found.reader, source, file=state)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENOENT:
            return "file vanished"
        return f"unreadable: {exc.strerror or exc}"
    return str(exc)


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
