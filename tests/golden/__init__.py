"""Golden files: fixed inputs (``sample.py``) and the exact bytes each renderer must produce.

Regenerate after an intended change of output, then review the diff::

    UPDATE_GOLDEN=1 pytest tests/test_publish_*.py

With ``UPDATE_GOLDEN=1`` a golden comparison rewrites its file instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent


def assert_golden(name: str, data: bytes) -> None:
    """``data`` equals ``tests/golden/<name>`` byte for byte (or rewrites it on request)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
        return
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes()
    assert data == expected, (
        f"output differs from {path} (rerun with UPDATE_GOLDEN=1 if the change is intended)\n"
        f"--- got ---\n{data.decode('utf-8', 'replace')}"
    )
