"""A recording's life as the server reports it: signed egress webhooks move the row forward
only, repeats and late reports change nothing, and the room's metadata tells everyone."""

import itertools
from datetime import timedelta

import pytest

from meetings.background import wait_for_background_work
from meetings.extensions import db
from meetings.models import Recording, RecordingStatus, Role, utcnow
from tests.support.egress_factory import SECOND, egress_event
from tests.support.rooms import first_room
from tests.support.webhook_factory import participant_event, room_event, webhook_request

URL = "/livekit/webhook"


@pytest.fixture
def recordings_dir(app, tmp_path):
    path = tmp_path / "recordings"
    path.mkdir()
    app.config["RECORDINGS_DIR"] = str(path)
    app.config["RECORDINGS_EGRESS_DIR"] = "/egress/out"  # where the worker sees it
    return path


@pytest.fixture
def deliver(client, app):
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def send(event):
        body, headers = webhook_request(event, *keys)
        response = client.post(URL, data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return send


@pytest.fixture
def recording_meeting(make_meeting, make_user, fake_rooms, recordings_dir):
    host = make_user(email="host@example.com")
    meeting = make_meeting(host=host, recording_allowed=True)
    return meeting, first_room(meeting), host


def start(client, api_token, meeting, host, **body):
    return client.post(
        f"/api/v1/meetings/{meeting.slug}/recordings", json=body, headers=api_token(host)
    )


def only_recording() -> Recording:
    rows = db.session.scalars(db.select(Recording)).all()
    assert len(rows) == 1, rows
    return rows[0]


def test_a_recording_goes_from_start_to_a_playable_file(
    client, api_token, deliver, recording_meeting, fake_rooms, recordings_dir
):
    meeting, room, host = recording_meeting
    answer = start(client, api_token, meeting, host, layout="speaker")
    assert answer.status_code == 201
    started = answer.get_json()
    assert started["status"] == "starting"
    egress_id = started["egress_id"]
    # Everyone in the room (and whoever joins later) is told through the room's metadata.
    assert fake_rooms.metadata[room] == {"recording": True, "recording_id": started["id"]}
    _, _, layout, preset, target = fake_rooms.calls[-1]
    assert (layout, preset) == ("speaker", "H264_720P_30")
    assert target.filepath == f"/egress/out/{started['file_name']}"
    assert target.s3 is None

    t0 = 1_800_000_000 * SECOND
    updated = egress_event("active", room, egress_id, updated_ns=t0 + SECOND)
    deliver(egress_event("starting", room, egress_id, updated_ns=t0))
    deliver(updated)
    assert deliver(updated) == {"stored": False}  # a retry of the same delivery
    assert only_recording().status == RecordingStatus.ACTIVE

    (recordings_dir / started["file_name"]).write_bytes(b"\0" * 2048)
    deliver(
        egress_event(
            "complete",
            room,
            egress_id,
            updated_ns=t0 + 90 * SECOND,
            filename=f"/egress/out/{started['file_name']}",
            size=2048,
            duration_s=89.5,
        )
    )
    row = only_recording()
    assert row.status == RecordingStatus.COMPLETE
    assert (row.file_name, row.size_bytes, row.duration_seconds) == (
        started["file_name"],
        2048,
        89.5,
    )
    assert fake_rooms.metadata[room]["recording"] is False

    # A late progress report and a contradicting second end change nothing.
    deliver(egress_event("active", room, egress_id, updated_ns=t0 + 2 * SECOND))
    deliver(egress_event("failed", room, egress_id, error="late noise"))
    row = only_recording()
    assert (row.status, row.error) == (RecordingStatus.COMPLETE, "")
    media = client.get(f"/api/v1/recordings/{row.id}/media", headers=api_token(host))
    assert media.status_code == 200
    assert media.data == b"\0" * 2048


ORDERED = ("starting", "active", "complete")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_any_delivery_order_settles_the_same(deliver, recording_meeting, order):
    meeting, room, _ = recording_meeting
    t0 = 1_800_000_000 * SECOND
    events = [
        egress_event(
            status,
            room,
            "EG_order",
            updated_ns=t0 + i * SECOND,
            filename=f"/egress/out/{room}.mp4" if status == "complete" else "",
            size=1000,
            duration_s=30,
        )
        for i, status in enumerate(ORDERED)
    ]
    for index in order:
        deliver(events[index])
    row = only_recording()
    assert row.meeting_id == meeting.id
    assert (row.status, row.file_name, row.size_bytes) == (
        RecordingStatus.COMPLETE,
        f"{room}.mp4",
        1000,
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("failed", "Start signal not received"),
        ("aborted", "Stopped before it began"),
        ("limit_reached", "Maximum duration reached"),
    ],
)
def test_each_end_of_a_recording_is_kept_with_its_reason(deliver, recording_meeting, status, error):
    _, room, _ = recording_meeting
    deliver(egress_event("active", room, "EG_end"))
    deliver(egress_event("ending", room, "EG_end"))
    assert only_recording().status == RecordingStatus.ENDING
    deliver(egress_event(status, room, "EG_end", error=error))
    row = only_recording()
    assert (row.status.value, row.error) == (status, error)
    assert row.ended_at is not None


