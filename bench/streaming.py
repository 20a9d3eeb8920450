"""Scenario streaming (issue 21): what streaming a meeting out and in costs the media worker,
and how far behind the room a viewer of the watch page's HLS is.

    BENCH_STREAM_SECONDS=10 .venv/bin/python bench/run.py streaming

1. Stream out: CPU (cores, average and p95) and memory (PSS) of a worker serving only
   `meetings-stream` while its job streams a room of 2 synthetic people (moving cameras, tones)
   to an RTMP destination (Debian's ffmpeg listening, as YouTube would) and to HLS at once.
2. Stream in: the same for a worker serving only `meetings-ingest` while an encoder (ffmpeg,
   testsrc2 1280x720 at 25 fps + a tone, as OBS would) publishes into a room through it.
3. Glass to glass: a synthetic participant flashes white for 0.2 s every 2 s. A hidden
   subscriber in the room marks when each flash arrives (mean luma of the decoded frames);
   headless Chromium plays the job's HLS with hls.js configured as static/js/watch.js does and
   marks when the flash shows on its video (a canvas read every 30 ms). Latency = shown on
   the player - arrived in the room, per flash.

Flashes every 2 s make "which flash is this" ambiguous at a latency of several seconds: each
one the player shows is traced back through its HLS fragment (hls.js's sequence number and
start, the wall time the segment appeared in the playlist) to an estimate of when it was
captured, and matched to the nearest flash the room saw.
"""

import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import statistics
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import psutil
from livekit import api, rtc

from bench.browser import chromium
from bench.http_load import in_thread, percentile
from bench.recording import lk_call, probe_video, sample
from bench.stack import BenchStack
from meetings.livekit_process import free_port
from tests.support.media_worker import WorkerProcess
from tests.support.rtmp_encoder import Encoder
from tests.support.synthetic import BackgroundParticipants
from tests.worker.ingest_room import listening
from tests.worker.participants import ParticipantsProcess
from tests.worker.stream_out_room import RtmpReceiver

WARM_UP_SECONDS = 5  # the job joins, subscribes and opens its outputs: not what streaming costs
MEASURE_SECONDS = int(os.environ.get("BENCH_STREAM_SECONDS", "30"))
IDLE_SECONDS = 5
# A viewer's delay is fixed when it starts playing (hls.js starts 2 segments behind the
# playlist's end, wherever in the 2 s segment cycle that is): viewers arriving at 0, 1/3 and
# 2/3 of a cycle after a segment appeared, each watching about 4 flashes.
VIEWERS = 3
WATCH_SECONDS = 9
SEGMENTS_BEFORE_VIEWER = 3  # a viewer arriving at a stream already live, not at its first frame
FLASH_PERIOD = 2.0  # tests/worker/participants.py publish_flashes
MATCH_WITHIN = 0.9  # s: a player flash traced back to within this of a room flash is that one
SEGMENT = re.compile(r"^seg_(\d+)\.ts$", re.M)

# A bare watch page: hls.js set up as static/js/watch.js sets it up, and a probe of the picture.
PAGE = """<!doctype html>
<meta charset="utf-8">
<video id="video" muted autoplay playsinline width="640" height="360"></video>
<script src="hls.light.min.js"></script>
<script>
const video = document.getElementById("video");
const canvas = document.createElement("canvas");
canvas.width = 64;
canvas.height = 36;
const context = canvas.getContext("2d", { willReadFrequently: true });
window.__samples = []; // [Date.now() s, video.currentTime, mean luma 0-255]
window.__frags = []; // fragments buffered: {sn, start, duration}
const player = new Hls({ enableWorker: false, liveSyncDurationCount: 2 });
player.on(Hls.Events.FRAG_BUFFERED, (_event, data) => {
  const { sn, start, duration } = data.frag;
  window.__frags.push({ sn, start, duration });
});
player.on(Hls.Events.ERROR, (_event, error) => {
  if (error.fatal) window.__error = error.details;
});
player.loadSource(new URLSearchParams(location.search).get("src"));
player.attachMedia(video);
video.play().catch(() => {});
setInterval(() => {
  if (video.readyState < 2) return;
  context.drawImage(video, 0, 0, 64, 36);
  const pixels = context.getImageData(0, 0, 64, 36).data;
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
  }
  window.__samples.push([Date.now() / 1000, video.currentTime, sum / (pixels.length / 4)]);
}, 30);
</script>
"""


