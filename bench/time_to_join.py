"""Scenario time_to_join: a guest in headless Chromium clicks "Join meeting" in a meeting where
a synthetic participant already publishes video. The page's own join marks (User Timing:
token, signal, webrtc, stage, subscribed, published) and the first remote video frame
(requestVideoFrameCallback, from tests.support.joining) give each phase, from the click.

Before issue 18 the page published its camera and microphone one after the other and only
then showed the call; `BEFORE` is that code measured the same way (see bench/results)."""

import os
import statistics

from bench.browser import chromium
from bench.http_load import in_thread, ms, percentile
from bench.stack import BASELINE_PATH, BenchStack
from tests.support.browser_pages import PREVIEW_SHOWS_CAMERA
from tests.support.joining import JOIN_MILESTONES, JOIN_TIMING_SCRIPT, join_milestones
from tests.support.live import http_json
from tests.support.synthetic import BackgroundParticipants

# Click to first remote frame, median, of commit 7bb1fb7 (before issue 18) measured by this
# scenario: bench/results/2026-12-07-time-to-join-before-issue18.md.
BEFORE_MEDIAN_FRAME_MS = float(os.environ.get("BENCH_BEFORE_FRAME_MS", "427.7"))
TARGET_REDUCTION = 0.40  # at least 40% less than before
TARGET_FRAME_AFTER_SUBSCRIBED_MS = 200
# The other participant sends 30 frames a second, as a browser's camera does: a new <video>
# shows the first frame that arrives after it is attached, so the rate is part of the wait.
PUBLISHER_FPS = 30

BASELINE_FETCH = """
async (path) => {
  const began = performance.now();
  await (await fetch(path, { cache: "no-store" })).arrayBuffer();
  return performance.now() - began;
}
"""

JOINED = """() => ['join:published', 'join:frame'].every(
  (name) => performance.getEntriesByName(name).length)"""


def run(stack: BenchStack) -> dict:
    joins = int(os.environ.get("BENCH_JOINS", "20"))
    host = stack.make_host()
    slug, _room = stack.make_meeting(host, "Bench time to join")
    ticket = publisher_ticket(stack, slug)
    samples: list[dict] = []
    baseline: list[float] = []
    publisher = BackgroundParticipants([ticket], publish_video=True, fps=PUBLISHER_FPS)
    with publisher, chromium() as browser:
        for number in range(joins):
            milestones, base = one_join(browser, stack.base_url, slug, number)
            samples.append(milestones)
            baseline.append(base)
    return summarize(samples, baseline)


def summarize(samples: list[dict], baseline: list[float]) -> dict:
    phases = {}
    for name in JOIN_MILESTONES:
        values = [s[name] for s in samples if s[name] is not None]
        phases[name] = spread(values) if values else None
    frames = [s["frame"] for s in samples]
    subscribed = [s for s in samples if s["subscribed"] is not None]
    after_subscribed = [s["frame"] - s["subscribed"] for s in subscribed]
    median_frame = statistics.median(frames)
    frame_lag = statistics.median(after_subscribed) if after_subscribed else None
    result = {
        "joins": len(samples),
        "publisher_fps": PUBLISHER_FPS,
        "phases_ms": phases,
        "first_remote_frame_ms": phases["frame"],
        "frame_after_subscribed_ms": spread(after_subscribed) if after_subscribed else None,
        "frames_before_own_publish": sum(s["frame"] < s["published"] for s in samples),
        "baseline_ms": spread(baseline) | {"what": f"in-page fetch of {BASELINE_PATH}"},
        "samples_first_remote_frame_ms": [round(x) for x in frames],
        "target": {
            "frame_after_subscribed_ms_below": TARGET_FRAME_AFTER_SUBSCRIBED_MS,
            "frame_after_subscribed_met": frame_lag is not None
            and frame_lag < TARGET_FRAME_AFTER_SUBSCRIBED_MS,
        },
    }
    if BEFORE_MEDIAN_FRAME_MS:
        reduction = 1 - median_frame / BEFORE_MEDIAN_FRAME_MS
        result["target"] |= {
            "before_median_frame_ms": BEFORE_MEDIAN_FRAME_MS,
            "reduction": round(reduction, 3),
            "reduction_at_least": TARGET_REDUCTION,
            "reduction_met": reduction >= TARGET_REDUCTION,
        }
    return result


def publisher_ticket(stack: BenchStack, slug: str) -> dict:
    def request() -> dict:
        path = f"/api/v1/meetings/{slug}/tokens"
        status, ticket = http_json(stack.base_url, "POST", path, {"display_name": "Publisher"})
        if status != 201:
            raise RuntimeError(f"no ticket for the publishing participant: {status} {ticket}")
        return ticket

    return in_thread(request)


def one_join(browser, base_url: str, slug: str, number: int) -> tuple[dict, float]:
    """A fresh browser context (cold cache, new guest) joins once; (milestones, baseline ms)."""
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        page.add_init_script(JOIN_TIMING_SCRIPT)
        page.goto(f"/m/{slug}")
        page.wait_for_function(PREVIEW_SHOWS_CAMERA)
        page.get_by_label("Your name").fill(f"Joiner {number}")
        page.get_by_role("button", name="Join meeting").click()
        page.wait_for_function(JOINED, timeout=30_000)
        milestones = join_milestones(page)
        baseline = page.evaluate(BASELINE_FETCH, BASELINE_PATH)
        return milestones, baseline
    finally:
        context.close()


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 1),
        "p90": ms(percentile(values, 90) / 1000),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }
