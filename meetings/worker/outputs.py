"""Stream out: one composite, encoded once, sent to any number of RTMP(S) and HLS outputs.

Threads, not the event loop, do the work: one encoder thread (libx264 + AAC) and one thread
per output, each with its own bounded packet queue. An output that cannot connect, drops, or
falls behind fails on its own; the others never wait for it. Packets are encoded once and
muxed into every container as copies (`add_stream_from_template` gives each container the
encoder's codec parameters without opening another encoder).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import av
import av.codec.context

from meetings.worker.rtmp_server import FlvToRtmp, RtmpPublisher, RtmpPublishError, RtmpRefused

if TYPE_CHECKING:
    from livekit.agents import JobContext

    from meetings.worker.ingest import Reporter

log = logging.getLogger(__name__)

AGENT_NAME = "meetings-stream"


class OutputState(enum.StrEnum):
    STARTING = "starting"
    LIVE = "live"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class OutputStatus:
    state: OutputState
    reason: str = ""


@dataclass(frozen=True)
class EncoderSettings:
    width: int = 1280
    height: int = 720
    fps: int = 25
    video_bitrate: int = 2_500_000
    keyframe_seconds: int = 2  # what YouTube and Twitch ask for; also the HLS segment length
    preset: str = "veryfast"
    audio_bitrate: int = 128_000
    sample_rate: int = 48000
    audio_layout: str = "stereo"


def mask_secret(text: str, secret: str) -> str:
    """Replace `secret` in `text` by stars and its last four characters."""
    if not secret:
        return text
    shown = secret[-4:] if len(secret) > 8 else ""
    return text.replace(secret, "****" + shown)


@dataclass(frozen=True)
class RtmpOutput:
    """`rtmp://host/app` + key, as YouTube and Twitch show them; or one URL and no key."""

    url: str
    key: str = ""
    id: str = "rtmp"

    @property
    def target(self) -> str:
        return f"{self.url.rstrip('/')}/{self.key}" if self.key else self.url

    @property
    def server_and_name(self) -> tuple[str, str]:
        """The RTMP application URL and the stream name (the key) published to it."""
        if self.key:
            return self.url.rstrip("/"), self.key
        # A whole URL pasted without a separate key: its last path part is the key.
        server, _, name = self.url.rstrip("/").rpartition("/")
        if len(urlsplit(server).path.strip("/")) == 0:
            return self.url, ""
        return server, name

    @property
    def secret(self) -> str:
        return self.server_and_name[1]

    @property
    def label(self) -> str:
        return mask_secret(self.target, self.secret)


@dataclass(frozen=True)
class HlsOutput:
    directory: Path
    id: str = "hls"
    list_size: int = 6

    @property
    def label(self) -> str:
        return f"HLS in {self.directory}"


OutputSpec = RtmpOutput | HlsOutput
StateCallback = Callable[[str, OutputStatus], None]


@dataclass(frozen=True)
class EncodedPacket:
    """An encoded packet as plain data: every output thread builds its own av.Packet."""

    video: bool
    data: bytes
    pts: int
    dts: int
    time_base: Fraction
    keyframe: bool

    @property
    def seconds(self) -> float:
        return float(self.pts * self.time_base)


# ------------------------------------------------------------------------------------ encoder
class _Encoder:
    """libx264 + AAC encoders living as streams of a "null" container: its streams are the
    templates every real output copies its codec parameters (and extradata) from."""

    def __init__(self, settings: EncoderSettings) -> None:
        self.settings = settings
        self.container = av.open("templates", "w", format="null")
        gop = settings.fps * settings.keyframe_seconds
        self.video = self.container.add_stream("libx264", rate=settings.fps)
        ctx = self.video.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = settings.width, settings.height, "yuv420p"
        ctx.time_base = Fraction(1, settings.fps)
        ctx.bit_rate, ctx.gop_size = settings.video_bitrate, gop
        # FLV and MP4 want SPS/PPS out of band; MPEG-TS re-inserts them before keyframes.
        ctx.flags |= av.codec.context.Flags.global_header
        kbps = settings.video_bitrate // 1000
        ctx.options = {
            "preset": settings.preset,
            "tune": "zerolatency",
            "maxrate": f"{kbps}k",
            "bufsize": f"{2 * kbps}k",
            # A keyframe exactly every `keyframe_seconds`: services and HLS cut there.
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        self.audio = self.container.add_stream("aac", rate=settings.sample_rate)
        actx = self.audio.codec_context
        actx.layout, actx.bit_rate = settings.audio_layout, settings.audio_bitrate
        actx.time_base = Fraction(1, settings.sample_rate)
        actx.flags |= av.codec.context.Flags.global_header
        self.container.start_encoding()  # opens both encoders, fills the templates
        self.resampler = av.AudioResampler(
            format="fltp",
            layout=settings.audio_layout,
            rate=settings.sample_rate,
            frame_size=actx.frame_size,
        )

    def encode(self, frame: av.VideoFrame | av.AudioFrame | None) -> list[EncodedPacket]:
        packets: list[av.Packet] = []
        if frame is None:  # flush both
            packets += self.video.encode(None)
            for chunk in self.resampler.resample(None):
                packets += self.audio.encode(chunk)
            packets += self.audio.encode(None)
        elif isinstance(frame, av.VideoFrame):
            if frame.time_base is None:
                frame.time_base = Fraction(1, self.settings.fps)
            size = (self.settings.width, self.settings.height)
            if frame.format.name != "yuv420p" or (frame.width, frame.height) != size:
                frame = frame.reformat(self.settings.width, self.settings.height, "yuv420p")
            packets += self.video.encode(frame)
        else:
            if frame.time_base is None:
                frame.time_base = Fraction(1, frame.sample_rate)
            for chunk in self.resampler.resample(frame):
                packets += self.audio.encode(chunk)
        return [
            EncodedPacket(
                p.stream is self.video, bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe
            )
            for p in packets
            if p.pts is not None
        ]

    def close(self) -> None:
        self.container.close()


# ------------------------------------------------------------------------------------ outputs
class _OutputWorker(threading.Thread):
    """Owns one output container: connect, mux, reconnect with backoff, fail."""

    def __init__(
        self,
        spec: OutputSpec,
        encoder: _Encoder,
        notify: Callable[[_OutputWorker, OutputStatus], None],
        retries: int,
        backoff: float,
        queue_seconds: float,
        timeout: float,
    ) -> None:
        super().__init__(name=f"output-{spec.id}", daemon=True)
        self.spec, self.encoder, self._notify = spec, encoder, notify
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        # Bounded in packets: video + ~47 AAC frames per second.
        rate = encoder.settings.fps + encoder.settings.sample_rate // 1024 + 1
        self.queue: queue.Queue[EncodedPacket | None] = queue.Queue(int(queue_seconds * rate))
        self.queue_seconds = queue_seconds
        self.status = OutputStatus(OutputState.STARTING)
        self._aborted = threading.Event()
        self._stopping = threading.Event()
        self._wake = threading.Event()  # ends a backoff wait: set on abort and on stop
        self._publisher: RtmpPublisher | None = None

    # -- called from other threads
    def offer(self, packet: EncodedPacket | None) -> bool:
        """False when the queue of a live output is full: it is stalled."""
        if self._aborted.is_set() or self.status.state in (OutputState.FAILED, OutputState.STOPPED):
            return True
        while True:
            try:
                self.queue.put_nowait(packet)
                return True
            except queue.Full:
                if self.status.state == OutputState.LIVE:
                    return False
            # Connecting or waiting to retry: keep only the newest packets, so a late
            # connection does not start seconds behind.
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()

    def abort(self, reason: str) -> None:
        if self._aborted.is_set() or self.status.state in (OutputState.FAILED, OutputState.STOPPED):
            return
        self._aborted.set()
        self._wake.set()
        self._set(OutputState.FAILED, reason)
        publisher = self._publisher
        if publisher is not None:
            publisher.abort()  # frees the thread if it is stuck in a send
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(None)  # or waiting for a packet

    def stop(self) -> None:
        """The stream ended: finish the container, or stop retrying."""
        self._stopping.set()
        self._wake.set()
        self.offer(None)

    # -- the thread
    def run(self) -> None:
        attempt, reason = 0, ""
        while not self._aborted.is_set():
            if self._stopping.is_set():  # ended while waiting to retry
                self._set(OutputState.STOPPED, reason)
                return
            self._set(OutputState.STARTING, reason)
            started = time.monotonic()
            try:
                if self._session():
                    self._set(OutputState.STOPPED)
                    return
            except (av.error.FFmpegError, OSError, RtmpPublishError) as exc:
                if self._aborted.is_set():
                    return
                was_live = self.status.state == OutputState.LIVE
                reason = self._describe(exc, connected=was_live)
                if was_live and time.monotonic() - started > 30:
                    attempt = 0  # a long healthy run earns fresh retries
                attempt += 1
                if attempt > self.retries or isinstance(exc, RtmpRefused):
                    self._set(OutputState.FAILED, reason)
                    return
                log.warning("%s (retry %d of %d)", reason, attempt, self.retries)
                reason = f"{reason}; retrying ({attempt}/{self.retries})"
                self._wake.wait(self.backoff * 2 ** (attempt - 1))
                self._drain()

    def _session(self) -> bool:
        """Connect and mux until the end of the stream (True), an abort (False) or an error."""
        container = self._open()
        try:
            self._set(OutputState.LIVE)
            return self._pump(container)
        finally:
            with contextlib.suppress(av.error.FFmpegError, OSError, RtmpPublishError):
                container.close()  # writes the FLV trailer / the HLS ENDLIST
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None

    def _open(self) -> av.container.OutputContainer:
        if isinstance(self.spec, HlsOutput):
            container = self._open_hls(self.spec)
        else:
            server, name = self.spec.server_and_name
            self._publisher = RtmpPublisher(server, name, self.timeout)
            self._publisher.connect()
            container = av.open(
                FlvToRtmp(self._publisher),
                "w",
                format="flv",
                container_options={
                    # Not seekable: no duration/size rewrite at the end; every packet
                    # leaves at once instead of waiting for a full I/O buffer.
                    "flvflags": "no_duration_filesize",
                    "flush_packets": "1",
                },
            )
        try:
            self.video_out = container.add_stream_from_template(self.encoder.video)
            self.audio_out = container.add_stream_from_template(self.encoder.audio)
            container.start_encoding()  # the header, and FLV's codec configuration tags
        except BaseException:
            container.close()
            raise
        return container

    def _open_hls(self, spec: HlsOutput) -> av.container.OutputContainer:
        spec.directory.mkdir(parents=True, exist_ok=True)
        segment = self.encoder.settings.keyframe_seconds
        return av.open(
            str(spec.directory / "index.m3u8"),
            "w",
            format="hls",
            container_options={
                "hls_time": str(segment),
                "hls_list_size": str(spec.list_size),
                # temp_file: playlist and segments appear by rename, never half-written.
                "hls_flags": "delete_segments+independent_segments+temp_file+program_date_time",
                "hls_segment_filename": str(spec.directory / "segment-%d.ts"),
                # Numbers from the clock: a restarted stream never reuses a segment name
                # that a player may have cached.
                "hls_start_number_source": "epoch",
            },
        )

    def _pump(self, container: av.container.OutputContainer) -> bool:
        offset: float | None = None  # each output starts at 0 on its first keyframe
        while True:
            try:
                item = self.queue.get(timeout=0.2)
            except queue.Empty:
                if self._stopping.is_set():  # its end marker may not have fit in the queue
                    return True
                continue
            if self._aborted.is_set():
                return False
            if item is None:
                return True
            if offset is None:
                if not (item.video and item.keyframe):
                    continue
                offset = item.seconds
            shift = round(offset / item.time_base)
            if item.pts - shift < 0:
                continue
            packet = av.Packet(item.data)
            packet.pts, packet.dts = item.pts - shift, item.dts - shift
            packet.time_base = item.time_base
            packet.is_keyframe = item.keyframe
            packet.stream = self.video_out if item.video else self.audio_out
            container.mux(packet)

    # -- helpers
    def _set(self, state: OutputState, reason: str = "") -> None:
        status = OutputStatus(state, mask_secret(reason, self._secret()))
        if status == self.status:
            return
        self.status = status
        self._notify(self, status)

    def _secret(self) -> str:
        return self.spec.secret if isinstance(self.spec, RtmpOutput) else ""

    def _describe(self, exc: BaseException, connected: bool) -> str:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            what = "no progress" if connected else "no answer"
            detail = f"{what} for {self.timeout:.0f} s"
        label = self.spec.label
        text = f"connection to {label} lost" if connected else f"could not connect to {label}"
        if isinstance(self.spec, HlsOutput):
            text = f"could not write {label}"
        return mask_secret(f"{text}: {detail}", self._secret())

    def _drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()


# ------------------------------------------------------------------------------------ manager
class StreamOutputs:
    """Encode once, send everywhere. Thread-safe `push_*`; `close()` blocks (use a thread)."""

    def __init__(
        self,
        outputs: list[OutputSpec],
        settings: EncoderSettings | None = None,
        on_state: StateCallback | None = None,
        retries: int = 3,
        backoff: float = 1.0,
        queue_seconds: float = 5.0,
        timeout: float = 10.0,
    ) -> None:
        self.settings = settings or EncoderSettings()
        self.dropped_frames = 0
        self._on_state = on_state
        self._encoder = _Encoder(self.settings)
        self._frames: queue.Queue[av.VideoFrame | av.AudioFrame | None] = queue.Queue(100)
        self._workers = [
            _OutputWorker(
                spec, self._encoder, self._changed, retries, backoff, queue_seconds, timeout
            )
            for spec in outputs
        ]
        self._stop = threading.Event()
        self._encoder_thread = threading.Thread(
            target=self._encode_loop, name="stream-encoder", daemon=True
        )
        for thread in [*self._workers, self._encoder_thread]:
            thread.start()

    def push_video(self, frame: av.VideoFrame) -> None:
        self._push(frame)

    def push_audio(self, frame: av.AudioFrame) -> None:
        self._push(frame)

    def _push(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        try:
            self._frames.put_nowait(frame)
        except queue.Full:
            self.dropped_frames += 1  # the encoder is behind: dropping beats growing

    def status(self) -> dict[str, dict[str, str]]:
        return {
            w.spec.id: {"state": str(w.status.state), "reason": w.status.reason}
            for w in self._workers
        }

    def close(self, timeout: float = 15.0) -> None:
        """Flush the encoders, finish every container, wait for the threads."""
        if self._stop.is_set():
            return
        self._stop.set()
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self._frames.put(None, timeout=timeout)
        self._encoder_thread.join(max(0.1, deadline - time.monotonic()))
        for thread in self._workers:
            thread.join(max(0.1, deadline - time.monotonic()))
        for worker in self._workers:
            if worker.is_alive():
                worker.abort("did not finish in time")
        if not self._encoder_thread.is_alive():  # never free the encoders under its feet
            self._encoder.close()

    # -- threads
    def _encode_loop(self) -> None:
        while True:
            frame = self._frames.get()
            try:
                packets = self._encoder.encode(frame)
            except (av.error.FFmpegError, ValueError) as exc:
                log.warning("frame not encoded: %s", exc)
                packets = []
            for packet in packets:
                for worker in self._workers:
                    if not worker.offer(packet):
                        worker.abort(
                            f"{worker.spec.label} is too slow: "
                            f"{worker.queue_seconds:.0f} s of stream waiting to be sent"
                        )
            if frame is None:
                for worker in self._workers:
                    worker.stop()
                return

    def _changed(self, worker: _OutputWorker, status: OutputStatus) -> None:
        log.info("output %s: %s %s", worker.spec.id, status.state, status.reason)
        if self._on_state is not None:
            self._on_state(worker.spec.id, status)


# ---------------------------------------------------------------------------------------- job
def specs_from_job(job: dict[str, Any]) -> list[OutputSpec]:
    """Dispatch metadata `outputs`: [{"id", "type": "rtmp", "url", "key"} | {"id", "type":
    "hls", "directory"}]."""
    specs: list[OutputSpec] = []
    for item in job["outputs"]:
        if item["type"] == "rtmp":
            specs.append(RtmpOutput(item["url"], item.get("key", ""), item["id"]))
        elif item["type"] == "hls":
            specs.append(HlsOutput(Path(item["directory"]), item["id"]))
        else:
            raise ValueError(f"unknown output type {item['type']!r}")
    return specs


async def stream_out(
    job: dict[str, Any],
    report: Reporter,
    source: AsyncIterator[av.VideoFrame | av.AudioFrame],
    settings: EncoderSettings | None = None,
) -> dict[str, dict[str, str]]:
    """Send `source` to the job's outputs; report every state change; return final states."""
    loop = asyncio.get_running_loop()
    sent: set[asyncio.Future[None]] = set()

    def on_state(output_id: str, status: OutputStatus) -> None:
        data = {"output_id": output_id, "state": str(status.state), "reason": status.reason}

        def send() -> None:
            future = asyncio.ensure_future(report.send("stream_output", data))
            sent.add(future)
            future.add_done_callback(sent.discard)

        loop.call_soon_threadsafe(send)

    outputs = await asyncio.to_thread(StreamOutputs, specs_from_job(job), settings, on_state)
    try:
        async for frame in source:
            if isinstance(frame, av.VideoFrame):
                outputs.push_video(frame)
            else:
                outputs.push_audio(frame)
    finally:
        await asyncio.to_thread(outputs.close)
        await asyncio.sleep(0)  # let the last state callbacks reach the loop
        if sent:
            await asyncio.gather(*sent, return_exceptions=True)
    return outputs.status()


async def run(
    ctx: JobContext,
    job: dict[str, Any],
    report: Reporter,
    source: AsyncIterator[av.VideoFrame | av.AudioFrame] | None = None,
) -> None:
    """Worker contract. The compositor's frames are wired in by the worker entry."""
    if source is None:
        raise RuntimeError("the stream job needs the compositor's frame source")
    final = await stream_out(job, report, source)
    await report.send("stream_ended", {"outputs": final})
