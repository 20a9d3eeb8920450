"""The recorder against a real livekit-server: what a user gets in the file, and what the app
hears about it."""

import json
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import av
import numpy as np
import pytest

from meetings.worker import layout
from meetings.worker.storage import digest
from tests.support.media_worker import REGISTERED
from tests.worker import media

pytestmark = pytest.mark.livekit

RED, BLUE = (255, 0, 0), (0, 0, 255)


def record_job(room: str, **overrides) -> dict:
    job_id = secrets.token_hex(4)
    return {
        "kind": "record",
        "job_id": job_id,
        "room": room,
        "layout": "grid",
        "audio_only": False,
        "file_name": f"2026/12/{room}-{job_id}.mp4",
        "storage": "local",
        **overrides,
    }


def new_room(stack, prefix: str) -> str:
    name = f"{prefix}-{secrets.token_hex(3)}"
    stack.create_room(name)
    return name


def test_two_participants_make_a_complete_720p_recording(room_stack, start_worker):
    stack = room_stack
    worker = start_worker()
    room = new_room(stack, "two")
    people = stack.join(
        {"room": room, "identity": "red-one", "colour": RED, "tone": 440},
        {"room": room, "identity": "blue-two", "colour": BLUE, "tone": 660},
    )
    job = record_job(room)
    stack.dispatch(room, job)

    started = stack.sink.wait_event(job["job_id"], "recording_started", timeout=30)
    stack.sink.wait(
        lambda: any(
            e["data"]["duration_seconds"] >= 10
            for e in stack.sink.of(job["job_id"], "recording_progress")
        ),
        timeout=20,
        what="10 s of recording",
    )
    seen_while_recording = people.peers()
    stack.remove(room, f"recorder-{job['job_id']}")
    ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=30)

    assert ended["data"]["status"] == "complete", ended
    path = worker.recordings / job["file_name"]
    kinds = [e["kind"] for e in stack.sink.of(job["job_id"])]
    assert kinds[0] == "recording_started" and kinds[-1] == "recording_ended"
    assert set(kinds[1:-1]) == {"recording_progress"} and len(kinds) >= 3
    assert started["data"] | {"started_at": 0} == {
        "file_name": job["file_name"],
        "width": 1280,
        "height": 720,
        "started_at": 0,
    }
    sha256, size = digest(path)
    assert (ended["data"]["sha256"], ended["data"]["size_bytes"]) == (sha256, size)
    assert ended["data"]["duration_seconds"] == pytest.approx(10, abs=1.5)

    # A plain MP4 with its index first, no fragments left.
    boxes = media.top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat") and "moof" not in boxes
    probe = json.loads(
        subprocess.run(
            [
                shutil.which("ffprobe") or "ffprobe",
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_streams",
                "-show_format",
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        ).stdout
    )
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert (
        streams["video"]["codec_name"],
        streams["video"]["width"],
        streams["video"]["height"],
    ) == ("h264", 1280, 720)
    assert streams["audio"]["codec_name"] == "aac"
    assert float(probe["format"]["duration"]) == pytest.approx(10, abs=1.5)

    # Each participant's colour where its tile is, and their tones in the sound.
    frame = media.frame_at(path, 5.0)
    colours = set()
    for rect in layout.grid_rects(2, 1280, 720):
        pixel = frame[rect.y + rect.h // 2, rect.x + rect.w // 2].astype(int)
        colours.add(min((RED, BLUE), key=lambda c: np.abs(pixel - c).sum()))
        assert min(np.abs(pixel - c).max() for c in (RED, BLUE)) < 60, pixel
    assert colours == {RED, BLUE}
    samples = media.audio_samples(path)
    assert np.sqrt((samples**2).mean()) > 0.1

    # Hidden: the participants never saw the recorder; livekit-server still sent webhooks.
    assert seen_while_recording == {"red-one": ["blue-two"], "blue-two": ["red-one"]}
    recorder_hooks = [
        (h["event"], h["participant"].get("kind"))
        for h in stack.sink.hooks
        if h.get("participant", {}).get("identity") == f"recorder-{job['job_id']}"
    ]
    assert ("participant_joined", "AGENT") in recorder_hooks
    assert stack.sink.rejected == []


def test_audio_and_video_stay_within_100ms(room_stack, start_worker):
    stack = room_stack
    worker = start_worker()
    room = new_room(stack, "sync")
    stack.join({"room": room, "identity": "flasher", "flashes": True})
    job = record_job(room)
    stack.dispatch(room, job)
    stack.sink.wait_event(job["job_id"], "recording_started")
    stack.sink.wait(
        lambda: any(
            e["data"]["duration_seconds"] >= 10
            for e in stack.sink.of(job["job_id"], "recording_progress")
        ),
        timeout=20,
        what="10 s of recording",
    )
    stack.remove(room, f"recorder-{job['job_id']}")
    ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=30)
    assert ended["data"]["status"] == "complete", ended

    path = worker.recordings / job["file_name"]
    rect = layout.grid_rects(1, 1280, 720)[0]
    flashes = media.flash_times(path, rect.x + rect.w // 2, rect.y + rect.h // 2)
    beeps = media.beep_times(path)
    assert len(flashes) >= 4, (flashes, beeps)
    offsets = [min(beeps, key=lambda b, f=f: abs(b - f)) - f for f in flashes]
    print(f"A/V offsets (audio minus video), s: {[round(o, 3) for o in offsets]}")
    assert max(abs(o) for o in offsets) < 0.1, offsets


def test_a_killed_worker_leaves_a_playable_file(room_stack, start_worker):
    stack = room_stack
    worker = start_worker()
    room = new_room(stack, "kill")
    stack.join({"room": room, "identity": "red-one", "colour": RED, "tone": 440})
    job = record_job(room)
    stack.dispatch(room, job)
    started = stack.sink.wait_event(job["job_id"], "recording_started")
    stack.sink.wait(
        lambda: any(
            e["data"]["duration_seconds"] >= 5
            for e in stack.sink.of(job["job_id"], "recording_progress")
        ),
        timeout=20,
        what="5 s of recording",
    )
    stack.sink.wait(lambda: _now() - started["data"]["started_at"] >= 6, 5, "6 s")
    worker.signal(9, group=True)  # the worker and its job processes, like an OOM kill
    worker.wait_exit(10)

    path: Path = worker.recordings / job["file_name"]
    assert media.last_timestamp(path) >= 3.0
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_sigterm_finishes_the_file_before_exit(room_stack, start_worker):
    stack = room_stack
    worker = start_worker()
    room = new_room(stack, "term")
    stack.join({"room": room, "identity": "blue-two", "colour": BLUE, "tone": 660})
    job = record_job(room)
    stack.dispatch(room, job)
    stack.sink.wait_event(job["job_id"], "recording_started")
    stack.sink.wait_event(job["job_id"], "recording_progress")
    worker.signal(15)
    assert worker.wait_exit(40) == 0

    ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=5)
    assert ended["data"]["status"] == "complete", ended
    path = worker.recordings / job["file_name"]
    boxes = media.top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat") and "moof" not in boxes
    assert digest(path) == (ended["data"]["sha256"], ended["data"]["size_bytes"])
    assert media.last_timestamp(path) >= 5.0


def _now() -> float:
    return time.time()


def test_ten_rooms_on_two_workers_each_recorded_once(room_stack, start_worker):
    # Audio only: what is tested is who takes which job; ten 720p encoders at once would need
    # about four cores, which this machine does not have (the video path is tested above).
    stack = room_stack
    workers = [start_worker({"MEETINGS_WORKER_MAX_JOBS": "10"}, name=f"w{i}") for i in (1, 2)]
    rooms = [new_room(stack, f"many{i}") for i in range(10)]
    people = stack.join(
        *(
            {"room": room, "identity": f"voice-{i}", "tone": 300 + 50 * i}
            for i, room in enumerate(rooms)
        )
    )
    jobs = [record_job(room, audio_only=True, file_name=f"many/{room}.m4a") for room in rooms]
    for job in jobs:
        stack.dispatch(job["room"], job)
    for job in jobs:
        stack.sink.wait_event(job["job_id"], "recording_started", timeout=60)
    people.close()  # everyone leaves: each recording ends on its own, complete

    for job in jobs:
        ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=60)
        assert ended["data"]["status"] == "complete", ended
        assert len(stack.sink.of(job["job_id"], "recording_started")) == 1
        joins = [
            h
            for h in stack.sink.hooks
            if h["event"] == "participant_joined"
            and h["participant"]["identity"] == f"recorder-{job['job_id']}"
        ]
        assert len(joins) == 1, joins
        owners = [w for w in workers if f"recording {job['job_id']} stops" in w.log()]
        assert len(owners) == 1, f"job {job['job_id']} ran on {len(owners)} workers"
        path = owners[0].recordings / job["file_name"]
        assert digest(path) == (ended["data"]["sha256"], ended["data"]["size_bytes"])
        assert "moof" not in media.top_level_boxes(path)


