"""Stream out against a real livekit-server: what a destination receives, what the watch page's
HLS files hold, what the app hears, and that the stream key is never written anywhere."""

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from meetings.livekit_process import free_port
from meetings.worker import layout
from meetings.worker.outputs import mask_url
from tests.support.media_worker import WorkerProcess
from tests.support.rtmp_encoder import FFMPEG
from tests.support.rtmp_receiver import RtmpReceiver
from tests.worker.stream_out_room import (
    close_room,
    dispatch,
    stream_job,
    withdraw,
)

pytestmark = pytest.mark.livekit

RED = (255, 0, 0)


@pytest.fixture(scope="module")
def stream_worker(stack, tmp_path_factory) -> Iterator[WorkerProcess]:
    """One worker for the module: starting one costs 10-20 s on a busy 2-core machine."""
    if not FFMPEG.exists():
        pytest.skip("needs Debian's ffmpeg as the RTMP destination")
    directory = tmp_path_factory.mktemp("stream-worker")
    env = {"MEETINGS_WORKER_JOBS": "stream", "STREAMS_DIR": str(directory / "streams")}
    worker = WorkerProcess(
        stack.config, stack.app_url, directory / "worker.log", directory / "recordings", env
    )
    try:
        yield worker.wait_registered()
    finally:
        worker.stop()


def streams_dir(worker: WorkerProcess) -> Path:
    return worker.log_path.parent / "streams"


def new_room(stack, prefix: str) -> str:
    name = f"{prefix}-{secrets.token_hex(3)}"
    stack.create_room(name)
    return name


def assert_key_nowhere(stack, worker, job: dict, url: str) -> None:
    """Neither the worker's log nor any event of the job carries the stream key."""
    key = url.rpartition("/")[2]
    log = worker.log()
    assert mask_url(url) in log  # the log does name the destination, masked
    assert key not in log
    assert key not in json.dumps(stack.sink.of(job["job_id"]))


def probe(path: Path) -> dict:
    out = subprocess.run(
        [shutil.which("ffprobe") or "ffprobe", "-v", "error", "-print_format", "json",
         "-show_streams", "-show_format", str(path)],
        check=True, capture_output=True, timeout=30,
    ).stdout  # fmt: skip
    return json.loads(out)


