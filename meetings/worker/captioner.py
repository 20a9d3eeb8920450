"""The captions job: transcribe every microphone in a room, caption it live, report finals.

Per microphone track: the SDK's AudioStream (resampled natively to 16 kHz mono) -> Silero VAD
-> one recogniser utterance per stretch of speech. Interim and final text goes to the room
as `lk.transcription` text streams sent on behalf of the speaker (the convention
livekit-client and LiveKit's components read); finals also go to the app through `report`.

`Captioner` needs only an `rtc.Room`, so tests drive it with a room they connected; `run`
is the livekit-agents entry for the worker.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext, JobProcess
from livekit.agents import vad as agents_vad
from livekit.agents.types import (
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    TOPIC_TRANSCRIPTION,
)

from .stt import (
    BYTES_PER_SECOND,
    MAX_UTTERANCE_SECONDS,
    SAMPLE_RATE,
    DecoderPool,
    Recognizer,
    SttSettings,
    SttUnavailable,
    Utterance,
    make_recognizer,
)
from .vad import SampleClock, load_vad

AGENT_NAME = "meetings-captions"
PARTICIPANT_NAME = "Captions"  # read by jobs.py; the participant is hidden anyway
STATUS_TOPIC = "meetings.captions_status"  # JSON {"status", "reason"}; see the page code
USERDATA_KEY = "captions"

logger = logging.getLogger(__name__)


class Reporter(Protocol):
    async def send(self, kind: str, data: dict) -> None: ...


@dataclass(frozen=True)
class Segment:
    segment_id: str
    identity: str
    display_name: str
    track_sid: str
    start: float  # unix seconds
    end: float
    text: str
    final: bool


OnSegment = Callable[[Segment], Awaitable[None]]
OnStatus = Callable[[str, str], Awaitable[None]]


# --- the job entry ----------------------------------------------------------------------


@dataclass
class CaptionResources:
    """What a worker process loads once (prewarm) and every captions job then shares."""

    settings: SttSettings
    vad: agents_vad.VAD
    pool: DecoderPool = field(default_factory=DecoderPool)

    def recognizer(self, language: str) -> Recognizer:
        return make_recognizer(self.settings, language, self.pool)


def load_resources(settings: SttSettings, decoders: int = 1) -> CaptionResources:
    """Load the VAD and, for PocketSphinx, `decoders` decoders (blocking, ~0.25 s each)."""
    resources = CaptionResources(settings=settings, vad=load_vad())
    if settings.backend == "pocketsphinx":
        try:
            resources.pool.prewarm(decoders)
        except Exception:
            # The job reports "unavailable" when it asks the pool again; the worker lives on.
            logger.exception("PocketSphinx model failed to load")
    return resources


def prewarm(proc: JobProcess, settings: SttSettings | None = None, decoders: int = 1) -> None:
    """prewarm_fnc for the worker (bind the arguments with functools.partial)."""
    proc.userdata[USERDATA_KEY] = load_resources(settings or SttSettings(), decoders)


def segment_reporter(report: Reporter, origin: float) -> OnSegment:
    """Send final segments to the app, timed relative to the occurrence start."""

    async def send(segment: Segment) -> None:
        await report.send(
            "caption_segment",
            {
                "segment_id": segment.segment_id,
                "identity": segment.identity,
                "display_name": segment.display_name,
                "start": round(segment.start - origin, 2),
                "end": round(segment.end - origin, 2),
                "text": segment.text,
                "final": True,
            },
        )

    return send


def status_reporter(report: Reporter) -> OnStatus:
    """Send captions_status to the app; a report that fails is logged, never raised."""

    async def send(status: str, reason: str) -> None:
        try:
            await report.send("captions_status", {"status": status, "reason": reason})
        except Exception:
            logger.exception("captions status %s not reported", status)

    return send


async def run(ctx: JobContext, job: dict, report: Reporter) -> None:
    """Start captioning `ctx.room`; returns once running (a shutdown callback drains)."""
    resources = ctx.proc.userdata.get(USERDATA_KEY)
    if resources is None:  # the worker did not prewarm: load here, off the loop
        resources = await asyncio.to_thread(load_resources, SttSettings())
    # Subscriptions are the Captioner's: microphones only, not screen-share audio.
    await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
    on_status = status_reporter(report)
    origin = job.get("occurrence_started_at")
    if origin is None:
        logger.warning("captions job without occurrence_started_at: times count from now")
        origin = time.time()
    try:
        recognizer = resources.recognizer(str(job.get("language") or "en"))
    except SttUnavailable as exc:
        await on_status("unavailable", exc.reason)
        await _send_status_text(ctx.room, "unavailable", exc.reason)
        return
    captioner = Captioner(
        ctx.room,
        recognizer,
        resources.vad,
        on_segment=segment_reporter(report, float(origin)),
        on_status=on_status,
    )
    # Shutdown callbacks run after the room is left: finals of speech still open then
    # reach the app, not the room.
    ctx.add_shutdown_callback(captioner.aclose)
    await on_status("running", "")
    captioner.start()


async def _send_status_text(
    room: rtc.Room, status: str, reason: str, to: list[str] | None = None
) -> None:
    if not room.isconnected():
        return
    try:
        await room.local_participant.send_text(
            json.dumps({"status": status, "reason": reason}),
            topic=STATUS_TOPIC,
            destination_identities=to,
        )
    except Exception as exc:  # a notice that cannot be sent must not stop captions
        logger.warning("captions status not sent to the room: %s", exc)


# --- the core ---------------------------------------------------------------------------


def _is_microphone(publication: rtc.TrackPublication, participant: rtc.Participant) -> bool:
    return (
        publication.kind == rtc.TrackKind.KIND_AUDIO
        and publication.source == rtc.TrackSource.SOURCE_MICROPHONE
        and participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    )


class Captioner:
    """Caption the microphones of a connected room.

    The room's local participant must be an agent (token kind "agent", as the worker's is):
    the server keeps the speaker's identity on a text stream sent on someone's behalf
    only from agents, and replaces it with the sender's own otherwise.
    """

    def __init__(
        self,
        room: rtc.Room,
        recognizer: Recognizer,
        vad: agents_vad.VAD,
        on_segment: OnSegment,
        on_status: OnStatus | None = None,
        *,
        retry_after: float = 15.0,
        max_utterance: float = MAX_UTTERANCE_SECONDS,
    ) -> None:
        self.room = room
        self.recognizer = recognizer
        self.vad = vad
        self.status = "running"
        self.reason = ""
        self._on_segment = on_segment
        self._on_status = on_status
        self._retry_after = retry_after
        self.max_utterance_bytes = int(max_utterance * BYTES_PER_SECOND)
        self._retry_at = 0.0
        self._speakers: dict[str, _Speaker] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._handlers: dict[str, Callable[..., None]] = {
            "track_published": self._on_track_published,
            "track_subscribed": self._on_track_subscribed,
            "track_unsubscribed": self._on_track_unsubscribed,
            "participant_connected": self._on_participant_connected,
        }

    def start(self) -> None:
        for event, handler in self._handlers.items():
            self.room.on(event, handler)
        for participant in self.room.remote_participants.values():
            for publication in participant.track_publications.values():
                self._on_track_published(publication, participant)
                if publication.track is not None:
                    self._on_track_subscribed(publication.track, publication, participant)

    async def aclose(self, *, timeout: float = 10.0) -> None:
        """Stop listening, finish utterances in progress (their finals are still reported)."""
        if self._closed:
            return
        self._closed = True
        for event, handler in self._handlers.items():
            self.room.off(event, handler)
        speakers, self._speakers = list(self._speakers.values()), {}
        for speaker in speakers:
            self._spawn(speaker.stop())
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
        await self.recognizer.aclose()

    # Room events --------------------------------------------------------------------

    def _on_track_published(
        self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if _is_microphone(publication, participant) and not publication.subscribed:
            publication.set_subscribed(True)

    def _on_track_subscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if self._closed or not _is_microphone(publication, participant):
            return
        if publication.sid in self._speakers:
            return
        speaker = _Speaker(self, track, publication.sid, participant)
        self._speakers[publication.sid] = speaker
        self._spawn(speaker.run())

    def _on_track_unsubscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if (speaker := self._speakers.pop(publication.sid, None)) is not None:
            self._spawn(speaker.stop())

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        # Late joiners must learn that captions are off; the notice is not room state.
        if self.status == "unavailable":
            self._spawn(
                _send_status_text(self.room, self.status, self.reason, to=[participant.identity])
            )

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("captions task failed", exc_info=exc)

    # Backend health -----------------------------------------------------------------

    def may_try(self) -> bool:
        """False during the back-off after a failure: speech then goes uncaptioned."""
        return time.monotonic() >= self._retry_at

    async def failed(self, reason: str) -> None:
        self._retry_at = time.monotonic() + self._retry_after
        if self.status == "unavailable":
            return
        logger.warning("captions unavailable: %s", reason)
        self.status, self.reason = "unavailable", reason
        await self._announce()

    async def succeeded(self) -> None:
        if self.status == "running":
            return
        logger.info("captions running again")
        self.status, self.reason = "running", ""
        await self._announce()

    async def _announce(self) -> None:
        status, reason = self.status, self.reason
        await _send_status_text(self.room, status, reason)
        if self._on_status is not None:
            try:
                await self._on_status(status, reason)
            except Exception:
                logger.exception("captions status not reported")

    # Output -------------------------------------------------------------------------

    async def publish(self, segment: Segment) -> None:
        """Show a segment in the room: a new text stream per interim and for the final."""
        if not self.room.isconnected():
            return
        attributes = {
            ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID: segment.segment_id,
            ATTRIBUTE_TRANSCRIPTION_TRACK_ID: segment.track_sid,
            ATTRIBUTE_TRANSCRIPTION_FINAL: "true" if segment.final else "false",
        }
        try:
            writer = await self.room.local_participant.stream_text(
                topic=TOPIC_TRANSCRIPTION, attributes=attributes, sender_identity=segment.identity
            )
            await writer.write(segment.text)
            await writer.aclose()
        except Exception as exc:  # the room is going away; the app still gets the final
            logger.warning("caption not sent to the room: %s", exc)

    async def report(self, segment: Segment) -> None:
        try:
            await self._on_segment(segment)
        except Exception:
            logger.exception("caption segment not reported")


@dataclass
class _Open:
    """The utterance a speaker is in."""

    utterance: Utterance
    segment_id: str
    start_sample: int
    pushed: int = 0
    shown: str = ""  # the last interim text sent to the room


class _Speaker:
    """One microphone track: audio -> VAD -> recogniser, one utterance at a time."""

    def __init__(
        self,
        captioner: Captioner,
        track: rtc.Track,
        track_sid: str,
        participant: rtc.RemoteParticipant,
    ) -> None:
        self.c = captioner
        self.track = track
        self.track_sid = track_sid
        self.participant = participant
        self.clock = SampleClock(SAMPLE_RATE)
        self.open: _Open | None = None
        self.finishing: asyncio.Task[None] | None = None
        self.audio: rtc.AudioStream | None = None
        self.stopped = False

    async def run(self) -> None:
        if self.stopped:  # unsubscribed before this task got to run
            return
        self.audio = rtc.AudioStream.from_track(
            track=self.track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=20
        )
        vad_stream = self.c.vad.stream()
        feeder = asyncio.create_task(self._feed(self.audio, vad_stream))
        try:
            async for event in vad_stream:
                await self._on_vad(event)
        except Exception as exc:
            logger.exception("captions of %s stopped", self.participant.identity)
            await self.c.failed(f"internal error: {type(exc).__name__}")
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            await vad_stream.aclose()
            # Speech still open when the track ends is finished, not dropped.
            await self._close(self.clock.samples)
            if self.finishing is not None:
                await self.finishing

    async def stop(self) -> None:
        self.stopped = True
        if self.audio is not None:
            await self.audio.aclose()  # ends the feeder, which ends the VAD stream

    async def _feed(self, audio: rtc.AudioStream, vad_stream: agents_vad.VADStream) -> None:
        async for event in audio:
            self.clock.advance(event.frame.samples_per_channel)
            vad_stream.push_frame(event.frame)
        vad_stream.end_input()

    async def _on_vad(self, event: agents_vad.VADEvent) -> None:
        kind = event.type
        if kind is agents_vad.VADEventType.START_OF_SPEECH:
            start = event.samples_index - int(event.speech_duration * SAMPLE_RATE)
            if await self._begin(max(start, 0)):
                # The start event carries the audio that led to it, prefix padding included.
                await self._push(event.frames, event.samples_index)
        elif self.open is None:
            return  # silence, or speech during a back-off: the recogniser is not fed
        elif kind is agents_vad.VADEventType.INFERENCE_DONE:
            await self._push(event.frames, event.samples_index)
        elif kind is agents_vad.VADEventType.END_OF_SPEECH:
            await self._close(event.samples_index - int(event.silence_duration * SAMPLE_RATE))

    async def _begin(self, start_sample: int) -> bool:
        if not self.c.may_try():
            return False
        try:
            utterance = await self.c.recognizer.start()
        except SttUnavailable as exc:
            await self.c.failed(exc.reason)
            return False
        self.open = _Open(utterance, f"SG_{uuid.uuid4().hex[:12]}", start_sample)
        return True

    async def _push(self, frames: list[rtc.AudioFrame], sample: int) -> None:
        current = self.open
        if current is None:
            return
        pcm = b"".join(frame.data.tobytes() for frame in frames)
        try:
            text = await current.utterance.push(pcm)
        except SttUnavailable as exc:
            self.open = None
            await self._give_up(current, exc.reason)
            return
        current.pushed += len(pcm)
        if text and text != current.shown:
            current.shown = text
            await self.c.publish(self._segment(current, text, sample, final=False))
        if current.pushed >= self.c.max_utterance_bytes:
            # A monologue is cut into finals; the next part starts where this one ends.
            await self._close(sample)
            await self._begin(sample)

    async def _close(self, end_sample: int) -> None:
        current, self.open = self.open, None
        if current is None:
            return
        # Finals of one speaker are reported in order, and the VAD loop does not wait
        # for a slow backend.
        self.finishing = asyncio.create_task(
            self._finish(current, max(end_sample, current.start_sample), self.finishing)
        )

    async def _finish(
        self, current: _Open, end_sample: int, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            text = (await current.utterance.finish()).strip()
        except SttUnavailable as exc:
            await self._give_up(current, exc.reason, cancel=False)
            return
        await self.c.succeeded()
        if not text and not current.shown:
            return  # noise the recogniser made nothing of
        segment = self._segment(current, text, end_sample, final=True)
        await self.c.publish(segment)  # an empty final clears the interim line
        if text:
            await self.c.report(segment)

    async def _give_up(self, current: _Open, reason: str, cancel: bool = True) -> None:
        if cancel:
            with contextlib.suppress(SttUnavailable):
                await current.utterance.cancel()
        await self.c.failed(reason)
        if current.shown:
            # Close the interim line the room already shows; the app only gets real finals.
            await self.c.publish(
                self._segment(current, current.shown, self.clock.samples, final=True)
            )

    def _segment(self, current: _Open, text: str, end_sample: int, final: bool) -> Segment:
        return Segment(
            segment_id=current.segment_id,
            identity=self.participant.identity,
            display_name=self.participant.name or self.participant.identity,
            track_sid=self.track_sid,
            start=self.clock.wall_time(current.start_sample),
            end=self.clock.wall_time(end_sample),
            text=text,
            final=final,
        )
