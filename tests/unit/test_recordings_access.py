"""Who may list, play, download and delete a recording, for each of its access levels.

`participant` was in the meeting (signed in) while it recorded; `other` is signed in but was
not; `link_holder` has no account but holds the secret link.
"""

from datetime import timedelta

import pytest

from meetings.extensions import db
from meetings.models import (
    Recording,
    RecordingAccess,
    RecordingParticipant,
    RecordingStatus,
    Role,
    utcnow,
)
from meetings.recordings import library
from tests.support.rooms import first_room

ROLES = ("anonymous", "link_holder", "other", "participant", "co_host", "host", "ops")
NO = (False, 404, 404, 404)  # not listed, and the recording does not exist for them
HOSTS = (True, 200, 200, 200)
VIEWER = (True, 200, 200, 403)  # may watch, may not delete
ANONYMOUS = (None, 401, 401, 401)  # the API wants credentials first

# level -> role -> (listed, play, download, delete)
EXPECTED = {
    RecordingAccess.HOSTS: {
        "anonymous": ANONYMOUS,
        "link_holder": (None, 404, 404, 401),
        "other": NO,
        "participant": NO,
        "co_host": HOSTS,
        "host": HOSTS,
        "ops": HOSTS,
    },
    RecordingAccess.PARTICIPANTS: {
        "anonymous": ANONYMOUS,
        "link_holder": (None, 404, 404, 401),
        "other": NO,
        "participant": VIEWER,
        "co_host": HOSTS,
        "host": HOSTS,
        "ops": HOSTS,
    },
    RecordingAccess.LINK: {
        "anonymous": ANONYMOUS,
        "link_holder": (None, 200, 200, 401),
        "other": NO,
        "participant": VIEWER,
        "co_host": HOSTS,
        "host": HOSTS,
        "ops": HOSTS,
    },
}


@pytest.fixture
def shared_recording(app, tmp_path, make_user, make_meeting, api_token):
    """A complete recording with a file; returns a factory taking the access level."""
    directory = tmp_path / "recordings"
    directory.mkdir()
    app.config["RECORDINGS_DIR"] = str(directory)
    host = make_user(email="host@example.com")
    co_host = make_user(email="co@example.com")
    participant = make_user(email="was-there@example.com")
    users = {
        "host": host,
        "co_host": co_host,
        "participant": participant,
        "other": make_user(email="other@example.com"),
        "ops": make_user(email="ops@example.com", role=Role.OPS),
    }
    meeting = make_meeting(host=host, recording_allowed=True)
    meeting.co_hosts.append(co_host)
    name = f"{first_room(meeting)}.mp4"
    (directory / name).write_bytes(b"video" * 100)
    recording = Recording(
        meeting=meeting,
        occurrence_key="k",
        room_name=first_room(meeting),
        egress_id="EG_shared",
        status=RecordingStatus.COMPLETE,
        file_name=name,
        participants=[RecordingParticipant(identity=participant.livekit_identity)],
    )
    db.session.add(recording)
    db.session.commit()
    headers = {role: api_token(user) for role, user in users.items()}

    def with_access(level: RecordingAccess) -> tuple[Recording, dict, str | None]:
        token = library.set_access(recording, host, level)
        return recording, headers, token

    return with_access


def outcome(client, recording, headers, token, role):
    auth = headers.get(role, {})
    if role == "link_holder":
        listed = None
        media = f"/recordings/shared/{token or 'no-link'}/media"
    else:
        answer = client.get("/api/v1/recordings", headers=auth)
        listed = (
            None
            if answer.status_code == 401
            else recording.id in [item["id"] for item in answer.get_json()["items"]]
        )
        media = f"/api/v1/recordings/{recording.id}/media"
    play = client.get(media, headers=auth).status_code
    download = client.get(f"{media}?download=1", headers=auth).status_code
    delete = client.delete(f"/api/v1/recordings/{recording.id}", headers=auth).status_code
    return listed, play, download, delete


@pytest.mark.parametrize("level", list(RecordingAccess))
@pytest.mark.parametrize("role", ROLES)
def test_access_levels(client, shared_recording, level, role):
    recording, headers, token = shared_recording(level)
    assert outcome(client, recording, headers, token, role) == EXPECTED[level][role]


def test_an_expired_link_plays_nothing(client, shared_recording):
    recording, _, token = shared_recording(RecordingAccess.LINK)
    assert client.get(f"/recordings/shared/{token}").status_code == 200
    recording.share_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/recordings/shared/{token}").status_code == 404
    assert client.get(f"/recordings/shared/{token}/media").status_code == 404


def test_a_new_link_or_a_narrower_level_ends_the_old_link(client, shared_recording):
    _, _, first = shared_recording(RecordingAccess.LINK)
    _, _, second = shared_recording(RecordingAccess.LINK)
    assert client.get(f"/recordings/shared/{first}/media").status_code == 404
    assert client.get(f"/recordings/shared/{second}/media").status_code == 200
    shared_recording(RecordingAccess.PARTICIPANTS)
    assert client.get(f"/recordings/shared/{second}/media").status_code == 404