def run(stack: BenchStack) -> dict:
    streams = stack.workdir / "streams"
    worker = start_worker(stack, "stream", STREAMS_DIR=str(streams))
    try:
        idle = sample(worker, IDLE_SECONDS)
        out = stream_out(stack, worker, streams)
        latency = glass_to_glass(stack, streams)
    finally:
        worker.stop()
    worker = start_worker(stack, "ingest")
    try:
        stream_in = ingest(stack, worker)
    finally:
        worker.stop()
    return {
        "stream_out": out,
        "stream_in": stream_in,
        "glass_to_glass": latency,
        "idle_stream_worker": {"cores_avg": idle["cores_avg"], "pss_mb": idle["pss_mb_max"]},
        "measure_seconds": MEASURE_SECONDS,
        "note": "CPU and PSS are the worker's process tree (the job process and its idle spare), "
        "sampled once a second on a 2-core machine that also runs livekit-server, the app, the "
        "synthetic people and, for stream out, the ffmpeg RTMP receiver. Stream in: the ffmpeg "
        "encoder pushing 720p25 is not part of the worker tree (its own CPU is given beside). "
        "Glass to glass = flash on the HLS player's screen - the same flash decoded by a "
        "subscriber in the room: the worker's subscribe, composite and libx264 encode, 2 s "
        "segments (a flash waits for its segment to close and the playlist to list it), "
        "hls.js's live sync of 2 segments behind the playlist's end, its fetches and decode. "
        "Each viewer keeps the delay it started with; viewers arriving at other points of "
        "the segment cycle differ by up to a segment. segment_in_playlist_p50_s is the part up "
        "to the playlist listing the flash's segment, for the one point of a segment where "
        "the flashes fall (they and the segments share the 2 s period).",
    }


def start_worker(stack: BenchStack, jobs: str, **env: str) -> WorkerProcess:
    return WorkerProcess(
        stack.livekit.config,
        stack.base_url,
        stack.workdir / f"{jobs}-worker.log",
        stack.workdir / "recordings",
        env={"MEETINGS_WORKER_JOBS": jobs, **env},
    ).wait_registered()


# 1. Stream out


def stream_out(stack: BenchStack, worker: WorkerProcess, streams: Path) -> dict:
    config = stack.livekit.config
    room = create_room(stack, "bench-stream")
    people = [
        {"room": room, "identity": f"person-{i}", "moving": True, "tone": 220 + 55 * i}
        for i in range(2)
    ]
    group = ParticipantsProcess(config.ws_url, config.api_key, config.api_secret, people)
    receiver = RtmpReceiver(stack.workdir, secrets.token_urlsafe(12))
    try:
        job = stream_job(room, [{"output_id": "o_1", "kind": "rtmp", "url": receiver.url}])
        dispatch(stack, "meetings-stream", job)
        playlist = streams / job["job_id"] / "index.m3u8"
        wait_until(
            lambda: playlist.exists() and receiver.path.exists() and receiver.path.stat().st_size,
            60,
            "the stream's first HLS segment and RTMP bytes",
        )
        time.sleep(WARM_UP_SECONDS)
        usage = sample(worker, MEASURE_SECONDS)
        delete_room(stack, room)  # the meeting ends: the job ends, the destination unpublished
        with contextlib.suppress(AssertionError):  # counted below from what it wrote
            receiver.wait(20)
    finally:
        receiver.close()
        group.close()
    frames, seconds = probe_video(receiver.path)
    return {
        **usage,
        "outputs": "RTMP to ffmpeg + HLS, 1280x720 25 fps H.264 + AAC, room of 2 moving cameras",
        "rtmp_received_seconds": round(seconds, 1),
        "rtmp_received_fps": round(frames / seconds, 1) if seconds else 0,
    }


def stream_job(room: str, rtmp: list[dict]) -> dict:
    """The job as stream-out-contract.md has the app dispatch it."""
    return {
        "job_id": "SJ_" + secrets.token_hex(16),
        "room": room,
        "layout": "grid",
        "outputs": [*rtmp, {"output_id": "hls", "kind": "hls"}],
    }


# 2. Stream in


def ingest(stack: BenchStack, worker: WorkerProcess) -> dict:
    room = create_room(stack, "bench-ingest")
    ingest_id, key, port = "in_" + secrets.token_hex(6), secrets.token_urlsafe(18), free_port()
    job = {
        "job_id": "IJ_" + secrets.token_hex(16),
        "room": room,
        "ingest_id": ingest_id,
        "name": "Stage camera",
        "rtmp_port": port,
        "stream_key_sha256": hashlib.sha256(key.encode()).hexdigest(),
    }
    dispatch(stack, "meetings-ingest", job)
    try:
        wait_until(lambda: listening(port), 30, "the ingest job listening")
        with Encoder(f"rtmp://127.0.0.1:{port}/live/{key}") as encoder:
            wait_until(
                lambda: f"ingest-{ingest_id}" in participants(stack, room),
                30,
                "the ingested camera in the room",
            )
            time.sleep(WARM_UP_SECONDS)
            encoder_process = psutil.Process(encoder.process.pid)
            before, began = sum(encoder_process.cpu_times()[:2]), time.monotonic()
            usage = sample(worker, MEASURE_SECONDS)
            encoder_cores = (sum(encoder_process.cpu_times()[:2]) - before) / (
                time.monotonic() - began
            )
    finally:
        delete_room(stack, room)
    return {
        **usage,
        "input": "one RTMP encoder, H.264 1280x720 25 fps + AAC, published as a camera",
        "encoder_cores_avg_outside_worker": round(encoder_cores, 3),
    }