def test_unwritable_storage_ends_the_recording_as_failed_with_the_reason(room_stack, start_worker):
    stack = room_stack
    worker = start_worker()
    worker.recordings.mkdir(parents=True, exist_ok=True)
    (worker.recordings / "blocked").write_text("a file where a directory should be")
    room = new_room(stack, "disk")
    stack.join({"room": room, "identity": "voice", "tone": 440})
    job = record_job(room, file_name="blocked/x.mp4")
    stack.dispatch(room, job)
    ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=30)
    assert ended["data"]["status"] == "failed"
    assert "cannot write the file" in ended["data"]["error"]
    assert "blocked" in ended["data"]["error"]  # the reason names the path
    assert stack.sink.of(job["job_id"], "recording_started") == []


def test_audio_only_recording_is_uploaded_to_s3(room_stack, start_worker, s3_bucket):
    stack = room_stack
    endpoint, client = s3_bucket
    worker = start_worker(
        {
            "RECORDINGS_S3_BUCKET": "recs",
            "RECORDINGS_S3_ENDPOINT": endpoint,
            "RECORDINGS_S3_PATH_STYLE": "true",
            "RECORDINGS_S3_ACCESS_KEY": "k",
            "RECORDINGS_S3_SECRET_KEY": "s",
            "RECORDINGS_S3_PREFIX": "recordings/",
        }
    )
    room = new_room(stack, "s3")
    stack.join({"room": room, "identity": "voice", "tone": 440})
    job = record_job(room, audio_only=True, storage="s3", file_name=f"2026/12/{room}.m4a")
    stack.dispatch(room, job)
    started = stack.sink.wait_event(job["job_id"], "recording_started")
    assert (started["data"]["width"], started["data"]["height"]) == (None, None)
    stack.sink.wait_event(job["job_id"], "recording_progress")
    stack.remove(room, f"recorder-{job['job_id']}")
    ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=30)
    assert ended["data"]["status"] == "complete", ended
    assert ended["data"]["audio_only"] is True

    downloaded = worker.recordings.parent / "downloaded.m4a"
    client.download_file("recs", "recordings/" + job["file_name"], str(downloaded))
    assert digest(downloaded) == (ended["data"]["sha256"], ended["data"]["size_bytes"])
    assert not (worker.recordings / job["file_name"]).exists()  # uploaded, not kept twice
    with av.open(str(downloaded)) as container:
        assert [s.codec_context.name for s in container.streams] == ["aac"]
    assert np.sqrt((media.audio_samples(downloaded) ** 2).mean()) > 0.1


