"""Which files of a folder are articles, as the site generator that owns the folder says.

A folder source has a ``layout``: ``jekyll``, ``hugo``, ``zola``, ``pelican`` or ``plain`` (``auto``
picks one by :func:`detect`), and may have ``include``/``exclude`` globs.  :class:`Rules`
is both, compiled once per scan; the walker asks it about each folder it enters
(:meth:`Rules.enter`, which may skip the whole folder) and each file it finds
(:meth:`Rules.file`): a reason to skip it, or None.  Each answer is a few set lookups and
at most one match of one precompiled regular expression: O(1) per file, whatever the
number of patterns.

What each layout publishes (the generators' documented defaults):

* ``jekyll``: posts are files in a ``_posts`` folder (at any depth, also ``blog/_posts``)
  named ``YEAR-MONTH-DAY-title.ext`` (month and day of one or two digits).  Folders whose
  name starts with ``_`` (``_drafts``, ``_site``, ``_layouts`` ...) are not posts, nor are
  ``node_modules``/``vendor``; a file outside ``_posts`` is a page, not a post.
* ``hugo``: regular pages under ``content/`` (or the folder itself when it is the content
  folder): ``_index.*`` files are section/list pages; in a leaf bundle (a folder holding an
  ``index.*`` file) only the ``index`` file is a page, the rest are its resources; only
  Hugo's content formats are pages.
* ``zola``: as Hugo (``_index.md`` sections, page bundles), but only Markdown files are
  pages (Zola reads no other format).
* ``pelican``: articles under ``content/`` (or the folder itself), but not ``pages/``
  (pages, not articles) nor the static folders ``images/``, ``static/``, ``extra/``; only
  Pelican's reader formats (reStructuredText, Markdown, HTML).
* ``plain``: every file a reader reads.

Every layout skips repository files that are not articles (``README*``, ``LICENSE*``,
``CHANGELOG*``, ``NEWS`` in capitals, ``robots.txt`` ...).  Drafts, scheduled and
expired posts are decided after reading (the metadata says so): see
``feeds.pipeline.folder``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

__all__ = ["LAYOUTS", "Rules", "detect", "glob_problem", "glob_regex"]

from . import LAYOUTS

Layout = Literal["jekyll", "hugo", "zola", "pelican", "plain"]

#: a repository's files, not articles: by the name before its first dot, in any case ...
_REPOSITORY_FILES = frozenset({"README", "LICENSE", "LICENCE", "COPYING", "CHANGELOG",
                               "CONTRIBUTING", "CODE_OF_CONDUCT"})
#: ... or in capitals only ("news.md" may well be an article, "NEWS" is not) ...
_REPOSITORY_CAPITALS = frozenset({"AUTHORS", "CONTRIBUTORS", "CHANGES", "HISTORY", "NEWS",
                                  "NOTICE", "SECURITY", "MAINTAINERS", "FUNDING", "TODO"})
#: ... and a site's files for robots and crawlers (the whole name, any case)
_SITE_FILES = frozenset({"robots.txt", "humans.txt", "ads.txt", "security.txt"})
_JEKYLL_CONFIGS = ("_config.yml", "_config.yaml", "_config.toml")
_HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")
_OLD_HUGO_CONFIGS = ("config.toml", "config.yaml", "config.yml", "config.json")
#: Zola's ``config.toml`` has ``base_url`` (Hugo spells it ``baseURL``, in any case)
_ZOLA_CONFIG_KEY = re.compile(rb"^[ \t]*base_url[ \t]*=", re.MULTILINE)
#: keys only a Zola section's front matter has (``_index.md``): a content folder of Zola's
#: without its config beside it
_ZOLA_SECTION_KEYS = re.compile(
    rb"^[ \t]*(?:sort_by|paginate_by|paginate_path|generate_feeds?|page_template"
    rb"|insert_anchor_links|in_search_index|transparent)[ \t]*=", re.MULTILINE)
#: Jekyll's default ``exclude`` list (folders), besides every ``_x`` folder but ``_posts``
_JEKYLL_SKIP_DIRS = frozenset({"node_modules", "vendor", "gemfiles", ".sass-cache",
                               ".jekyll-cache"})
#: a Jekyll post's file name: ``YEAR-MONTH-DAY-title.ext`` (Jekyll's DATE_FILENAME_MATCHER)
_JEKYLL_POST = re.compile(r"^\d{2,4}-\d{1,2}-\d{1,2}-.+\.[^.]+$")
#: Hugo's content formats (by file suffix); others in content/ are resources
_HUGO_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".html", ".htm", ".rst", ".adoc",
                            ".asciidoc", ".ad", ".org", ".pandoc", ".pdc"})
#: Zola reads Markdown only
_ZOLA_SUFFIXES = frozenset({".md"})
#: Pelican's readers (by file suffix)
_PELICAN_SUFFIXES = frozenset({".rst", ".md", ".markdown", ".mkd", ".mdown", ".html", ".htm"})
#: Pelican's default PAGE_PATHS and the usual STATIC_PATHS, at the top of its content folder
_PELICAN_PAGES = "pages"
_PELICAN_STATIC = frozenset({"images", "static", "extra"})


class DirState(NamedTuple):
    """What a folder's position tells about the files in it (one per folder walked)."""

    content: bool  # inside the generator's content (Hugo/Pelican content/; Jekyll: always)
    posts: bool = False  # Jekyll: inside a ``_posts`` folder
    bundle: str | None = None  # Hugo: the leaf bundle this folder belongs to ("a/b/")
    depth: int = 0  # folders below the content root (Pelican: 0 is the top)


