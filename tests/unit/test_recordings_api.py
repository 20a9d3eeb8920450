"""The recordings API: who may start and stop, what bad input gets, byte ranges, deletion
under legal hold, retention."""

from datetime import timedelta

import pytest

from meetings.extensions import db
from meetings.models import (
    AuditEntry,
    Recording,
    RecordingStatus,
    Role,
    StorageKind,
    utcnow,
)
from tests.support.rooms import first_room

NO_ANSWER = (
    "The recording could not start: the recording service did not answer. "
    "Try again in a minute; if it keeps failing, tell your operator."
)
BODY = bytes(range(256)) * 40  # 10,240 bytes, each position recognisable


@pytest.fixture
def recordings_dir(app, tmp_path):
    path = tmp_path / "recordings"
    path.mkdir()
    app.config["RECORDINGS_DIR"] = str(path)
    return path


@pytest.fixture
def setup(make_user, make_meeting, fake_rooms, recordings_dir, api_token):
    host = make_user(email="host@example.com")
    meeting = make_meeting(host=host, recording_allowed=True)
    return meeting, host, api_token(host)


def start_url(meeting) -> str:
    return f"/api/v1/meetings/{meeting.slug}/recordings"


def finished(meeting, recordings_dir, **fields) -> Recording:
    """A complete recording with a real file in the recordings directory."""
    name = f"{first_room(meeting)}-{len(list(recordings_dir.iterdir()))}.mp4"
    (recordings_dir / name).write_bytes(BODY)
    values = {
        "meeting": meeting,
        "occurrence_key": "20300101T0000Z",
        "room_name": first_room(meeting),
        "egress_id": f"EG_{name}",
        "status": RecordingStatus.COMPLETE,
        "storage": StorageKind.LOCAL,
        "file_name": name,
        "size_bytes": len(BODY),
        "duration_seconds": 12.0,
        "ended_at": utcnow(),
    }
    row = Recording(**(values | fields))
    db.session.add(row)
    db.session.commit()
    return row


def test_start_is_for_hosts_only(client, setup, make_user, api_token, fake_rooms):
    meeting, _, _ = setup
    stranger = api_token(make_user())
    answer = client.post(start_url(meeting), json={}, headers=stranger)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "forbidden")
    assert client.post(start_url(meeting), json={}).status_code == 401
    assert not any(call[0] == "start_egress" for call in fake_rooms.calls)
    assert db.session.scalars(db.select(Recording)).all() == []


def test_start_where_recording_is_off_is_refused(client, make_meeting, make_user, api_token):
    host = make_user()
    meeting = make_meeting(host=host)
    answer = client.post(start_url(meeting), json={}, headers=api_token(host))
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (
        403,
        "recording_not_allowed",
    )


def test_starting_twice_answers_409_with_the_running_one(client, setup):
    meeting, _, host = setup
    first = client.post(start_url(meeting), json={"audio_only": True}, headers=host)
    assert first.status_code == 201
    assert first.get_json()["file_name"].endswith(".ogg")
    second = client.post(start_url(meeting), json={}, headers=host)
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "already_recording"
    assert second.get_json()["recording"]["id"] == first.get_json()["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"layout": "mosaic"}, "layout"),
        ({"audio_only": "yes"}, "audio_only"),
        ({"preset": "H264_9000P"}, "preset"),
        ({"layout": "grid", "colour": "red"}, "colour"),
    ],
)
def test_bad_start_bodies_name_the_field(client, setup, body, field):
    meeting, _, host = setup
    answer = client.post(start_url(meeting), json=body, headers=host)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field


def test_an_unavailable_recording_service_fails_cleanly(
    client, setup, fake_rooms, make_user, api_token
):
    meeting, _, host = setup
    fake_rooms.egress_refusal = "unavailable: no response from servers"
    answer = client.post(start_url(meeting), json={}, headers=host)
    assert answer.status_code == 503
    # The host in the room reads what happened and what to do, not the server's words.
    assert answer.get_json()["error"]["message"] == NO_ANSWER
    [row] = db.session.scalars(db.select(Recording)).all()
    assert (row.status, row.error) == (
        RecordingStatus.FAILED,
        "unavailable: no response from servers",
    )
    # Nobody was told a recording runs; and a new attempt is possible at once.
    assert fake_rooms.metadata == {}
    [item] = client.get("/api/v1/recordings?status=failed", headers=host).get_json()["items"]
    assert item["error"] == NO_ANSWER and "error_detail" not in item
    # Operators get the server's reason as well.
    ops = api_token(make_user(role=Role.OPS))
    [seen] = client.get("/api/v1/recordings?status=failed", headers=ops).get_json()["items"]
    assert (seen["error"], seen["error_detail"]) == (
        NO_ANSWER,
        "unavailable: no response from servers",
    )
    fake_rooms.egress_refusal = ""
    assert client.post(start_url(meeting), json={}, headers=host).status_code == 201


