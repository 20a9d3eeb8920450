"""Scenario time_to_join: a guest in headless Chromium clicks "Join meeting" in a meeting where
a synthetic participant already publishes video; the page itself times the click, the
"Connected" status and the first remote video frame (requestVideoFrameCallback)."""

import os
import statistics

from bench.browser import chromium
from bench.http_load import in_thread, ms, percentile
from bench.stack import BASELINE_PATH, BenchStack
from tests.support.live import http_json
from tests.support.synthetic import BackgroundParticipants

TARGET_MEDIAN_MS = 1500

# Installed before the page's own scripts: performance.now() at the click (capture phase,
# before the page's handler), at "Connected", and at the first frame a remote tile renders.
TIMING_SCRIPT = """
window.__bench = {};
document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest("#join-button") && !window.__bench.click) {
    window.__bench.click = performance.now();
  }
}, true);
new MutationObserver(() => {
  const status = document.getElementById("connection-status");
  if (status && status.textContent.trim() === "Connected" && !window.__bench.connected) {
    window.__bench.connected = performance.now();
  }
  const video = document.querySelector(".tile.remote video");
  if (video && !video.__benchWatched) {
    video.__benchWatched = true;
    video.requestVideoFrameCallback(() => {
      if (!window.__bench.frame) window.__bench.frame = performance.now();
    });
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""

BASELINE_FETCH = """
async (path) => {
  const began = performance.now();
  await (await fetch(path, { cache: "no-store" })).arrayBuffer();
  return performance.now() - began;
}
"""

PREVIEW_SHOWS_CAMERA = "() => document.querySelector('#preview-video').videoWidth > 0"


def run(stack: BenchStack) -> dict:
    joins = int(os.environ.get("BENCH_JOINS", "20"))
    host = stack.make_host()
    slug, _room = stack.make_meeting(host, "Bench time to join")
    ticket = publisher_ticket(stack, slug)
    connected, frames, baseline = [], [], []
    with BackgroundParticipants([ticket], publish_video=True), chromium() as browser:
        for number in range(joins):
            timing, base = one_join(browser, stack.base_url, slug, number)
            connected.append(timing["connected"] - timing["click"])
            frames.append(timing["frame"] - timing["click"])
            baseline.append(base)
    median_frame = statistics.median(frames)
    return {
        "joins": joins,
        "connected_ms": spread(connected),
        "first_remote_frame_ms": spread(frames),
        "baseline_ms": spread(baseline) | {"what": f"in-page fetch of {BASELINE_PATH}"},
        "ratio_frame_to_baseline": round(median_frame / statistics.median(baseline), 1),
        "samples_first_remote_frame_ms": [round(x) for x in frames],
        "target": {"median_ms_below": TARGET_MEDIAN_MS, "met": median_frame < TARGET_MEDIAN_MS},
    }


def publisher_ticket(stack: BenchStack, slug: str) -> dict:
    def request() -> dict:
        path = f"/api/v1/meetings/{slug}/tokens"
        status, ticket = http_json(stack.base_url, "POST", path, {"display_name": "Publisher"})
        if status != 201:
            raise RuntimeError(f"no ticket for the publishing participant: {status} {ticket}")
        return ticket

    return in_thread(request)


def one_join(browser, base_url: str, slug: str, number: int) -> tuple[dict, float]:
    """A fresh browser context (cold cache, new guest) joins once; (timings, baseline ms)."""
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        page.add_init_script(TIMING_SCRIPT)
        page.goto(f"/m/{slug}")
        page.wait_for_function(PREVIEW_SHOWS_CAMERA)
        page.get_by_label("Your name").fill(f"Joiner {number}")
        page.get_by_role("button", name="Join meeting").click()
        page.wait_for_function(
            "() => window.__bench.connected && window.__bench.frame", timeout=30_000
        )
        timing = page.evaluate("() => window.__bench")
        baseline = page.evaluate(BASELINE_FETCH, BASELINE_PATH)
        return timing, baseline
    finally:
        context.close()


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 1),
        "p90": ms(percentile(values, 90) / 1000),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }
