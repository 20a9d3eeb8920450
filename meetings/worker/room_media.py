"""What a recorder takes from the room: the latest picture of every camera and screen share,
everyone's audio (into the mixer), and who is speaking."""

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc

from meetings.worker.layout import Layout, Picture, TileSource
from meetings.worker.mixer import SAMPLE_RATE, AudioMixer

logger = logging.getLogger("meetings.worker.room_media")

# Other workers' agents and egress are not people: no tile, and they do not keep a recording going.
NOT_PEOPLE = {
    rtc.ParticipantKind.PARTICIPANT_KIND_AGENT,
    rtc.ParticipantKind.PARTICIPANT_KIND_EGRESS,
}
SCREEN = rtc.TrackSource.SOURCE_SCREENSHARE
CAMERA = rtc.TrackSource.SOURCE_CAMERA
AUDIO_SOURCES = {rtc.TrackSource.SOURCE_MICROPHONE, rtc.TrackSource.SOURCE_SCREENSHARE_AUDIO}
# Audio leaves the SDK 40-80 ms after the video frame captured with it (its jitter buffer is
# deeper; more on a loaded host), and the mixer holds another ~30 ms. Each tile shows the
# picture that arrived this long ago, which centred the measured offsets (a flash and a beep
# sent together, tests/worker/test_recorder.py) around zero.
VIDEO_DELAY_SECONDS = 0.10
AUDIO_FRAME_MS = 20
_PICTURE_NUMBERS = itertools.count(1)
HIGH, MEDIUM, LOW = (
    rtc.VideoQuality.VIDEO_QUALITY_HIGH,
    rtc.VideoQuality.VIDEO_QUALITY_MEDIUM,
    rtc.VideoQuality.VIDEO_QUALITY_LOW,
)


def camera_layer(cameras: int, sharing: bool, layout: Layout, on_stage: bool) -> int:
    """The simulcast layer whose size fits the camera's tile."""
    # Full for the whole picture or the stage, half (360p) for grid tiles, low (180p) for
    # strip tiles and crowded grids.
    if sharing:
        return LOW
    if cameras == 1 or (layout == "speaker" and on_stage):
        return HIGH
    if layout == "speaker" or cameras > 9:
        return LOW
    return MEDIUM


@dataclass
class Feed:
    """The last few pictures of one video track with their arrival times (newest last)."""

    recent: deque[tuple[float, int, Picture]] = field(default_factory=lambda: deque(maxlen=8))

    def add(self, picture: Picture) -> None:
        # Numbers are unique across feeds: the compositor caches scaled pictures by them.
        self.recent.append((time.monotonic(), next(_PICTURE_NUMBERS), picture))

    def at(self, moment: float) -> tuple[Picture | None, int]:
        """The newest picture that arrived by `moment` (or the oldest kept), and its number."""
        chosen = None
        for arrived, number, picture in self.recent:
            if chosen is None or arrived <= moment:
                chosen = (picture, number)
        return chosen if chosen else (None, 0)


@dataclass
class Member:
    identity: str
    name: str
    order: int
    camera: Feed | None = None
    camera_muted: bool = False
    camera_publication: rtc.RemoteTrackPublication | None = None
    camera_quality: int | None = None  # the simulcast layer last asked for
    screen: Feed | None = None
    screen_since: float = 0.0
    speaking: bool = False
    last_spoke: float = 0.0


