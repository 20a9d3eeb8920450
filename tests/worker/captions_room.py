"""A room for the captions tests: synthetic people with flite voices, a listener that reads
captions the way a page does (text streams on `lk.transcription`), and the captions job
dispatched into it as the app does."""

import asyncio
import datetime
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit import api, rtc

from tests.support.speech import Microphone, flite_wav
from tests.support.synthetic import BackgroundParticipants

LISTENER = "listener"


@dataclass
class Caption:
    """One text stream on lk.transcription as a participant received it."""

    identity: str  # whom the stream is sent on behalf of: the speaker
    segment_id: str
    track_id: str
    final: bool
    text: str
    received: float  # unix time


@dataclass
class Said:
    identity: str
    text: str
    started: float  # unix times the speech went out
    ended: float


@dataclass
class CaptionsRoom:
    """People in a room (the listener last); start with `with`, then dispatch()."""

    stack: Any  # tests.worker.conftest.Stack
    people: dict[str, str]  # identity -> display name of those who speak
    name: str = field(default_factory=lambda: f"captions-{secrets.token_hex(3)}")
    job_id: str = field(default_factory=lambda: "CJ_" + secrets.token_hex(16))
    origin: float = field(default_factory=lambda: time.time() - 60)
    captions: list[Caption] = field(default_factory=list)
    said: list[Said] = field(default_factory=list)
    mics: dict[str, Microphone] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._bots: BackgroundParticipants | None = None

    def __enter__(self) -> "CaptionsRoom":
        self.stack.create_room(self.name)
        identities = [*self.people, LISTENER]
        tickets = [
            {"livekit_url": self.stack.config.ws_url, "token": self._token(i)} for i in identities
        ]
        self._bots = BackgroundParticipants(tickets).__enter__()
        for index, identity in enumerate(self.people):
            self.mics[identity] = self._bots.call(
                lambda rooms, i=index: Microphone.publish(rooms[i])
            )
        self._bots.call(lambda rooms: self._listen(rooms[-1]))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bots is not None:
            for mic in self.mics.values():
                self._bots.call(lambda rooms, mic=mic: mic.aclose())
            self._bots.__exit__()

    def _token(self, identity: str) -> str:
        config = self.stack.config
        return (
            api.AccessToken(config.api_key, config.api_secret)
            .with_identity(identity)
            .with_name(self.people.get(identity, identity))
            .with_grants(api.VideoGrants(room_join=True, room=self.name))
            .with_ttl(datetime.timedelta(minutes=10))
            .to_jwt()
        )

    async def _listen(self, room: rtc.Room) -> None:
        tasks: set[asyncio.Task] = set()

        def on_stream(reader: rtc.TextStreamReader, identity: str) -> None:
            async def read() -> None:
                text = await reader.read_all()
                attributes = reader.info.attributes or {}
                caption = Caption(
                    identity=identity,
                    segment_id=attributes.get("lk.segment_id", ""),
                    track_id=attributes.get("lk.transcribed_track_id", ""),
                    final=attributes.get("lk.transcription_final") == "true",
                    text=text,
                    received=time.time(),
                )
                with self._lock:
                    self.captions.append(caption)

            task = asyncio.ensure_future(read())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        room.register_text_stream_handler("lk.transcription", on_stream)

    def dispatch(self, language: str = "en") -> dict[str, Any]:
        job = {
            "job_id": self.job_id,
            "room": self.name,
            "language": language,
            "occurrence_started_at": self.origin,
        }
        self.stack.dispatch(self.name, job, agent="meetings-captions")
        return job

    def say(self, identity: str, text: str, voice: str = "slt") -> Said:
        """`identity` says `text`; returns once the last of it went out."""
        wav: Path = flite_wav(text, voice)
        mic = self.mics[identity]
        assert self._bots is not None
        started, ended = self._bots.call(lambda rooms: mic.say(wav))
        said = Said(identity, text, started, ended)
        self.said.append(said)
        return said

    def mute(self, identity: str, muted: bool) -> None:
        mic = self.mics[identity]
        assert self._bots is not None
        self._bots.call(lambda rooms: mic.set_muted(muted))

    def finals(self, identity: str | None = None) -> list[Caption]:
        with self._lock:
            return [c for c in self.captions if c.final and identity in (None, c.identity)]

    def interims(self) -> list[Caption]:
        with self._lock:
            return [c for c in self.captions if not c.final]

    # The app's side: the worker's events for this job.

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.stack.sink.of(self.job_id, kind)]

    def wait_status(self, status: str, timeout: float = 60) -> dict[str, Any]:
        return self.stack.sink.wait_event(self.job_id, "captions_status", timeout, status=status)

    def wait_segments(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        self.stack.sink.wait(
            lambda: len(self.events("caption_segment")) >= count,
            timeout,
            f"{count} caption segment(s)",
        )
        return self.events("caption_segment")

    def segments_of(self, said: Said) -> list[dict[str, Any]]:
        """The reported segments that fall within the time `said` was spoken (±1 s)."""
        start, end = said.started - self.origin - 1, said.ended - self.origin + 1
        return [s for s in self.events("caption_segment") if start <= s["start"] <= end]


def participants(stack: Any, room: str) -> list[str]:
    """Identities in the room, hidden ones (the worker's) included; none once it closed."""

    async def listing() -> list[str]:
        async with api.LiveKitAPI(
            stack.config.url, stack.config.api_key, stack.config.api_secret
        ) as lk:
            try:
                request = api.ListParticipantsRequest(room=room)
                response = await lk.room.list_participants(request)
            except api.TwirpError as exc:
                if exc.code == "not_found":
                    return []
                raise
        return [p.identity for p in response.participants]

    return stack.run(listing())
