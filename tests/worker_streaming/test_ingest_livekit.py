"""Stream in, end to end: an encoder pushes RTMP, the meeting sees "Stage camera"."""

import asyncio
import socket
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from livekit import api, rtc

from meetings.livekit_process import free_port
from meetings.worker.ingest import Credentials, hash_key, serve_ingest
from tests.worker_streaming.conftest import LiveKit, ffmpeg_push, stop_process

pytestmark = [pytest.mark.livekit, pytest.mark.usefixtures("sdk_threads")]

KEY = "stage-key-7c1e9b2d"
NAME = "Stage camera"


class RecordingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def send(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


async def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def stage(room: rtc.Room) -> rtc.RemoteParticipant | None:
    for participant in room.remote_participants.values():
        subscribed = [p.track for p in participant.track_publications.values() if p.track]
        if participant.name == NAME and len(subscribed) == 2:
            return participant
    return None


async def join_as_viewer(livekit: LiveKit, room_name: str) -> rtc.Room:
    grants = api.VideoGrants(room_join=True, room=room_name, can_publish=False)
    token = (
        api.AccessToken(livekit.key, livekit.secret)
        .with_identity("viewer")
        .with_grants(grants)
        .to_jwt()
    )
    room = rtc.Room()
    await room.connect(livekit.url, token)
    return room


async def check_media(participant: rtc.RemoteParticipant) -> tuple[int, float]:
    """Distinct video frames among the first 10, and the audio level over ~1 s."""
    tracks = {p.kind: p.track for p in participant.track_publications.values()}
    video = rtc.VideoStream(tracks[rtc.TrackKind.KIND_VIDEO])
    audio = rtc.AudioStream(tracks[rtc.TrackKind.KIND_AUDIO], sample_rate=48000, num_channels=1)
    try:
        frames: set[bytes] = set()
        async for event in video:
            frames.add(bytes(event.frame.data[: 1280 * 64]))
            if len(frames) >= 10:
                break
        samples: list[np.ndarray] = []
        async for event in audio:
            samples.append(np.frombuffer(event.frame.data, np.int16))
            if sum(len(s) for s in samples) >= 48000:
                break
        level = float(np.sqrt(np.mean(np.concatenate(samples[10:]).astype(float) ** 2)))
        return len(frames), level
    finally:
        await video.aclose()
        await audio.aclose()


def test_rtmp_push_becomes_a_participant_and_leaves_with_the_encoder(
    livekit: LiveKit, ffmpeg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEETINGS_INGEST_BIND", "127.0.0.1")
    room_name = f"ingest-{uuid.uuid4().hex[:8]}"
    port = free_port()
    job = {
        "kind": "ingest",
        "job_id": "job-1",
        "room": room_name,
        "ingest_id": "ing-1",
        "name": NAME,
        "stream_key_sha256": hash_key(KEY),
        "rtmp_port": port,
    }
    reporter = RecordingReporter()
    creds = Credentials(livekit.url, livekit.key, livekit.secret)
    url = f"rtmp://127.0.0.1:{port}/live"

    async def scenario() -> None:
        async with api.LiveKitAPI(livekit.http_url, livekit.key, livekit.secret) as lk:
            await asyncio.wait_for(lk.room.create_room(api.CreateRoomRequest(name=room_name)), 10)
        serving = asyncio.create_task(serve_ingest(job, reporter, creds))
        viewer = await join_as_viewer(livekit, room_name)
        encoder: subprocess.Popen | None = None
        try:
            await asyncio.sleep(0.5)  # the listener binds
            # A wrong key: the encoder fails, nothing joins, the app hears of it.
            wrong = await asyncio.to_thread(ffmpeg_push, ffmpeg, f"{url}/WRONG-KEY", 3)
            await asyncio.to_thread(wrong.communicate, timeout=20)
            assert wrong.returncode != 0
            await until(lambda: "ingest_refused" in reporter.kinds(), 5, "refusal reported")
            assert not viewer.remote_participants
            refusal = dict(reporter.events)["ingest_refused"]
            assert refusal["reason"] == "invalid stream key"

            for expected in (1, 2):  # pushing again after a stop brings it back
                encoder = await asyncio.to_thread(ffmpeg_push, ffmpeg, f"{url}/{KEY}")
                participant = await until(lambda: stage(viewer), 20, "Stage camera publishing")
                assert participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_INGRESS
                distinct, level = await check_media(participant)
                assert distinct >= 5, "video frames should move"
                assert level > 500, "audio should carry the tone"
                stop_process(encoder)
                await until(lambda: not viewer.remote_participants, 15, "participant gone")
                await until(
                    lambda n=expected: reporter.kinds().count("ingest_disconnected") == n,
                    5,
                    "disconnection reported",
                )
            assert reporter.kinds() == [
                "ingest_refused",
                "ingest_connected",
                "ingest_disconnected",
                "ingest_connected",
                "ingest_disconnected",
            ]
        finally:
            if encoder is not None:
                stop_process(encoder)
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await viewer.disconnect()

    asyncio.run(scenario())


class JobContextStandIn:
    """What ingest.run uses of livekit-agents' JobContext, over a real room connection."""

    def __init__(self, livekit: LiveKit, room_name: str) -> None:
        self.livekit, self.room_name = livekit, room_name
        self.room = rtc.Room()
        self.shutdown_reason: str | None = None

    async def connect(self, auto_subscribe: object = None) -> None:
        grants = api.VideoGrants(room_join=True, room=self.room_name, can_publish=False)
        token = (
            api.AccessToken(self.livekit.key, self.livekit.secret)
            .with_identity("ingest-job-1")
            .with_grants(grants)
            .to_jwt()
        )
        await self.room.connect(self.livekit.url, token, rtc.RoomOptions(auto_subscribe=False))

    def shutdown(self, reason: str = "") -> None:
        self.shutdown_reason = reason


def test_ingest_job_ends_with_the_room(
    livekit: LiveKit, ffmpeg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meetings.worker import ingest, settings

    for name, value in {
        "LIVEKIT_URL": livekit.url,
        "LIVEKIT_API_KEY": livekit.key,
        "LIVEKIT_API_SECRET": livekit.secret,
        "MEETINGS_APP_URL": "http://127.0.0.1:9",
        "MEETINGS_INGEST_BIND": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    settings.settings.cache_clear()
    room_name = f"ingest-{uuid.uuid4().hex[:8]}"
    port = free_port()
    job = {
        "kind": "ingest",
        "job_id": "job-2",
        "room": room_name,
        "ingest_id": "ing-2",
        "name": NAME,
        "stream_key_sha256": hash_key(KEY),
        "rtmp_port": port,
    }
    reporter = RecordingReporter()

    async def scenario() -> JobContextStandIn:
        async with api.LiveKitAPI(livekit.http_url, livekit.key, livekit.secret) as lk:
            await asyncio.wait_for(lk.room.create_room(api.CreateRoomRequest(name=room_name)), 10)
        ctx = JobContextStandIn(livekit, room_name)
        running = asyncio.create_task(ingest.run(ctx, job, reporter))  # type: ignore[arg-type]
        encoder = None
        try:
            await until(lambda: ctx.room.isconnected(), 10, "job connected")
            await asyncio.sleep(0.5)
            encoder = await asyncio.to_thread(
                ffmpeg_push, ffmpeg, f"rtmp://127.0.0.1:{port}/live/{KEY}"
            )
            await until(lambda: _named(ctx.room), 20, "Stage camera joined")
            async with api.LiveKitAPI(livekit.http_url, livekit.key, livekit.secret) as lk:
                await asyncio.wait_for(
                    lk.room.delete_room(api.DeleteRoomRequest(room=room_name)), 10
                )
            await asyncio.wait_for(running, 15)
        finally:
            if encoder is not None:
                stop_process(encoder)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await ctx.room.disconnect()
        return ctx

    try:
        ctx = asyncio.run(scenario())
    finally:
        settings.settings.cache_clear()
    assert ctx.shutdown_reason == "ingest finished"
    assert reporter.kinds() == ["ingest_connected", "ingest_disconnected"]
    with pytest.raises(ConnectionRefusedError):  # the port is closed with the job
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def _named(room: rtc.Room) -> bool:
    return any(p.name == NAME for p in room.remote_participants.values())
