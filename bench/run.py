"""`make bench`: start livekit-server and the app under gunicorn, run the scenarios, and
write bench/results/<date>.json and .md (<date>-<scenarios>.* when only some run).

    .venv/bin/python bench/run.py                       # every scenario
    .venv/bin/python bench/run.py token_endpoint page_weight
    BENCH_JOINS=5 .venv/bin/python bench/run.py time_to_join
    BENCH_ADMITS=3 .venv/bin/python bench/run.py admitted_join
    BENCH_RECORD_SECONDS=10 .venv/bin/python bench/run.py recording
    BENCH_CAPTION_ROUNDS=1 .venv/bin/python bench/run.py captions
    BENCH_STREAM_SECONDS=10 .venv/bin/python bench/run.py streaming
    BENCH_EFFECT_SECONDS=5 .venv/bin/python bench/run.py effects
"""

import importlib
import json
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench import machine, report  # noqa: E402
from bench.stack import start_stack, stop_stack  # noqa: E402

SCENARIOS = (
    "time_to_join",
    "admitted_join",
    "page_weight",
    "token_endpoint",
    "webhook_ingest",
    "join_storm",
    "recording",
    "captions",
    "streaming",
    "effects",
)
RESULTS_DIR = PROJECT_DIR / "bench" / "results"


def main(argv: list[str]) -> int:
    chosen = argv or list(SCENARIOS)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
        return 2
    results: dict = {"started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        stack = start_stack(Path(directory))
        try:
            results["machine"] = machine.describe(stack)
            for name in chosen:
                results[name] = run_scenario(name, stack)
        finally:
            stop_stack(stack)
    write(results, chosen)
    return 0


def run_scenario(name: str, stack) -> dict:
    """One scenario's results; a scenario that fails records its error, the others still run."""
    print(f"== {name}", flush=True)
    began = time.monotonic()
    try:
        outcome = importlib.import_module(f"bench.{name}").run(stack)
    except Exception as error:  # the report says what broke; the other numbers stay useful
        traceback.print_exc()
        outcome = {"error": f"{type(error).__name__}: {error}"}
    outcome["scenario_seconds"] = round(time.monotonic() - began, 1)
    print(json.dumps(outcome), flush=True)
    return outcome


def write(results: dict, chosen: list[str]) -> None:
    """bench/results/<date>.json and .md; a run of some scenarios gets its own files
    (<date>-page-weight.json) so it does not replace the day's full run."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = datetime.now(UTC).strftime("%Y-%m-%d")
    if set(chosen) != set(SCENARIOS):
        name += "".join(f"-{scenario.replace('_', '-')}" for scenario in chosen)
    stem = RESULTS_DIR / name
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    stem.with_suffix(".md").write_text(table)
    print(table)
    print(f"Results: {stem}.json and {stem}.md")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
