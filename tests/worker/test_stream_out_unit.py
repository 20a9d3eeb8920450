"""Stream out without LiveKit: how a destination is shown (never its key), how the dispatch's
outputs are read, and how each output goes live, fails alone or ends."""

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
import pytest

from meetings.livekit_process import free_port
from meetings.worker import outputs, streamer
from meetings.worker.outputs import OutputSpec, StreamOutputs, mask_url, parse_outputs, scrub
from meetings.worker.rtmp_server import AUDIO, VIDEO, Decision, RtmpConnection, RtmpServer
from meetings.worker.settings import WorkerSettings


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop", "rtmp://a.rtmp.youtube.com/live2/****mnop"),
        ("rtmps://host:443/rtmp/FB-123456789-0-Abcdefgh", "rtmps://host:443/rtmp/****efgh"),
        ("rtmp://10.0.0.5:1935/app/inst/live_1234_xyzw", "rtmp://10.0.0.5:1935/app/inst/****xyzw"),
        ("rtmp://host/live/short", "rtmp://host/live/****"),  # 4 of 5 characters would tell
    ],
)  # fmt: skip
def test_a_destination_is_shown_with_the_last_four_characters_of_its_key(url, shown):
    assert mask_url(url) == shown


def test_scrub_hides_every_occurrence_of_a_key():
    assert (
        scrub("key sk_12345678 twice sk_12345678", "sk_12345678") == "key ****5678 twice ****5678"
    )
    assert scrub("short abc123 whole", "abc123") == "short **** whole"
    assert scrub("nothing to hide", "") == "nothing to hide"


def test_the_dispatchs_outputs_are_read_as_the_contract_says(tmp_path):
    specs = parse_outputs(
        [
            {"output_id": "o_1", "kind": "rtmp", "url": "rtmp://h/app/key-0001"},
            {"output_id": "hls", "kind": "hls"},
        ],
        tmp_path / "SJ_1",
    )
    assert specs == [
        OutputSpec("o_1", "rtmp", url="rtmp://h/app/key-0001"),
        OutputSpec("hls", "hls", directory=tmp_path / "SJ_1"),
    ]
    assert "key-0001" not in repr(specs)  # a spec in a log line or a traceback shows no key
    assert [s.label for s in specs] == ["rtmp://h/app/****0001", "HLS"]


SECRET = "sk_live_0123456789"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "non-empty list"),
        ([{"kind": "hls"}], "no output_id"),
        ([{"output_id": "a", "kind": "srt"}], "unknown kind 'srt'"),
        ([{"output_id": "a", "kind": "rtmp", "url": f"http://h/app/{SECRET}"}], "rtmp(s)://"),
        ([{"output_id": "a", "kind": "rtmp", "url": f"rtmp://h/{SECRET}"}], "rtmp(s)://host/app/key"),
        ([{"output_id": "a", "kind": "hls"}, {"output_id": "a", "kind": "hls"}], "repeated"),
        ([{"output_id": "a", "kind": "hls"}, {"output_id": "b", "kind": "hls"}], "more than one"),
    ],
)  # fmt: skip
def test_bad_outputs_are_refused_without_showing_the_url(items, message, tmp_path):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_outputs(items, tmp_path)
    assert SECRET not in str(info.value)


@pytest.fixture
def worker_settings(monkeypatch, tmp_path) -> WorkerSettings:
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "key",
        "LIVEKIT_API_SECRET": "secret",
        "MEETINGS_APP_URL": "http://127.0.0.1:8000",
        "STREAMS_DIR": str(tmp_path / "streams"),
    }
    read = WorkerSettings.from_env(env)
    monkeypatch.setattr(streamer, "settings", lambda: read)
    return read


def test_a_stream_job_writes_its_hls_files_under_streams_dir(worker_settings):
    job = {
        "job_id": "SJ_abc",
        "layout": "speaker",
        "outputs": [{"output_id": "hls", "kind": "hls"}],
    }
    parsed = streamer.StreamJob.parse(job)
    assert parsed.layout == "speaker"
    assert parsed.outputs == [
        OutputSpec("hls", "hls", directory=worker_settings.streams_dir / "SJ_abc")
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"job_id": "../../etc"}, "job_id may hold only"),
        ({"layout": "mosaic"}, "unknown layout 'mosaic'"),
        ({"outputs": None}, "non-empty list"),
    ],
)
def test_a_bad_stream_job_is_refused(worker_settings, changes, message):
    job = {"job_id": "SJ_abc", "outputs": [{"output_id": "hls", "kind": "hls"}]} | changes
    with pytest.raises(ValueError, match=message):
        streamer.StreamJob.parse(job)