# 3. Glass to glass


def glass_to_glass(stack: BenchStack, streams: Path) -> dict:
    config = stack.livekit.config
    room = create_room(stack, "bench-latency")
    watcher = RoomWatcher(config.ws_url, hidden_token(config, room))
    with watcher:
        group = ParticipantsProcess(
            config.ws_url,
            config.api_key,
            config.api_secret,
            [{"room": room, "identity": "flasher", "flashes": True}],
        )
        try:
            job = stream_job(room, [])
            dispatch(stack, "meetings-stream", job)
            hls = streams / job["job_id"]
            with PlaylistWatcher(hls / "index.m3u8") as playlist:
                wait_until(
                    lambda: len(playlist.appeared) >= SEGMENTS_BEFORE_VIEWER,
                    60,
                    f"{SEGMENTS_BEFORE_VIEWER} HLS segments",
                )
                seen = watch_hls(stack.workdir / "site", streams, job["job_id"], playlist)
                appeared = dict(playlist.appeared)
            delete_room(stack, room)
        finally:
            group.close()
        arrived = [at for at, _ in rising_edges(list(watcher.lumas), threshold=128)]
    return latencies(arrived, seen, appeared)


def watch_hls(site: Path, streams: Path, job_id: str, playlist: "PlaylistWatcher") -> list:
    """VIEWERS bare watch pages in Chromium, one after the other, each for WATCH_SECONDS once
    it plays: their samples and the fragments hls.js buffered."""
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(PAGE)
    vendor = Path(__file__).resolve().parent.parent / "static" / "vendor" / "hls.light.min.js"
    shutil.copy(vendor, site / "hls.light.min.js")
    (site / "streams").symlink_to(streams)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen = []
    try:
        with chromium() as browser:
            for viewer in range(VIEWERS):
                count = len(playlist.appeared)
                wait_until(lambda c=count: len(playlist.appeared) > c, 10, "a new HLS segment")
                time.sleep(viewer * FLASH_PERIOD / VIEWERS)
                page = browser.new_page()
                source = f"streams/{job_id}/index.m3u8"
                page.goto(f"http://127.0.0.1:{server.server_port}/index.html?src={source}")
                page.wait_for_function("window.__samples.length > 0", timeout=30_000)
                page.wait_for_timeout(WATCH_SECONDS * 1000)
                seen.append(page.evaluate("({samples: window.__samples, frags: window.__frags, "
                                          "error: window.__error || null})"))  # fmt: skip
                page.close()
    finally:
        server.shutdown()
        server.server_close()
    return seen


class QuietHandler(SimpleHTTPRequestHandler):
    """Static files, never cached (the playlist changes every 2 s), no log lines."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class RoomWatcher:
    """A hidden subscriber in the room: (wall time, mean luma) of every camera frame decoded."""

    def __init__(self, url: str, token: str) -> None:
        self.lumas: list[tuple[float, float]] = []
        self._bots = BackgroundParticipants([{"livekit_url": url, "token": token}])
        self._tasks: list[asyncio.Task] = []

    def __enter__(self) -> "RoomWatcher":
        self._bots.__enter__()
        self._bots.call(self._subscribe)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bots.call(self._stop)
        self._bots.__exit__()

    async def _subscribe(self, rooms: list[rtc.Room]) -> None:
        def on_track(track: rtc.Track, *_: object) -> None:
            if track.kind == rtc.TrackKind.KIND_VIDEO:
                self._tasks.append(asyncio.create_task(self._read(track)))

        rooms[0].on("track_subscribed", on_track)

    async def _read(self, track: rtc.Track) -> None:
        stream = rtc.VideoStream(track)
        try:
            async for event in stream:
                frame = event.frame.convert(rtc.VideoBufferType.I420)
                size = frame.width * frame.height
                luma = np.frombuffer(frame.data, np.uint8, count=size)[::7]
                self.lumas.append((time.time(), float(luma.mean())))
        finally:
            await stream.aclose()

    async def _stop(self, rooms: list[rtc.Room]) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class PlaylistWatcher:
    """When each segment first appears in the HLS playlist (read every 50 ms)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.appeared: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "PlaylistWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            try:
                text = self.path.read_text()
            except OSError:
                continue  # not written yet
            now = time.time()
            for number in SEGMENT.findall(text):
                self.appeared.setdefault(int(number), now)


