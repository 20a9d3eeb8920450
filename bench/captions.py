"""Scenario captions: how soon a spoken sentence appears as a final caption on a screen, and
what captioning costs the media worker.

    BENCH_CAPTION_ROUNDS=1 .venv/bin/python bench/run.py captions

A guest in headless Chromium sits in a room whose captioner (the media worker's
`meetings-captions` job, PocketSphinx) is dispatched as the app dispatches it; a synthetic
participant says flite sentences one after the other through its microphone. The page marks
(Date.now()) when each caption becomes final on screen; the speaker knows when the last
sample of each sentence went out. Latency = final on screen - end of the sentence.

CPU is that of the worker's process tree, sampled once a second: while one person speaks
(sentences with short pauses, as people talk), and while the same microphone sends only
silence (the VAD's share); the difference is what one speaking participant costs.
"""

import json
import os
import secrets
import statistics
import threading
import time
import wave

from livekit import api

from bench.browser import chromium
from bench.http_load import in_thread, percentile
from bench.recording import lk_call, sample
from bench.stack import BenchStack
from tests.support.browser_pages import PREVIEW_SHOWS_CAMERA
from tests.support.live import http_json
from tests.support.media_worker import WorkerProcess
from tests.support.speech import Microphone, flite_wav, word_error_rate
from tests.support.synthetic import BackgroundParticipants

SENTENCES = [
    "please remember to bring your notes and the budget for next year",
    "the children played in the garden until it was time for dinner",
    "he drove the car to the station and waited for the train",
    "can you please call me back when you have a free moment",
]
ROUNDS = int(os.environ.get("BENCH_CAPTION_ROUNDS", "3"))  # each says every sentence once
PAUSE_SECONDS = 1.5  # between sentences, as people pause (the VAD ends a sentence at 0.5 s)
QUIET_SECONDS = 2.5  # after the last sentence: its final arrives
SILENCE_SECONDS = 10
TARGET_P50_SECONDS = 1.5

# Each caption's first moment as final on screen, by segment id (captions.js marks the line
# with data-final="true"); kept in the page, read by the bench.
FINALS_SCRIPT = """
window.__finals = [];
new MutationObserver(() => {
  for (const line of document.querySelectorAll('#caption-lines .caption[data-final="true"]')) {
    if (line.dataset.seen) continue;
    line.dataset.seen = "1";
    const text = line.querySelector(".caption-text")?.textContent || "";
    window.__finals.push({ at: Date.now() / 1000, text });
  }
}).observe(document, { subtree: true, childList: true, attributes: true,
                       attributeFilter: ["data-final"] });
"""


def run(stack: BenchStack) -> dict:
    config = stack.livekit.config
    worker = WorkerProcess(
        config,
        stack.base_url,
        stack.workdir / "captions-worker.log",
        stack.workdir / "recordings",
        env={"MEETINGS_WORKER_JOBS": "captions"},
    ).wait_registered()
    try:
        host = stack.make_host()
        slug, room = stack.make_meeting(host, "Bench captions")
        with chromium() as browser:
            context = browser.new_context(base_url=stack.base_url)
            try:
                page = context.new_page()
                page.add_init_script(FINALS_SCRIPT)
                join_as_guest(page, slug)
                return caption_room(stack, worker, page, slug, room)
            finally:
                context.close()
    finally:
        worker.stop()


def join_as_guest(page, slug: str) -> None:
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    page.get_by_label("Your name").fill("Watcher")
    page.get_by_role("button", name="Join meeting").click()
    page.get_by_text("Connected").first.wait_for(timeout=30_000)


