"""The recordings pages as people use them: the list, one recording, sharing, hold, delete,
and the notice on the pre-join page."""

import re

import pytest
from flask import render_template

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import AuditEntry, Recording, RecordingParticipant, RecordingStatus, Role
from tests.support.accounts import csrf_token_from, signed_in_client
from tests.support.rooms import first_room

NO_ANSWER = (
    "The recording could not start: the recording service did not answer. "
    "Try again in a minute; if it keeps failing, tell your operator."
)


def recording_of(meeting, **fields) -> Recording:
    """A recording of the meeting's first occurrence."""
    return Recording(meeting=meeting, occurrence_key="k", room_name=first_room(meeting), **fields)


@pytest.fixture
def library(app, tmp_path, make_user, make_meeting):
    app.config["RECORDINGS_DIR"] = str(tmp_path)
    host = make_user(email="host@example.com", display_name="Hana Host")
    meeting = make_meeting(host=host, title="Quarterly review", recording_allowed=True)
    (tmp_path / "done.mp4").write_bytes(b"x" * 1_500_000)
    done = recording_of(
        meeting,
        status=RecordingStatus.COMPLETE,
        file_name="done.mp4",
        size_bytes=1_500_000,
        duration_seconds=3725,
        participants=[RecordingParticipant(identity="g-1", display_name="Gus Guest")],
    )
    failed = recording_of(
        meeting,
        status=RecordingStatus.FAILED,
        error="unavailable: no response from servers",
    )
    db.session.add_all([done, failed])
    db.session.commit()
    return host, meeting, done, failed


def test_hosts_see_their_recordings_with_duration_size_and_failures(client, login, library):
    host, _, done, _ = library
    page = login(host).get("/recordings").get_data(as_text=True)
    assert "Quarterly review" in page
    assert "1:02:05" in page and "1.5 MB" in page
    assert NO_ANSWER in page
    assert "no response from servers" not in page  # the server's words are for operators
    assert f'/recordings/{done.id}/media?download=1"' in page
    filtered = client.get("/recordings?status=complete").get_data(as_text=True)
    assert NO_ANSWER not in filtered


def test_other_people_see_an_empty_list(client, login, library, make_user):
    page = login(make_user()).get("/recordings").get_data(as_text=True)
    assert "Quarterly review" not in page
    assert "No recordings match." in page


def test_ops_see_every_meeting(client, login, library, make_user):
    page = login(make_user(role=Role.OPS)).get("/recordings").get_data(as_text=True)
    assert "All meetings" in page and "Quarterly review" in page
    # Operators read the plain words and, next to them, the server's reason.
    assert NO_ANSWER in page
    assert "Technical reason: unavailable: no response from servers" in page


def test_a_failed_recording_says_what_happened_and_offers_nothing_to_share(
    client, login, library, app, make_user
):
    host, _, _, failed = library
    page = login(host).get(f"/recordings/{failed.id}").get_data(as_text=True)
    assert f"What happened:</strong> {NO_ANSWER}" in page
    assert "no response from servers" not in page
    assert "Who may watch" not in page and "/access" not in page
    assert "Delete recording</button>" in page  # the failed attempt can still be cleared away
    # A hand-made request to share it is refused with the reason, and no link is made.
    answer = client.post(
        f"/recordings/{failed.id}/access",
        data={"csrf_token": csrf_token_from(page), "access": "link"},
        follow_redirects=True,
    )
    assert "no file: there is nothing to share" in answer.text
    assert "share-link" not in answer.text
    assert db.session.get(Recording, failed.id).share_token_hash is None

    ops_page = signed_in_client(app, make_user(role=Role.OPS)).get(f"/recordings/{failed.id}")
    assert "Technical reason (shown to operators only):</strong> unavailable: no response" in (
        ops_page.text
    )
    assert "Legal hold" not in ops_page.text and "Place legal hold" not in ops_page.text


def test_the_recording_page_plays_and_lists_who_was_present(client, login, library):
    host, _, done, _ = library
    page = login(host).get(f"/recordings/{done.id}").get_data(as_text=True)
    assert 'id="recording-player"' in page
    assert f'src="/recordings/{done.id}/media"' in page
    assert "Gus Guest" in page and "(guest)" in page


def test_sharing_by_link_shows_the_link_once(client, login, library):
    host, _, done, _ = library
    login(host)
    detail = client.get(f"/recordings/{done.id}").get_data(as_text=True)
    answer = client.post(
        f"/recordings/{done.id}/access",
        data={"csrf_token": csrf_token_from(detail), "access": "link"},
    )
    assert answer.status_code == 200
    link = re.search(r'id="share-link" class="input" readonly value="([^"]+)"', answer.text)
    assert link is not None
    assert "share-link" not in client.get(f"/recordings/{done.id}").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(detail)})
    shared = client.get(link.group(1).replace("http://localhost", ""))
    assert shared.status_code == 200 and "Quarterly review" in shared.text


