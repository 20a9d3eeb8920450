"""Stream in without LiveKit: the job's parameters, the key check, throttled refusal reports,
and the listener against a real encoder (ffmpeg): wrong keys and codecs refused, H.264 and
AAC decoded."""

import asyncio
import hashlib
import time
from typing import Any

import numpy as np
import pytest

from meetings.worker.ingest import (
    REFUSAL_REPORT_SECONDS,
    Ingest,
    IngestJob,
    IngestSession,
    MediaOut,
    VideoOut,
    _RefusalReports,
    hash_key,
    key_checker,
)
from meetings.worker.rtmp_server import RtmpConnection, RtmpServer
from meetings.worker.settings import WorkerSettings
from tests.support.environment import require
from tests.support.rtmp_encoder import FFMPEG, TONE_HZ, Encoder

KEY = "obs-key-3f9a1c"
JOB = {
    "job_id": "IJ_" + "0" * 32,
    "room": "room-1",
    "ingest_id": "in_abcdefabcdef",
    "name": "Stage camera",
    "rtmp_port": 19350,
    "stream_key_sha256": hash_key(KEY),
}


def test_the_stream_key_is_checked_against_the_sha256_the_app_dispatches() -> None:
    assert hash_key(KEY) == hashlib.sha256(KEY.encode()).hexdigest()


@pytest.mark.parametrize(
    ("app", "name", "accepted", "reason"),
    [
        ("live", KEY, True, ""),
        ("live", KEY + "x", False, "invalid stream key"),
        ("live", "", False, "invalid stream key"),
        ("other", KEY, False, "unknown application 'other'"),
    ],
)
def test_only_the_live_application_with_the_key_is_accepted(
    app: str, name: str, accepted: bool, reason: str
) -> None:
    # The app may send the digest in capitals: it is the same key.
    for digest in (hash_key(KEY), hash_key(KEY).upper()):
        decision = key_checker(digest)(app, name)
        assert (decision.accepted, decision.reason) == (accepted, reason)


def test_job_parameters_as_the_app_dispatches_them() -> None:
    params = IngestJob.parse(JOB, "room-1")
    assert (params.room, params.ingest_id, params.name) == ("room-1", JOB["ingest_id"], JOB["name"])
    assert (params.rtmp_port, params.key_sha256) == (19350, hash_key(KEY))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ingest_id": ""}, "ingest_id"),
        ({"name": None}, "name"),
        ({"name": "x" * 81}, "longer than 80"),
        ({"rtmp_port": "19350"}, "rtmp_port"),
        ({"rtmp_port": 70000}, "rtmp_port"),
        ({"rtmp_port": True}, "rtmp_port"),
        ({"stream_key_sha256": KEY}, "64 hex"),
        ({"stream_key_sha256": None}, "64 hex"),
    ],
)
def test_unusable_job_parameters_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IngestJob.parse(JOB | change, "room-1")


def test_the_listen_address_comes_from_meetings_ingest_bind() -> None:
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "key",
        "LIVEKIT_API_SECRET": "secret",
        "MEETINGS_APP_URL": "http://127.0.0.1:8000",
    }
    assert WorkerSettings.from_env(env).ingest_bind == "0.0.0.0"  # noqa: S104 - the default
    bound = WorkerSettings.from_env(env | {"MEETINGS_INGEST_BIND": "127.0.0.1"})
    assert bound.ingest_bind == "127.0.0.1"


class Events:
    """Stands in for the Reporter: what was emitted, and when."""

    def __init__(self) -> None:
        self.emitted: list[tuple[float, str, dict[str, Any]]] = []

    def emit(self, kind: str, data: dict[str, Any]) -> str:
        self.emitted.append((time.monotonic(), kind, data))
        return "WE_test"


class Peer:
    def __init__(self, peer: str) -> None:
        self.peer = peer


def test_refusals_are_all_counted_and_reported_at_most_once_per_window() -> None:
    events = Events()

    async def scenario() -> float:
        refusals = _RefusalReports(events, "in_1", every=0.3)
        started = time.monotonic()
        for number in range(4):
            refusals.note(Peer(f"10.0.0.{number}:5000"), "invalid stream key")
        async with asyncio.timeout(5):  # the window ends: the burst's last is reported
            while len(events.emitted) < 2:
                await asyncio.sleep(0.01)
        refusals.note(Peer("10.0.0.9:5000"), "unknown application 'x'")
        refusals.close()  # the job ends within the window: reported now, not dropped
        return started

    started = asyncio.run(scenario())

    def refused(reason: str, peer: str, total: int) -> tuple[str, dict[str, Any]]:
        data = {"ingest_id": "in_1", "reason": reason, "peer": peer, "total": total}
        return "ingest_refused", data

    assert [(kind, data) for _, kind, data in events.emitted] == [
        refused("invalid stream key", "10.0.0.0:5000", 1),
        refused("invalid stream key", "10.0.0.3:5000", 4),
        refused("unknown application 'x'", "10.0.0.9:5000", 5),
    ]
    first, second, _ = (at - started for at, _, _ in events.emitted)
    assert first < 0.1
    assert 0.3 <= second < 1.0
    assert REFUSAL_REPORT_SECONDS == 5.0  # the contract's window


