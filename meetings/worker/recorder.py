"""The built-in recorder: one composite MP4 (or M4A) of a room, reported back to the app.

Events: recording_started, recording_progress (every 5 s), recording_ended. The recording
stops when the room ends, when the app removes the recorder participant, when nobody but
workers has been in the room for EMPTY_GRACE_SECONDS, or when the worker shuts down; each
of those leaves a complete file.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import av
from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext, JobProcess

from meetings.worker import labels, storage
from meetings.worker.compositor import Compositor
from meetings.worker.encoder import MediaWriter, faststart
from meetings.worker.entry import stop_requested
from meetings.worker.layout import Layout
from meetings.worker.mixer import SAMPLE_RATE, AudioMixer
from meetings.worker.reporting import Reporter
from meetings.worker.room_media import RoomMedia
from meetings.worker.settings import settings

AGENT_NAME = "meetings-recorder"
IDENTITY_PREFIX = "recorder-"
PARTICIPANT_NAME = "Recorder"

WIDTH, HEIGHT, FPS = 1280, 720, 25
PROGRESS_SECONDS = 5.0
EMPTY_GRACE_SECONDS = 5.0  # a participant reloading the page does not end the recording

logger = logging.getLogger("meetings.worker.recorder")


@dataclass(frozen=True)
class RecordingJob:
    job_id: str
    file_name: str
    layout: Layout = "grid"
    audio_only: bool = False
    storage: str = "local"

    @classmethod
    def parse(cls, job: dict[str, Any]) -> "RecordingJob":
        """Raises: ValueError naming the first bad parameter."""
        parsed = cls(
            job_id=job["job_id"],
            file_name=str(job.get("file_name") or ""),
            layout=cast(Layout, job.get("layout", "grid")),
            audio_only=job.get("audio_only", False),
            storage=job.get("storage", "local"),
        )
        if parsed.layout not in ("grid", "speaker"):
            raise ValueError(f"unknown layout {parsed.layout!r}")
        if parsed.storage not in ("local", "s3"):
            raise ValueError(f"unknown storage {parsed.storage!r}")
        if not isinstance(parsed.audio_only, bool):
            raise ValueError("audio_only must be true or false")
        return parsed


def prewarm(proc: JobProcess) -> None:
    """Fonts and codecs once per job process, before a recording waits on them."""
    labels.warm_up()
    av.codec.Codec("libx264", "w")
    av.codec.Codec("aac", "w")


async def run(ctx: JobContext, job: dict[str, Any], report: Reporter) -> None:
    """Record the room until it ends or the recorder is removed; report what came of it."""
    try:
        params = RecordingJob.parse(job)
        path = storage.local_path(settings().recordings_dir, params.file_name)
    except (KeyError, ValueError) as exc:
        report.emit("recording_ended", _ended(job, "failed", f"bad job parameters: {exc}"))
        return
    recording = Recording(ctx, params, path, report)
    try:
        await recording.run()
    except Exception as exc:  # a bug must still tell the app that this recording is over
        logger.exception("recording %s crashed", params.job_id)
        if not recording.ended:
            report.emit("recording_ended", _ended(job, "failed", f"internal error: {exc}"))


def _ended(job: dict[str, Any], status: str, error: str | None, **facts: Any) -> dict[str, Any]:
    audio_only = bool(job.get("audio_only", False))
    data = {
        "status": status,
        "error": error,
        "file_name": job.get("file_name"),
        "size_bytes": 0,
        "duration_seconds": 0.0,
        "sha256": None,
        "width": None if audio_only else WIDTH,
        "height": None if audio_only else HEIGHT,
        "audio_only": audio_only,
    }
    return data | facts


class Recording:
    """One recording job, from opening the file to the recording_ended event."""

    def __init__(self, ctx: JobContext, params: RecordingJob, path: Path, report: Reporter):
        self.ctx, self.params, self.path, self.report = ctx, params, path, report
        self.job = {"audio_only": params.audio_only, "file_name": params.file_name}
        self.size = None if params.audio_only else (WIDTH, HEIGHT)
        self.writer = MediaWriter(path, size=self.size, fps=FPS, sample_rate=SAMPLE_RATE)
        self.mixer = AudioMixer(chunk=SAMPLE_RATE // FPS)
        self.compositor = Compositor(WIDTH, HEIGHT, params.layout)
        self.stop = asyncio.Event()
        self.ended = False  # recording_ended was emitted
        self.stop_reason = ""

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.writer.open)
        except Exception as exc:  # unwritable directory, disk full, a file where a dir should be
            self._end("failed", f"cannot write the file: {exc}")
            return
        self.ctx.room.on("disconnected", self._on_disconnected)
        auto = AutoSubscribe.AUDIO_ONLY if self.params.audio_only else AutoSubscribe.SUBSCRIBE_ALL
        try:
            await self.ctx.connect(auto_subscribe=auto)
        except Exception as exc:
            await loop.run_in_executor(None, self.writer.close)
            self.path.unlink(missing_ok=True)
            self._end("failed", f"could not join the room: {exc}")
            return
        media = RoomMedia(
            self.ctx.room, self.mixer, video=not self.params.audio_only, layout=self.params.layout
        )
        media.attach()
        try:
            await self._record(media)
        finally:
            await media.aclose()
        await self._finish()
        self.ctx.shutdown("recording finished")  # leaves the room if still in it

    def _on_disconnected(self, reason: Any = None) -> None:
        why = rtc.DisconnectReason.Name(reason) if isinstance(reason, int) else "unknown"
        self.stop_reason = self.stop_reason or f"disconnected ({why})"
        self.stop.set()

    async def _record(self, media: RoomMedia) -> None:
        """The frame clock: one tick per 1/FPS of wall time, whatever arrives or not."""
        loop = asyncio.get_running_loop()
        started_at, t0 = time.time(), loop.time()
        self.mixer.reset()  # audio and video start together (audio from before would run late)
        self.report.emit(
            "recording_started",
            {
                "file_name": self.params.file_name,
                "width": self.size and WIDTH,
                "height": self.size and HEIGHT,
                "started_at": started_at,
            },
        )
        tick, next_progress, empty_since = 0, PROGRESS_SECONDS, None
        requested = stop_requested(self.ctx)
        while not self.stop.is_set():
            if requested.is_set():
                self.stop_reason = "job ending (worker shutdown or terminated by the server)"
                break
            delay = t0 + (tick + 1) / FPS - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # Late after a stall: the loop catches up by emitting ticks back to back.
            video = None if self.size is None else self.compositor.render_later(media.scene())
            self.writer.submit(video, self.mixer.pull())
            tick += 1
            if tick / FPS >= next_progress:
                next_progress += PROGRESS_SECONDS
                self.report.emit(
                    "recording_progress",
                    {
                        "duration_seconds": tick / FPS,
                        "size_bytes": _size(self.path),
                    },
                )
            if self.writer.error is not None:
                self.stop_reason = f"writing failed: {self.writer.error}"
                break
            if media.people():
                empty_since = None
            elif empty_since is None:
                empty_since = loop.time()
            elif loop.time() - empty_since >= EMPTY_GRACE_SECONDS:
                self.stop_reason = "everyone left"
                break
        logger.info(
            "recording %s stops after %.1fs: %s", self.params.job_id, tick / FPS, self.stop_reason
        )

    async def _finish(self) -> None:
        loop = asyncio.get_running_loop()
        writer, error = self.writer, None
        await loop.run_in_executor(None, writer.close)
        if writer.error is not None:
            error = f"writing failed: {writer.error}"
        else:
            try:
                await loop.run_in_executor(None, faststart, self.path)
            except Exception as exc:  # the fragmented file is still there and playable
                error = f"finishing the file failed: {exc}"
        sha256, size = (None, _size(self.path))
        if self.path.exists():
            sha256, size = await loop.run_in_executor(None, storage.digest, self.path)
        if error is None and self.params.storage == "s3":
            try:
                await loop.run_in_executor(
                    None, storage.upload, settings(), self.path, self.params.file_name
                )
                self.path.unlink()
            except Exception as exc:  # the finished file stays under RECORDINGS_DIR
                error = f"upload to S3 failed: {exc}"
        busy = writer.busy_seconds / max(writer.duration, 1e-6)
        logger.info(
            "recording %s: %.1fs, %d bytes, encoder busy %.2f of real time, %d skipped frames",
            self.params.job_id,
            writer.duration,
            size,
            busy,
            writer.skipped_frames,
        )
        self._end(
            "failed" if error else "complete",
            error,
            size_bytes=size,
            duration_seconds=round(writer.duration, 3),
            sha256=sha256,
        )

    def _end(self, status: str, error: str | None, **facts: Any) -> None:
        self.ended = True
        self.report.emit("recording_ended", _ended(self.job, status, error, **facts))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
