"""A short coverage-guided fuzzing run of every reader and of the config loader.

The long run (ten minutes a target) is ``python -m tests.fuzz all --seconds 600`` (README,
"Fuzzing").  Here each target runs a few seconds from a few seeds: enough to catch a reader
that crashes on the first mutations of ordinary input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz import SELF_TEST, TARGET_NAMES, atheris_available, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not atheris_available(), reason="atheris is not installed"),
]

SECONDS = 5
SEEDS = 20


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_a_short_fuzzing_run_finds_no_crash_and_no_hang(target: str, tmp_path: Path) -> None:
    result = run(target, SECONDS, workdir=tmp_path, seed_limit=SEEDS)
    assert result.executions > 0, result.line()
    assert (result.crashes, result.hangs) == (0, 0), "\n".join([result.line(), *result.findings])


def test_the_harness_reports_a_crash_with_its_input(tmp_path: Path) -> None:
    result = run(SELF_TEST, 2, workdir=tmp_path)
    assert result.crashes >= 1
    assert result.hangs == 0
    (finding,) = result.findings
    assert finding.startswith("crash: ValueError at targets.py")
    saved = Path(finding.rsplit("(", 1)[1].rstrip(")"))
    assert saved.read_bytes().startswith(b"boom")
    assert "a planted bug" in saved.with_suffix(".txt").read_text()