# -------------------------------------------------------------------------- outputs in action
def frame(n: int) -> av.VideoFrame:
    """A flat picture whose brightness moves: cheap to encode, never the same twice."""
    data = np.full((720 * 3 // 2, 1280), 128, np.uint8)
    data[:720] = 40 + n % 150
    return av.VideoFrame.from_ndarray(data, format="yuv420p")


TONE = (np.sin(2 * np.pi * 440 * np.arange(1920) / 48_000) * 8000).astype(np.int16)


class Recorded:
    """The state changes an output reports, in order, with a way to wait for one."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str]] = []
        self._changed = threading.Condition()

    def __call__(self, output_id: str, status: str, reason: str) -> None:
        with self._changed:
            self.changes.append((output_id, status, reason))
            self._changed.notify_all()

    def wait(self, output_id: str, status: str, timeout: float = 15) -> str:
        with self._changed:
            found = self._changed.wait_for(
                lambda: [r for o, s, r in self.changes if (o, s) == (output_id, status)], timeout
            )
        assert found, f"no {status} for {output_id} in {timeout} s: {self.changes}"
        return found[0]

    def of(self, output_id: str) -> list[tuple[str, str]]:
        return [(s, r) for o, s, r in self.changes if o == output_id]


def feed(stream: StreamOutputs, ticks: int, start: int = 0) -> None:
    """Ticks as fast as the encoder takes them (never so fast that it skips frames)."""
    for n in range(start, start + ticks):
        while stream._ticks.qsize() > 5:
            time.sleep(0.005)
        stream.submit(lambda n=n: frame(n), TONE)


@contextlib.contextmanager
def opened(specs: list[OutputSpec], recorded: Recorded) -> Iterator[StreamOutputs]:
    stream = StreamOutputs(specs, recorded)
    stream.open()
    try:
        yield stream
    finally:
        stream.close()


def test_a_refused_connection_fails_alone_and_hls_goes_live_then_ends(tmp_path):
    closed = free_port()
    url = f"rtmp://127.0.0.1:{closed}/app/{SECRET}"
    directory = tmp_path / "SJ_1"
    recorded = Recorded()
    with opened(
        [OutputSpec("o_dead", "rtmp", url=url), OutputSpec("hls", "hls", directory=directory)],
        recorded,
    ) as stream:
        reason = recorded.wait("o_dead", "failed")
        assert not stream.all_failed
        feed(stream, 3 * 25)  # 3 s: the first 2 s segment is cut at the second keyframe
        recorded.wait("hls", "live")
        assert (directory / "seg_0.ts").exists()
    assert reason == f"could not connect to 127.0.0.1:{closed}: connection refused"
    assert recorded.of("o_dead") == [("failed", reason)]  # failed is final: no "ended"
    assert recorded.of("hls") == [("live", ""), ("ended", "")]
    playlist = (directory / "index.m3u8").read_text()
    assert "#EXT-X-TARGETDURATION:2" in playlist
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
    with av.open(str(directory / "seg_0.ts")) as segment:
        assert {s.codec_context.name for s in segment.streams} == {"h264", "aac"}
        video = segment.streams.video[0]
        assert (video.width, video.height, video.average_rate) == (1280, 720, Fraction(25))
        frames = [f for f in segment.decode(video=0)]
    assert len(frames) == 50 and frames[0].key_frame  # a segment: 2 s from a keyframe


@contextlib.contextmanager
def rtmp_destination(mode: str = "take") -> Iterator[tuple[str, list[str]]]:
    """Our own RTMP server as a destination that refuses every key ("refuse"), takes the
    stream ("take"), drops it once it flows ("drop") or stops reading it ("stall"); yields its URL
    without a key, and the stream names it was asked for."""
    ready, stop = threading.Event(), threading.Event()
    asked: list[str] = []
    box: dict[str, str] = {}

    def authorize(app: str, name: str) -> Decision:
        asked.append(name)
        return Decision(False, "Invalid stream key") if mode == "refuse" else Decision(True)

    async def on_publish(conn: RtmpConnection) -> None:
        if mode == "take":
            async for _ in conn.media():
                pass
        elif mode == "drop":
            # Once audio or video flows, the connection goes. (Not at the stream's metadata,
            # which the publisher sends while it opens: that would be a failure to open.)
            async for message in conn.media():
                if message.type_id in (AUDIO, VIDEO):
                    break
        elif mode == "stall":
            sock = conn.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.writer.transport.pause_reading()
            while not stop.is_set():
                await asyncio.sleep(0.02)

    async def serve() -> None:
        server = RtmpServer("127.0.0.1", 0, authorize, on_publish)
        await server.start()
        box["url"] = f"rtmp://127.0.0.1:{server.port}/live"
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.02)
        await server.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="fake-rtmp")
    thread.start()
    try:
        assert ready.wait(10)
        yield box["url"], asked
    finally:
        stop.set()
        thread.join(15)


def test_a_refused_stream_key_is_reported_and_logged_without_the_key(caplog):
    caplog.set_level(logging.INFO, logger="meetings.worker.outputs")
    recorded = Recorded()
    with (
        rtmp_destination("refuse") as (server, asked),
        opened([OutputSpec("o_1", "rtmp", url=f"{server}/{SECRET}")], recorded) as stream,
    ):
        reason = recorded.wait("o_1", "failed")
        assert stream.all_failed
    assert asked == [SECRET]  # it did get as far as publishing with the key
    assert reason == "the server refused the stream key"
    assert recorded.of("o_1") == [("failed", reason)]
    assert "Invalid stream key" in caplog.text  # the server's words, for operators
    assert "****6789" in caplog.text and SECRET not in caplog.text


def test_an_accepted_publish_is_live_and_ends_when_the_stream_closes():
    recorded = Recorded()
    with (
        rtmp_destination("take") as (server, asked),
        opened([OutputSpec("o_1", "rtmp", url=f"{server}/{SECRET}")], recorded) as stream,
    ):
        recorded.wait("o_1", "live")
        feed(stream, 25)
    assert asked == [SECRET]
    assert recorded.of("o_1") == [("live", ""), ("ended", "")]


def test_a_destination_that_never_answers_fails_in_time_without_freezing_the_worker(
    monkeypatch,
):
    """It accepts TCP and says nothing. FFmpeg's rtmp:// output would hold the GIL here."""
    monkeypatch.setattr(outputs, "NETWORK_TIMEOUT", 1.0)
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody answers
    port = silent.getsockname()[1]
    recorded = Recorded()
    try:
        with opened(
            [OutputSpec("o_1", "rtmp", url=f"rtmp://127.0.0.1:{port}/live/{SECRET}")], recorded
        ):
            started, beats = time.monotonic(), 0
            while not recorded.changes and time.monotonic() - started < 5:
                time.sleep(0.01)
                beats += 1
            waited = time.monotonic() - started
    finally:
        silent.close()
    assert recorded.of("o_1") == [
        ("failed", f"could not connect to 127.0.0.1:{port}: no answer in 1 s")
    ]
    assert 0.9 < waited < 3
    assert beats > waited / 0.01 / 2  # this thread ran all along


def test_a_destination_that_drops_the_stream_fails_with_connection_lost():
    recorded = Recorded()
    with (
        rtmp_destination("drop") as (server, _),
        opened([OutputSpec("o_1", "rtmp", url=f"{server}/{SECRET}")], recorded) as stream,
    ):
        recorded.wait("o_1", "live")
        deadline = time.monotonic() + 10
        while not stream.all_failed and time.monotonic() < deadline:
            feed(stream, 5)
    assert recorded.of("o_1") == [("live", ""), ("failed", "connection lost")]


def test_a_destination_that_stops_reading_fails_alone_and_the_stream_closes_promptly(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(outputs, "QUEUE_SECONDS", 0.5)
    monkeypatch.setattr(outputs, "SEND_BUFFER", 4096)  # the kernel cannot hide the stall long
    noise = np.random.default_rng(1).integers(0, 256, (8, 720 * 3 // 2, 1280), np.uint8)
    recorded = Recorded()
    with (
        rtmp_destination("stall") as (server, _),
        opened(
            [
                OutputSpec("o_1", "rtmp", url=f"{server}/{SECRET}"),
                OutputSpec("hls", "hls", directory=tmp_path / "SJ_2"),
            ],
            recorded,
        ) as stream,
    ):
        recorded.wait("o_1", "live")
        n, deadline = 0, time.monotonic() + 20
        while not stream.all_failed and not recorded.of("o_1")[1:] and time.monotonic() < deadline:
            while stream._ticks.qsize() > 5:
                time.sleep(0.005)
            picture = av.VideoFrame.from_ndarray(noise[n % 8], format="yuv420p")
            stream.submit(lambda picture=picture: picture, TONE)
            n += 1
        feed(stream, 3 * 25, start=n)  # the watch page's output goes on
        recorded.wait("hls", "live")
        closing = time.monotonic()
    assert time.monotonic() - closing < 3  # a blocked send does not hold the end up
    assert recorded.of("o_1") == [
        ("live", ""),
        ("failed", "the connection is too slow: 0.5 s of stream waiting"),
    ]
    assert recorded.of("hls") == [("live", ""), ("ended", "")]
