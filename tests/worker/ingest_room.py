"""A room for the stream-in tests: the ingest job dispatched into it as the app does, an
encoder pushing to it (Debian's ffmpeg, as OBS would) and a viewer who watches what it
publishes through the `livekit` real-time SDK."""

import asyncio
import hashlib
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import api, rtc

from meetings.livekit_process import free_port
from tests.support.rtmp_encoder import SAMPLE_RATE
from tests.support.synthetic import BackgroundParticipants

NAME = "Stage camera"
MOVING = 0.5  # mean luma change between frames: testsrc2 about 2, a still picture under 0.01


@dataclass(frozen=True)
class Seen:
    """A participant as the viewer saw it, with the tracks it had subscribed to."""

    identity: str
    name: str
    kind: int
    attributes: dict[str, str]
    tracks: dict[int, tuple[int, int, int]]  # source -> (kind, width, height)


@dataclass(frozen=True)
class Sample:
    """What the viewer got of a participant's media."""

    changes: list[float]  # mean luma change between consecutive video frames (0-255)
    rms: float  # of the audio's last half second
    peak_hz: float  # its loudest frequency

    @property
    def moving(self) -> int:
        """How many of the frames differ visibly from the one before."""
        return sum(change > MOVING for change in self.changes)


def thumbnail(frame: rtc.VideoFrame) -> np.ndarray:
    """The frame's luma as 36x64 block averages: the same picture at any simulcast layer
    gives (nearly) the same thumbnail, and encoder noise averages out."""
    frame = frame.convert(rtc.VideoBufferType.I420)
    width, height = frame.width, frame.height
    luma = np.frombuffer(frame.data, np.uint8, count=width * height).reshape(height, width)
    rows = np.linspace(0, height, 37).astype(int)
    cols = np.linspace(0, width, 65).astype(int)
    sums = np.add.reduceat(np.add.reduceat(luma.astype(np.int64), rows[:-1], 0), cols[:-1], 1)
    return sums / np.outer(np.diff(rows), np.diff(cols))


