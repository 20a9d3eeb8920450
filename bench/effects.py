"""Scenario effects: the frame rate of a camera published with background effects off and on,
as a synthetic participant receives it. A guest in headless Chromium (fake camera, 1280x720)
joins, then picks each effect in Settings; each is measured over BENCH_EFFECT_SECONDS once it
is applied. Headless Chromium here has no GPU: WebGL 2 runs on SwiftShader (the CPU), so these
are the numbers of a machine without graphics acceleration, not of a laptop's browser."""

import os
import time

from bench.browser import chromium
from bench.http_load import in_thread
from bench.stack import BenchStack
from tests.support.browser_pages import PREVIEW_SHOWS_CAMERA
from tests.support.live import http_json
from tests.support.video_watcher import VideoWatcher
from tests.support.waiting import wait_for

SECONDS = float(os.environ.get("BENCH_EFFECT_SECONDS", "15"))
EFFECTS = ("None", "Slight blur", "Strong blur", "Ocean")
NAME = "Bench Camera"
STATE = "document.querySelector('#effects-call').dataset.state"
PUBLISHED = "document.documentElement.dataset.joinPhase === 'published'"


def run(stack: BenchStack) -> dict:
    host = stack.make_host()
    slug, _room = stack.make_meeting(host, "Bench background effects")
    measured = {}
    with chromium() as browser:
        context = browser.new_context(base_url=stack.base_url)
        try:
            page = context.new_page()
            page.goto(f"/m/{slug}")
            page.wait_for_function(PREVIEW_SHOWS_CAMERA)
            page.get_by_label("Your name").fill(NAME)
            page.get_by_role("button", name="Join meeting").click()
            wait_for(lambda: page.evaluate(PUBLISHED), 60, what="the camera published")
            with VideoWatcher(watcher_ticket(stack, slug), NAME) as watcher:
                wait_for(lambda: watcher.frame is not None, 30, what="the camera at the watcher")
                page.get_by_role("button", name="Settings").click()
                for effect in EFFECTS:
                    measured[effect] = measure(page, watcher, effect)
        finally:
            context.close()
    return {"seconds_each": SECONDS, "effects": measured}


def measure(page, watcher: VideoWatcher, effect: str) -> dict:
    began = time.monotonic()
    page.locator("#effects-call").get_by_label(effect, exact=True).check()
    # Off before any effect was picked: effects.js is not even loaded (no state).
    done = (None, "off") if effect == "None" else ("on", "error", "unsupported")
    wait_for(lambda: page.evaluate(STATE) in done, 120, what=f"{effect} applied")
    applied = time.monotonic() - began
    time.sleep(3)  # frames of the previous effect still in flight
    fps = watcher.fps(SECONDS)
    return {
        "fps": round(fps, 1),
        "applied_s": round(applied, 1),
        "state": page.evaluate(STATE),
        "received": "{1}x{0}".format(*watcher.frame.shape[:2]),
    }


def watcher_ticket(stack: BenchStack, slug: str) -> dict:
    def request() -> dict:
        path = f"/api/v1/meetings/{slug}/tokens"
        status, ticket = http_json(stack.base_url, "POST", path, {"display_name": "Watcher"})
        if status != 201:
            raise RuntimeError(f"no ticket for the watching participant: {status} {ticket}")
        return ticket

    return in_thread(request)
