"""Test parts for captions: flite speech, a speaking participant, a listening participant,
a recording reporter, and word error rate."""

import asyncio
import datetime
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import av
import numpy as np
from livekit import api, rtc

RATE = 48_000
FRAME = RATE // 100  # 10 ms, as a browser's microphone sends


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level Levenshtein distance over the reference length."""
    ref, hyp = reference.lower().split(), hypothesis.lower().split()
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution
                )
            )
        previous = current
    return previous[-1] / len(ref)


@dataclass(frozen=True)
class Speech:
    text: str
    voice: str
    wav: Path

    def pcm16k(self) -> bytes:
        """The WAV's own s16le mono 16 kHz samples (flite writes exactly that)."""
        with av.open(str(self.wav)) as container:
            frames = [f.to_ndarray() for f in container.decode(audio=0)]
        return np.concatenate(frames, axis=1).astype(np.int16).tobytes()

    def pcm48k(self) -> np.ndarray:
        """Resampled with PyAV (libswresample) to what a microphone track carries."""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        chunks = []
        with av.open(str(self.wav)) as container:
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
        return np.concatenate(chunks, axis=1).reshape(-1).astype(np.int16)


def flite(text: str, voice: str, directory: Path) -> Speech:
    wav = directory / f"{voice}-{abs(hash(text))}.wav"
    if not wav.exists():
        subprocess.run(
            ["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, timeout=30
        )
    return Speech(text, voice, wav)


def token(
    key: str, secret: str, room: str, identity: str, name: str = "", agent: bool = False
) -> str:
    grants = api.VideoGrants(room_join=True, room=room, hidden=agent)
    access = (
        api.AccessToken(key, secret)
        .with_identity(identity)
        .with_name(name or identity)
        .with_grants(grants)
        .with_ttl(datetime.timedelta(minutes=10))
    )
    if agent:  # as the worker joins: only an agent may send text on a speaker's behalf
        access = access.with_kind("agent")
    return access.to_jwt()


async def create_room(http_url: str, key: str, secret: str, name: str) -> None:
    async with api.LiveKitAPI(http_url, key, secret) as lk:
        await asyncio.wait_for(lk.room.create_room(api.CreateRoomRequest(name=name)), 10)


def room_options(url: str, auto_subscribe: bool = True) -> rtc.RoomOptions:
    # Without ICE servers of its own, WebRTC resolves the STUN hosts the server suggests
    # (stun.l.google.com, global.stun.twilio.com): DNS sockets still open when a test ends.
    # Everything here is on 127.0.0.1, so a loopback STUN address that needs no DNS will do.
    stun = rtc.IceServer(urls=[f"stun:127.0.0.1:{urlsplit(url).port}"])
    return rtc.RoomOptions(
        auto_subscribe=auto_subscribe, rtc_config=rtc.RtcConfiguration(ice_servers=[stun])
    )


async def connect(url: str, jwt: str, auto_subscribe: bool = True) -> rtc.Room:
    room = rtc.Room()
    await room.connect(url, jwt, room_options(url, auto_subscribe))
    return room


class Speaker:
    """A participant with a microphone: silence, except while it says something."""

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        # A full second of queue rides out event-loop stalls of this busy test process (the
        # recogniser shares its GIL); a shorter one turned stalls into gaps inside words.
        # When the audio leaves is still known: now + the source's queued_duration.
        self.source = rtc.AudioSource(RATE, 1, queue_size_ms=1000)
        self.frames_sent = 0
        self.track_sid = ""
        self._speech: asyncio.Queue[tuple[np.ndarray, asyncio.Future]] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    @property
    def identity(self) -> str:
        return self.room.local_participant.identity

    async def start(self) -> "Speaker":
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        publication = await self.room.local_participant.publish_track(track, options)
        self.track_sid = publication.sid
        self._task = asyncio.create_task(self._feed())
        return self

    async def say(self, speech: Speech) -> tuple[float, float]:
        """Speak and return the unix times the audio started and ended."""
        done = asyncio.get_running_loop().create_future()
        await self._speech.put((speech.pcm48k(), done))
        return await done

    async def _feed(self) -> None:
        silence = np.zeros(FRAME, np.int16)
        while True:
            pcm, done = silence, None
            if not self._speech.empty():
                pcm, done = self._speech.get_nowait()
            started = time.time() + self.source.queued_duration
            for offset in range(0, len(pcm), FRAME):
                chunk = pcm[offset : offset + FRAME]
                await self.source.capture_frame(
                    rtc.AudioFrame(chunk.tobytes(), RATE, 1, len(chunk))
                )
                self.frames_sent += 1
            if done is not None:
                done.set_result((started, time.time() + self.source.queued_duration))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.source.aclose()


@dataclass
class Caption:
    identity: str
    segment_id: str
    track_id: str
    final: bool
    text: str
    received: float


@dataclass
class Listener:
    """A participant reading captions the way a page does (text streams on lk.transcription)."""

    room: rtc.Room
    captions: list[Caption] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    _tasks: set[asyncio.Task] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.room.register_text_stream_handler("lk.transcription", self._on_caption)
        self.room.register_text_stream_handler("meetings.captions_status", self._on_notice)

    def _on_caption(self, reader: rtc.TextStreamReader, identity: str) -> None:
        async def read() -> None:
            text = await reader.read_all()
            attributes = reader.info.attributes or {}
            self.captions.append(
                Caption(
                    identity=identity,
                    segment_id=attributes.get("lk.segment_id", ""),
                    track_id=attributes.get("lk.transcribed_track_id", ""),
                    final=attributes.get("lk.transcription_final") == "true",
                    text=text,
                    received=time.time(),
                )
            )

        self._keep(read())

    def _on_notice(self, reader: rtc.TextStreamReader, identity: str) -> None:
        async def read() -> None:
            self.notices.append(await reader.read_all())

        self._keep(read())

    def _keep(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def finals(self, identity: str | None = None) -> list[Caption]:
        return [c for c in self.captions if c.final and c.text and identity in (None, c.identity)]

    async def wait_finals(self, count: int, timeout: float = 15.0) -> list[Caption]:
        deadline = time.monotonic() + timeout
        while len(self.finals()) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.finals()


@dataclass
class RecordingReport:
    """Stands in for the worker's signed reporter: records what the job sends the app."""

    sent: list[tuple[str, dict]] = field(default_factory=list)

    async def send(self, kind: str, data: dict) -> None:
        self.sent.append((kind, data))

    def of(self, kind: str) -> list[dict]:
        return [data for sent_kind, data in self.sent if sent_kind == kind]
