"""Stream in without LiveKit: the key check, the decoder, and the chunk parser."""

import asyncio
import hashlib

import numpy as np
import pytest

from meetings.worker.ingest import IngestListener, VideoOut, hash_key, key_checker
from meetings.worker.rtmp_server import (
    AUDIO,
    COMMAND_AMF0,
    VIDEO,
    ChunkParser,
    RtmpMessage,
    amf0_decode,
    amf0_encode,
    encode_message,
)
from tests.worker_streaming.conftest import ffmpeg_push

KEY = "obs-key-3f9a1c"


def test_stream_key_hash_is_what_the_app_dispatches() -> None:
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
def test_key_checker(app: str, name: str, accepted: bool, reason: str) -> None:
    decision = asyncio.run(key_checker("ing-1", hash_key(KEY))(app, name))
    assert decision.accepted is accepted
    assert decision.reason == reason
    if accepted:
        assert decision.ingest_id == "ing-1"


def test_parser_reassembles_messages_fed_one_byte_at_a_time() -> None:
    messages = [
        RtmpMessage(COMMAND_AMF0, 0, 0, amf0_encode("connect", 1, {"app": "live"})),
        RtmpMessage(VIDEO, 40, 1, bytes(range(256)) * 40),  # several chunks
        RtmpMessage(AUDIO, 0x1000000 + 5, 1, b"\xaf\x01" + b"a" * 300),  # extended timestamp
    ]
    stream = b"".join(encode_message(4, m, 128) for m in messages)
    parser = ChunkParser(max_message=1 << 20)
    received = [m for i in range(len(stream)) for m in parser.feed(stream[i : i + 1])]
    assert received == messages
    assert amf0_decode(received[0].payload) == ["connect", 1.0, {"app": "live"}]


def test_parser_refuses_oversized_messages_before_the_key_is_checked() -> None:
    huge = encode_message(3, RtmpMessage(COMMAND_AMF0, 0, 0, b"x" * 70_000), 128)
    with pytest.raises(Exception, match="over the limit"):
        ChunkParser().feed(huge)


async def _push(ffmpeg: str, url: str, seconds: float) -> tuple[int, str]:
    process = await asyncio.to_thread(ffmpeg_push, ffmpeg, url, seconds)
    _, err = await asyncio.to_thread(process.communicate, timeout=30)
    return process.returncode, err.decode(errors="replace")


def test_wrong_key_is_refused_before_any_media_and_right_key_decodes(ffmpeg: str) -> None:
    refusals: list[str] = []

    async def scenario() -> tuple[int, str, int, list]:
        listener = IngestListener(
            0,
            key_checker("ing-1", hash_key(KEY)),
            host="127.0.0.1",
            on_refused=lambda peer, reason: refusals.append(reason),
        )
        await listener.start()
        sessions = aiter(listener.sessions())
        try:
            code, err = await _push(ffmpeg, f"rtmp://127.0.0.1:{listener.port}/live/WRONG", 2)
            assert listener.refused == 1
            pushing = asyncio.create_task(
                _push(ffmpeg, f"rtmp://127.0.0.1:{listener.port}/live/{KEY}", 3)
            )
            session = await asyncio.wait_for(anext(sessions), 10)
            items = [item async for item in session.frames()]
            await session.close()
            await pushing
            return code, err, listener.refused, items
        finally:
            await listener.close()

    code, err, refused, items = asyncio.run(scenario())
    assert code != 0
    assert "invalid stream key" in err  # what the encoder's log shows the host
    assert refusals == ["invalid stream key"]
    assert refused == 1
    video = [i for i in items if isinstance(i, VideoOut)]
    audio = [i for i in items if not isinstance(i, VideoOut)]
    assert 60 <= len(video) <= 80  # 3 s at 25 fps
    assert {(v.frame.width, v.frame.height) for v in video} == {(1280, 720)}
    assert video[0].frame.data.tobytes() != video[-1].frame.data.tobytes()  # it moves
    samples = np.frombuffer(b"".join(bytes(a.data) for a in audio), np.int16)
    assert {(a.sample_rate, a.num_channels) for a in audio} == {(48000, 1)}
    assert len(samples) / 48000 == pytest.approx(3, abs=0.3)
    assert np.sqrt(np.mean(samples.astype(float) ** 2)) > 1000  # the tone, not silence
