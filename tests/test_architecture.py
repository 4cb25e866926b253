"""The shape of the code: data flows one way, and the public API is what ``__all__`` says.

sources -> normalize -> store -> publish, wired by ``pipeline``; ``cli`` and ``daemon`` are
shells that nothing imports.  (The public API, ``__all__``, is pinned by
``tests/test_public_api.py``.)  Each rule below is checked on the real import graph (every
``import`` statement, including the ones inside functions).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import feeds

PACKAGE = Path(feeds.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every feeds.* module ``path`` imports (absolute names)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("feeds"):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names
                             if (PACKAGE.parent / f"{target}.{a.name}".replace(".", "/")
                                 ).with_suffix(".py").exists())
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("feeds"))
    found.discard(name)
    return found


GRAPH = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def importers_of(target: str) -> set[str]:
    return {m for m, deps in GRAPH.items() if target in deps}


def test_nothing_imports_the_shells() -> None:
    assert importers_of("feeds.cli") == {"feeds.__main__"}
    assert importers_of("feeds.daemon") == {"feeds.cli"}


def test_only_the_shells_import_the_pipeline() -> None:
    def inside(module: str) -> bool:
        return module == "feeds.pipeline" or module.startswith("feeds.pipeline.")

    importers = {m for m, deps in GRAPH.items() if any(inside(d) for d in deps)}
    # and the package root, which re-exports ``build`` on first use (tests/test_public_api.py)
    assert {m for m in importers if not inside(m)} <= {"feeds", "feeds.cli", "feeds.daemon"}


@pytest.mark.parametrize("shell", ["feeds.cli", "feeds.cli_args", "feeds.daemon", "feeds.watch"])
def test_the_shells_reach_the_stages_only_through_the_pipeline(shell: str) -> None:
    """No shell opens the store, calls a source, reads or renders by itself."""
    stages = ("feeds.store", "feeds.sources", "feeds.normalize", "feeds.publish",
              "feeds.decide", "feeds.select", "feeds.recover")
    for dep in GRAPH[shell]:
        assert not any(dep == s or dep.startswith(s + ".") for s in stages), \
            f"{shell} imports {dep}"


@pytest.mark.parametrize(("stage", "allowed"), [
    ("feeds.model", set()),
    ("feeds.errors", set()),
    ("feeds.decide", {"feeds.model", "feeds.errors", "feeds.retention"}),
    ("feeds.retention", {"feeds.model", "feeds.errors"}),
    # the store keeps each article's story keys (normalize.keys: pure, no third party)
    ("feeds.store", {"feeds.model", "feeds.errors", "feeds.decide", "feeds.normalize.keys",
                     "feeds.store"}),
    ("feeds.normalize", {"feeds.model", "feeds.errors", "feeds.normalize", "feeds.text"}),
    ("feeds.publish", {"feeds.model", "feeds.errors", "feeds.publish", "feeds.text"}),
    ("feeds.sources", {"feeds.model", "feeds.errors", "feeds.sources", "feeds.normalize",
                       "feeds"}),
    ("feeds.select", {"feeds.model", "feeds.errors", "feeds.normalize.keys"}),
])
def test_each_stage_imports_only_what_it_may(stage: str, allowed: set[str]) -> None:
    for module, deps in GRAPH.items():
        if module != stage and not module.startswith(stage + "."):
            continue
        for dep in deps:  # the package root holds only __version__ and re-exports
            ok = dep == "feeds" or any(dep == a or dep.startswith(a + ".") for a in allowed)
            assert ok, f"{module} imports {dep}"


def test_only_one_module_touches_each_boundary_library() -> None:
    def users(library: str) -> set[str]:
        out = set()
        for path in PACKAGE.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n == library or n.startswith(library + ".") for n in names):
                    out.add(module_name(path))
        return out

    assert users("feedparser") <= {"feeds.normalize.entries", "feeds.publish.render"}
    assert users("feedgen") <= {"feeds.publish.rss", "feeds.publish.atom"}
    assert users("sqlite3") and all(m.startswith("feeds.store.sqlite.") for m in users("sqlite3"))
    # the scheduler in the daemon, its triggers in schedule (which config checks cron with)
    assert users("apscheduler") == {"feeds.daemon", "feeds.schedule"}


def test_only_the_store_package_knows_its_sqlite_implementation() -> None:
    """Everything else asks for a ``Store`` (the protocol) and gets one from ``open_store``."""
    for module, deps in GRAPH.items():
        if any(d == "feeds.store.sqlite" or d.startswith("feeds.store.sqlite.") for d in deps):
            assert module.startswith("feeds.store"), f"{module} imports the SQLite store"
