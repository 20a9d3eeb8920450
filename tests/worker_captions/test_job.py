"""`run`, the job entry, with a stand-in for livekit-agents' JobContext: the same calls the
worker makes (connect, proc.userdata, add_shutdown_callback), a room joined as an agent."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from livekit import rtc

from meetings.worker.captioner import USERDATA_KEY, CaptionResources, run
from tests.worker_captions.helpers import (
    Listener,
    RecordingReport,
    Speaker,
    connect,
    room_options,
    token,
    wer,
)

pytestmark = [pytest.mark.livekit, pytest.mark.usefixtures("rtc_runtime")]

SENTENCE = "he drove the car to the station and waited for the train"


@dataclass
class StandInJobContext:
    url: str
    jwt: str
    resources: CaptionResources
    room: rtc.Room = field(default_factory=rtc.Room)
    shutdown_callbacks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.proc = SimpleNamespace(userdata={USERDATA_KEY: self.resources})

    async def connect(self, auto_subscribe: object = None) -> None:
        await self.room.connect(self.url, self.jwt, room_options(self.url, auto_subscribe=False))

    def add_shutdown_callback(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.shutdown_callbacks.append(callback)

    async def shutdown(self) -> None:
        for callback in self.shutdown_callbacks:
            await callback()
        await self.room.disconnect()


async def _job(livekit, resources, speech, language: str, say: bool) -> tuple:
    room = await livekit.new_room()

    def jwt(identity: str, agent: bool = False) -> str:
        return token(livekit.key, livekit.secret, room, identity, f"{identity} Name", agent=agent)

    listener = Listener(await connect(livekit.url, jwt("listener")))
    speaker = await Speaker(await connect(livekit.url, jwt("ann"), auto_subscribe=False)).start()
    ctx = StandInJobContext(livekit.url, jwt("agent-captions", agent=True), resources)
    report = RecordingReport()
    origin = time.time() - 60
    job = {
        "kind": "captions",
        "job_id": "J1",
        "room": room,
        "language": language,
        "occurrence_started_at": origin,
    }
    try:
        await run(ctx, job, report)
        if say:
            await asyncio.sleep(1.0)
            start, end = await speaker.say(speech(SENTENCE, "rms"))
            await listener.wait_finals(1)
        else:
            await asyncio.sleep(1.0)
            start = end = 0.0
    finally:
        await ctx.shutdown()
        await listener.room.disconnect()
        await speaker.aclose()
        await speaker.room.disconnect()
    return report, listener, (start - origin, end - origin)


def test_run_captions_the_room_and_reports_to_the_app(livekit, resources, speech) -> None:
    report, listener, spoken = asyncio.run(_job(livekit, resources, speech, "en", say=True))
    assert report.sent[0] == ("captions_status", {"status": "running", "reason": ""})
    (segment,) = report.of("caption_segment")
    assert segment["identity"] == "ann" and segment["display_name"] == "ann Name"
    assert wer(SENTENCE, segment["text"]) < 0.25
    assert spoken[0] - 1 <= segment["start"] < segment["end"] <= spoken[1] + 1
    assert [c.identity for c in listener.finals()] == ["ann"]


def test_run_with_a_language_the_backend_lacks_says_so(livekit, resources, speech) -> None:
    report, listener, _ = asyncio.run(_job(livekit, resources, speech, "fr", say=False))
    assert report.sent == [
        (
            "captions_status",
            {
                "status": "unavailable",
                "reason": "PocketSphinx has only an English model (asked: fr)",
            },
        )
    ]
    assert [json.loads(n)["status"] for n in listener.notices] == ["unavailable"]