def test_stop_then_stop_again(client, setup, fake_rooms):
    meeting, _, host = setup
    recording = client.post(start_url(meeting), json={}, headers=host).get_json()
    stopped = client.post(f"/api/v1/recordings/{recording['id']}/stop", headers=host)
    assert (stopped.status_code, stopped.get_json()["status"]) == (200, "ending")
    assert fake_rooms.metadata[first_room(meeting)]["recording"] is False
    again = client.post(f"/api/v1/recordings/{recording['id']}/stop", headers=host)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "not_recording")


def test_stopping_an_ended_recording_is_409(client, setup, recordings_dir):
    meeting, _, host = setup
    row = finished(meeting, recordings_dir)
    answer = client.post(f"/api/v1/recordings/{row.id}/stop", headers=host)
    assert answer.status_code == 409


def test_list_filters_and_sorts(client, setup, recordings_dir, make_meeting, make_user):
    meeting, _, host = setup
    short = finished(meeting, recordings_dir, duration_seconds=5.0)
    long = finished(meeting, recordings_dir, duration_seconds=500.0)
    other_meeting = make_meeting(host=make_user(), recording_allowed=True)
    finished(other_meeting, recordings_dir)

    def ids(query: str) -> list[int]:
        answer = client.get(f"/api/v1/recordings{query}", headers=host)
        assert answer.status_code == 200
        return [item["id"] for item in answer.get_json()["items"]]

    assert ids("?sort=longest") == [long.id, short.id]  # not the other host's
    assert ids("?sort=oldest") == [short.id, long.id]
    assert ids(f"?meeting={meeting.slug}&status=complete") == [long.id, short.id]
    assert ids("?status=failed") == []
    assert ids("?host=nobody@") == []
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert ids(f"?from={tomorrow}") == []
    bad = client.get("/api/v1/recordings?status=exploded", headers=host)
    assert (bad.status_code, bad.get_json()["error"]["field"]) == (422, "status")


@pytest.mark.parametrize(
    ("header", "status", "content_range", "body"),
    [
        (None, 200, None, BODY),
        ("bytes=0-99", 206, "bytes 0-99/10240", BODY[:100]),
        ("bytes=10000-", 206, "bytes 10000-10239/10240", BODY[10000:]),
        ("bytes=-16", 206, "bytes 10224-10239/10240", BODY[-16:]),
        ("bytes=10200-99999", 206, "bytes 10200-10239/10240", BODY[10200:]),
        ("bytes=10240-", 416, "bytes */10240", b""),
        ("bytes=500-100", 416, "bytes */10240", b""),
        ("bytes=abc", 416, "bytes */10240", b""),
        ("items=0-10", 416, "bytes */10240", b""),
        ("bytes=0-1,5-6", 416, "bytes */10240", b""),
        ("bytes=-0", 416, "bytes */10240", b""),
    ],
)
def test_media_answers_byte_ranges(
    client, setup, recordings_dir, header, status, content_range, body
):
    meeting, _, host = setup
    row = finished(meeting, recordings_dir)
    headers = dict(host) | ({"Range": header} if header else {})
    answer = client.get(f"/api/v1/recordings/{row.id}/media", headers=headers)
    assert answer.status_code == status
    assert answer.headers.get("Content-Range") == content_range
    assert answer.data == body
    if status != 416:
        assert answer.headers["Accept-Ranges"] == "bytes"
        assert answer.headers["Content-Type"] == "video/mp4"
        assert int(answer.headers["Content-Length"]) == len(body)


def test_download_is_an_attachment(client, setup, recordings_dir):
    meeting, _, host = setup
    row = finished(meeting, recordings_dir)
    answer = client.get(f"/api/v1/recordings/{row.id}/media?download=1", headers=host)
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{row.file_name}"'