def rising_edges(samples: list, threshold: float) -> list:
    """The samples (wall time first, luma last) where the luma first crossed `threshold`
    upwards, at most one per flash."""
    edges: list = []
    for before, now in itertools.pairwise(samples):
        if before[-1] < threshold <= now[-1] and (
            not edges or now[0] - edges[-1][0] > FLASH_PERIOD / 2
        ):
            edges.append(now)
    return edges


def latencies(arrived: list[float], viewers: list[dict], appeared: dict[int, float]) -> dict:
    """Each flash the players showed, traced to the room's flash it was (see the docstring)."""
    shown, in_playlist, unmatched, per_viewer = [], [], 0, []
    for seen in viewers:
        delays, segments, missed = viewer_latencies(arrived, seen, appeared)
        shown += delays
        in_playlist += segments
        unmatched += missed
        per_viewer.append([round(x, 2) for x in delays])
    return {
        "flashes_in_room": len(arrived),
        "flashes_on_players": len(shown),
        "unmatched": unmatched,
        "player_errors": [seen["error"] for seen in viewers if seen["error"]],
        "latency_p50_s": round(statistics.median(shown), 2) if shown else None,
        "latency_p95_s": round(percentile(shown, 95), 2) if shown else None,
        "latency_min_s": round(min(shown), 2) if shown else None,
        "latency_max_s": round(max(shown), 2) if shown else None,
        "latencies_s_per_viewer": per_viewer,
        "segment_in_playlist_p50_s": round(statistics.median(in_playlist), 2)
        if in_playlist
        else None,
        "player": f"{VIEWERS} viewers one after the other in headless Chromium, arriving "
        "0, 1/3 and 2/3 of a segment after one appeared; hls.js (static/vendor) with "
        "enableWorker false and liveSyncDurationCount 2 as static/js/watch.js; canvas read "
        "every 30 ms",
    }


def viewer_latencies(
    arrived: list[float], seen: dict, appeared: dict[int, float]
) -> tuple[list[float], list[float], int]:
    """(shown - arrived, in playlist - arrived, flashes not traced) for one viewer."""
    samples = seen["samples"]
    lumas = [luma for _, _, luma in samples]
    threshold = (min(lumas) + max(lumas)) / 2
    frags = {f["sn"]: f for f in seen["frags"]}
    shown, in_playlist, unmatched = [], [], 0
    for at, media, _ in rising_edges(samples, threshold):
        frag = next(
            (f for f in frags.values() if f["start"] <= media < f["start"] + f["duration"]), None
        )
        if frag is None or frag["sn"] not in appeared:
            unmatched += 1
            continue
        captured = appeared[frag["sn"]] - frag["duration"] + (media - frag["start"])
        room = min(arrived, key=lambda a: abs(captured - a), default=None)
        if room is None or abs(captured - room) > MATCH_WITHIN:
            unmatched += 1
            continue
        shown.append(at - room)
        in_playlist.append(appeared[frag["sn"]] - room)
    return shown, in_playlist, unmatched


# LiveKit


def create_room(stack: BenchStack, prefix: str) -> str:
    room = f"{prefix}-{secrets.token_hex(3)}"
    config = stack.livekit.config
    in_thread(
        lambda: lk_call(config, lambda lk: lk.room.create_room(api.CreateRoomRequest(name=room)))
    )
    return room


def delete_room(stack: BenchStack, room: str) -> None:
    config = stack.livekit.config
    request = api.DeleteRoomRequest(room=room)
    in_thread(lambda: lk_call(config, lambda lk: lk.room.delete_room(request)))


def dispatch(stack: BenchStack, agent: str, job: dict) -> None:
    config = stack.livekit.config
    request = api.CreateAgentDispatchRequest(
        agent_name=agent, room=job["room"], metadata=json.dumps(job)
    )
    # (from a thread: Playwright's sync API may keep an event loop running in this one)
    in_thread(lambda: lk_call(config, lambda lk: lk.agent_dispatch.create_dispatch(request)))


def participants(stack: BenchStack, room: str) -> list[str]:
    config = stack.livekit.config

    async def identities() -> list[str]:
        async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
            answer = await asyncio.wait_for(
                lk.room.list_participants(api.ListParticipantsRequest(room=room)), 10
            )
            return [p.identity for p in answer.participants]

    return in_thread(lambda: asyncio.run(identities()))


def hidden_token(config, room: str) -> str:
    grants = api.VideoGrants(room_join=True, room=room, hidden=True, can_publish=False)
    return (
        api.AccessToken(config.api_key, config.api_secret)
        .with_identity("bench-watcher")
        .with_grants(grants)
        .to_jwt()
    )


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        time.sleep(0.1)