@dataclass(frozen=True)
class Rules:
    """A source's layout (resolved, never ``auto``) and globs, compiled."""

    layout: Layout
    content: str = ""  # the content folder, relative to the source ("content/" or "")
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    include_text: tuple[str, ...] = ()
    exclude_text: tuple[str, ...] = ()

    @classmethod
    def build(cls, root: Path, layout: str = "auto", include: Sequence[str] = (),
              exclude: Sequence[str] = ()) -> Rules:
        """The rules of a folder ``root`` (``auto``: :func:`detect`)."""
        resolved: Layout = detect(root) if layout == "auto" else layout  # type: ignore[assignment]
        return cls(resolved, _content_folder(root, resolved),
                   glob_regex(include) if include else None,
                   glob_regex(exclude) if exclude else None, tuple(include), tuple(exclude))

    def root_state(self) -> DirState:
        return DirState(content=not self.content)

    def enter(self, parent: DirState, key: str, name: str) -> DirState | str:
        """The state of the folder ``key`` (named ``name``) in a folder of ``parent``, or
        why none of it is read.  Hugo's leaf bundles are known once the folder is listed:
        see :meth:`listed`."""
        if self.exclude is not None and (m := self.exclude.match(key + "/")):
            return self._excluded(m)
        if not parent.content:
            if key + "/" == self.content:
                return DirState(content=True)
            return f"outside {self.layout.capitalize()}'s {self.content} folder"
        layout = self.layout
        if layout == "jekyll":
            if name == "_posts":
                return DirState(True, posts=True)
            if name[0] == "_":
                return "Jekyll drafts (not published)" if name == "_drafts" else \
                    f"Jekyll folder {name}/ (not posts)"
            if name in _JEKYLL_SKIP_DIRS:
                return "excluded by Jekyll's defaults"
            return parent
        if layout == "pelican":
            if parent.depth == 0 and name == _PELICAN_PAGES:
                return "Pelican pages (pages/ are not articles)"
            if parent.depth == 0 and name in _PELICAN_STATIC:
                return f"Pelican static files ({name}/)"
            return DirState(True, depth=parent.depth + 1)
        return parent

    def listed(self, state: DirState, key: str, names: Collection[str]) -> DirState:
        """``state`` once the folder ``key`` is listed (``names``): in Hugo's content, a
        folder holding an ``index`` page is a leaf bundle (when :attr:`needs_listing`)."""
        if state.content and state.bundle is None \
                and any(_is_hugo_index(n, "index") for n in names):
            return state._replace(bundle=key + "/")
        return state

    def _excluded(self, m: re.Match[str]) -> str:
        return f"excluded by {self.exclude_text[m.lastindex - 1]!r}" if m.lastindex \
            else "excluded"

    @property
    def needs_listing(self) -> bool:
        """Whether :meth:`listed` can change a folder's state (Hugo's and Zola's page
        bundles)."""
        return self.layout in ("hugo", "zola")

    def file(self, state: DirState, key: str, name: str) -> str | None:
        """Why the file ``key`` (``name`` in a folder of ``state``) is not an article, or
        None when it is one (for its layout and globs)."""
        if self.exclude is not None and (m := self.exclude.match(key)):
            return self._excluded(m)
        if self.include is not None and not self.include.match(key):
            return "not matched by include"
        stem = name.split(".", 1)[0]
        if stem.upper() in _REPOSITORY_FILES or stem in _REPOSITORY_CAPITALS \
                or name.lower() in _SITE_FILES:
            return "not an article (a repository file)"
        if not state.content:
            return f"outside {self.layout.capitalize()}'s {self.content} folder"
        layout = self.layout
        if layout == "plain":
            return None
        suffix = name[name.rfind("."):].lower()
        if layout == "jekyll":
            if not state.posts:
                return "a Jekyll page, not a post (not in a _posts folder)"
            if not _JEKYLL_POST.match(name):
                return "not named YEAR-MONTH-DAY-title as Jekyll posts must be"
            return None
        if layout in ("hugo", "zola"):
            generator = layout.capitalize()
            if _is_hugo_index(name, "_index"):
                return f"a {generator} section (list) page"
            if suffix not in (_HUGO_SUFFIXES if layout == "hugo" else _ZOLA_SUFFIXES):
                return f"not a {generator} content file ({suffix})"
            if state.bundle is not None and not (
                    key == state.bundle + name and _is_hugo_index(name, "index")):
                return f"a resource of the page bundle {state.bundle}"
            return None
        if suffix not in _PELICAN_SUFFIXES:
            return f"not a Pelican content file ({suffix})"
        return None


    def judge(self, root: Path, key: str) -> str | None:
        """Why the scan of ``root`` leaves out the file ``key`` (a '/'-separated path in
        it), or None when it reads it: the same questions, asked of one path
        (``feeds inspect``)."""
        state = self.root_state()
        parts = key.split("/")
        for depth, name in enumerate(parts[:-1]):
            folder = "/".join(parts[: depth + 1])
            entered = self.enter(state, folder, name)
            if isinstance(entered, str):
                return entered
            state = entered
            if self.needs_listing:
                with contextlib.suppress(OSError):  # unlistable: the scan would skip it too
                    state = self.listed(state, folder, os.listdir(root / folder))
        return self.file(state, key, parts[-1])


