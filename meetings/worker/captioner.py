"""The captions job: transcribe every microphone in a room, caption it live, report finals.

Per microphone track: the SDK's AudioStream (resampled natively to 16 kHz mono) -> Silero VAD
-> one recogniser utterance per stretch of speech. Interim and final text goes to the room
as `lk.transcription` text streams sent on behalf of the speaker (the convention
livekit-client and LiveKit's components read); finals also go to the app as events.

Events (data of the envelope reporting.py sends):
- `captions_status` {status: "running" | "unavailable", reason}: "running" once the job
  listens; "unavailable" when the speech-to-text backend fails or is too slow, and "running"
  again when it answers.
- `caption_segment` {segment_id, identity, display_name, start, end, text}: one per final,
  start and end in seconds from the dispatch's `occurrence_started_at`.

The job runs until the room ends, the app removes the participant (captions off), nobody but
workers has been in the room for EMPTY_GRACE_SECONDS, or the worker shuts down; speech still
open then is finished and reported, not dropped.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext, JobProcess
from livekit.agents import vad as agents_vad
from livekit.agents.types import (
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    TOPIC_TRANSCRIPTION,
)

from meetings.worker.entry import stop_requested
from meetings.worker.reporting import Reporter
from meetings.worker.settings import settings
from meetings.worker.stt import (
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
from meetings.worker.vad import SampleClock, load_vad

AGENT_NAME = "meetings-captions"
IDENTITY_PREFIX = "captions-"
PARTICIPANT_NAME = "Captions"
USERDATA_KEY = "captions"
# After a backend failure: no utterance is tried for this long, and a server is asked every
# this often whether it is back.
RETRY_SECONDS = 5.0
# Nobody but workers in the room this long: the job ends (a page reload is not an end). The
# app then takes captions as off, as it does when the room closes.
EMPTY_GRACE_SECONDS = 10.0

logger = logging.getLogger("meetings.worker.captioner")

NOT_PEOPLE = {
    rtc.ParticipantKind.PARTICIPANT_KIND_AGENT,
    rtc.ParticipantKind.PARTICIPANT_KIND_EGRESS,
}


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


OnSegment = Callable[[Segment], None]
OnStatus = Callable[[str, str], None]


# --- the job entry ----------------------------------------------------------------------


@dataclass
class CaptionResources:
    """What a job process loads once (prewarm) and its job then uses."""

    stt: SttSettings
    vad: agents_vad.VAD
    pool: DecoderPool = field(default_factory=DecoderPool)

    def recognizer(self, language: str) -> Recognizer:
        """Raises: SttUnavailable when the backend cannot serve this language."""
        return make_recognizer(self.stt, language, self.pool)


def load_resources(stt: SttSettings, decoders: int = 1) -> CaptionResources:
    """Load the VAD and, for PocketSphinx, `decoders` decoders (blocking, ~0.3 s each)."""
    resources = CaptionResources(stt=stt, vad=load_vad())
    if stt.backend == "pocketsphinx":
        try:
            resources.pool.prewarm(decoders)
        except Exception:
            # The job says "unavailable" when it asks the pool again; the worker lives on.
            logger.exception("PocketSphinx model failed to load")
    return resources


def prewarm(proc: JobProcess) -> None:
    """The Silero VAD and a PocketSphinx decoder, once per job process."""
    proc.userdata[USERDATA_KEY] = load_resources(SttSettings.of(settings()))


def segment_event(segment: Segment, origin: float) -> dict[str, Any]:
    """The `caption_segment` data of a final segment; times relative to `origin`."""
    return {
        "segment_id": segment.segment_id,
        "identity": segment.identity,
        "display_name": segment.display_name,
        "start": round(segment.start - origin, 2),
        "end": round(segment.end - origin, 2),
        "text": segment.text,
    }


async def run(ctx: JobContext, job: dict[str, Any], report: Reporter) -> None:
    """Caption the room until the job is over (see the module's docstring)."""
    resources = ctx.proc.userdata.get(USERDATA_KEY)
    if resources is None:  # not prewarmed: load here, off the event loop
        resources = await asyncio.to_thread(load_resources, SttSettings.of(settings()))
    origin = job.get("occurrence_started_at")
    if not isinstance(origin, int | float):
        logger.warning("captions job without occurrence_started_at: times count from now")
        origin = time.time()

    def on_status(status: str, reason: str) -> None:
        report.emit("captions_status", {"status": status, "reason": reason})

    def on_segment(segment: Segment) -> None:
        report.emit("caption_segment", segment_event(segment, float(origin)))

    left = asyncio.Event()
    ctx.room.on("disconnected", lambda *_: left.set())
    try:
        # Subscriptions are the Captioner's own: microphones only, not screen-share audio.
        await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
    except Exception as exc:
        logger.warning("captions could not join %s: %s", ctx.room.name, exc)
        on_status("unavailable", f"could not join the room: {exc}")
        return
    language = str(job.get("language") or "en")
    try:
        recognizer = resources.recognizer(language)
    except SttUnavailable as exc:
        # Nothing to caption with; the job stays (cheaply) so the room keeps its status
        # instead of a captioner that leaves and is dispatched again.
        logger.warning("captions unavailable in %s: %s", ctx.room.name, exc.reason)
        on_status("unavailable", exc.reason)
        await _until_over(ctx, left)
    else:
        captioner = Captioner(
            ctx.room,
            recognizer,
            resources.vad,
            on_segment,
            on_status,
            slow_after=resources.stt.timeout,
        )
        await captioner.start()
        try:
            await _until_over(ctx, left)
        finally:
            # While still connected: finals of speech still open reach the room and the app.
            await captioner.aclose()
    if ctx.room.isconnected():
        ctx.shutdown("captions finished")


async def _until_over(ctx: JobContext, left: asyncio.Event) -> None:
    """Until the worker stops the job, the room is left, or no people were in it for
    EMPTY_GRACE_SECONDS."""
    stop = stop_requested(ctx)
    empty_since: float | None = None
    while not (stop.is_set() or left.is_set()):
        if any(p.kind not in NOT_PEOPLE for p in ctx.room.remote_participants.values()):
            empty_since = None
        elif empty_since is None:
            empty_since = time.monotonic()
        elif time.monotonic() - empty_since >= EMPTY_GRACE_SECONDS:
            logger.info("captions of %s end: everyone left", ctx.room.name)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_either(stop, left), 1.0)