@pytest.mark.parametrize(
    "reported",
    [
        "../../../etc/passwd",
        "/etc/passwd",
        "/egress/out/../secret.mp4",
        "/egress/out/sub/../../x.mp4",
        "/egress/out/.hidden.mp4",
    ],
)
def test_a_file_name_outside_the_recordings_directory_is_refused_and_flagged(
    client, api_token, deliver, recording_meeting, reported
):
    _, room, host = recording_meeting
    deliver(egress_event("complete", room, "EG_evil", filename=reported, size=10))
    row = only_recording()
    assert row.status == RecordingStatus.FAILED
    assert reported in row.flag
    assert row.file_name == ""
    answer = client.get(f"/api/v1/recordings/{row.id}/media", headers=api_token(host))
    assert answer.status_code == 404


def test_egress_of_rooms_that_are_not_ours_is_not_kept(deliver, recording_meeting):
    deliver(egress_event("active", "someone-elses-room", "EG_foreign"))
    assert db.session.scalars(db.select(Recording)).all() == []


def test_a_webhook_faster_than_the_start_answer_joins_the_same_row(
    client, api_token, deliver, recording_meeting, fake_rooms, monkeypatch
):
    meeting, room, host = recording_meeting
    real_start = fake_rooms.start_room_composite_egress

    def start_and_report_early(room_name, **kwargs):
        egress = real_start(room_name, **kwargs)
        deliver(egress_event("active", room_name, egress.egress_id))  # arrives first
        return egress

    monkeypatch.setattr(
        "meetings.livekit_gateway.start_room_composite_egress", start_and_report_early
    )
    answer = start(client, api_token, meeting, host)
    assert answer.status_code == 201
    row = only_recording()
    assert row.status == RecordingStatus.ACTIVE  # the answer's "starting" is older news
    assert row.requested_by_id == host.id
    assert fake_rooms.metadata[room]["recording"] is True


def test_who_was_present_is_kept_with_the_recording(
    client, api_token, deliver, recording_meeting, fake_rooms
):
    meeting, room, host = recording_meeting
    fake_rooms.seat(room, host.livekit_identity, "g-early")
    recording_id = start(client, api_token, meeting, host).get_json()["id"]
    deliver(participant_event("participant_joined", room, "u-77", "PA_77", name="Late Lou"))
    deliver(egress_event("complete", room, only_recording().egress_id))
    deliver(participant_event("participant_joined", room, "g-after", "PA_88", name="After"))
    row = db.session.get(Recording, recording_id)
    assert [p.identity for p in row.participants] == [host.livekit_identity, "g-early", "u-77"]
    assert row.participants[-1].display_name == "Late Lou"


