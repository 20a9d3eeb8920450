"""The built-in recorder as the app drives it: a start dispatches the worker's recorder job,
the worker's signed events (POST /worker/events, into the webhook ledger) move the recording
like egress events do, a stop withdraws the dispatch, and a start with no worker fails fast."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from livekit.api import ParticipantInfo

from meetings.extensions import db
from meetings.models import (
    Attendance,
    MediaWorker,
    Recording,
    RecordingStatus,
    Role,
    WebhookEvent,
    utcnow,
)
from meetings.recordings import explain
from tests.support.rooms import first_room
from tests.support.webhook_factory import participant_event, webhook_request
from tests.support.worker_events import heartbeat, worker_event, worker_request

URL = "/worker/events"
SHA = "ab" * 32


@pytest.fixture
def builtin(app, tmp_path):
    app.config["RECORDER"] = "builtin"
    app.config["RECORDINGS_DIR"] = str(tmp_path)


@pytest.fixture
def post(client, app):
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def send(body: bytes, status: int = 200):
        body, headers = worker_request(body, *keys)
        response = client.post(URL, data=body, headers=headers)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    return send


@pytest.fixture
def meeting_room(make_meeting, make_user, fake_rooms, builtin):
    host = make_user(email="host@example.com")
    meeting = make_meeting(host=host, recording_allowed=True)
    room = first_room(meeting)
    fake_rooms.seat(room, "host")
    return meeting, room, host


def start(client, api_token, meeting, host, **body):
    return client.post(
        f"/api/v1/meetings/{meeting.slug}/recordings", json=body, headers=api_token(host)
    )


def only_recording() -> Recording:
    rows = db.session.scalars(sa.select(Recording)).all()
    assert len(rows) == 1, rows
    db.session.refresh(rows[0])
    return rows[0]


def test_a_builtin_recording_goes_from_dispatch_to_a_file_with_its_facts(
    client, api_token, post, meeting_room, fake_rooms
):
    meeting, room, host = meeting_room
    post(heartbeat())
    answer = start(client, api_token, meeting, host, layout="speaker", audio_only=False)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["status"] == "starting"
    row = only_recording()
    # The job's parameters, as the worker's recorder parses them.
    [(_, dispatched_room, agent, metadata)] = [c for c in fake_rooms.calls if c[0] == "dispatch"]
    assert (dispatched_room, agent) == (room, "meetings-recorder")
    assert metadata == {
        "job_id": row.job_id,
        "room": room,
        "file_name": row.file_name,
        "layout": "speaker",
        "audio_only": False,
        "storage": "local",
    }
    assert row.file_name.endswith(".mp4") and row.dispatch_id == "AD_fake1"
    assert fake_rooms.metadata[room]["recording"] is True

    job = {"job_id": row.job_id, "room": room}
    post(
        worker_event(
            "recording_started",
            {"file_name": row.file_name, "width": 1280, "height": 720, "started_at": 1_800_000_000},
            **job,
        )
    )
    assert only_recording().status == RecordingStatus.ACTIVE
    post(worker_event("recording_progress", {"duration_seconds": 5.0, "size_bytes": 1000}, **job))
    assert only_recording().duration_seconds == 5.0

    ended = worker_event(
        "recording_ended",
        {
            "status": "complete",
            "error": None,
            "file_name": row.file_name,
            "size_bytes": 123456,
            "duration_seconds": 10.04,
            "sha256": SHA,
            "width": 1280,
            "height": 720,
            "audio_only": False,
        },
        **job,
    )
    assert post(ended) == {"stored": True}
    assert post(ended) == {"stored": False}  # a retry of the same event
    row = only_recording()
    assert row.status == RecordingStatus.COMPLETE
    assert (row.size_bytes, row.duration_seconds, row.sha256) == (123456, 10.04, SHA)
    assert (row.width, row.height) == (1280, 720)
    assert row.has_file
    # A late progress report changes nothing once the recording is settled.
    post(worker_event("recording_progress", {"duration_seconds": 9.0, "size_bytes": 9}, **job))
    assert only_recording().size_bytes == 123456
    # Ops find the worker's events in the webhook ledger; its heartbeats are not buried there.
    kinds = db.session.scalars(sa.select(WebhookEvent.event)).all()
    assert "worker.recording_ended" in kinds and "worker.worker_online" not in kinds
    [worker] = db.session.scalars(sa.select(MediaWorker)).all()
    assert worker.serves("meetings-recorder") and worker.max_jobs > 0


def test_a_start_with_no_worker_fails_at_once_and_says_so(
    client, api_token, meeting_room, fake_rooms
):
    meeting, _room, host = meeting_room
    answer = start(client, api_token, meeting, host)
    assert answer.status_code == 503
    assert answer.get_json()["error"]["message"] == explain.NO_RECORDER_RUNNING
    assert not fake_rooms.dispatches  # nothing was dispatched
    row = only_recording()
    assert (row.status, row.error) == (RecordingStatus.FAILED, explain.NO_RECORDER)


def test_a_job_no_worker_takes_is_withdrawn_and_the_start_fails(
    client, api_token, post, meeting_room, fake_rooms
):
    meeting, room, host = meeting_room
    post(heartbeat())
    fake_rooms.workers_take_jobs = False
    answer = start(client, api_token, meeting, host)
    assert answer.status_code == 503
    assert ("delete_dispatch", room, "AD_fake1") in fake_rooms.calls
    row = only_recording()
    assert (row.status, row.error) == (RecordingStatus.FAILED, explain.NOT_TAKEN)


def test_a_heartbeat_of_another_job_kind_does_not_count(
    client, api_token, post, meeting_room, fake_rooms
):
    meeting, _room, host = meeting_room
    post(heartbeat("meetings-captions"))
    assert start(client, api_token, meeting, host).status_code == 503


def test_stop_withdraws_the_dispatch_and_the_worker_reports_the_file(
    client, api_token, post, meeting_room, fake_rooms
):
    meeting, room, host = meeting_room
    post(heartbeat())
    recording_id = start(client, api_token, meeting, host, audio_only=True).get_json()["id"]
    row = only_recording()
    assert row.file_name.endswith(".m4a") and row.content_type == "audio/mp4"
    answer = client.post(f"/api/v1/recordings/{recording_id}/stop", headers=api_token(host))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "ending"
    assert ("delete_dispatch", room, "AD_fake1") in fake_rooms.calls
    post(
        worker_event(
            "recording_ended",
            {
                "status": "complete",
                "file_name": row.file_name,
                "size_bytes": 10,
                "duration_seconds": 3.0,
                "sha256": SHA,
                "width": None,
                "height": None,
            },
            job_id=row.job_id,
            room=room,
        )
    )
    row = only_recording()
    assert row.status == RecordingStatus.COMPLETE and row.width is None


@pytest.mark.parametrize(
    ("kind", "data", "status", "error"),
    [
        (
            "job_rejected",
            {"agent_name": "meetings-recorder", "reason": "already runs"},
            RecordingStatus.FAILED,
            "already runs",
        ),
        (
            "recording_ended",
            {"status": "failed", "error": "cannot write the file: disk full"},
            RecordingStatus.FAILED,
            "cannot write the file: disk full",
        ),
        # A file the app did not name is never served.
        (
            "recording_ended",
            {"status": "complete", "file_name": "../etc/passwd"},
            RecordingStatus.FAILED,
            explain.FILE_OUTSIDE_STORAGE,
        ),
    ],
)
def test_what_the_worker_reports_as_failed_fails_the_recording(
    client, api_token, post, meeting_room, kind, data, status, error
):
    meeting, room, host = meeting_room
    post(heartbeat())
    start(client, api_token, meeting, host)
    post(worker_event(kind, data, job_id=only_recording().job_id, room=room))
    row = only_recording()
    assert (row.status, row.error) == (status, error)


def test_the_endpoint_refuses_what_is_not_a_signed_worker_event(client, app, post):
    body = worker_event("recording_progress", {})
    bad = client.post(URL, data=body, headers={"Authorization": "not-a-jwt"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "invalid_signature"
    missing = client.post(URL, data=body)
    assert missing.status_code == 401 and missing.is_json
    # Signed for another body: the hash does not match.
    _, headers = worker_request(b"{}", app.config["LIVEKIT_API_KEY"], "x" * 40)
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert post(b"not json", status=400)["error"]["code"] == "bad_payload"
    assert post(b'{"kind": "x"}', status=400)["error"]["code"] == "bad_payload"
    assert not db.session.scalars(sa.select(WebhookEvent)).all()


def test_an_unknown_kind_is_stored_and_ignored(post):
    assert post(worker_event("captions_final", {"text": "hello"}, room="r")) == {"stored": True}
    [row] = db.session.scalars(sa.select(WebhookEvent)).all()
    assert (row.event, row.result.value) == ("worker.captions_final", "ignored")
    assert json.loads(row.payload)["data"] == {"text": "hello"}


def test_reconcile_fails_a_recording_its_worker_stopped_reporting_on(
    app, client, api_token, post, meeting_room
):
    meeting, room, host = meeting_room
    post(heartbeat())
    start(client, api_token, meeting, host)
    row = only_recording()
    post(
        worker_event(
            "recording_started", {"file_name": row.file_name}, job_id=row.job_id, room=room
        )
    )
    result = app.test_cli_runner().invoke(args=["recordings", "reconcile"])
    assert "0 recording(s) settled" in result.output  # it reported just now
    row = only_recording()
    silent = utcnow() - timedelta(seconds=app.config["RECORDER_SILENT_SECONDS"] + 1)
    row.server_updated_ns = int(silent.timestamp() * 1e9)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["recordings", "reconcile"])
    assert "1 recording(s) settled" in result.output, result.output
    row = only_recording()
    assert (row.status, row.error) == (RecordingStatus.FAILED, explain.RECORDER_LOST)
    assert explain.failure_message(row) == explain.LOST


def test_operators_see_which_media_workers_are_alive(post, make_user, login):
    browser = login(make_user(role=Role.OPS))

    def workers_table() -> str:
        page = browser.get("/ops/livekit").get_data(as_text=True)
        return page[page.index('id="workers-title"') : page.index('id="live-title"')]

    assert "No media worker has reported in the last hour" in workers_table()
    post(heartbeat())
    table = workers_table()
    assert "test-1" in table and "recorder" in table and "0 of 4" in table
    assert "Alive" in table and "Gone" not in table
    # A worker silent for longer than RECORDER_HEARTBEAT_SECONDS is shown gone, not alive.
    worker = db.session.get(MediaWorker, "test-1")
    worker.last_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert "Gone" in workers_table()
    # A worker gone for a day is forgotten when another one reports.
    worker.last_seen_at = utcnow() - timedelta(days=2)
    db.session.commit()
    post(
        worker_event("worker_online", {"worker_id": "test-2", "agent_names": ["meetings-recorder"]})
    )
    assert db.session.scalars(sa.select(MediaWorker.worker_id)).all() == ["test-2"]


def hook(client, app, event) -> None:
    """Deliver a LiveKit webhook, signed as the server signs it."""
    body, headers = webhook_request(
        event, app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]
    )
    assert client.post("/livekit/webhook", data=body, headers=headers).status_code == 200


def recorder_left(room: str, job_id: str):
    event = participant_event("participant_left", room, f"recorder-{job_id}", "PA_recorder")
    event.participant.kind = ParticipantInfo.Kind.AGENT
    return event


def running_recording(client, api_token, post, meeting_room) -> tuple[Recording, dict]:
    meeting, room, host = meeting_room
    post(heartbeat())
    assert start(client, api_token, meeting, host).status_code == 201
    row = only_recording()
    job = {"job_id": row.job_id, "room": room}
    post(worker_event("recording_started", {"file_name": row.file_name}, **job))
    post(worker_event("recording_progress", {"duration_seconds": 5.0, "size_bytes": 4000}, **job))
    return row, job


def test_a_recorder_that_leaves_mid_recording_was_lost_and_its_part_plays(
    client, app, api_token, post, meeting_room
):
    row, job = running_recording(client, api_token, post, meeting_room)
    hook(client, app, recorder_left(job["room"], row.job_id))
    row = only_recording()
    assert (row.status, row.error) == (RecordingStatus.FAILED, explain.RECORDER_LOST)
    assert row.has_file and explain.failure_message(row) == explain.LOST_WITH_PART
    # The recorder is not a person: nobody's attendance.
    assert db.session.scalars(sa.select(Attendance)).all() == []


def test_a_recorder_that_leaves_as_the_room_closes_still_reports_a_complete_file(
    client, app, api_token, post, meeting_room
):
    row, job = running_recording(client, api_token, post, meeting_room)
    hook(client, app, recorder_left(job["room"], row.job_id))  # the room closed under it
    finished = {"status": "complete", "file_name": row.file_name, "size_bytes": 9000}
    post(worker_event("recording_ended", finished | {"duration_seconds": 7.5}, **job))
    row = only_recording()
    assert (row.status, row.error, row.partial_file) == (RecordingStatus.COMPLETE, "", False)
    assert row.size_bytes == 9000 and explain.failure_message(row) == ""
