"""Stream out: the meeting's composite (the recorder's), encoded once, sent live to RTMP(S)
destinations and to HLS files under STREAMS_DIR/<job_id>/ for the watch page.

Events: stream_output {output_id, status: live | failed | ended, reason} for each output, and
stream_ended {reason} once at the end. The job ends when its dispatch is withdrawn (or the
worker shuts down), when the room closes, or when every output has failed. The stream key (an
RTMP URL's last segment) is never logged nor reported: see outputs.py.
"""

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, cast

from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext

from meetings.worker.compositor import Compositor
from meetings.worker.entry import stop_requested
from meetings.worker.layout import Layout
from meetings.worker.mixer import SAMPLE_RATE, AudioMixer
from meetings.worker.outputs import FPS, HEIGHT, WIDTH, OutputSpec, StreamOutputs, parse_outputs
from meetings.worker.recorder import prewarm  # noqa: F401 (the same fonts and codecs, warmed per job process)
from meetings.worker.reporting import Reporter
from meetings.worker.room_media import RoomMedia
from meetings.worker.settings import settings

AGENT_NAME = "meetings-stream"
IDENTITY_PREFIX = "stream-"
PARTICIPANT_NAME = "Live stream"

JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # it names the HLS directory

logger = logging.getLogger("meetings.worker.streamer")


@dataclass(frozen=True)
class StreamJob:
    job_id: str
    layout: Layout
    outputs: list[OutputSpec]

    @classmethod
    def parse(cls, job: dict[str, Any]) -> "StreamJob":
        """Raises: ValueError naming the first bad parameter (never a URL: it holds the key)."""
        job_id = job["job_id"]
        if not JOB_ID.fullmatch(job_id):
            raise ValueError("job_id may hold only letters, digits, _ and -")
        layout = cast(Layout, job.get("layout", "grid"))
        if layout not in ("grid", "speaker"):
            raise ValueError(f"unknown layout {layout!r}")
        outputs = parse_outputs(job.get("outputs"), settings().streams_dir / job_id)
        return cls(job_id, layout, outputs)


async def run(ctx: JobContext, job: dict[str, Any], report: Reporter) -> None:
    """Stream the room until the job is withdrawn, the room closes or every output failed."""
    try:
        params = StreamJob.parse(job)
    except (KeyError, ValueError) as exc:
        report.emit("stream_ended", {"reason": f"bad job parameters: {exc}"})
        return
    stream = Stream(ctx, params, report)
    try:
        await stream.run()
    except Exception as exc:  # a bug must still tell the app that this stream is over
        logger.exception("stream %s crashed", params.job_id)
        if not stream.ended:
            stream.end(f"internal error: {type(exc).__name__}")
        ctx.shutdown("stream crashed")  # leaves the room: nothing is streaming any more


class Stream:
    """One stream job, from joining the room to the stream_ended event."""

    def __init__(self, ctx: JobContext, params: StreamJob, report: Reporter) -> None:
        self.ctx, self.params, self.report = ctx, params, report
        self.mixer = AudioMixer(chunk=SAMPLE_RATE // FPS)
        self.compositor = Compositor(WIDTH, HEIGHT, params.layout)
        self.outputs = StreamOutputs(params.outputs, self._on_output)
        self.stop = asyncio.Event()
        self.stop_reason = ""
        self.ended = False  # stream_ended was emitted
        self._loop = asyncio.get_running_loop()

    def _on_output(self, output_id: str, status: str, reason: str) -> None:
        """From an output's thread: report it on the loop (emit is not thread-safe)."""
        data = {"output_id": output_id, "status": status, "reason": reason}
        self._loop.call_soon_threadsafe(self.report.emit, "stream_output", data)

    async def run(self) -> None:
        self.ctx.room.on("disconnected", self._on_disconnected)
        try:
            await self.ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_ALL)
        except Exception as exc:
            self.end(f"could not join the room: {exc}")
            return
        try:
            await self._loop.run_in_executor(None, self.outputs.open)
        except Exception as exc:  # the encoder would not open: nothing was sent anywhere
            self.end(f"could not start the encoder: {exc}")
            self.ctx.shutdown("stream failed")
            return
        media = RoomMedia(self.ctx.room, self.mixer, video=True, layout=self.params.layout)
        media.attach()
        cpu_started, wall_started = time.process_time(), time.monotonic()
        try:
            ticks = await self._stream(media)
        finally:
            await media.aclose()
            await self._loop.run_in_executor(None, self.outputs.close)
        wall = max(time.monotonic() - wall_started, 1e-6)
        logger.info(
            "stream %s: %.1fs, job process CPU %.2f of a core, encoder busy %.2f of real time, "
            "%d skipped frames",
            self.params.job_id,
            ticks / FPS,
            (time.process_time() - cpu_started) / wall,
            self.outputs.busy_seconds / max(ticks / FPS, 1e-6),
            self.outputs.skipped_frames,
        )
        await asyncio.sleep(0)  # the outputs' last states reach the reporter first
        self.end(self.stop_reason)
        self.ctx.shutdown("stream finished")  # leaves the room if still in it

    def _on_disconnected(self, reason: Any = None) -> None:
        why = rtc.DisconnectReason.Name(reason) if isinstance(reason, int) else "unknown"
        self.stop_reason = self.stop_reason or f"the room closed ({why})"
        self.stop.set()

    async def _stream(self, media: RoomMedia) -> int:
        """The frame clock: one tick per 1/FPS of wall time, whatever arrives or not."""
        t0 = self._loop.time()
        self.mixer.reset()  # audio and video start together
        tick = 0
        requested = stop_requested(self.ctx)
        while not self.stop.is_set():
            if requested.is_set():
                self.stop_reason = "the stream was stopped"
                break
            if self.outputs.all_failed:
                self.stop_reason = "every output failed"
                break
            delay = t0 + (tick + 1) / FPS - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.outputs.submit(self.compositor.render_later(media.scene()), self.mixer.pull())
            tick += 1
        logger.info(
            "stream %s stops after %.1fs: %s", self.params.job_id, tick / FPS, self.stop_reason
        )
        return tick

    def end(self, reason: str) -> None:
        self.ended = True
        self.report.emit("stream_ended", {"reason": reason})
