"""`make test`: ruff, import contracts and ESLint, then every test tier on SQLite and on
PostgreSQL, and the media worker's tier.

The passes run side by side: each starts its own livekit-server, app and
browsers on free loopback ports, and most of a pass is spent waiting on media and browsers,
not on the CPU, so together they take little longer than the slower one alone. Each pass's
lines are printed as they come, prefixed with its database.

Every step runs even when an earlier one failed, so one CI run shows all that is wrong; the
exit status is 1 when any step failed. A summary with each step's time, and the tests that
failed, ends the output; a failed pass's whole output stays in its scratch directory.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@dataclass
class Step:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    prefix: str = ""
    scratch: Path | None = None  # deleted when the step passes; kept to look into when not
    failures: list[str] = field(default_factory=list)  # pytest's FAILED/ERROR summary lines


LINT_STEPS = [
    Step("ruff check", [str(VENV_BIN / "ruff"), "check", "."]),
    Step("ruff format", [str(VENV_BIN / "ruff"), "format", "--check", "."]),
    # The import rules of docs/ARCHITECTURE.md (contracts in pyproject.toml).
    Step("import contracts", [str(VENV_BIN / "lint-imports"), "--no-cache"]),
    Step("eslint", ["npm", "run", "--silent", "lint"]),
]


# The tiers that use the app's database run once per database; the media worker's own tier
# holds no database session, so it runs once, side by side with them.
DATABASE_TIERS = ["tests/unit", "tests/integration", "tests/browser"]
WORKER_TIER = ["tests/worker"]
# Tests whose subject is media made by the real worker (recording, captions) run in the
# SQLite pass only: their database work (events, transcripts, search) is tested on both
# databases by the unit tier, and running them twice cost the suite about 3 minutes. So do
# browser tests of the call itself (one_database): running them twice doubled the suite's
# busiest part, two sets of Chromiums and calls on 2 cores, for no database code of their own.
ONCE_ONLY = ["-m", "not media_worker and not one_database"]


# pytest's short summary (-ra) names each test that failed or errored; the summary at the end
# repeats them, since a CI report may keep only the tail of the output.
FAILURE_LINES = ("FAILED ", "ERROR ")

# The slowest tests of each pass end its output: where to look when the suite grows slow.
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=12"]


def test_pass(name: str, label: str, paths: list[str], env: dict[str, str]) -> Step:
    # Each pass keeps its own pytest temporary directory, so none cleans up another's (pytest
    # empties its basetemp at start: the pass's output log sits next to it, not in it).
    scratch = Path(tempfile.mkdtemp(prefix=f"meetings-tests-{name}-"))
    return Step(
        label,
        [*PYTEST, f"--basetemp={scratch / 'tmp'}", *paths],
        env,
        prefix=f"[{name}] ",
        scratch=scratch,
    )


def test_passes() -> list[Step]:
    return [
        test_pass("sqlite", "tests on SQLite", DATABASE_TIERS, {"TEST_DATABASE": "sqlite"}),
        test_pass(
            "postgresql",
            "tests on PostgreSQL",
            [*ONCE_ONLY, *DATABASE_TIERS],
            {"TEST_DATABASE": "postgresql"},
        ),
        test_pass("worker", "media worker tests", WORKER_TIER, {}),
    ]


def run(step: Step, results: dict[str, tuple[int, float]], output_lock: threading.Lock) -> None:
    with output_lock:
        print(f"== {step.name} ==", flush=True)
    began = time.monotonic()
    process = subprocess.Popen(
        step.command,
        cwd=PROJECT_DIR,
        env=os.environ | step.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    assert process.stdout is not None
    log_path = step.scratch / "output.log" if step.scratch else Path(os.devnull)
    with log_path.open("w") as log:
        for line in process.stdout:
            with output_lock:
                print(f"{step.prefix}{line}", end="", flush=True)
            log.write(line)
            if line.startswith(FAILURE_LINES):
                step.failures.append(line.rstrip())
    code = process.wait()
    results[step.name] = (code, time.monotonic() - began)
    if code == 0 and step.scratch:
        shutil.rmtree(step.scratch, ignore_errors=True)


def main() -> int:
    results: dict[str, tuple[int, float]] = {}
    output_lock = threading.Lock()
    for step in LINT_STEPS:
        run(step, results, output_lock)
    test_steps = test_passes()
    threads = [threading.Thread(target=run, args=(s, results, output_lock)) for s in test_steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("== summary ==")
    for step in LINT_STEPS + test_steps:
        code, seconds = results.get(step.name, (1, 0.0))
        print(f"{'ok    ' if code == 0 else 'FAILED'} {step.name} ({seconds:.0f} s)")
        for failure in step.failures:
            print(f"         {failure}")
        if code and step.scratch:
            print(f"         whole output: {step.scratch / 'output.log'}")
    return 1 if any(code for code, _ in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