def caption_room(stack: BenchStack, worker: WorkerProcess, page, slug: str, room: str) -> dict:
    config = stack.livekit.config
    with BackgroundParticipants([ticket(stack, slug, "Sam Speaker")]) as people:
        mic = people.call(lambda rooms: Microphone.publish(rooms[0]))
        # What the app does when captions start: the sign in the page, then the job.
        metadata = api.UpdateRoomMetadataRequest(room=room, metadata='{"captions": "running"}')
        # (from a thread: Playwright's sync API keeps an event loop running in this one)
        in_thread(lambda: lk_call(config, lambda lk: lk.room.update_room_metadata(metadata)))
        job = {
            "job_id": "CJ_" + secrets.token_hex(16),
            "room": room,
            "language": "en",
            "occurrence_started_at": time.time(),
        }
        request = api.CreateAgentDispatchRequest(
            agent_name="meetings-captions", room=room, metadata=json.dumps(job)
        )
        in_thread(lambda: lk_call(config, lambda lk: lk.agent_dispatch.create_dispatch(request)))
        page.locator("#captions-indicator").wait_for(timeout=30_000)
        time.sleep(3)  # the captioner joins and subscribes
        silent = sample(worker, SILENCE_SECONDS)
        usage: dict = {}
        sampler = threading.Thread(target=lambda: usage.update(sample(worker, speech_seconds())))
        sampler.start()
        said = []
        for _ in range(ROUNDS):
            for sentence in SENTENCES:
                wav = flite_wav(sentence, "slt")
                started, ended = people.call(lambda rooms, w=wav: mic.say(w))
                said.append((sentence, started, ended))
                time.sleep(PAUSE_SECONDS)
        sampler.join()
        time.sleep(QUIET_SECONDS)
        finals = page.evaluate("window.__finals")
        people.call(lambda rooms: mic.aclose())
    return summarize(said, finals, silent, usage)


def speech_seconds() -> int:
    """How long the speech phase lasts (the sampler's window), in whole seconds."""
    total = sum(flite_duration(s) + PAUSE_SECONDS for s in SENTENCES) * ROUNDS
    return max(5, int(total) - 1)


def flite_duration(sentence: str) -> float:
    with wave.open(str(flite_wav(sentence, "slt")), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def ticket(stack: BenchStack, slug: str, name: str) -> dict:
    def request() -> dict:
        path = f"/api/v1/meetings/{slug}/tokens"
        status, answer = http_json(stack.base_url, "POST", path, {"display_name": name})
        if status != 201:
            raise RuntimeError(f"no ticket for {name}: {status} {answer}")
        return answer

    return in_thread(request)


def summarize(said: list, finals: list[dict], silent: dict, speaking: dict) -> dict:
    """Each sentence's latency: from its end to the last final that showed while it was said
    or before the next one began (the quiet after the last)."""
    latencies, errors = [], []
    for index, (sentence, started, ended) in enumerate(said):
        until = said[index + 1][1] if index + 1 < len(said) else ended + QUIET_SECONDS + 5
        shown = [f for f in finals if started < f["at"] <= until]
        if not shown:
            errors.append(1.0)
            continue
        latencies.append(max(f["at"] for f in shown) - ended)
        errors.append(word_error_rate(sentence, " ".join(f["text"] for f in shown)))
    per_speaker = max(speaking["cores_avg"] - silent["cores_avg"], 0.0)
    p50 = statistics.median(latencies) if latencies else None
    return {
        "sentences": len(said),
        "captioned": len(latencies),
        "latency_p50_s": round(p50, 2) if p50 is not None else None,
        "latency_p95_s": round(percentile(latencies, 95), 2) if latencies else None,
        "latency_max_s": round(max(latencies), 2) if latencies else None,
        "word_error_rate_avg": round(statistics.fmean(errors), 3),
        "finals_shown": [f["text"] for f in finals],
        "worker_cores_speaking": speaking["cores_avg"],
        "worker_cores_silent_mic": silent["cores_avg"],
        "cores_per_speaking_participant": round(per_speaker, 3),
        "worker_pss_mb": max(speaking["pss_mb_max"], silent["pss_mb_max"]),
        "target": {
            "latency_p50_s": TARGET_P50_SECONDS,
            "met": p50 is not None and p50 < TARGET_P50_SECONDS,
        },
    }
