"""Stream in: an encoder's RTMP push (OBS, ffmpeg) becomes a participant of the meeting.

A host creates an ingest and gets `rtmp://<host>:<rtmp_port>/live` plus a stream key; the app
dispatches this job with the key's SHA-256 only. The job listens on that port (rtmp_server.py
checks the application and the key before any media is read), decodes H.264 and AAC with PyAV
and publishes them through the real-time SDK as a participant of its own: identity
"ingest-<ingest_id>", the name the host chose, kind ingress. Encoder gone (or silent for
IDLE_SECONDS) = participant gone; encoder back = participant back.

Events (data of the envelope reporting.py sends):
- `ingest_listening` {ingest_id, port}: the listener is up.
- `ingest_connected` {ingest_id, peer}: an encoder was accepted and, with its first decoded
  frame, its participant joined.
- `ingest_disconnected` {ingest_id, peer, reason, duration_s}: that participant left
  (`duration_s` since it joined).
- `ingest_refused` {ingest_id, reason, peer, total}: a wrong key or application, or codecs
  other than H.264 and AAC (the reason says what to set); at most one per
  REFUSAL_REPORT_SECONDS, `total` counts every refusal since the job started.
- `ingest_failed` {ingest_id, reason}: it cannot listen (port taken) or join; the job ends.

The job runs until the room ends, its own connection is lost, the dispatch is withdrawn or
the worker shuts down; the listener and the published participant are closed then.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import math
import re
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import av
from livekit import api, rtc
from livekit.agents import AutoSubscribe, JobContext

from meetings.worker.entry import stop_requested
from meetings.worker.reporting import Reporter
from meetings.worker.rtmp_server import (
    AUDIO,
    DATA_AMF0,
    VIDEO,
    Authorize,
    Decision,
    RtmpConnection,
    RtmpError,
    RtmpMessage,
    RtmpServer,
    amf0_decode,
)
from meetings.worker.settings import WorkerSettings, settings

AGENT_NAME = "meetings-ingest"
# The job's own hidden participant; "ingest-<ingest_id>" is the one people see.
IDENTITY_PREFIX = "ingester-"
PARTICIPANT_NAME = "Ingest"
PUBLISHER_PREFIX = "ingest-"
RTMP_APP = "live"
MAX_NAME_LENGTH = 80
IDLE_SECONDS = 10.0  # an encoder that sends nothing this long is gone
REFUSAL_REPORT_SECONDS = 5.0
JOIN_SECONDS = 20.0
LEAVE_SECONDS = 5.0
SAMPLE_RATE = 48000
CHANNELS = 1  # the meeting's audio path is mono; a stage feed is mixed down
FLV_AVC, FLV_AAC = 7, 10
# What onMetaData may declare: FLV codec ids, or the FourCCs some encoders send instead.
VIDEO_CODECS, AUDIO_CODECS = (FLV_AVC, "avc1"), (FLV_AAC, "mp4a")
PICK_H264 = "unsupported video codec: set the encoder to H.264"
PICK_AAC = "unsupported audio codec: set the encoder to AAC"

logger = logging.getLogger("meetings.worker.ingest")


class IngestError(Exception):
    """The encoder sends a codec the meeting cannot carry; the message tells what to pick."""


@dataclass(frozen=True)
class IngestJob:
    """The job's parameters, from the dispatch metadata."""

    room: str
    ingest_id: str
    name: str
    rtmp_port: int
    key_sha256: str

    @classmethod
    def parse(cls, job: dict[str, Any], room: str) -> "IngestJob":
        """Raises: ValueError naming the first missing or malformed parameter."""
        texts = {}
        for field_name in ("ingest_id", "name"):
            value = job.get(field_name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{field_name} must be a non-empty string")
            texts[field_name] = value
        if len(texts["name"]) > MAX_NAME_LENGTH:
            raise ValueError(f"name is longer than {MAX_NAME_LENGTH} characters")
        port = job.get("rtmp_port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError("rtmp_port must be a port number")
        digest = job.get("stream_key_sha256")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            raise ValueError("stream_key_sha256 must be 64 hex digits")
        return cls(room=room, **texts, rtmp_port=port, key_sha256=digest.lower())


def job_key(job: dict[str, Any]) -> str:
    """A meeting may have several encoders: one job per ingest, not per room (jobs.py)."""
    return f"ingest:{job.get('ingest_id', '')}"


def hash_key(key: str) -> str:
    """What the app dispatches: the key itself never leaves the app."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_checker(key_sha256: str, app: str = RTMP_APP) -> Authorize:
    """An `authorize` for one ingest: the application must match, the key is compared in
    constant time."""

    def authorize(presented_app: str, stream_name: str) -> Decision:
        if presented_app != app:
            return Decision(False, f"unknown application {presented_app[:40]!r}")
        if not hmac.compare_digest(hash_key(stream_name), key_sha256.lower()):
            return Decision(False, "invalid stream key")
        return Decision(True)

    return authorize


# ------------------------------------------------------------------------------------ decoding
@dataclass(frozen=True)
class VideoOut:
    frame: rtc.VideoFrame
    timestamp_us: int


MediaOut = VideoOut | rtc.AudioFrame


class FlvDecoder:
    """FLV tag bodies (RTMP audio/video payloads) to frames the SDK takes. Not thread-safe:
    one session, one decoding thread."""

    def __init__(self) -> None:
        self.video: av.VideoCodecContext | None = None
        self.audio: av.AudioCodecContext | None = None
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def decode(self, message: RtmpMessage) -> list[MediaOut]:
        """Raises: IngestError for a codec the meeting cannot carry."""
        body = message.payload
        if len(body) < 2:
            return []
        try:
            if message.type_id == VIDEO:
                return self._video(body, message.timestamp)
            if message.type_id == AUDIO:
                return self._audio(body, message.timestamp)
            if message.type_id == DATA_AMF0:
                self._check_metadata(body)
        except av.error.FFmpegError as exc:
            # A damaged packet costs a frame, not the session; the next keyframe heals it.
            logger.debug("undecodable packet (type %s) skipped: %s", message.type_id, exc)
        return []

    def _check_metadata(self, body: bytes) -> None:
        """The codecs the encoder declares (OBS and ffmpeg send onMetaData first): refused
        before its first frame, so that nobody joins only to leave again."""
        try:
            values = amf0_decode(body)
        except RtmpError:
            return  # metadata is a courtesy; the frames are checked anyway
        for info in values:
            if not isinstance(info, dict):
                continue
            if info.get("videocodecid", FLV_AVC) not in VIDEO_CODECS:
                raise IngestError(PICK_H264)
            if info.get("audiocodecid", FLV_AAC) not in AUDIO_CODECS:
                raise IngestError(PICK_AAC)

    def _video(self, body: bytes, timestamp: int) -> list[MediaOut]:
        if body[0] & 0x80 or body[0] & 0x0F != FLV_AVC:
            # Enhanced RTMP (HEVC/AV1 FourCC) or an old codec: tell the host what to pick.
            raise IngestError(PICK_H264)
        packet_type, body = body[1], body[2:]
        if packet_type == 0:  # AVCDecoderConfigurationRecord: (re)start the decoder
            self.video = av.CodecContext.create("h264", "r")
            self.video.extradata = body[3:]
            self.video.thread_type = "SLICE"  # frame threads would add frames of delay
            return []
        if packet_type != 1 or self.video is None:
            return []
        cts = int.from_bytes(body[0:3], "big", signed=True)
        packet = av.Packet(body[3:])
        packet.dts, packet.pts = timestamp, timestamp + cts
        return [self._to_i420(frame) for frame in self.video.decode(packet)]

    def _to_i420(self, frame: av.VideoFrame) -> VideoOut:
        width, height = frame.width & ~1, frame.height & ~1  # I420 wants even sizes
        if frame.format.name != "yuv420p" or (width, height) != (frame.width, frame.height):
            frame = frame.reformat(width=width, height=height, format="yuv420p")
        planes = frame.to_ndarray().reshape(-1)  # Y, U, V packed without line padding
        buffer = rtc.VideoFrame(width, height, rtc.VideoBufferType.I420, planes.data)
        return VideoOut(buffer, (frame.pts or 0) * 1000)

    def _audio(self, body: bytes, timestamp: int) -> list[MediaOut]:
        if body[0] >> 4 != FLV_AAC:
            raise IngestError(PICK_AAC)
        if body[1] == 0:  # AudioSpecificConfig
            self.audio = av.CodecContext.create("aac", "r")
            self.audio.extradata = body[2:]
            return []
        if self.audio is None:
            return []
        packet = av.Packet(body[2:])
        packet.pts = packet.dts = timestamp
        out: list[MediaOut] = []
        for frame in self.audio.decode(packet):
            frame.pts = None  # the resampler keeps its own clock; RTMP ms would jitter it
            for mono in self.resampler.resample(frame):
                samples = mono.to_ndarray().reshape(-1)
                out.append(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, CHANNELS, mono.samples))
        return out


class IngestSession:
    """One accepted publication: decoded frames until the encoder stops."""

    def __init__(self, conn: RtmpConnection) -> None:
        self.conn = conn
        self.peer = conn.peer
        self.end_reason = "encoder disconnected"
        self._decoder = FlvDecoder()
        # One thread per session keeps its packets in order and the event loop free.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-decode")

    async def frames(self, idle_timeout: float = IDLE_SECONDS) -> AsyncIterator[MediaOut]:
        """Decoded media until the encoder stops or sends nothing for `idle_timeout`
        (`end_reason` says which).

        Raises: IngestError for a codec the meeting cannot carry.
        """
        loop = asyncio.get_running_loop()
        async with contextlib.aclosing(self.conn.media()) as stream:
            while True:
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                    # cancellation that races with a message arriving (75 a second here).
                    async with asyncio.timeout(idle_timeout):
                        message = await anext(stream)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    self.end_reason = f"no media for {idle_timeout:.0f} s"
                    return
                for item in await loop.run_in_executor(
                    self._executor, self._decoder.decode, message
                ):
                    yield item

    async def end(self, reason: str) -> None:
        """Make `frames()` stop: the connection is closed."""
        self.end_reason = reason
        await self.conn.close()

    def close(self) -> None:
        self._executor.shutdown(wait=False)


# --------------------------------------------------------------------------------- publishing
class _Tracks:
    """The participant's tracks, published when their first frame arrives."""

    def __init__(self, room: rtc.Room) -> None:
        self.participant = room.local_participant
        self.video: rtc.VideoSource | None = None
        self.audio: rtc.AudioSource | None = None

    async def push(self, item: MediaOut) -> None:
        if isinstance(item, VideoOut):
            if self.video is None:
                # Only the first frame tells the resolution the encoder chose.
                self.video = rtc.VideoSource(item.frame.width, item.frame.height)
                track = rtc.LocalVideoTrack.create_video_track("camera", self.video)
                await self._publish(track, rtc.TrackSource.SOURCE_CAMERA)
            self.video.capture_frame(item.frame, timestamp_us=item.timestamp_us)
            return
        if self.audio is None:
            self.audio = rtc.AudioSource(SAMPLE_RATE, CHANNELS)
            track = rtc.LocalAudioTrack.create_audio_track("microphone", self.audio)
            await self._publish(track, rtc.TrackSource.SOURCE_MICROPHONE)
        await self.audio.capture_frame(item)

    async def _publish(self, track: rtc.LocalTrack, source: rtc.TrackSource.ValueType) -> None:
        await self.participant.publish_track(track, rtc.TrackPublishOptions(source=source))

    async def aclose(self) -> None:
        for source in (self.video, self.audio):
            if source is not None:
                await source.aclose()


def ingest_token(config: WorkerSettings, params: IngestJob) -> str:
    """A join token for the participant people see: camera and microphone, nothing else."""
    grants = api.VideoGrants(
        room_join=True,
        room=params.room,
        can_publish=True,
        can_publish_sources=["camera", "microphone"],
        can_subscribe=False,
        can_publish_data=False,
    )
    return (
        api.AccessToken(config.api_key, config.api_secret)
        .with_identity(PUBLISHER_PREFIX + params.ingest_id)
        .with_name(params.name)
        .with_kind("ingress")  # lets the app's ledger tell it from people
        .with_attributes({"ingest_id": params.ingest_id})
        .with_grants(grants)
        .with_ttl(timedelta(minutes=10))  # only the join needs it
        .to_jwt()
    )


# ---------------------------------------------------------------------------------------- job
class _RefusalReports:
    """Every refusal is counted; at most one report per `every` seconds, so a scanner cannot
    flood the app, and the last one of a burst is reported when the window ends."""

    def __init__(self, report: Reporter, ingest_id: str, every: float) -> None:
        self.report, self.ingest_id, self.every = report, ingest_id, every
        self.total = 0
        self._sent_at = -math.inf
        self._held: tuple[str, str] | None = None  # (peer, reason) not yet reported
        self._timer: asyncio.TimerHandle | None = None

    def note(self, conn: RtmpConnection, reason: str) -> None:
        self.total += 1
        self._held = (conn.peer, reason)
        if self._timer is not None:
            return
        wait = self._sent_at + self.every - time.monotonic()
        if wait <= 0:
            self._send()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self._send)

    def _send(self) -> None:
        self._timer = None
        if self._held is None:
            return
        (peer, reason), self._held = self._held, None
        self._sent_at = time.monotonic()
        data = {"ingest_id": self.ingest_id, "reason": reason, "peer": peer, "total": self.total}
        self.report.emit("ingest_refused", data)

    def close(self) -> None:
        """Report what is held back now: the job is ending."""
        if self._timer is not None:
            self._timer.cancel()
            self._send()


class Ingest:
    """One ingest's listener, and the participant of whichever encoder is publishing."""

    def __init__(self, params: IngestJob, config: WorkerSettings, report: Reporter) -> None:
        self.params, self.config, self.report = params, config, report
        self.refusals = _RefusalReports(report, params.ingest_id, REFUSAL_REPORT_SECONDS)
        self.server = RtmpServer(
            config.ingest_bind,
            params.rtmp_port,
            key_checker(params.key_sha256),
            self._publish,
            self.refusals.note,
        )
        self._current: IngestSession | None = None
        self._one_at_a_time = asyncio.Lock()  # one participant per ingest
        self._closing = False

    async def start(self) -> None:
        """Raises: OSError when the port cannot be listened on."""
        await self.server.start()
        self.report.emit(
            "ingest_listening", {"ingest_id": self.params.ingest_id, "port": self.server.port}
        )

    async def aclose(self) -> None:
        self._closing = True
        if self._current is not None:
            await self._current.end("ingest stopped")
        await self.server.close()  # ends the encoders' connections; their handlers leave
        self.refusals.close()

    async def _publish(self, conn: RtmpConnection) -> None:
        if self._current is not None:
            # An encoder that reconnects after a network drop may beat the old socket's
            # timeout: the newest publisher wins, as the host expects.
            await self._current.end("replaced by a new connection")
        async with self._one_at_a_time:
            if self._closing:
                return
            session = self._current = IngestSession(conn)
            try:
                await self._serve(session)
            finally:
                session.close()
                if self._current is session:
                    self._current = None

    async def _serve(self, session: IngestSession) -> None:
        """Join with the first decoded frame, so that people never see an empty tile."""
        async with contextlib.aclosing(session.frames()) as frames:
            try:
                first = await anext(frames, None)
            except IngestError as exc:
                # Nobody joined; the host learns why from the encoder's refusal report.
                self.refusals.note(session.conn, str(exc))
                return
            if first is None:
                return  # gone, or silent, before any media
            room = rtc.Room()
            try:
                if await self._join(room):
                    await self._stream(room, session, first, frames)
            finally:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(LEAVE_SECONDS):
                        await room.disconnect()

    async def _join(self, room: rtc.Room) -> bool:
        try:
            async with asyncio.timeout(JOIN_SECONDS):
                await room.connect(
                    self.config.livekit_url,
                    ingest_token(self.config, self.params),
                    rtc.RoomOptions(auto_subscribe=False),
                )
        except (rtc.ConnectError, TimeoutError) as exc:
            # The encoder is dropped; it retries (OBS does), and the job may end meanwhile.
            logger.warning("ingest %s could not join: %s", self.params.ingest_id, exc)
            return False
        return True

    async def _stream(
        self,
        room: rtc.Room,
        session: IngestSession,
        first: MediaOut,
        frames: AsyncIterator[MediaOut],
    ) -> None:
        base = {"ingest_id": self.params.ingest_id, "peer": session.peer}
        self.report.emit("ingest_connected", base)
        joined = time.monotonic()
        tracks = _Tracks(room)
        try:
            await tracks.push(first)
            async for item in frames:
                await tracks.push(item)
        except IngestError as exc:  # the encoder switched to a codec we cannot carry
            session.end_reason = str(exc)
        except Exception as exc:
            # One broken session must not take the listener (and the next session) down.
            logger.exception("ingest session from %s failed", session.peer)
            session.end_reason = f"internal error: {type(exc).__name__}"
        finally:
            await tracks.aclose()
        duration = round(time.monotonic() - joined, 1)
        data = {**base, "reason": session.end_reason, "duration_s": duration}
        self.report.emit("ingest_disconnected", data)


async def run(ctx: JobContext, job: dict[str, Any], report: Reporter) -> None:
    """Serve the ingest until the job is over (see the module's docstring)."""
    try:
        params = IngestJob.parse(job, ctx.room.name)  # jobs.py checked that the rooms match
    except ValueError as exc:
        failed = {"ingest_id": str(job.get("ingest_id", "")), "reason": f"bad job: {exc}"}
        report.emit("ingest_failed", failed)
        return
    left = asyncio.Event()
    ctx.room.on("disconnected", lambda *_: left.set())
    try:
        # The job's own (hidden) connection is how it learns that the room ended.
        await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
    except Exception as exc:
        reason = f"could not join the room: {exc}"
        report.emit("ingest_failed", {"ingest_id": params.ingest_id, "reason": reason})
        return
    ingest = Ingest(params, settings(), report)
    try:
        await ingest.start()
    except OSError as exc:
        reason = f"cannot listen on port {params.rtmp_port}: {exc.strerror or exc}"
        logger.warning("ingest %s: %s", params.ingest_id, reason)
        report.emit("ingest_failed", {"ingest_id": params.ingest_id, "reason": reason})
    else:
        try:
            await _until_over(ctx, left)
        finally:
            await ingest.aclose()
    if ctx.room.isconnected():
        ctx.shutdown("ingest finished")


async def _until_over(ctx: JobContext, left: asyncio.Event) -> None:
    """Until the worker stops the job or its connection to the room ends."""
    waiters = [asyncio.ensure_future(e.wait()) for e in (stop_requested(ctx), left)]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
