"""Size limits that keep every module and function readable on its own: no module in
``feeds/`` over 500 lines, no function over 80, and no list of exceptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import feeds

PACKAGE = Path(feeds.__file__).parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

def offenders(package: Path = PACKAGE) -> dict[str, int]:
    """Every module over MAX_MODULE_LINES and function over MAX_FUNCTION_LINES (decorators
    not counted), with its length in lines."""
    found: dict[str, int] = {}
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found[f"module {name}"] = lines
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found[f"function {name}:{node.name}"] = length
    return found


def test_no_module_or_function_is_over_its_size_limit() -> None:
    over = offenders()
    assert not over, "split these (lines): " + ", ".join(f"{w} ({n})" for w, n in over.items())


def test_the_limits_are_inclusive_and_nested_functions_count(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)

    def function(name: str, lines: int, indent: str = "") -> str:
        body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 1))
        return f"{indent}def {name}() -> None:\n{body}"

    (package / "fits.py").write_text(function("at_limit", MAX_FUNCTION_LINES)
                                     + "\n" * (MAX_MODULE_LINES - MAX_FUNCTION_LINES))
    (package / "sub" / "long.py").write_text(
        "class C:\n" + function("method", MAX_FUNCTION_LINES + 1, "    ")
        + "async " + function("coroutine", 2)
        + "\n" * (MAX_MODULE_LINES - MAX_FUNCTION_LINES - 3))
    assert len((package / "fits.py").read_text().splitlines()) == MAX_MODULE_LINES
    assert offenders(package) == {
        "module pkg/sub/long.py": MAX_MODULE_LINES + 1,
        "function pkg/sub/long.py:method": MAX_FUNCTION_LINES + 1,
    }
