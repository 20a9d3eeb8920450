"""Scenario token_endpoint: POST /api/v1/meetings/<slug>/tokens for a host (bearer API token)
and for guests, at 1, 16 and 64 concurrent clients, next to the baseline endpoint."""

from bench.http_load import Request, run_closed_loop
from bench.stack import BASELINE_PATH, BenchStack

CONCURRENCY = (1, 16, 64)
REQUESTS_PER_CLIENT = {1: 100, 16: 40, 64: 15}
TARGET_RATIO_AT_16 = 0.6


# From a cProfile of 200 host and 200 guest token requests in-process (test client, real
# livekit-server), 2026-11-23 after the room is provisioned once per occurrence: about 3 ms
# per request, none of it LiveKit; spread over Flask/Werkzeug, four SQL statements
# (meeting, the occurrence's state, the person's standing and lobby entry; a host's API
# token and user instead of the last two), the JWT and the rate limiter (~3%). The room is
# created again only when the database's memo is older than 10 s (half the 20 s
# departure_timeout) and nobody is in it; this scenario joins nobody, so rows measured more
# than 10 s after its first token request (often the 64-client ones) pay a CreateRoom each.
NOTE = (
    "what limits it: the request's own Python work, about 3 ms in a cProfile (Flask, four SQL "
    "statements, the JWT, the rate limiter at ~3%), where the baseline is a static file "
    "WhiteNoise serves in a fraction of a millisecond; no LiveKit call while the room is "
    "known to be provisioned. Nobody joins in this scenario, so from 10 s after its first "
    "request (often the 64-client rows) an empty room that is not new is created again on "
    "every request, as it may be about to close."
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