class Viewer:
    """A participant who only watches, on a thread of its own."""

    def __init__(self, livekit_url: str, token: str) -> None:
        self.ever_joined: list[str] = []  # identities of everyone who joined while it watched
        self._bots = BackgroundParticipants([{"livekit_url": livekit_url, "token": token}])

    def __enter__(self) -> "Viewer":
        self._bots.__enter__()
        self._bots.call(self._watch)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bots.__exit__()

    async def _watch(self, rooms: list[rtc.Room]) -> None:
        room = rooms[0]
        self.ever_joined += list(room.remote_participants)
        room.on("participant_connected", lambda p: self.ever_joined.append(p.identity))

    def wait_publishing(self, identity: str, timeout: float = 20) -> Seen:
        """The participant once the viewer has its camera and microphone."""

        def publishing(room: rtc.Room) -> Seen | None:
            participant = room.remote_participants.get(identity)
            if participant is None:
                return None
            tracks = {
                pub.source: (pub.kind, pub.width, pub.height)
                for pub in participant.track_publications.values()
                if pub.track is not None
            }
            if len(tracks) < 2:
                return None
            return Seen(
                participant.identity,
                participant.name,
                participant.kind,
                dict(participant.attributes),
                tracks,
            )

        return self._until(publishing, timeout, f"{identity} publishing camera and microphone")

    def wait_gone(self, identity: str, timeout: float = 15) -> None:
        self._until(
            lambda room: identity not in room.remote_participants, timeout, f"{identity} gone"
        )

    def sample(self, identity: str, frames: int = 10, seconds: float = 1.0) -> Sample:
        """Read `frames` video frames and `seconds` of audio of a publishing participant."""

        async def read(rooms: list[rtc.Room]) -> Sample:
            participant = rooms[0].remote_participants[identity]
            tracks = {p.source: p.track for p in participant.track_publications.values()}
            video = rtc.VideoStream(tracks[rtc.TrackSource.SOURCE_CAMERA])
            audio = rtc.AudioStream(
                tracks[rtc.TrackSource.SOURCE_MICROPHONE], sample_rate=SAMPLE_RATE, num_channels=1
            )
            try:
                async with asyncio.timeout(15):
                    pictures = [event.frame async for event in _first(video, frames)]
                    wanted = int(seconds * SAMPLE_RATE)
                    pcm = np.zeros(0, np.int16)
                    async for event in audio:
                        pcm = np.concatenate([pcm, np.frombuffer(event.frame.data, np.int16)])
                        if len(pcm) >= wanted:
                            break
            finally:
                await video.aclose()
                await audio.aclose()
            tail = pcm[-SAMPLE_RATE // 2 :].astype(float)
            spectrum = np.abs(np.fft.rfft(tail))
            peak = float(np.fft.rfftfreq(len(tail), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])
            rms = float(np.sqrt(np.mean(tail**2)))
            thumbs = [thumbnail(picture) for picture in pictures]
            changes = [float(np.mean(np.abs(b - a))) for a, b in itertools.pairwise(thumbs)]
            return Sample(changes, rms, peak)

        return self._bots.call(read)

    def _until(self, check: Callable[[rtc.Room], Any], timeout: float, what: str) -> Any:
        async def poll(rooms: list[rtc.Room]) -> Any:
            deadline = time.monotonic() + timeout
            while not (value := check(rooms[0])):
                if time.monotonic() > deadline:
                    raise AssertionError(f"not within {timeout} s: {what}")
                await asyncio.sleep(0.1)
            return value

        return self._bots.call(poll)


async def _first(stream: rtc.VideoStream, count: int) -> Any:
    seen = 0
    async for event in stream:
        yield event
        seen += 1
        if seen >= count:
            return


@dataclass
class IngestRoom:
    """A room with the ingest job in it, listening; leaving the block closes the room."""

    stack: Any  # tests.worker.conftest.Stack
    name: str = field(default_factory=lambda: f"ingest-{secrets.token_hex(3)}")
    job_id: str = field(default_factory=lambda: "IJ_" + secrets.token_hex(16))
    ingest_id: str = field(default_factory=lambda: "in_" + secrets.token_hex(6))
    key: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    port: int = field(default_factory=free_port)
    closed: bool = False

    @property
    def identity(self) -> str:
        """The participant people see."""
        return f"ingest-{self.ingest_id}"

    @property
    def job_identity(self) -> str:
        """The job's own, hidden participant."""
        return f"ingester-{self.job_id}"

    def url(self, key: str | None = None) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{self.key if key is None else key}"

    def __enter__(self) -> "IngestRoom":
        self.stack.create_room(self.name)
        self.dispatch()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.closed:
            self.close()

    def dispatch(self) -> dict[str, Any]:
        job = {
            "job_id": self.job_id,
            "room": self.name,
            "ingest_id": self.ingest_id,
            "name": NAME,
            "rtmp_port": self.port,
            "stream_key_sha256": hashlib.sha256(self.key.encode()).hexdigest(),
        }
        self.stack.dispatch(self.name, job, agent="meetings-ingest")
        return job

    def close(self) -> None:
        """Close the room, as the app does when a meeting ends."""
        self.closed = True
        config = self.stack.config

        async def delete() -> None:
            async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
                await lk.room.delete_room(api.DeleteRoomRequest(room=self.name))

        self.stack.run(delete())

    def viewer(self) -> Viewer:
        config = self.stack.config
        grants = api.VideoGrants(room_join=True, room=self.name, can_publish=False)
        token = (
            api.AccessToken(config.api_key, config.api_secret)
            .with_identity("viewer")
            .with_grants(grants)
            .to_jwt()
        )
        return Viewer(config.ws_url, token)

    # The app's side: the worker's events for this job.

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.stack.sink.of(self.job_id, kind)]

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.stack.sink.of(self.job_id)]

    def wait_event(self, kind: str, timeout: float = 30, **match: Any) -> dict[str, Any]:
        return self.stack.sink.wait_event(self.job_id, kind, timeout, **match)["data"]

    def wait_events(self, kind: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        self.stack.sink.wait(
            lambda: len(self.events(kind)) >= count, timeout, f"{count} {kind} event(s)"
        )
        return self.events(kind)