def test_the_listener_refuses_wrong_keys_before_any_media_and_decodes_the_right_one() -> None:
    """Refusals are what `authorize` turned down, not every connection that came and went."""
    require(FFMPEG.exists(), "ffmpeg (Debian package)")
    refused: list[str] = []
    decoded: list[list[MediaOut]] = []

    async def on_publish(conn: RtmpConnection) -> None:
        session = IngestSession(conn)
        try:
            decoded.append([item async for item in session.frames()])
        finally:
            session.close()

    async def scenario() -> list[tuple[int, str]]:
        server = RtmpServer(
            "127.0.0.1",
            0,
            key_checker(hash_key(KEY)),
            on_publish,
            lambda conn, reason: refused.append(reason),
        )
        await server.start()
        base = f"rtmp://127.0.0.1:{server.port}"
        try:
            # A port scan or a health check: not an encoder, so not a refusal to report.
            _, probe = await asyncio.open_connection("127.0.0.1", server.port)
            probe.close()
            await probe.wait_closed()
            results = []
            for url in (f"{base}/live/WRONG", f"{base}/other/{KEY}", f"{base}/live/{KEY}"):
                # Without -t the refused ones would stream forever if they were let in.
                seconds = 2 if url.endswith(f"/live/{KEY}") else None
                encoder = Encoder(url, seconds)
                results.append(await asyncio.to_thread(encoder.wait, 15))
        finally:
            await server.close()
        return results

    (wrong, wrong_log), (app, app_log), (right, right_log) = asyncio.run(scenario())
    # What the encoder's log shows the host.
    assert wrong != 0 and "invalid stream key" in wrong_log
    assert app != 0 and "unknown application 'other'" in app_log
    assert right == 0, right_log
    assert refused == ["invalid stream key", "unknown application 'other'"]
    (items,) = decoded
    video = [i for i in items if isinstance(i, VideoOut)]
    audio = [i for i in items if not isinstance(i, VideoOut)]
    assert len(video) == 50  # 2 s at 25 fps
    assert {(v.frame.width, v.frame.height) for v in video} == {(1280, 720)}
    assert len({bytes(v.frame.data) for v in video}) == 50  # it moves
    assert {(a.sample_rate, a.num_channels) for a in audio} == {(48000, 1)}
    samples = np.frombuffer(b"".join(bytes(a.data) for a in audio), np.int16)
    assert len(samples) / 48000 == pytest.approx(2, abs=0.1)
    spectrum = np.abs(np.fft.rfft(samples[-24000:].astype(float)))
    assert abs(np.fft.rfftfreq(24000, 1 / 48000)[np.argmax(spectrum)] - TONE_HZ) < 5
    assert np.sqrt(np.mean(samples.astype(float) ** 2)) > 1000  # the tone, not silence


def test_an_encoder_sending_a_codec_the_meeting_cannot_carry_is_refused_with_what_to_pick():
    require(FFMPEG.exists(), "ffmpeg (Debian package)")
    events = Events()
    config = WorkerSettings.from_env(
        {
            "LIVEKIT_URL": "ws://127.0.0.1:9",  # never reached: nobody joins
            "LIVEKIT_API_KEY": "key",
            "LIVEKIT_API_SECRET": "s" * 40,
            "MEETINGS_APP_URL": "http://127.0.0.1:9",
            "MEETINGS_INGEST_BIND": "127.0.0.1",
        }
    )
    params = IngestJob("room-1", "in_1", "Stage camera", 0, hash_key(KEY))  # 0: any free port

    async def scenario() -> tuple[int, str]:
        ingest = Ingest(params, config, events)
        await ingest.start()
        try:
            url = f"rtmp://127.0.0.1:{ingest.server.port}/live/{KEY}"
            encoder = Encoder(url, video="flv1")  # Sorenson H.263: FLV's oldest video codec
            return await asyncio.to_thread(encoder.wait, 15)
        finally:
            await ingest.aclose()

    status, _ = asyncio.run(scenario())
    assert status != 0
    (listening, refused) = [(kind, data) for _, kind, data in events.emitted]
    assert listening[0] == "ingest_listening"
    assert refused[0] == "ingest_refused"
    assert refused[1]["reason"] == "unsupported video codec: set the encoder to H.264"
    assert refused[1]["total"] == 1
