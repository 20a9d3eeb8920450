"""Scenario token_endpoint: POST /api/v1/meetings/<slug>/tokens for a host (bearer API token)
and for guests, at 1, 16 and 64 concurrent clients, next to the baseline endpoint."""

from bench.http_load import Request, run_closed_loop
from bench.stack import BASELINE_PATH, BenchStack

CONCURRENCY = (1, 16, 64)
REQUESTS_PER_CLIENT = {1: 100, 16: 40, 64: 15}
TARGET_RATIO_AT_16 = 0.6


# From a cProfile of 100 host token requests in-process (test client, same stack), taken
# 2026-11-23 with the machine's load average near 13: 70 ms per request, of which 28 ms is
# gateway.provision_room (a LiveKit CreateRoom on every token request, through
# async_to_sync: a new thread, event loop and aiohttp session per call), 12 ms the rate
# limiter (flask-limiter's memory storage starts a timer thread per hit), 7 ms loading the
# bearer token's user, the rest SQLAlchemy queries. The baseline is a static file.
NOTE = (
    "what limits it: every token request provisions the room in LiveKit (CreateRoom via "
    "async_to_sync, a new thread + event loop + HTTP session each time: ~40% of the request in "
    "a cProfile), then flask-limiter's in-memory moving window (~17%: a timer thread per hit) "
    "and the bearer-token user lookup (~10%); the baseline is a static file with none of "
    "these. Caching 'room provisioned' per occurrence for a few seconds, and Redis for the "
    "limiter, are the obvious levers."
)


def run(stack: BenchStack) -> dict:
    host = stack.make_host()
    slug, _room = stack.make_meeting(host, "Bench tokens")
    path = f"/api/v1/meetings/{slug}/tokens"

    def baseline(_n: int) -> Request:
        return ("GET", BASELINE_PATH, None, {})

    def as_host(_n: int) -> Request:
        return ("POST", path, {}, {"Authorization": f"Bearer {host.bearer}"})

    def as_guest(n: int) -> Request:
        return ("POST", path, {"display_name": f"Guest {n}"}, {})

    results: dict = {"path": "POST /api/v1/meetings/<slug>/tokens", "baseline": BASELINE_PATH}
    for clients in CONCURRENCY:
        total = clients * REQUESTS_PER_CLIENT[clients]
        row = {}
        for name, make in (("baseline", baseline), ("host", as_host), ("guest", as_guest)):
            row[name] = run_closed_loop(stack.base_url, make, clients, total).summary()
        base_rps = row["baseline"]["requests_per_second"] or 1
        for name in ("host", "guest"):
            row[name]["ratio_to_baseline"] = round(row[name]["requests_per_second"] / base_rps, 3)
        results[f"clients_{clients}"] = row
    at16 = results["clients_16"]
    worst = min(at16["host"]["ratio_to_baseline"], at16["guest"]["ratio_to_baseline"])
    results["note"] = NOTE
    results["target"] = {
        "ratio_at_16_at_least": TARGET_RATIO_AT_16,
        "ratio_at_16": worst,
        "met": worst >= TARGET_RATIO_AT_16,
    }
    return results
