"""Stream in: an OBS-style RTMP push becomes a participant of the meeting.

A host creates an ingest and gets `rtmp://<worker>:<port>/live` plus a stream key. The job
listens on that port (rtmp_server.py checks the key before any media is read), decodes H.264
and AAC with PyAV and publishes them through the real-time SDK as a participant with the name
the host chose. Encoder gone = participant gone; encoder back = participant back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import av
from livekit import api, rtc

from meetings.worker.rtmp_server import (
    AUDIO,
    VIDEO,
    Authorize,
    Decision,
    RtmpConnection,
    RtmpMessage,
    RtmpServer,
)

if TYPE_CHECKING:
    from livekit.agents import JobContext

log = logging.getLogger(__name__)

AGENT_NAME = "meetings-ingest"
# The job's hidden agent; "ingest-<ingest_id>" is the participant people see.
IDENTITY_PREFIX = "ingest-job-"
PARTICIPANT_NAME = "Ingest"
RTMP_APP = "live"
SAMPLE_RATE = 48000
CHANNELS = 1  # the meeting's audio path is mono; a stage feed is mixed down
FLV_AVC, FLV_AAC = 7, 10


class Reporter(Protocol):
    async def send(self, kind: str, data: dict[str, Any]) -> None: ...


class IngestError(Exception):
    """The encoder sends something we cannot publish (codec, malformed data)."""


def hash_key(key: str) -> str:
    """What the app stores and dispatches: the key itself never leaves the app."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_checker(ingest_id: str, key_sha256: str, app: str = RTMP_APP) -> Authorize:
    """An `authorize` for one ingest: app must match, key compared in constant time."""

    async def authorize(presented_app: str, stream_name: str) -> Decision:
        if presented_app != app:
            return Decision(None, f"unknown application {presented_app[:40]!r}")
        if not hmac.compare_digest(hash_key(stream_name), key_sha256.lower()):
            return Decision(None, "invalid stream key")
        return Decision(ingest_id)

    return authorize


# ------------------------------------------------------------------------------------ decoding
@dataclass(frozen=True)
class VideoOut:
    frame: rtc.VideoFrame
    timestamp_us: int


MediaOut = VideoOut | rtc.AudioFrame


class FlvDecoder:
    """FLV tag bodies (RTMP audio/video payloads) to frames the SDK takes. Not thread-safe:
    one session, one executor thread."""

    def __init__(self) -> None:
        self.video: av.VideoCodecContext | None = None
        self.audio: av.AudioCodecContext | None = None
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def decode(self, message: RtmpMessage) -> list[MediaOut]:
        body = message.payload
        if len(body) < 2:
            return []
        try:
            if message.type_id == VIDEO:
                return self._video(body, message.timestamp)
            if message.type_id == AUDIO:
                return self._audio(body, message.timestamp)
        except av.error.FFmpegError as exc:
            # A damaged packet costs a frame, not the session; the next keyframe heals it.
            log.debug("undecodable packet (type %s) skipped: %s", message.type_id, exc)
        return []

    def _video(self, body: bytes, timestamp: int) -> list[MediaOut]:
        if body[0] & 0x80 or body[0] & 0x0F != FLV_AVC:
            # Enhanced-RTMP (HEVC/AV1 FourCC) or an old codec: tell the host what to pick.
            raise IngestError("unsupported video codec: set the encoder to H.264")
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
            raise IngestError("unsupported audio codec: set the encoder to AAC")
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


# ----------------------------------------------------------------------------------- sessions
class IngestSession:
    """One accepted publication: decoded frames until the encoder stops."""

    def __init__(self, conn: RtmpConnection) -> None:
        self.conn = conn
        self.ingest_id = conn.ingest_id or ""
        self.peer = conn.peer
        self.started = time.monotonic()
        self.end_reason = "encoder disconnected"
        self.done = asyncio.Event()
        self._decoder = FlvDecoder()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-decode")

    async def frames(self, idle_timeout: float = 10.0) -> AsyncIterator[MediaOut]:
        loop = asyncio.get_running_loop()
        stream = aiter(self.conn.media())
        try:
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
                # Decoding in a thread keeps the event loop (and the SDK) responsive; one
                # thread per session keeps packets in order.
                for item in await loop.run_in_executor(
                    self._executor, self._decoder.decode, message
                ):
                    yield item
        except IngestError as exc:
            self.end_reason = str(exc)
        finally:
            await stream.aclose()

    async def close(self, reason: str | None = None) -> None:
        if reason:
            self.end_reason = reason
        await self.conn.close()
        self._executor.shutdown(wait=False)
        self.done.set()


