"""The captions job against a real livekit-server: synthetic people speak flite sentences, a
listening participant reads lk.transcription, a recording reporter stands in for the app."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from meetings.livekit_process import free_port
from meetings.worker.captioner import (
    Captioner,
    CaptionResources,
    segment_reporter,
    status_reporter,
)
from meetings.worker.stt import (
    OpenAIRecognizer,
    PocketSphinxRecognizer,
    Recognizer,
    SttSettings,
    SttUnavailable,
    Utterance,
)
from tests.worker_captions.helpers import (
    Listener,
    RecordingReport,
    Speaker,
    Speech,
    connect,
    token,
    wer,
)

pytestmark = [pytest.mark.livekit, pytest.mark.usefixtures("rtc_runtime")]

SENTENCES = [
    "please remember to bring your notes and the budget for next year",
    "the weather was cold and windy so we stayed inside all day",
    "the children played in the garden until it was time for dinner",
    "can you please call me back when you have a free moment",
    "he drove the car to the station and waited for the train",
    "the new project starts next month and we need more people",
]
OCCURRENCE_STARTED_AT = time.time() - 120  # the meeting began two minutes before the tests


@dataclass
class Meeting:
    captioner: Captioner
    listener: Listener
    speakers: dict[str, Speaker]
    report: RecordingReport
    said: list[tuple[str, Speech, float, float]] = field(default_factory=list)

    async def say(self, who: str, speech: Speech, settle: float = 1.5) -> list[str]:
        """`who` says `speech`; returns the final captions the listener got for it."""
        before = len(self.listener.finals())
        start, end = await self.speakers[who].say(speech)
        self.said.append((who, speech, start, end))
        await self.listener.wait_finals(before + 1)
        await asyncio.sleep(settle)  # a sentence split at a pause yields a second final
        return [c.text for c in self.listener.finals()[before:]]


@asynccontextmanager
async def meeting(
    livekit,
    recognizer: Recognizer,
    resources: CaptionResources,
    people: dict[str, str],
    **options,
) -> AsyncIterator[Meeting]:
    room = await livekit.new_room()
    report = RecordingReport()

    def jwt(identity: str, name: str = "", agent: bool = False) -> str:
        return token(livekit.key, livekit.secret, room, identity, name, agent=agent)

    # The worker's room: an agent that subscribes itself (microphones only).
    agent_room = await connect(livekit.url, jwt("agent-captions", agent=True), auto_subscribe=False)
    listener_room = await connect(livekit.url, jwt("listener"))
    speakers = {}
    for identity, name in people.items():
        speaker_room = await connect(livekit.url, jwt(identity, name), auto_subscribe=False)
        speakers[identity] = await Speaker(speaker_room).start()
    captioner = Captioner(
        agent_room,
        recognizer,
        resources.vad,
        on_segment=segment_reporter(report, OCCURRENCE_STARTED_AT),
        on_status=status_reporter(report),
        **options,
    )
    captioner.start()
    try:
        await asyncio.sleep(1.5)  # subscriptions settle before anyone speaks
        yield Meeting(captioner, Listener(listener_room), speakers, report)
    finally:
        await captioner.aclose()
        # Subscribers leave first: a subscriber that leaves after the publisher makes the
        # SDK log "drop unknown FFI handle" from a native thread (a stray dummy thread).
        await agent_room.disconnect()
        await listener_room.disconnect()
        for speaker in speakers.values():
            await speaker.aclose()
            await speaker.room.disconnect()


def test_sentences_are_captioned_for_the_room_and_reported(livekit, resources, speech) -> None:
    async def scenario() -> tuple[Meeting, list[list[str]]]:
        recognizer = PocketSphinxRecognizer(resources.pool)
        async with meeting(livekit, recognizer, resources, {"ann": "Ann Example"}) as m:
            heard = [await m.say("ann", speech(text, "slt")) for text in SENTENCES[:2]]
        return m, heard

    m, heard = asyncio.run(scenario())
    for text, finals in zip(SENTENCES[:2], heard, strict=True):
        assert wer(text, " ".join(finals)) < 0.25, (text, finals)

    captions = m.listener.captions
    assert {c.identity for c in captions} == {"ann"}  # sent on the speaker's behalf
    assert {c.track_id for c in captions} == {m.speakers["ann"].track_sid}
    interims = [c for c in captions if not c.final]
    assert interims, "interim captions arrive while a sentence is spoken"
    final_ids = {c.segment_id for c in m.listener.finals()}
    assert {c.segment_id for c in interims} <= final_ids  # each interim line gets its final

    segments = m.report.of("caption_segment")
    assert [s["text"] for s in segments] == [c.text for c in m.listener.finals()]
    assert all(s["identity"] == "ann" and s["display_name"] == "Ann Example" for s in segments)
    assert all(s["final"] is True for s in segments)
    for (_, _, start, end), segment in zip(m.said, segments, strict=False):
        spoken = (start - OCCURRENCE_STARTED_AT, end - OCCURRENCE_STARTED_AT)
        assert spoken[0] - 1 <= segment["start"] < segment["end"] <= spoken[1] + 1, (
            spoken,
            segment,
        )


def test_two_people_are_told_apart(livekit, resources, speech) -> None:
    people = {"ann": "Ann Example", "bob": "Bob Example"}

    async def scenario() -> Meeting:
        recognizer = PocketSphinxRecognizer(resources.pool)
        async with meeting(livekit, recognizer, resources, people) as m:
            await m.say("ann", speech(SENTENCES[2], "slt"))
            await m.say("bob", speech(SENTENCES[3], "rms"))
        return m

    m = asyncio.run(scenario())
    ann, bob = m.listener.finals("ann"), m.listener.finals("bob")
    assert wer(SENTENCES[2], " ".join(c.text for c in ann)) < 0.25
    assert wer(SENTENCES[3], " ".join(c.text for c in bob)) < 0.25
    by_speaker = {s["identity"]: s["display_name"] for s in m.report.of("caption_segment")}
    assert by_speaker == people


def test_unreachable_server_makes_captions_unavailable_not_a_crash(
    livekit, resources, speech
) -> None:
    settings = SttSettings(backend="openai", url=f"http://127.0.0.1:{free_port()}/v1")
    counting = Counting(OpenAIRecognizer(settings, "en"))

    async def scenario() -> tuple[Meeting, list[str]]:
        async with meeting(livekit, counting, resources, {"ann": ""}, retry_after=1.0) as m:
            await m.speakers["ann"].say(speech(SENTENCES[0]))
            await wait_until(lambda: m.report.of("captions_status"))
            await asyncio.sleep(1.5)  # past the back-off: the next utterance tries again
            await m.speakers["ann"].say(speech(SENTENCES[1]))
            await wait_until(lambda: counting.finishes >= 2)
            await asyncio.sleep(0.5)
            assert all(not task.done() for task in m.captioner._tasks)  # still listening
        # The same process still captions another meeting with PocketSphinx.
        recognizer = PocketSphinxRecognizer(resources.pool)
        async with meeting(livekit, recognizer, resources, {"bob": ""}) as other:
            heard = await other.say("bob", speech(SENTENCES[2], "rms"))
        return m, heard

    m, heard = asyncio.run(scenario())
    statuses = m.report.of("captions_status")
    assert len(statuses) == 1  # reported once, not once per failed attempt
    assert statuses[0]["status"] == "unavailable"
    assert "STT server failed" in statuses[0]["reason"]
    assert json.loads(m.listener.notices[0])["status"] == "unavailable"
    assert not m.report.of("caption_segment")
    assert wer(SENTENCES[2], " ".join(heard)) < 0.25


def test_finals_survive_a_backend_failure_and_captions_recover(livekit, resources, speech) -> None:
    flaky = Counting(PocketSphinxRecognizer(resources.pool))

    async def scenario() -> Meeting:
        async with meeting(livekit, flaky, resources, {"ann": ""}, retry_after=0.5) as m:
            await m.say("ann", speech(SENTENCES[3]))
            flaky.fail_next = True  # the backend dies while the second sentence is said
            await m.speakers["ann"].say(speech(SENTENCES[4]))
            await wait_until(lambda: m.report.of("captions_status"))
            await asyncio.sleep(1.0)  # speech that starts during the back-off is not tried
            await m.say("ann", speech(SENTENCES[5]))
        return m

    m = asyncio.run(scenario())
    kinds = [data.get("status", kind) for kind, data in m.report.sent]
    assert [k for k in kinds if k != "caption_segment"] == ["unavailable", "running"]
    # The final said before the failure was reported before it; captions resumed after.
    assert kinds[0] == "caption_segment" and kinds[-1] == "caption_segment"
    assert kinds.index("running") < len(kinds) - 1
    segments = m.report.of("caption_segment")
    assert wer(SENTENCES[3], segments[0]["text"]) < 0.25
    assert wer(SENTENCES[5], segments[-1]["text"]) < 0.25
    assert not any(s["text"] and wer(SENTENCES[4], s["text"]) < 0.5 for s in segments)
    notices = [json.loads(n)["status"] for n in m.listener.notices]
    assert notices == ["unavailable", "running"]


def test_silence_never_feeds_the_recogniser(livekit, resources) -> None:
    counting = Counting(PocketSphinxRecognizer(resources.pool))

    async def scenario() -> Meeting:
        async with meeting(livekit, counting, resources, {"ann": ""}) as m:
            await asyncio.sleep(10)
        return m

    m = asyncio.run(scenario())
    assert m.speakers["ann"].frames_sent >= 900  # 10 s of 10 ms frames reached the room
    assert (counting.starts, counting.pushes) == (0, 0)
    assert not m.listener.captions and not m.report.sent


# --- test parts -------------------------------------------------------------------------


async def wait_until(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout}s")
        await asyncio.sleep(0.05)


class Counting:
    """A recogniser wrapper that counts what it is asked, and can fail chosen utterances."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_next = False  # the next utterance to finish fails, as a dying backend would
        self.starts = self.pushes = self.finishes = 0

    async def start(self) -> Utterance:
        self.starts += 1
        return _CountedUtterance(self, await self.inner.start())

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CountedUtterance:
    def __init__(self, owner: Counting, inner: Utterance) -> None:
        self.owner, self.inner = owner, inner

    async def push(self, pcm: bytes) -> str | None:
        self.owner.pushes += 1
        return await self.inner.push(pcm)

    async def finish(self) -> str:
        self.owner.finishes += 1
        if self.owner.fail_next:
            self.owner.fail_next = False
            await self.inner.cancel()
            raise SttUnavailable("backend died (test)")
        return await self.inner.finish()

    async def cancel(self) -> None:
        await self.inner.cancel()
