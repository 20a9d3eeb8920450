"""`make test`: ruff, import contracts and ESLint, then every test tier on SQLite and on PostgreSQL.

Every step runs even when an earlier one failed, so one CI run shows all that is wrong; the
exit status is 1 when any step failed. A summary with each step's time ends the output.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

STEPS: list[tuple[str, list[str], dict[str, str]]] = [
    ("ruff check", [str(VENV_BIN / "ruff"), "check", "."], {}),
    ("ruff format", [str(VENV_BIN / "ruff"), "format", "--check", "."], {}),
    # The import rules of docs/ARCHITECTURE.md (contracts in pyproject.toml).
    ("import contracts", [str(VENV_BIN / "lint-imports"), "--no-cache"], {}),
    ("eslint", ["npm", "run", "--silent", "lint"], {}),
    ("tests on SQLite", [sys.executable, "-m", "pytest"], {}),
    ("tests on PostgreSQL", [sys.executable, "-m", "pytest"], {"TEST_DATABASE": "postgresql"}),
]


def run(name: str, command: list[str], env: dict[str, str]) -> tuple[int, float]:
    print(f"== {name} ==", flush=True)
    began = time.monotonic()
    code = subprocess.call(command, cwd=PROJECT_DIR, env=os.environ | env)
    return code, time.monotonic() - began


def main() -> int:
    results = [(name, *run(name, command, env)) for name, command, env in STEPS]
    print("== summary ==")
    for name, code, seconds in results:
        print(f"{'ok    ' if code == 0 else 'FAILED'} {name} ({seconds:.0f} s)")
    return 1 if any(code for _, code, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