def _is_hugo_index(name: str, stem: str) -> bool:
    head, dot, suffix = name.rpartition(".")
    return bool(dot) and head == stem and "." + suffix.lower() in _HUGO_SUFFIXES


def detect(root: Path) -> Layout:
    """The layout of folder ``root``, from the files its generator keeps there (a few
    ``stat`` calls; the parent is asked too, for a source that is a site's content folder):

    * Jekyll: ``_config.yml`` (or ``.yaml``/``.toml``), or a ``_posts`` folder;
    * Zola: ``config.toml`` (or ``zola.toml``) with a ``base_url`` key beside ``content/``,
      or (a source that is the content folder itself) an ``_index.md`` whose front matter
      holds a key only Zola's sections have (``sort_by``, ``paginate_by``,
      ``generate_feeds`` ...);
    * Hugo: ``hugo.toml`` (``.yaml``/``.yml``/``.json``), or ``config.toml`` (...) beside a
      ``content/`` or ``archetypes/`` folder, or a ``config/_default/`` folder;
    * Pelican: ``pelicanconf.py``, or a ``content/`` folder holding a reStructuredText file
      or a Markdown file starting with a ``Title:`` header;
    * plain otherwise.
    """
    for folder in (root, root.parent):
        found = _detect_at(folder, content=folder is root.parent)
        if found is not None and (folder is root or root.name == "content"):
            return found
    return "plain"


