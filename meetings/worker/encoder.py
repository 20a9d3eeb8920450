"""H.264/AAC in fragmented MP4 on a thread of its own, and the faststart rewrite at the end.

While recording, the file is a fragmented MP4 (a fragment a second), so a
killed worker leaves a file that plays up to its last fragment. On a clean finish it is
remuxed (no re-encode) into a plain MP4 with the index in front, which replaces it atomically.
"""

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

logger = logging.getLogger("meetings.worker.encoder")

FRAGMENTED = "empty_moov+default_base_moof"
FRAGMENT_MICROSECONDS = 1_000_000
X264_OPTIONS = {"preset": "veryfast", "tune": "zerolatency", "crf": "26"}
AUDIO_BITRATE = 128_000
# Ticks waiting for the thread beyond which video frames are skipped (audio never is): a
# starved encoder shows a frozen frame for a moment rather than fall behind what a kill
# would leave on disk (at most this second plus the fragment being written).
MAX_BACKLOG = 25

VideoWork = Callable[[], av.VideoFrame]


@dataclass
class _Tick:
    video: VideoWork | None  # None: skip this video frame (the encoder is behind)
    audio: np.ndarray


class MediaWriter:
    """Encodes ticks (one video frame plus its audio) and muxes them, off the event loop."""

    def __init__(
        self,
        path: Path,
        *,
        size: tuple[int, int] | None,
        fps: int = 25,
        sample_rate: int = 48_000,
    ) -> None:
        self.path, self.size, self.fps, self.sample_rate = path, size, fps, sample_rate
        self.error: BaseException | None = None
        self.frames = 0
        self.samples = 0
        self.busy_seconds = 0.0  # time spent composing and encoding: the real-time factor
        self.skipped_frames = 0
        self._queue: queue.Queue[_Tick | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="media-writer", daemon=True)

    def open(self) -> None:
        """Create the file and start the thread. Raises: OSError, av.FFmpegError."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A fragment a second, keyframe or not (they only follow one another), so a kill
        # loses at most about a second beyond what the encoder had not finished; and
        # flush_packets: each finished fragment goes to the OS at once, not when the 32 KB
        # I/O buffer fills (a quiet picture can take minutes to fill it).
        options = {
            "movflags": FRAGMENTED,
            "frag_duration": str(FRAGMENT_MICROSECONDS),
            "flush_packets": "1",
        }
        self._container = av.open(str(self.path), "w", format="mp4", options=options)
        self._video = None
        if self.size:
            self._video = self._container.add_stream(
                "libx264", rate=self.fps, options=dict(X264_OPTIONS)
            )
            self._video.width, self._video.height = self.size
            self._video.pix_fmt = "yuv420p"
            self._video.codec_context.gop_size = 2 * self.fps  # a keyframe per 2 s
        self._audio = self._container.add_stream("aac", rate=self.sample_rate, layout="mono")
        self._audio.bit_rate = AUDIO_BITRATE
        self._thread.start()

    def submit(self, video: VideoWork | None, audio: np.ndarray) -> None:
        """Queue one tick; never blocks. A backlog makes it skip video, keeping audio whole."""
        if video is not None and self.backlog > MAX_BACKLOG:
            video = None
        self._queue.put(_Tick(video, audio))

    @property
    def backlog(self) -> int:
        """Ticks waiting for the thread."""
        return self._queue.qsize()

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    def close(self, timeout: float | None = None) -> None:
        """Finish the queued ticks, flush the encoders and close the file (blocking)."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the encoder did not finish in time")

    def _run(self) -> None:
        previous: av.VideoFrame | None = None
        while (tick := self._queue.get()) is not None:
            if self.error is not None:
                continue  # keep draining so submit() callers never pile up
            started = time.perf_counter()
            try:
                previous = self._write(tick, previous)
            except Exception as exc:  # disk full, unwritable: the recorder reports it
                logger.error("writing %s failed: %s", self.path, exc)
                self.error = exc
            self.busy_seconds += time.perf_counter() - started
        try:
            if self.error is None:
                self._flush()
        except Exception as exc:
            self.error = exc
        finally:
            try:
                self._container.close()
            except Exception as exc:
                self.error = self.error or exc

    def _write(self, tick: _Tick, previous: av.VideoFrame | None) -> av.VideoFrame | None:
        if self._video is not None:
            if tick.video is not None:
                previous = tick.video()
                previous.pts, previous.time_base = self.frames, Fraction(1, self.fps)
                self._container.mux(self._video.encode(previous))
            else:
                self.skipped_frames += 1
            self.frames += 1  # a skipped frame leaves a gap in time, the next one fills it
        frame = av.AudioFrame.from_ndarray(tick.audio.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = self.sample_rate, self.samples
        frame.time_base = Fraction(1, self.sample_rate)
        self._container.mux(self._audio.encode(frame))
        self.samples += len(tick.audio)
        return previous

    def _flush(self) -> None:
        if self._video is not None:
            self._container.mux(self._video.encode(None))
        self._container.mux(self._audio.encode(None))


def faststart(path: Path) -> None:
    """Rewrite `path` as a plain MP4 with the index first; same packets, atomic replace."""
    temporary = path.with_name(path.name + ".faststart.tmp")
    try:
        with (
            av.open(str(path)) as source,
            av.open(str(temporary), "w", format="mp4", options={"movflags": "faststart"}) as target,
        ):
            streams = {s.index: target.add_stream_from_template(s) for s in source.streams}
            for packet in source.demux():
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        temporary.unlink(missing_ok=True)