def test_an_rtmp_destination_receives_the_meeting_until_the_stream_is_stopped(
    room_stack, stream_worker, tmp_path
):
    stack, worker = room_stack, stream_worker
    room = new_room(stack, "rtmp")
    stack.join({"room": room, "identity": "red-one", "colour": RED, "tone": 440})
    key = "live_" + secrets.token_hex(12)
    receiver = RtmpReceiver(tmp_path, key)
    try:
        job = stream_job(room, [{"output_id": "o_yt", "kind": "rtmp", "url": receiver.url}])
        dispatch_id = dispatch(stack, job)
        live = stack.sink.wait_event(job["job_id"], "stream_output", 30, status="live")
        assert live["data"] == {"output_id": "o_yt", "status": "live", "reason": ""}
        went_live = time.monotonic()
        stack.sink.wait(lambda: time.monotonic() - went_live >= 10, 15, "10 s of streaming")
        withdraw(stack, room, dispatch_id)
        stopped = time.monotonic()
        ended = stack.sink.wait_event(job["job_id"], "stream_ended", 30)
        receiver.wait(15)  # the worker unpublished and closed: ffmpeg finishes its file
    finally:
        receiver.close()

    assert ended["data"]["reason"] == "the stream was stopped"
    outputs = [e["data"] for e in stack.sink.of(job["job_id"], "stream_output")]
    assert outputs == [live["data"], {"output_id": "o_yt", "status": "ended", "reason": ""}]
    kinds = [e["kind"] for e in stack.sink.of(job["job_id"])]
    assert kinds[-1] == "stream_ended" and kinds.count("stream_ended") == 1

    received = probe(receiver.path)
    streams = {s["codec_type"]: s for s in received["streams"]}
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)
    # From the first keyframe after "live" to the withdrawal: what was streamed.
    assert float(received["format"]["duration"]) == pytest.approx(stopped - went_live, abs=2.0)

    with av.open(str(receiver.path)) as container:
        frame = next(f for f in container.decode(video=0) if f.time >= 5).to_ndarray(format="rgb24")
    rect = layout.grid_rects(1, 1280, 720)[0]
    pixel = frame[rect.y + rect.h // 2, rect.x + rect.w // 2].astype(int)
    assert np.abs(pixel - RED).max() < 60, pixel
    with av.open(str(receiver.path)) as container:
        samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    assert np.sqrt((samples**2).mean()) > 0.1  # the tone, not silence
    with av.open(str(receiver.path)) as container:
        keyframes = [
            float(p.pts * p.time_base)
            for p in container.demux(video=0)
            if p.pts is not None and p.is_keyframe
        ]
    # A keyframe every 2 s, as YouTube and Twitch ask (and where HLS cuts its segments).
    assert len(keyframes) >= 4
    assert np.diff(keyframes) == pytest.approx([2.0] * (len(keyframes) - 1), abs=0.05)

    assert_key_nowhere(stack, worker, job, receiver.url)
    assert stack.sink.rejected == []


def test_an_unreachable_destination_fails_alone_while_hls_goes_on(room_stack, stream_worker):
    stack, worker = room_stack, stream_worker
    room = new_room(stack, "hls")
    stack.join({"room": room, "identity": "red-one", "colour": RED, "tone": 440})
    closed = free_port()  # nothing listens there
    url = f"rtmp://127.0.0.1:{closed}/app/sk_{secrets.token_hex(12)}"
    job = stream_job(
        room,
        [
            {"output_id": "o_dead", "kind": "rtmp", "url": url},
            {"output_id": "hls", "kind": "hls"},
        ],
    )
    dispatch_id = dispatch(stack, job)
    failed = stack.sink.wait_event(job["job_id"], "stream_output", 30, output_id="o_dead")
    assert failed["data"] == {
        "output_id": "o_dead",
        "status": "failed",
        "reason": f"could not connect to 127.0.0.1:{closed}: connection refused",
    }
    stack.sink.wait_event(job["job_id"], "stream_output", 30, output_id="hls", status="live")

    directory = streams_dir(worker) / job["job_id"]
    playlist = directory / "index.m3u8"

    def segments() -> list[str]:
        return [line for line in playlist.read_text().splitlines() if line.endswith(".ts")]

    first = segments()
    stack.sink.wait(lambda: set(segments()) - set(first), 10, "a new HLS segment")
    for name in segments()[-2:]:
        with av.open(str(directory / name)) as segment:
            codecs = {s.codec_context.name for s in segment.streams}
            decoded = {type(f).__name__ for f in segment.decode(video=0, audio=0)}
        assert codecs == {"h264", "aac"}
        assert decoded == {"VideoFrame", "AudioFrame"}

    withdraw(stack, room, dispatch_id)
    ended = stack.sink.wait_event(job["job_id"], "stream_ended", 30)
    assert ended["data"]["reason"] == "the stream was stopped"
    hls = [e["data"]["status"] for e in stack.sink.of(job["job_id"], "stream_output")
           if e["data"]["output_id"] == "hls"]  # fmt: skip
    assert hls == ["live", "ended"]
    text = playlist.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    assert len(segments()) <= 6  # a sliding list; older segments deleted
    assert sorted(p.name for p in directory.glob("seg_*.ts")) == sorted(segments())

    assert_key_nowhere(stack, worker, job, url)


def test_a_stream_whose_every_destination_fails_ends_by_itself(room_stack, stream_worker):
    stack = room_stack
    room = new_room(stack, "dead")
    stack.join({"room": room, "identity": "red-one", "colour": RED, "tone": 440})
    closed = free_port()
    job = stream_job(
        room, [{"output_id": "o_1", "kind": "rtmp", "url": f"rtmp://127.0.0.1:{closed}/a/k-123456"}]
    )
    dispatch(stack, job)
    ended = stack.sink.wait_event(job["job_id"], "stream_ended", 30)
    assert ended["data"] == {"reason": "every output failed"}
    outputs = [e["data"]["status"] for e in stack.sink.of(job["job_id"], "stream_output")]
    assert outputs == ["failed"]


def test_closing_the_room_ends_the_stream_and_its_hls_list(room_stack, stream_worker):
    stack, worker = room_stack, stream_worker
    room = new_room(stack, "close")
    stack.join({"room": room, "identity": "red-one", "colour": RED, "tone": 440})
    job = stream_job(room, [{"output_id": "hls", "kind": "hls"}])
    dispatch(stack, job)
    stack.sink.wait_event(job["job_id"], "stream_output", 30, output_id="hls", status="live")
    close_room(stack, room)
    ended = stack.sink.wait_event(job["job_id"], "stream_ended", 30)
    # livekit-server both disconnects the job's participant and terminates the job: which
    # reaches the worker first varies from run to run.
    reason = ended["data"]["reason"]
    assert reason.startswith("the room closed") or reason == "the stream was stopped", ended
    statuses = [e["data"]["status"] for e in stack.sink.of(job["job_id"], "stream_output")]
    assert statuses == ["live", "ended"]
    playlist = streams_dir(worker) / job["job_id"] / "index.m3u8"
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
