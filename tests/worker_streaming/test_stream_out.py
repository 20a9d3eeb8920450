"""Stream out against real receivers: FFmpeg in RTMP listen mode stands in for YouTube."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import pytest

from meetings.livekit_process import free_port
from meetings.worker.outputs import HlsOutput, OutputState, RtmpOutput, StreamOutputs
from meetings.worker.rtmp_server import Decision, RtmpConnection, RtmpServer
from tests.worker_streaming.conftest import (
    frame_number,
    probe,
    push_realtime,
    synthetic_audio,
    synthetic_video,
)

pytestmark = pytest.mark.usefixtures("ffmpeg")


def test_rtmp_destination_receives_ten_seconds_of_h264_and_aac(rtmp_receiver) -> None:
    receiver = rtmp_receiver("live-key-0001")
    changes: list[OutputState] = []
    outputs = StreamOutputs(
        [RtmpOutput(receiver.url, receiver.key, "youtube")],
        on_state=lambda _, status: changes.append(status.state),
    )
    push_realtime(outputs.push_video, outputs.push_audio, seconds=10)
    outputs.close()
    receiver.wait()
    received = probe(receiver.path)
    assert received["video"] == "h264"
    assert received["audio"] == "aac"
    assert received["duration"] == pytest.approx(10, abs=0.5)
    assert received["keyframes"] == pytest.approx([0, 2, 4, 6, 8], abs=0.05)  # what services ask
    assert changes == [OutputState.LIVE, OutputState.STOPPED]
    assert outputs.dropped_frames == 0


def test_an_unreachable_destination_fails_alone(rtmp_receiver) -> None:
    receiver = rtmp_receiver("live-key-0002")
    closed = free_port()
    outputs = StreamOutputs(
        [
            RtmpOutput(receiver.url, receiver.key, "twitch"),
            RtmpOutput(f"rtmp://127.0.0.1:{closed}/app", "sk_live_987654321", "broken"),
        ],
        backoff=0.2,
    )
    push_realtime(outputs.push_video, outputs.push_audio, seconds=10)
    during = outputs.status()
    outputs.close()
    receiver.wait()
    assert during["twitch"] == {"state": "live", "reason": ""}
    assert during["broken"] == {
        "state": "failed",
        "reason": f"could not connect to rtmp://127.0.0.1:{closed}/app/****4321: "
        "Connection refused",
    }
    assert probe(receiver.path)["duration"] == pytest.approx(10, abs=0.5)


def test_a_destination_that_drops_is_retried_and_comes_back(rtmp_receiver) -> None:
    first = rtmp_receiver("live-key-0003")
    port = int(first.url.rsplit(":", 1)[1].split("/")[0])
    changes: list[tuple[OutputState, str]] = []
    outputs = StreamOutputs(
        [RtmpOutput(first.url, first.key, "yt")],
        on_state=lambda _, status: changes.append((status.state, status.reason)),
        backoff=0.5,
    )
    push_realtime(outputs.push_video, outputs.push_audio, seconds=3)
    first.process.kill()  # the service drops us
    first.wait()
    second = rtmp_receiver("live-key-0003", port=port)  # and takes us back
    push_realtime(outputs.push_video, outputs.push_audio, seconds=5)
    outputs.close()
    second.wait()
    states = [state for state, _ in changes]
    assert states[0] == OutputState.LIVE
    assert states[-2:] == [OutputState.LIVE, OutputState.STOPPED]
    retry = next(reason for state, reason in changes if state == OutputState.STARTING)
    assert retry.startswith(f"connection to rtmp://127.0.0.1:{port}/live/****0003 lost")
    assert probe(second.path)["duration"] > 2


@contextmanager
def fake_destination(accept: bool) -> Iterator[str]:
    """Our own RTMP server as a destination: one that refuses every key, or one that
    accepts the stream and then never reads again (a hung ingest)."""
    ready, stop = threading.Event(), threading.Event()
    box: dict[str, str] = {}

    async def authorize(app: str, name: str) -> Decision:
        return Decision("accepted") if accept else Decision(None, "Invalid stream key")

    async def hang(conn: RtmpConnection) -> None:
        sock = conn.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.writer.transport.pause_reading()
        while not stop.is_set():
            await asyncio.sleep(0.1)

    async def serve() -> None:
        server = RtmpServer("127.0.0.1", 0, authorize, hang)
        await server.start()
        box["url"] = f"rtmp://127.0.0.1:{server.port}/live"
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await server.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="fake-rtmp")
    thread.start()
    try:
        ready.wait(10)
        yield box["url"]
    finally:
        stop.set()
        thread.join(10)


def test_a_refused_key_fails_at_once_with_the_services_words() -> None:
    changes: list[tuple[OutputState, str]] = []
    with fake_destination(accept=False) as url:
        outputs = StreamOutputs(
            [RtmpOutput(url, "typo-key-1234", "yt")],
            on_state=lambda _, status: changes.append((status.state, status.reason)),
        )
        push_realtime(outputs.push_video, outputs.push_audio, seconds=1)
        outputs.close()
    # No retries: a wrong key stays wrong.
    assert changes == [
        (
            OutputState.FAILED,
            f"could not connect to {url}/****1234: the server refused the stream: "
            "Invalid stream key",
        )
    ]


@pytest.fixture
def stalled_destination() -> Iterator[str]:
    with fake_destination(accept=True) as url:
        yield url


def test_a_destination_that_stops_reading_fails_alone(
    stalled_destination: str, tmp_path: Path
) -> None:
    outputs = StreamOutputs(
        [RtmpOutput(stalled_destination, "stall-key-5555", "hung"), HlsOutput(tmp_path)],
        queue_seconds=2,
    )
    start = time.monotonic()
    index = 0
    # Pushed as fast as the encoder takes them: the stall shows sooner than in real time.
    while outputs.status()["hung"]["state"] != "failed" and time.monotonic() - start < 60:
        outputs.push_video(synthetic_video(index))
        outputs.push_audio(synthetic_audio(2 * index))
        outputs.push_audio(synthetic_audio(2 * index + 1))
        index += 1
        time.sleep(1 / 50)
    status = outputs.status()
    outputs.close()
    assert status["hung"]["state"] == "failed"
    assert status["hung"]["reason"] == (
        f"{stalled_destination}/****5555 is too slow: 2 s of stream waiting to be sent"
    )
    assert status["hls"]["state"] == "live"
    assert outputs.status()["hls"]["state"] == "stopped"


def test_hls_segments_decode_and_are_listed_while_live(tmp_path: Path) -> None:
    directory = tmp_path / "watch"
    pushed: dict[int, float] = {}
    listed: dict[str, float] = {}
    done = threading.Event()

    def watch_playlist() -> None:
        playlist = directory / "index.m3u8"
        while not done.is_set():
            if playlist.exists():
                now = time.monotonic()
                for line in playlist.read_text().splitlines():
                    if line and not line.startswith("#"):
                        listed.setdefault(line, now)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch_playlist, name="playlist-watcher")
    watcher.start()
    outputs = StreamOutputs([HlsOutput(directory, "watch", list_size=10)])
    try:
        push_realtime(
            outputs.push_video,
            outputs.push_audio,
            seconds=10,
            on_frame=lambda i, t: pushed.setdefault(i, t),
        )
        closing = time.monotonic()
        outputs.close()
    finally:
        done.set()
        watcher.join()

    playlist = (directory / "index.m3u8").read_text()
    assert "#EXT-X-TARGETDURATION:2" in playlist
    assert "#EXT-X-ENDLIST" in playlist
    assert len(listed) >= 4
    # A watch page sees the stream as it happens, not when it ends.
    assert sorted(listed.values())[-2] < closing
    latencies: list[float] = []
    for name, seen in listed.items():
        with av.open(str(directory / name)) as segment:
            assert {s.codec_context.name for s in segment.streams} == {"h264", "aac"}
            numbers = [frame_number(f) for f in segment.decode(video=0)]
        assert numbers == sorted(set(numbers))  # in order (a loaded machine may drop some)
        latencies += [seen - pushed[n] for n in numbers if n in pushed]
    latencies.sort()
    median = latencies[len(latencies) // 2]
    # Half a segment (1 s) on average plus encoding; generous for a shared 2-core machine.
    assert median < 4
    print(
        f"HLS frame-to-playlist latency: min {latencies[0]:.2f} s, median {median:.2f} s, "
        f"max {latencies[-1]:.2f} s"
    )
