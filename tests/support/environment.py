"""Where the tests run: the project's directories, and what to do when a real part is missing."""

import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Screenshots and reports; the PostgreSQL pass, which runs beside the SQLite one in `make
# test`, writes its own under a subdirectory so the two never overwrite each other's.
_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts" / ("" if _DATABASE == "sqlite" else _DATABASE)
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, what: str) -> None:
    """Skip locally when a real part is missing; under CI=true that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(f"{what} is not available")