def test_a_second_recording_of_the_same_room_is_refused(room_stack, start_worker):
    stack = room_stack
    start_worker()
    room = new_room(stack, "twice")
    stack.join({"room": room, "identity": "voice", "tone": 440})
    first, second = record_job(room), record_job(room)
    stack.dispatch(room, first)
    stack.dispatch(room, second)
    rejected = stack.sink.wait_event(second["job_id"], "job_rejected", timeout=30)
    assert rejected["data"]["agent_name"] == "meetings-recorder"
    assert "already runs" in rejected["data"]["reason"] or "starting" in rejected["data"]["reason"]
    stack.sink.wait_event(first["job_id"], "recording_started")
    assert stack.sink.of(second["job_id"], "recording_started") == []
    stack.remove(room, f"recorder-{first['job_id']}")
    assert stack.sink.wait_event(first["job_id"], "recording_ended")["data"]["status"] == "complete"


def test_the_worker_registers_again_when_livekit_restarts(room_stack, start_worker):
    """An upgrade restarts livekit-server: the worker keeps retrying and takes jobs again."""
    stack = room_stack
    worker = start_worker()
    stack.server.stop()
    stack.server.start()  # same ports, same keys
    deadline = time.monotonic() + 60
    while worker.log().count(REGISTERED) < 2:
        assert time.monotonic() < deadline, f"no second registration:\n{worker.log()[-3000:]}"
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log()[-3000:]}"
        time.sleep(0.2)
    room = new_room(stack, "after-restart")
    stack.join({"room": room, "identity": "red-one", "colour": RED, "tone": 440})
    job = record_job(room)
    stack.dispatch(room, job)
    stack.sink.wait_event(job["job_id"], "recording_started", timeout=30)
    stack.remove(room, f"recorder-{job['job_id']}")
    ended = stack.sink.wait_event(job["job_id"], "recording_ended", timeout=30)
    assert ended["data"]["status"] == "complete", ended
