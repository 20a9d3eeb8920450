"""Stream in against a real livekit-server and a real worker process: Debian's ffmpeg pushes
a test pattern and a tone over RTMP as OBS would, a viewer in the room watches the
participant it becomes, and the app's side gets the events."""

import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from livekit import rtc

from meetings.worker.ingest import IDLE_SECONDS
from tests.support.environment import require
from tests.support.media_worker import WorkerProcess
from tests.support.rtmp_encoder import FFMPEG, TONE_HZ, Encoder
from tests.support.rtmp_receiver import listening
from tests.support.waiting import wait_for
from tests.worker.captions_room import participants
from tests.worker.ingest_room import NAME, IngestRoom

pytestmark = pytest.mark.livekit


@pytest.fixture(scope="module")
def ingest_worker(stack, tmp_path_factory) -> Iterator[WorkerProcess]:
    """One worker serving stream-in jobs, listening on loopback, for this module's tests."""
    require(FFMPEG.exists(), "ffmpeg (Debian package)")
    worker = WorkerProcess(
        stack.config,
        stack.app_url,
        stack.workdir / "ingest-worker.log",
        tmp_path_factory.mktemp("ingest-recordings"),
        {
            "MEETINGS_WORKER_JOBS": "ingest",
            "MEETINGS_INGEST_BIND": "127.0.0.1",
            "MEETINGS_WORKER_MAX_JOBS": "4",
        },
    )
    try:
        worker.wait_registered()
        yield worker
    finally:
        worker.stop()


def test_an_encoder_with_the_right_key_joins_the_meeting_with_moving_video_and_sound(
    room_stack, ingest_worker
):
    with IngestRoom(room_stack) as ingest, ingest.viewer() as viewer:
        listening_event = ingest.wait_event("ingest_listening")
        with Encoder(ingest.url()):
            seen = viewer.wait_publishing(ingest.identity)
            sample = viewer.sample(ingest.identity)
            connected = ingest.wait_event("ingest_connected")

    assert listening_event == {"ingest_id": ingest.ingest_id, "port": ingest.port}
    assert connected["ingest_id"] == ingest.ingest_id
    assert connected["peer"].startswith("127.0.0.1:")
    assert (seen.identity, seen.name) == (ingest.identity, NAME)
    assert seen.kind == rtc.ParticipantKind.PARTICIPANT_KIND_INGRESS
    assert seen.attributes == {"ingest_id": ingest.ingest_id}
    assert seen.tracks == {
        rtc.TrackSource.SOURCE_CAMERA: (rtc.TrackKind.KIND_VIDEO, 1280, 720),
        rtc.TrackSource.SOURCE_MICROPHONE: (rtc.TrackKind.KIND_AUDIO, 0, 0),
    }
    # The test pattern moves every frame; the viewer may see one twice, not mostly the same.
    assert sample.moving >= len(sample.changes) // 2, sample
    assert sample.rms > 500, sample  # ffmpeg's sine is about 2900 RMS; silence is 0
    assert abs(sample.peak_hz - TONE_HZ) < 10, sample
    # Only the participant people see is visible: the job's own is hidden.
    assert viewer.ever_joined == [ingest.identity]


def test_a_wrong_key_is_refused_before_any_media(room_stack, ingest_worker):
    with IngestRoom(room_stack) as ingest, ingest.viewer() as viewer:
        ingest.wait_event("ingest_listening")
        # It would stream forever if it were let in.
        status, log = Encoder(ingest.url("not-the-key")).wait(timeout=15)
        refused = ingest.wait_event("ingest_refused", timeout=10)
        joined = list(viewer.ever_joined)

    assert status != 0
    assert "invalid stream key" in log  # what the encoder's log shows the host
    assert refused["ingest_id"] == ingest.ingest_id
    assert refused["reason"] == "invalid stream key"
    assert refused["peer"].startswith("127.0.0.1:")
    assert refused["total"] >= 1
    assert joined == []
    assert "ingest_connected" not in ingest.kinds()


def test_the_participant_leaves_with_the_encoder_and_comes_back_with_it(room_stack, ingest_worker):
    with IngestRoom(room_stack) as ingest, ingest.viewer() as viewer:
        ingest.wait_event("ingest_listening")
        with Encoder(ingest.url()):
            viewer.wait_publishing(ingest.identity)
            shown = time.monotonic()
            ingest.wait_events("ingest_connected", 1)
        stopped = time.monotonic()  # the encoder was stopped as OBS's Stop does
        viewer.wait_gone(ingest.identity)
        gone_after = time.monotonic() - stopped
        (first,) = ingest.wait_events("ingest_disconnected", 1)

        with Encoder(ingest.url()) as encoder:
            viewer.wait_publishing(ingest.identity)
            ingest.wait_events("ingest_connected", 2)
            # The meeting ends while the encoder still pushes: the job drops it and ends,
            # its port closes.
            ingest.close()
            status, _ = encoder.wait(timeout=15)
            (_, second) = ingest.wait_events("ingest_disconnected", 2)
            wait_for(lambda: not listening(ingest.port), 15, what="the listener closed")

    assert first["reason"] == "encoder disconnected"
    assert first["duration_s"] >= round(stopped - shown, 1) - 0.1
    assert gone_after < IDLE_SECONDS  # told by the encoder, not found by the idle timeout
    assert second["reason"] == "ingest stopped"
    assert status != 0  # the encoder's log tells the host it was cut off
    assert viewer.ever_joined == [ingest.identity] * 2
    assert ingest.kinds() == [
        "ingest_listening",
        "ingest_connected",
        "ingest_disconnected",
        "ingest_connected",
        "ingest_disconnected",
    ]


def test_a_port_already_taken_fails_the_job(room_stack, ingest_worker):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with IngestRoom(room_stack, port=taken.getsockname()[1]) as ingest:
            failed = ingest.wait_event("ingest_failed")
            wait_for(
                lambda: ingest.job_identity not in participants(room_stack, ingest.name),
                15,
                what="the job left the room",
            )

    assert failed["ingest_id"] == ingest.ingest_id
    assert f"cannot listen on port {ingest.port}" in failed["reason"]
    assert "ingest_listening" not in ingest.kinds()


def test_two_encoders_stream_into_one_meeting_but_one_ingest_runs_once(room_stack, ingest_worker):
    with IngestRoom(room_stack) as first, first.viewer() as viewer:
        first.wait_event("ingest_listening")
        second = IngestRoom(room_stack, name=first.name)  # another ingest of the same meeting
        second.dispatch()
        second.wait_event("ingest_listening")
        again = replace(first, job_id="IJ_" + secrets.token_hex(16))
        again.dispatch()  # the same ingest once more: refused, the running job stays
        refused = room_stack.sink.wait_event(again.job_id, "job_rejected", timeout=30)
        assert refused["data"]["agent_name"] == "meetings-ingest"
        with Encoder(first.url(), size="320x180"), Encoder(second.url(), size="320x180"):
            assert viewer.wait_publishing(first.identity).name == NAME
            assert viewer.wait_publishing(second.identity).name == NAME