async def _either(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


# --- the core ---------------------------------------------------------------------------


def _is_microphone(publication: rtc.TrackPublication, participant: rtc.Participant) -> bool:
    return (
        publication.kind == rtc.TrackKind.KIND_AUDIO
        and publication.source == rtc.TrackSource.SOURCE_MICROPHONE
        and participant.kind not in NOT_PEOPLE
    )


class Captioner:
    """Caption the microphones of a connected room.

    The room's local participant must be an agent (as the worker's is): livekit-server keeps
    the speaker's identity on a text stream sent on someone's behalf only from agents.
    """

    def __init__(
        self,
        room: rtc.Room,
        recognizer: Recognizer,
        vad: agents_vad.VAD,
        on_segment: OnSegment,
        on_status: OnStatus,
        *,
        retry_after: float = RETRY_SECONDS,
        slow_after: float = 10.0,
        max_utterance: float = MAX_UTTERANCE_SECONDS,
    ) -> None:
        self.room = room
        self.recognizer = recognizer
        self.vad = vad
        self.status = "running"
        self.reason = ""
        # A final later than this after the speech ended: the backend is too slow.
        self.slow_after = slow_after
        self._on_segment = on_segment
        self._on_status = on_status
        self._retry_after = retry_after
        self.max_utterance_bytes = int(max_utterance * BYTES_PER_SECOND)
        self._blocked_until = 0.0  # monotonic; no utterance starts before
        self._probing: asyncio.Task[None] | None = None
        self._speakers: dict[str, _Speaker] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._handlers: dict[str, Callable[..., None]] = {
            "track_published": self._on_track_published,
            "track_subscribed": self._on_track_subscribed,
            "track_unsubscribed": self._on_track_unsubscribed,
        }

    async def start(self) -> None:
        """Listen to every microphone, now and to come; report the first status."""
        for event, handler in self._handlers.items():
            self.room.on(event, handler)
        for participant in self.room.remote_participants.values():
            for publication in participant.track_publications.values():
                self._on_track_published(publication, participant)
                if publication.track is not None:
                    self._on_track_subscribed(publication.track, publication, participant)
        try:
            await self.recognizer.probe()
        except SttUnavailable as exc:
            self.failed(exc.reason)
        else:
            self._on_status("running", "")

    async def aclose(self, *, timeout: float = 15.0) -> None:
        """Stop listening, finish utterances in progress (their finals are still reported)."""
        if self._closed:
            return
        self._closed = True
        for event, handler in self._handlers.items():
            self.room.off(event, handler)
        if self._probing is not None:
            self._probing.cancel()
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
        speaker = _Speaker(self, track, publication, participant)
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
        return time.monotonic() >= self._blocked_until

    def failed(self, reason: str, *, back_off: bool = True) -> None:
        """The backend failed (or was too slow, `back_off=False`): captions unavailable."""
        if back_off:
            self._blocked_until = time.monotonic() + self._retry_after
            if self.recognizer.can_probe and self._probing is None and not self._closed:
                self._probing = asyncio.create_task(self._probe_until_back())
        if self.status == "unavailable":
            return
        logger.warning("captions unavailable: %s", reason)
        self._set_status("unavailable", reason)

    def succeeded(self) -> None:
        """A final came in time: captions run again."""
        if self.status == "running":
            return
        logger.info("captions running again")
        self._set_status("running", "")

    async def _probe_until_back(self) -> None:
        # Without this a server that came back while nobody spoke would stay "unavailable".
        try:
            while True:
                await asyncio.sleep(self._retry_after)
                try:
                    await self.recognizer.probe()
                except SttUnavailable:
                    self._blocked_until = time.monotonic() + self._retry_after
                    continue
                self._blocked_until = 0.0
                self.succeeded()
                return
        finally:
            self._probing = None

    def _set_status(self, status: str, reason: str) -> None:
        self.status, self.reason = status, reason
        try:
            self._on_status(status, reason)
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

    def report(self, segment: Segment) -> None:
        try:
            self._on_segment(segment)
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
    """One microphone track: audio -> VAD -> recogniser, one utterance at a time.

    While the microphone is muted (its frames still arrive, as silence) the VAD does not run:
    a muted participant costs almost nothing. Each unmuted stretch is a VAD session of its
    own, whose sample indexes start at `base` on the track's clock.
    """

    def __init__(
        self,
        captioner: Captioner,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        self.c = captioner
        self.track = track
        self.publication = publication
        self.track_sid = publication.sid
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
        frames = aiter(self.audio)
        try:
            while (first := await self._next_unmuted(frames)) is not None:
                if await self._listen(frames, first):
                    break
        except Exception as exc:
            logger.exception("captions of %s stopped", self.participant.identity)
            self.c.failed(f"internal error: {type(exc).__name__}")
        finally:
            # Speech still open when the track ends is finished, not dropped.
            self._close(self.clock.samples)
            if self.finishing is not None:
                await self.finishing

    async def stop(self) -> None:
        self.stopped = True
        if self.audio is not None:
            await self.audio.aclose()  # ends the frames, hence the VAD session

    async def _next_unmuted(
        self, frames: AsyncIterator[rtc.AudioFrameEvent]
    ) -> rtc.AudioFrame | None:
        """The first frame heard unmuted; None when the track ended."""
        async for event in frames:
            self.clock.advance(event.frame.samples_per_channel)
            if not self.publication.muted:
                return event.frame
        return None

    async def _listen(
        self, frames: AsyncIterator[rtc.AudioFrameEvent], first: rtc.AudioFrame
    ) -> bool:
        """One VAD session, until the microphone is muted (False) or the track ends (True)."""
        base = self.clock.samples - first.samples_per_channel
        vad_stream = self.c.vad.stream()
        vad_stream.push_frame(first)
        muted_at: list[int] = []

        async def feed() -> bool:
            async for event in frames:
                self.clock.advance(event.frame.samples_per_channel)
                if self.publication.muted:
                    muted_at.append(self.clock.samples)
                    vad_stream.end_input()
                    return False
                vad_stream.push_frame(event.frame)
            vad_stream.end_input()
            return True

        feeder = asyncio.create_task(feed())
        try:
            async for event in vad_stream:
                await self._on_vad(event, base)
        finally:
            if not feeder.done():
                feeder.cancel()
            ended = await asyncio.gather(feeder, return_exceptions=True)
            await vad_stream.aclose()
        if isinstance(ended[0], Exception):
            raise ended[0]
        if muted_at:
            self._close(muted_at[0])  # muted mid-sentence: what was said is finished now
        return ended[0] is not False

    async def _on_vad(self, event: agents_vad.VADEvent, base: int) -> None:
        kind, index = event.type, base + event.samples_index
        if kind is agents_vad.VADEventType.START_OF_SPEECH:
            start = index - int(event.speech_duration * SAMPLE_RATE)
            if await self._begin(max(start, base)):
                # The start event carries the audio that led to it, prefix padding included.
                await self._push(event.frames, index)
        elif self.open is None:
            return  # silence, or speech during a back-off: the recogniser is not fed
        elif kind is agents_vad.VADEventType.INFERENCE_DONE:
            await self._push(event.frames, index)
        elif kind is agents_vad.VADEventType.END_OF_SPEECH:
            self._close(index - int(event.silence_duration * SAMPLE_RATE))

    async def _begin(self, start_sample: int) -> bool:
        if not self.c.may_try():
            return False
        try:
            utterance = await self.c.recognizer.start()
        except SttUnavailable as exc:
            self.c.failed(exc.reason)
            return False
        self.open = _Open(utterance, f"SG_{uuid.uuid4().hex[:16]}", start_sample)
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
            self._close(sample)
            await self._begin(sample)

    def _close(self, end_sample: int) -> None:
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
        # How long after the speech this final comes, audio waiting to be decoded included.
        behind = time.time() - self.clock.wall_time(end_sample)
        if behind > self.c.slow_after:
            # Late, but said: the text is still shown and kept.
            self.c.failed(f"speech-to-text is too slow ({behind:.0f} s behind)", back_off=False)
        else:
            self.c.succeeded()
        if not text and not current.shown:
            return  # noise the recogniser made nothing of
        segment = self._segment(current, text, end_sample, final=True)
        # Reported first: the app's copy must not wait on the room.
        if text:
            self.c.report(segment)
        await self.c.publish(segment)  # an empty final clears the interim line

    async def _give_up(self, current: _Open, reason: str, cancel: bool = True) -> None:
        if cancel:
            with contextlib.suppress(SttUnavailable):
                await current.utterance.cancel()
        self.c.failed(reason)
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