class IngestListener:
    """RTMP listener whose accepted publications arrive through `sessions()`."""

    def __init__(
        self,
        port: int,
        authorize: Authorize,
        host: str = "0.0.0.0",  # noqa: S104 - encoders connect from outside
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        self.refused = 0
        self._on_refused = on_refused
        self._queue: asyncio.Queue[IngestSession] = asyncio.Queue()
        self._live: dict[str, IngestSession] = {}
        self._server = RtmpServer(host, port, authorize, self._publish, self._refused)

    @property
    def port(self) -> int:
        return self._server.port

    async def start(self) -> None:
        await self._server.start()

    async def close(self) -> None:
        for session in list(self._live.values()):
            await session.close("ingest stopped")
        await self._server.close()

    async def sessions(self) -> AsyncIterator[IngestSession]:
        while True:
            yield await self._queue.get()

    async def _publish(self, conn: RtmpConnection) -> None:
        session = IngestSession(conn)
        previous = self._live.get(session.ingest_id)
        if previous is not None:
            # An encoder that reconnects after a network drop may beat the old socket's
            # timeout: the newest publisher wins, as the host expects.
            await previous.close("replaced by a new connection")
        self._live[session.ingest_id] = session
        self._queue.put_nowait(session)
        try:
            await session.done.wait()
        finally:
            if self._live.get(session.ingest_id) is session:
                del self._live[session.ingest_id]

    def _refused(self, conn: RtmpConnection, reason: str) -> None:
        self.refused += 1
        if self._on_refused is not None:
            self._on_refused(conn.peer, reason)


# --------------------------------------------------------------------------------- publishing
class _Tracks:
    """The participant's tracks, published when their first frame arrives."""

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        self.participant = room.local_participant
        self.video: rtc.VideoSource | None = None
        self.audio: rtc.AudioSource | None = None
        self.sids: list[str] = []

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
        options = rtc.TrackPublishOptions(source=source)
        publication = await self.participant.publish_track(track, options)
        self.sids.append(publication.sid)

    async def close(self) -> None:
        # After the room ended an unpublish is never answered: only ask a live room, briefly.
        for sid in self.sids if self.room.isconnected() else []:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self.participant.unpublish_track(sid)
        for source in (self.video, self.audio):
            if source is not None:
                await source.aclose()


async def publish_ingest(room: rtc.Room, session: IngestSession) -> None:
    """Publish a session's frames on a connected room until the encoder stops."""
    tracks = _Tracks(room)
    try:
        async for item in session.frames():
            await tracks.push(item)
    finally:
        await tracks.close()


# ---------------------------------------------------------------------------------------- job
@dataclass(frozen=True)
class Credentials:
    url: str
    api_key: str
    api_secret: str


def ingest_token(creds: Credentials, room: str, ingest_id: str, name: str) -> str:
    """A join token for the ingest participant: publish camera+microphone, nothing else."""
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_subscribe=False,
        can_publish_data=False,
        can_publish_sources=["camera", "microphone"],
    )
    return (
        api.AccessToken(creds.api_key, creds.api_secret)
        .with_identity(f"ingest-{ingest_id}")
        .with_name(name)
        .with_kind("ingress")  # lets the app's ledger tell it from people
        .with_attributes({"ingest_id": ingest_id})
        .with_grants(grants)
        .with_ttl(timedelta(minutes=10))  # only the join needs it
        .to_jwt()
    )


class _RefusalReports:
    """Every refusal is counted; reports are throttled so a scanner cannot flood the app."""

    def __init__(self, report: Reporter, ingest_id: str, every: float = 5.0) -> None:
        self.report, self.ingest_id, self.every = report, ingest_id, every
        self.total = 0
        self._last = -every
        self._tasks: set[asyncio.Task[None]] = set()

    def note(self, peer: str, reason: str) -> None:
        self.total += 1
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        data = {"ingest_id": self.ingest_id, "reason": reason, "peer": peer, "total": self.total}
        task = asyncio.get_running_loop().create_task(self.report.send("ingest_refused", data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def serve_ingest(job: dict[str, Any], report: Reporter, creds: Credentials) -> None:
    """Listen for the job's encoder and publish each of its sessions, until cancelled."""
    ingest_id, room_name, name = job["ingest_id"], job["room"], job["name"]
    refusals = _RefusalReports(report, ingest_id)
    listener = IngestListener(
        int(job["rtmp_port"]),
        key_checker(ingest_id, job["stream_key_sha256"]),
        host=os.environ.get("MEETINGS_INGEST_BIND", "0.0.0.0"),  # noqa: S104
        on_refused=refusals.note,
    )
    await listener.start()
    try:
        async for session in listener.sessions():
            await _serve_session(session, creds, room_name, name, report)
    finally:
        await listener.close()


async def _serve_session(
    session: IngestSession, creds: Credentials, room_name: str, name: str, report: Reporter
) -> None:
    base = {"ingest_id": session.ingest_id, "peer": session.peer}
    room = rtc.Room()
    try:
        token = ingest_token(creds, room_name, session.ingest_id, name)
        async with asyncio.timeout(20):
            await room.connect(creds.url, token)
        await report.send("ingest_connected", base)
        await publish_ingest(room, session)
    except (rtc.ConnectError, TimeoutError) as exc:
        session.end_reason = f"could not join the meeting: {exc}"
    except Exception as exc:
        # One broken session must not take the listener (and the next session) down.
        log.exception("ingest session from %s failed", session.peer)
        session.end_reason = f"internal error: {type(exc).__name__}"
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await room.disconnect()
        await session.close()
        duration = round(time.monotonic() - session.started, 1)
        await report.send(
            "ingest_disconnected", {**base, "reason": session.end_reason, "duration_s": duration}
        )


async def run(ctx: JobContext, job: dict[str, Any], report: Reporter) -> None:
    """Worker contract: serve the ingest until the room ends or the job is removed."""
    from livekit.agents import AutoSubscribe

    from meetings.worker.settings import settings

    ended = asyncio.Event()
    ctx.room.on("disconnected", lambda *_: ended.set())
    # The job's own (hidden) connection is how it learns that the room ended.
    await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
    conf = settings()
    creds = Credentials(conf.livekit_url, conf.api_key, conf.api_secret)
    serving = asyncio.create_task(serve_ingest(job, report, creds))
    watching = asyncio.create_task(ended.wait())
    try:
        await asyncio.wait({serving, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (serving, watching):
            task.cancel()
        await asyncio.gather(serving, watching, return_exceptions=True)
    if not serving.cancelled() and (error := serving.exception()) is not None:
        # Typically the port is taken: the host must hear that nobody is listening.
        await report.send(
            "ingest_failed", {"ingest_id": job.get("ingest_id"), "reason": str(error)}
        )
    ctx.shutdown("ingest finished")