def test_delete_removes_file_and_row_and_is_audited(client, setup, recordings_dir):
    meeting, _, host = setup
    row = finished(meeting, recordings_dir)
    path, row_id = recordings_dir / row.file_name, row.id
    answer = client.delete(f"/api/v1/recordings/{row_id}", headers=host)
    assert (answer.status_code, answer.get_json()) == (200, {"deleted": row_id})
    assert not path.exists()
    assert db.session.get(Recording, row_id) is None
    [entry] = db.session.scalars(db.select(AuditEntry)).all()
    assert (entry.action, entry.result.value, entry.actor_label) == (
        "delete_recording",
        "ok",
        "host@example.com",
    )
    assert entry.target == f"recording {row_id}"


def test_legal_hold_blocks_deletion(client, setup, recordings_dir, make_user, api_token):
    meeting, _, host = setup
    row = finished(meeting, recordings_dir, legal_hold=True)
    ops = api_token(make_user(role=Role.OPS))
    for caller in (host, ops):
        answer = client.delete(f"/api/v1/recordings/{row.id}", headers=caller)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "legal_hold")
    assert (recordings_dir / row.file_name).exists()
    refusals = db.session.scalars(db.select(AuditEntry)).all()
    assert [(e.result.value, e.error) for e in refusals] == [("refused", "legal hold")] * 2


def test_a_running_recording_cannot_be_deleted(client, setup):
    meeting, _, host = setup
    recording = client.post(start_url(meeting), json={}, headers=host).get_json()
    answer = client.delete(f"/api/v1/recordings/{recording['id']}", headers=host)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "still_recording")


def test_retention_purges_old_recordings_but_not_held_ones(app, setup, recordings_dir):
    meeting, _, _ = setup
    app.config["RECORDING_RETENTION_DAYS"] = 30
    old = finished(meeting, recordings_dir)
    old.ended_at = utcnow() - timedelta(days=31)
    held = finished(meeting, recordings_dir, legal_hold=True)
    held.ended_at = utcnow() - timedelta(days=400)
    fresh = finished(meeting, recordings_dir)
    db.session.commit()
    old_file, old_id = recordings_dir / old.file_name, old.id
    result = app.test_cli_runner().invoke(args=["recordings", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 recording(s); kept 1 on legal hold." in result.output
    assert db.session.get(Recording, old_id) is None and not old_file.exists()
    assert db.session.get(Recording, held.id) is not None
    assert db.session.get(Recording, fresh.id) is not None
    [entry] = db.session.scalars(db.select(AuditEntry)).all()
    assert entry.actor_label == "retention (30 days)"


def test_the_api_never_shows_storage_credentials(client, app, setup, recordings_dir):
    app.config["RECORDINGS_S3_SECRET_KEY"] = "s3-secret-that-must-not-leak"
    meeting, _, host = setup
    finished(meeting, recordings_dir)
    client.post(start_url(meeting), json={}, headers=host)
    listing = client.get("/api/v1/recordings", headers=host).get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "s3-secret-that-must-not-leak" not in listing + document
    assert "/recordings/{recording_id}/media" in document


@pytest.mark.parametrize(
    ("status", "egress_id", "reason", "expected"),
    [
        ("failed", None, "unavailable: twirp error unknown: no response from servers", NO_ANSWER),
        ("failed", None, "TimeoutError", NO_ANSWER),
        ("failed", None, "The start request never got an answer from the server.", NO_ANSWER),
        ("failed", None, "permission_denied: no egress permission", "turned the request down"),
        ("failed", "EG_1", "Start signal not received", "failed in the recording service"),
        ("failed", "EG_1", "The server no longer knows this recording.", "lost track of"),
        ("aborted", "EG_1", "Start signal not received", "ended before anything was recorded"),
        ("aborted", None, "Stopped before the server accepted the recording.", "stopped before"),
        ("limit_reached", "EG_1", "Maximum duration reached", "length limit"),
        ("complete", "EG_1", "", ""),
    ],
)
def test_hosts_read_what_happened_in_plain_words(
    client, setup, recordings_dir, status, egress_id, reason, expected
):
    meeting, _, host = setup
    row = finished(meeting, recordings_dir, status=RecordingStatus(status), error=reason)
    row.egress_id = egress_id
    db.session.commit()
    said = client.get(f"/api/v1/recordings/{row.id}", headers=host).get_json()["error"]
    assert expected in said and (said == "") == (expected == "")
    if reason:
        assert reason not in said
