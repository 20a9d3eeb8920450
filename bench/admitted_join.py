"""Scenario admitted_join: a guest waits in the lobby, the host admits them through the API,
and the guest's page connects; compared with a guest who joins a meeting without a lobby,
measured the same way in the same run (issue 17 item 1: within 0.5 s of a direct join).

Times are on the machine's wall clock, shared by the bench and every page: the admit is
taken just before its POST, the page's "click" and "webrtc" join marks (User Timing) from
performance.timeOrigin.
"""

import os
import statistics
import time

from bench.browser import chromium
from bench.http_load import in_thread
from bench.stack import BenchStack
from bench.time_to_join import spread
from tests.support.browser_pages import PREVIEW_SHOWS_CAMERA
from tests.support.live import http_json

TARGET_EXTRA_MS = 500
WAIT_SECONDS = 3  # how long each guest waits in the lobby before the admit

MARK_AT = """(name) => {
  const mark = performance.getEntriesByName(name)[0];
  return mark ? performance.timeOrigin + mark.startTime : null;
}"""
CONNECTED = "() => performance.getEntriesByName('join:published').length > 0"
# The admitted guest's milestones, from the host's Admit (no one else publishes in this room).
ADMITTED_MILESTONES = ("token", "signal", "webrtc", "stage", "published")


def run(stack: BenchStack) -> dict:
    joins = int(os.environ.get("BENCH_ADMITS", "5"))
    host = stack.make_host()
    direct_slug, _ = stack.make_meeting(host, "Bench direct join")
    lobby_slug, _ = stack.make_meeting(host, "Bench admitted join", lobby=True)
    admitted, direct, asks, phases = [], [], [], []
    with chromium() as browser:
        for number in range(joins):
            direct.append(one_direct(browser, stack.base_url, direct_slug, number))
            took, count, milestones = one_admitted(browser, stack, host.bearer, lobby_slug, number)
            admitted.append(took)
            asks.append(count)
            phases.append(milestones)
    extra = statistics.median(admitted) - statistics.median(direct)
    return {
        "joins": joins,
        "admit_to_connected_ms": spread(admitted),
        "direct_click_to_connected_ms": spread(direct),
        "extra_ms": round(extra),
        "admitted_phases_ms": {
            name: spread([p[name] for p in phases if p[name] is not None])
            for name in ADMITTED_MILESTONES
            if any(p[name] is not None for p in phases)
        },
        "samples_admit_ms": [round(x) for x in admitted],
        "samples_direct_ms": [round(x) for x in direct],
        "lobby_requests_max": max(asks),
        "wait_seconds": WAIT_SECONDS,
        "target": {"extra_ms_below": TARGET_EXTRA_MS, "met": extra < TARGET_EXTRA_MS},
    }


def ready_guest(browser, base_url: str, slug: str, name: str):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    page.get_by_label("Your name").fill(name)
    return context, page


def one_direct(browser, base_url: str, slug: str, number: int) -> float:
    context, page = ready_guest(browser, base_url, slug, f"Direct {number}")
    try:
        page.get_by_role("button", name="Join meeting").click()
        page.wait_for_function(CONNECTED, timeout=30_000)
        return page.evaluate(MARK_AT, "join:webrtc") - page.evaluate(MARK_AT, "join:click")
    finally:
        context.close()


def one_admitted(browser, stack: BenchStack, bearer: str, slug: str, number: int):
    """(admit → connected ms, lobby requests the page made while waiting)."""
    context, page = ready_guest(browser, stack.base_url, slug, f"Admitted {number}")
    try:
        asks = []
        page.on("request", lambda request: "/lobby/" in request.url and asks.append(request))
        page.get_by_role("button", name="Join meeting").click()
        page.get_by_text("in line").wait_for()
        time.sleep(WAIT_SECONDS)
        admitted_at = in_thread(lambda: admit(stack.base_url, bearer, slug))
        page.wait_for_function(CONNECTED, timeout=30_000)
        marks = {name: page.evaluate(MARK_AT, f"join:{name}") for name in ADMITTED_MILESTONES}
        milestones = {name: at - admitted_at if at else None for name, at in marks.items()}
        return milestones["webrtc"], len(asks), milestones
    finally:
        context.close()


def admit(base_url: str, bearer: str, slug: str) -> float:
    """Admit the first in line as the host does; the wall-clock ms just before the POST."""
    auth = {"Authorization": f"Bearer {bearer}"}
    status, queue = http_json(base_url, "GET", f"/api/v1/meetings/{slug}/lobby", headers=auth)
    if status != 200 or not queue["items"]:
        raise RuntimeError(f"nobody in the lobby: {status} {queue}")
    path = f"/api/v1/meetings/{slug}/lobby/{queue['items'][0]['id']}/admit"
    at = time.time() * 1000
    status, answer = http_json(base_url, "POST", path, {}, auth)
    if status != 200:
        raise RuntimeError(f"admit refused: {status} {answer}")
    return at
