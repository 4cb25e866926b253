"""The shape of the code: data flows one way, and the public API is what ``__all__`` says.

sources -> normalize -> store -> publish, wired by ``pipeline`` (the only package that
knows more than one stage); each stage imports only model, errors, text and itself; the
shells (``cli``, ``daemon``, ``server`` ...) import the pipeline, config and the tables,
and nothing imports them.  No exceptions list: a rule a pending refactor has yet to meet
is marked ``xfail(strict=True)`` with the reason, and fails once it is met.  (The public
API, ``__all__``, is pinned by ``tests/test_public_api.py``.)  Each rule below is checked
on the real import graph (every ``import`` statement, including the ones inside functions).
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


#: the stages data flows through, each a package with its table in ``__init__``
STAGES = ("feeds.sources", "feeds.normalize", "feeds.store", "feeds.publish")
#: the pure decisions the pipeline and config call (no stage of their own)
DECISIONS = ("feeds.select",)
#: the thin shells: command line, service, server, watcher, the service's monitor
SHELLS = ("feeds.__main__", "feeds.cli", "feeds.cli_args", "feeds.daemon", "feeds.server",
          "feeds.watch", "feeds.monitor")
#: what every stage may use: the shared types, the exception tree, the text helpers
SHARED = ("feeds.model", "feeds.errors", "feeds.text")


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def stage_of(module: str) -> str | None:
    return next((s for s in STAGES if under(module, s)), None)


def test_nothing_imports_the_shells() -> None:
    """A shell is imported by another shell only (``__main__`` -> cli -> daemon ...)."""
    for shell in SHELLS:
        for importer in importers_of(shell):
            assert under(importer, *SHELLS), f"{importer} imports the shell {shell}"
    assert importers_of("feeds.__main__") == set()


def test_only_the_shells_import_the_pipeline() -> None:
    importers = {m for m, deps in GRAPH.items() if any(under(d, "feeds.pipeline") for d in deps)}
    # and the package root, which re-exports ``build`` on first use (tests/test_public_api.py)
    assert {m for m in importers if not under(m, "feeds.pipeline")} <= {"feeds", *SHELLS}


@pytest.mark.parametrize("shell", SHELLS)
def test_the_shells_reach_the_stages_only_through_the_pipeline(shell: str) -> None:
    """No shell opens the store, calls a source, reads or renders by itself: a shell
    imports the pipeline, the configuration, the reports (``feeds.pipeline``) and
    infrastructure (locks, logs, systemd, schedules); of a stage, only its table (the
    package root: ``feeds.publish.FORMATS`` gives the server its media types)."""
    for dep in GRAPH[shell]:
        assert not under(dep, *DECISIONS), f"{shell} imports {dep}"
        stage = stage_of(dep)
        assert stage is None or dep == stage, f"{shell} imports {dep}, inside {stage}"


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_imports_only_the_shared_modules_and_itself(stage: str) -> None:
    """Each stage imports only model, errors, text and its own package: a source does
    not read, a reader does not store, a writer does not fetch."""
    for module, deps in GRAPH.items():
        if not under(module, stage):
            continue
        for dep in deps:  # the package root holds only __version__ and re-exports
            ok = dep == "feeds" or under(dep, stage, *SHARED)
            assert ok, f"{module} imports {dep}"


@pytest.mark.parametrize("module", sorted(
    m for m in GRAPH if not under(m, "feeds.pipeline", *STAGES)))
def test_only_the_pipeline_knows_more_than_one_stage(module: str) -> None:
    """Outside ``feeds.pipeline`` and the stages themselves (see above), a module reaches
    inside one stage at most (a stage's table, its package root, may be read by anyone:
    config validates through them)."""
    inside = {stage_of(dep) for dep in GRAPH[module] if stage_of(dep) and dep != stage_of(dep)}
    assert len(inside) <= 1, f"{module} reaches into {sorted(map(str, inside))}"


@pytest.mark.parametrize(("module", "allowed"), [
    ("feeds.model", set()),
    ("feeds.errors", set()),
    ("feeds.text", set()),
    ("feeds.select", {"feeds.model", "feeds.errors", "feeds.text"}),
    # the store's own decisions (ids, changes, retention) are pure: model and each other
    ("feeds.store.retention", {"feeds.model"}),
    ("feeds.store.plan", {"feeds.model"}),
])
def test_the_shared_modules_and_decisions_import_only_below_them(
        module: str, allowed: set[str]) -> None:
    for dep in GRAPH[module]:
        assert under(dep, *allowed), f"{module} imports {dep}"


def test_config_reads_the_tables_and_imports_no_stage() -> None:
    """Configuration validates through ``SOURCES`` and ``FORMATS``, never a stage's inside."""
    for dep in GRAPH["feeds.config"]:
        stage = stage_of(dep)
        assert stage is None or dep == stage, f"feeds.config imports {dep}"
        assert not under(dep, "feeds.pipeline", *SHELLS), f"feeds.config imports {dep}"


def test_the_tables_import_no_implementation_at_load_time() -> None:
    """Importing a table does not import its plug-ins (they load when used): a table
    module's top-level imports are the shared modules only."""
    for stage in ("feeds.sources", "feeds.normalize", "feeds.publish"):
        path = PACKAGE.parent / stage.replace(".", "/") / "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # top level only: TYPE_CHECKING blocks and functions aside
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("feeds"):
                assert under(node.module or "", *SHARED), f"{stage} imports {node.module}"


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
    assert users("psycopg") and all(m.startswith("feeds.store.postgres.")
                                    for m in users("psycopg"))
    # the scheduler in the daemon, its triggers in schedule (which config checks cron with)
    assert users("apscheduler") == {"feeds.daemon", "feeds.schedule"}


def test_only_the_store_package_knows_its_sqlite_implementation() -> None:
    """Everything else asks for a ``Store`` (the protocol) and gets one from ``open_store``."""
    for module, deps in GRAPH.items():
        if any(d == "feeds.store.sqlite" or d.startswith("feeds.store.sqlite.") for d in deps):
            assert module.startswith("feeds.store"), f"{module} imports the SQLite store"