class RoomMedia:
    """Follows participants and tracks through room events."""

    # Video readers keep only the newest frame (capacity 1): a slow consumer drops, never
    # queues.

    def __init__(
        self, room: rtc.Room, mixer: AudioMixer, *, video: bool, layout: Layout = "grid"
    ) -> None:
        self.room, self.mixer, self.video, self.layout = room, mixer, video, layout
        self.members: dict[str, Member] = {}
        self._order = itertools.count()
        self._readers: dict[str, asyncio.Task[None]] = {}  # track sid -> reader

    def attach(self) -> None:
        """Start following the room, including what was there before we joined."""
        room = self.room
        room.on("participant_connected", self._on_participant_connected)
        room.on("participant_disconnected", self._on_participant_disconnected)
        room.on("track_subscribed", self._on_track_subscribed)
        room.on("track_unsubscribed", self._on_track_unsubscribed)
        room.on("track_muted", self._on_muted)
        room.on("track_unmuted", self._on_unmuted)
        room.on("active_speakers_changed", self._on_active_speakers)
        room.on("participant_name_changed", self._on_name_changed)
        for participant in room.remote_participants.values():
            self._on_participant_connected(participant)
            for publication in participant.track_publications.values():
                if publication.track is not None and publication.subscribed:
                    self._on_track_subscribed(publication.track, publication, participant)

    async def aclose(self) -> None:
        readers = list(self._readers.values())
        self._readers.clear()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    def people(self) -> int:
        return len(self.members)

    def scene(self) -> tuple[list[TileSource], TileSource | None, str | None]:
        """Camera tiles in join order, the newest screen share, and the latest speaker."""
        moment = time.monotonic() - VIDEO_DELAY_SECONDS
        members = sorted(self.members.values(), key=lambda m: m.order)
        cameras = []
        for m in members:
            picture, number = (None, 0)
            if m.camera is not None and not m.camera_muted:
                picture, number = m.camera.at(moment)
            cameras.append(TileSource(m.identity, m.name, picture, number, m.speaking))
        screen = None
        sharing = [m for m in members if m.screen is not None and m.screen.recent]
        if sharing:
            m = max(sharing, key=lambda m: m.screen_since)
            picture, number = m.screen.at(moment)  # type: ignore[union-attr]
            screen = TileSource(f"{m.identity}#screen", f"{m.name} (screen)", picture, number)
        spoke = [m for m in members if m.last_spoke]
        stage_key = max(spoke, key=lambda m: m.last_spoke).identity if spoke else None
        self._choose_layers(members, screen is not None, stage_key)
        return cameras, screen, stage_key

    def _choose_layers(self, members: list[Member], sharing: bool, stage_key: str | None) -> None:
        """Ask for the simulcast layer that fits each camera's tile."""
        # Decoding a 720p camera for a 256x144 tile wastes most of the decoder's work.
        for m in members:
            want = camera_layer(len(members), sharing, self.layout, m.identity == stage_key)
            if m.camera_publication is None or m.camera_quality == want:
                continue
            m.camera_quality = want
            with contextlib.suppress(ValueError):  # not simulcast: there is one layer
                m.camera_publication.set_video_quality(want)

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind in NOT_PEOPLE or participant.identity in self.members:
            return
        self.members[participant.identity] = Member(
            participant.identity, participant.name or participant.identity, next(self._order)
        )

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        self.members.pop(participant.identity, None)
        for publication in participant.track_publications.values():
            self._stop_reader(publication.sid)

    def _on_track_subscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        member = self.members.get(participant.identity)
        if member is None or publication.sid in self._readers:
            return
        if track.kind == rtc.TrackKind.KIND_VIDEO and self.video:
            if publication.source not in (CAMERA, SCREEN):
                return
            if publication.source == CAMERA:
                member.camera_muted = publication.muted
            feed = Feed()
            if publication.source == SCREEN:
                member.screen, member.screen_since = feed, time.monotonic()
            else:
                member.camera, member.camera_publication = feed, publication
                member.camera_quality = None
            reader = self._read_video(feed, track)
        elif track.kind == rtc.TrackKind.KIND_AUDIO and publication.source in AUDIO_SOURCES:
            reader = self._read_audio(publication.sid, track)
        else:
            return
        task = asyncio.create_task(reader, name=f"reader-{publication.sid}")
        self._readers[publication.sid] = task

    def _on_track_unsubscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        self._stop_reader(publication.sid)
        member = self.members.get(participant.identity)
        if member and publication.source == CAMERA:
            member.camera, member.camera_publication = None, None
        elif member and publication.source == SCREEN:
            member.screen = None

    def _on_muted(self, participant: rtc.Participant, publication: rtc.TrackPublication) -> None:
        member = self.members.get(participant.identity)
        if member and publication.source == CAMERA:
            member.camera_muted = True

    def _on_unmuted(self, participant: rtc.Participant, publication: rtc.TrackPublication) -> None:
        member = self.members.get(participant.identity)
        if member and publication.source == CAMERA:
            member.camera_muted = False

    def _on_active_speakers(self, speakers: list[rtc.Participant]) -> None:
        now = time.monotonic()
        talking = {p.identity for p in speakers}
        for member in self.members.values():
            member.speaking = member.identity in talking
            if member.speaking:
                member.last_spoke = now

    def _on_name_changed(self, participant: rtc.Participant, old: str, new: str) -> None:
        member = self.members.get(participant.identity)
        if member:
            member.name = new or participant.identity

    def _stop_reader(self, sid: str) -> None:
        reader = self._readers.pop(sid, None)
        if reader is not None:
            reader.cancel()
        self.mixer.remove(sid)

    async def _read_video(self, feed: Feed, track: rtc.Track) -> None:
        # I420 is what the decoder produces: no conversion, and the compositor keeps it.
        stream = rtc.VideoStream(track, capacity=1, format=rtc.VideoBufferType.I420)
        try:
            async for event in stream:
                frame = event.frame
                feed.add(Picture(frame.width, frame.height, frame.data))
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()

    async def _read_audio(self, sid: str, track: rtc.Track) -> None:
        # 20 ms frames: half the events of the default 10 ms, for a little latency.
        stream = rtc.AudioStream(
            track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=AUDIO_FRAME_MS
        )
        try:
            async for event in stream:
                self.mixer.push(sid, np.frombuffer(event.frame.data, np.int16))
        finally:
            self.mixer.remove(sid)
            with contextlib.suppress(Exception):
                await stream.aclose()