def _detect_at(root: Path, *, content: bool) -> Layout | None:
    def has(name: str) -> bool:
        return os.path.exists(os.path.join(root, name))

    if any(has(n) for n in _JEKYLL_CONFIGS) or (not content and has("_posts")):
        return "jekyll"
    if _zola_site(root) or (not content and (
            _zola_section(root / "_index.md") or _zola_section(root / "content/_index.md"))):
        return "zola"
    if any(has(n) for n in _HUGO_CONFIGS) or has("config/_default") or (
            any(has(n) for n in _OLD_HUGO_CONFIGS) and (has("content") or has("archetypes"))):
        return "hugo"
    if has("pelicanconf.py") or (not content and _pelican_content(root / "content")):
        return "pelican"
    return None


def _head(path: Path, size: int = 4096) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def _zola_site(root: Path) -> bool:
    """Zola's config (``base_url = ...``) beside a ``content/`` folder."""
    return (root / "content").is_dir() and any(
        _ZOLA_CONFIG_KEY.search(_head(root / name)) for name in ("config.toml", "zola.toml"))


def _zola_section(index: Path) -> bool:
    """An ``_index.md`` in TOML front matter with a key of Zola's sections."""
    head = _head(index).lstrip(b"\xef\xbb\xbf")
    if not head.startswith(b"+++"):
        return False
    front = head[3:].split(b"\n+++", 1)[0]
    return bool(_ZOLA_SECTION_KEYS.search(front))


def _pelican_content(folder: Path, limit: int = 20) -> bool:
    """A reStructuredText file, or a Markdown one opening with ``Title:``, among the first
    ``limit`` files of ``folder`` (not its subfolders)."""
    try:
        with os.scandir(folder) as it:
            names = [e.name for _, e in zip(range(limit), it, strict=False) if e.is_file()]
    except OSError:
        return False
    for name in names:
        lower = name.lower()
        if lower.endswith(".rst"):
            return True
        if lower.endswith((".md", ".markdown", ".mkd", ".mdown")):
            try:
                with open(folder / name, "rb") as f:
                    if f.read(64).lstrip(b"\xef\xbb\xbf").lower().startswith(b"title:"):
                        return True
            except OSError:
                continue
    return False


def _content_folder(root: Path, layout: Layout) -> str:
    """Where a layout's articles are, relative to ``root``: Hugo's and Pelican's
    ``content/`` when ``root`` is the site (holds it), else ``root`` itself."""
    if layout in ("hugo", "zola", "pelican") and (root / "content").is_dir() \
            and root.name != "content":
        return "content/"
    return ""


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be an include/exclude glob, or None."""
    if not pattern.strip():
        return "must not be empty"
    if pattern.startswith("/") and len(pattern) == 1:
        return "'/' alone matches nothing: name files or folders"
    if "\x00" in pattern or any(part in ("..",) for part in pattern.split("/")):
        return f"must be a path inside the folder, got {pattern!r}"
    try:
        glob_regex([pattern])
    except re.error as exc:
        return f"not a glob: {exc}"
    return None


def glob_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    """One regular expression for ``patterns`` (gitignore-like, on the '/'-separated path
    relative to the source folder), each in its own group (``lastindex`` says which).

    ``*`` and ``?`` never match ``/``; ``**`` matches any number of folders; ``[...]`` a
    set of characters.  A pattern without ``/`` (``*.txt``, ``README*``) matches a name at
    any depth; one with ``/`` (``posts/*.md``, ``drafts/``) matches from the top (a
    leading ``/`` is allowed); a trailing ``/`` matches a folder and everything in it, as
    does a pattern that names a folder."""
    parts = [f"({_one(p)})" for p in patterns]
    return re.compile("(?:" + "|".join(parts) + ")")


def _one(pattern: str) -> str:
    folder = pattern.endswith("/")
    body = pattern.strip("/") if "/" in pattern.rstrip("/") else pattern.rstrip("/")
    anchored = "/" in pattern.rstrip("/")
    regex = _translate(body.lstrip("/"))
    prefix = "" if anchored else "(?:.*/)?"
    # a folder pattern matches what lies below; a file pattern the file, or a folder (then
    # everything below it)
    return prefix + regex + ("/.*" if folder else "(?:/.*)?") + r"\Z"


def _translate(glob: str) -> str:
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2 if glob.startswith("[!", i) or glob.startswith("[]", i)
                            else i + 1)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            inner = glob[i + 1:end]
            if inner.startswith("!"):  # never the "/" between folders
                inner = "^/" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)