def test_delete_needs_the_box_ticked(client, login, library):
    host, _, done, _ = library
    done_id = done.id
    login(host)
    token = csrf_token_from(client.get(f"/recordings/{done_id}").get_data(as_text=True))
    unconfirmed = client.post(f"/recordings/{done_id}/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 302
    assert db.session.get(Recording, done_id) is not None
    confirmed = client.post(
        f"/recordings/{done_id}/delete", data={"csrf_token": token, "confirm": "y"}
    )
    assert confirmed.headers["Location"] == "/recordings"
    db.session.expunge_all()
    assert db.session.get(Recording, done_id) is None
    assert "The recording was deleted." in client.get("/recordings").get_data(as_text=True)
    [entry] = db.session.scalars(db.select(AuditEntry)).all()
    assert entry.action == "delete_recording"


@pytest.fixture
def running(library, fake_rooms):
    """An active recording of the library's meeting, as the server knows it."""
    _, meeting, _, _ = library
    room = first_room(meeting)
    fake_rooms.egress["EG_live"] = gateway.Egress(
        "EG_live", room, "active", "", None, None, 1, (), "grid", False
    )
    recording = Recording(
        meeting=meeting,
        occurrence_key="k",
        room_name=room,
        status=RecordingStatus.ACTIVE,
        egress_id="EG_live",
    )
    db.session.add(recording)
    db.session.commit()
    return recording


def stop_from_the_page(client, recording_id: int):
    page = client.get(f"/recordings/{recording_id}").get_data(as_text=True)
    assert "Stop recording</button>" in page
    answer = client.post(
        f"/recordings/{recording_id}/stop", data={"csrf_token": csrf_token_from(page)}
    )
    assert answer.headers["Location"] == f"/recordings/{recording_id}"
    return client.get(f"/recordings/{recording_id}").get_data(as_text=True)


def test_a_host_stops_a_running_recording_from_its_page(
    client, login, library, running, fake_rooms
):
    host = library[0]
    recording_id = running.id
    page = stop_from_the_page(login(host), recording_id)
    assert ("stop_egress", "EG_live") in fake_rooms.calls
    assert "Stopping the recording. The file appears here once it is written." in page
    assert "Stop recording</button>" not in page  # no longer running
    db.session.expunge_all()
    assert db.session.get(Recording, recording_id).status == RecordingStatus.ENDING


def test_stopping_when_the_server_does_not_answer_says_so(
    client, login, library, running, fake_rooms
):
    fake_rooms.unreachable = True
    page = stop_from_the_page(login(library[0]), running.id)
    assert "Recording is not available right now" in page
    assert "Stop recording</button>" in page  # still running: the host can try again


def test_a_recording_the_server_never_accepted_is_stopped_here(client, login, library, fake_rooms):
    host, meeting, _, _ = library
    waiting = Recording(
        meeting=meeting,
        occurrence_key="k",
        room_name=first_room(meeting),
        status=RecordingStatus.REQUESTED,
    )
    db.session.add(waiting)
    db.session.commit()
    recording_id = waiting.id
    page = stop_from_the_page(login(host), recording_id)
    assert "The recording was stopped before it started, so nothing was recorded." in page
    assert fake_rooms.calls == []


def test_only_hosts_can_stop(client, login, library, running, make_user, fake_rooms):
    login(library[0])
    finished = client.get(f"/recordings/{library[2].id}").get_data(as_text=True)
    assert "Stop recording</button>" not in finished
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(finished)})
    login(make_user())
    token = csrf_token_from(client.get("/recordings").get_data(as_text=True))
    answer = client.post(f"/recordings/{running.id}/stop", data={"csrf_token": token})
    assert answer.status_code == 404  # not theirs: they do not learn it exists
    assert fake_rooms.calls == []


def test_an_operator_hold_stops_the_host_from_deleting(client, login, library, make_user, app):
    host, _, done, _ = library
    ops_client = signed_in_client(app, make_user(role=Role.OPS))
    detail = ops_client.get(f"/recordings/{done.id}").get_data(as_text=True)
    ops_client.post(
        f"/recordings/{done.id}/hold", data={"csrf_token": csrf_token_from(detail), "hold": "y"}
    )
    assert db.session.get(Recording, done.id).legal_hold
    login(host)
    page = client.get(f"/recordings/{done.id}").get_data(as_text=True)
    assert "on legal hold and cannot be deleted" in page
    client.post(
        f"/recordings/{done.id}/delete",
        data={"csrf_token": csrf_token_from(page), "confirm": "y"},
    )
    assert db.session.get(Recording, done.id) is not None
    assert "This recording is on legal hold." in client.get(f"/recordings/{done.id}").text


@pytest.mark.parametrize(
    ("allowed", "auto", "expected"),
    [
        (False, False, None),
        (True, False, "This meeting may be recorded."),
        (True, True, "This meeting is recorded."),
    ],
)
def test_the_pre_join_notice(app, make_meeting, allowed, auto, expected):
    meeting = make_meeting(recording_allowed=allowed, auto_record=auto)
    with app.test_request_context():
        html = render_template("rooms/_recording_notice.html", meeting=meeting)
    if expected is None:
        assert "recording-prejoin" not in html
    else:
        assert expected in html and "everyone in the meeting sees" in html
    assert f'"startUrl": "/api/v1/meetings/{meeting.slug}/recordings"' in html