def test_recordings_stop_when_the_room_finishes(
    client, api_token, deliver, recording_meeting, fake_rooms
):
    meeting, room, host = recording_meeting
    recording = start(client, api_token, meeting, host).get_json()
    deliver(room_event("room_finished", room))
    assert ("stop_egress", recording["egress_id"]) in fake_rooms.calls
    assert only_recording().status == RecordingStatus.ENDING
    deliver(egress_event("complete", room, recording["egress_id"]))
    assert only_recording().status == RecordingStatus.COMPLETE


def test_auto_record_starts_once_when_the_first_host_joins(
    client, api_token, make_meeting, make_user, fake_rooms, recordings_dir
):
    host = make_user()
    guest_host = make_user()
    meeting = make_meeting(host=host, recording_allowed=True, auto_record=True)
    meeting.co_hosts.append(guest_host)
    db.session.commit()
    member = make_user()
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    assert client.post(url, json={}, headers=api_token(member)).status_code == 201
    assert db.session.scalars(db.select(Recording)).all() == []  # not for participants

    assert client.post(url, json={}, headers=api_token(host)).status_code == 201
    wait_for_background_work()  # the server is asked while the host joins
    row = only_recording()
    assert row.auto_started and row.status == RecordingStatus.STARTING
    assert row.requested_by_id is None
    assert client.post(url, json={}, headers=api_token(guest_host)).status_code == 201
    assert client.post(url, json={}, headers=api_token(host)).status_code == 201
    only_recording()  # still one


def test_a_failed_auto_record_does_not_keep_the_host_out(
    client, api_token, make_meeting, make_user, fake_rooms, recordings_dir
):
    fake_rooms.egress_refusal = "unavailable: no response from servers"
    host = make_user()
    meeting = make_meeting(host=host, recording_allowed=True, auto_record=True)
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    assert client.post(url, json={}, headers=api_token(host)).status_code == 201
    wait_for_background_work()
    row = only_recording()
    assert (row.status, row.error) == (
        RecordingStatus.FAILED,
        "unavailable: no response from servers",
    )
    assert fake_rooms.metadata.get(first_room(meeting), {}).get("recording") is not True
    assert client.post(url, json={}, headers=api_token(host)).status_code == 201
    only_recording()  # a rejoin does not try again (and wait again)


def test_reconcile_settles_what_the_server_says(
    app, client, api_token, recording_meeting, fake_rooms, make_meeting
):
    meeting, room, host = recording_meeting
    recording = start(client, api_token, meeting, host).get_json()
    fake_rooms.egress[recording["egress_id"]] = fake_rooms.egress[recording["egress_id"]].__class__(
        recording["egress_id"], room, "complete", "", None, None, 99, (), "grid", False
    )
    lost = Recording(
        meeting=meeting,
        occurrence_key="x",
        room_name=room,
        egress_id="EG_lost",
        status=RecordingStatus.ACTIVE,
    )
    stale = Recording(
        meeting=meeting,
        occurrence_key="x",
        room_name=room,
        status=RecordingStatus.REQUESTED,
        requested_at=utcnow() - timedelta(minutes=10),
    )
    db.session.add_all([lost, stale])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["recordings", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "3 recording(s) settled." in result.output
    statuses = {r.egress_id: (r.status, r.error) for r in db.session.scalars(db.select(Recording))}
    assert statuses[recording["egress_id"]][0] == RecordingStatus.COMPLETE
    assert statuses["EG_lost"] == (
        RecordingStatus.FAILED,
        "The server no longer knows this recording.",
    )
    assert statuses[None][0] == RecordingStatus.FAILED


def test_reconcile_reports_an_unreachable_server_and_changes_nothing(
    app, client, api_token, recording_meeting, fake_rooms
):
    meeting, _, host = recording_meeting
    start(client, api_token, meeting, host)
    fake_rooms.unreachable = True
    result = app.test_cli_runner().invoke(args=["recordings", "reconcile"])
    assert result.exit_code == 1
    assert "did not answer" in result.output
    assert only_recording().status == RecordingStatus.STARTING


def test_ops_may_start_a_recording_of_any_meeting(client, api_token, recording_meeting, make_user):
    meeting, _, _ = recording_meeting
    ops = make_user(role=Role.OPS)
    assert start(client, api_token, meeting, ops).status_code == 201
