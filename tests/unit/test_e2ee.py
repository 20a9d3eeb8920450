"""End-to-end encrypted meetings (issue 22): the `e2ee` flag through the form and the API, the
server's refusals of what it cannot do for them (409 `e2ee_meeting`), what calendar files say,
and that the key is nowhere on the server's side: no field, no column, no page data."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from meetings.captions import lifecycle as captions
from meetings.extensions import db
from meetings.models import Meeting, Recording
from meetings.recordings.auto_record import auto_record
from meetings.scheduling import recurrence as rec
from meetings.scheduling.encryption import CODE
from tests.support.accounts import csrf_token_from
from tests.support.rooms import first_room


def later() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()


def test_the_flag_goes_through_the_api_and_its_answer_has_no_key(client, make_user, api_token):
    host = make_user()
    body = {"title": "Board", "starts_at": later(), "duration_minutes": 30, "e2ee": True}
    created = client.post("/api/v1/meetings", json=body, headers=api_token(host))
    assert created.status_code == 201, created.get_json()
    meeting = created.get_json()
    assert meeting["e2ee"] is True
    assert "#" not in meeting["join_url"]  # the key is added by the host's browser only
    assert not [name for name in meeting if "key" in name]
    changed = client.patch(
        f"/api/v1/meetings/{meeting['slug']}", json={"e2ee": False}, headers=api_token(host)
    )
    assert changed.get_json()["e2ee"] is False
    assert Meeting.by_slug(meeting["slug"]).e2ee is False

    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["components"]["schemas"]["Meeting"]["properties"]
    assert schema["e2ee"]["type"] == "boolean"
    assert "never has it" in schema["e2ee"]["description"]
    assert "#key=" in schema["join_url"]["description"]


@pytest.mark.parametrize("other", ["recording_allowed", "auto_record", "captions"])
def test_encryption_and_what_the_server_would_need_to_see_do_not_go_together(
    client, make_user, api_token, other
):
    body = {"title": "X", "starts_at": later(), "duration_minutes": 30, "e2ee": True, other: True}
    answer = client.post("/api/v1/meetings", json=body, headers=api_token(make_user()))
    assert answer.status_code == 422
    assert {error["field"] for error in answer.get_json()["error"]["errors"]} >= {other}
    assert "end-to-end encrypted" in answer.get_json()["error"]["message"]


def test_the_form_turns_it_on_explains_it_and_the_meeting_page_offers_the_encrypted_link(
    client, make_user, login
):
    host = make_user()
    login(host)
    page = client.get("/meetings/new").get_data(as_text=True)
    assert "End-to-end encryption" in page
    assert "no recording, live captions or streaming" in page
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "csrf_token": csrf_token_from(page),
        "title": "Private talk",
        "starts_at": start,
        "duration_minutes": "30",
        "time_zone": "UTC",
        "access": "link",
        "ends": "count",
        "count": "10",
        "interval": "1",
        "e2ee": "y",
    }
    refused = client.post("/meetings/new", data=form | {"recording_allowed": "y"})
    assert refused.status_code == 200
    assert "cannot be recorded" in refused.get_data(as_text=True)

    saved = client.post("/meetings/new", data=form)
    assert saved.status_code == 302
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.title == "Private talk"))
    assert meeting.e2ee is True
    detail = client.get(f"/meetings/{meeting.slug}").get_data(as_text=True)
    assert "Copy encrypted link" in detail and "New key" in detail
    assert f'data-link="http://localhost/m/{meeting.slug}"' in detail  # PUBLIC_URL's link
    assert "js/e2ee-link.js" in detail
    assert f"/meetings/{meeting.slug}/streaming" not in detail  # it could not be streamed
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Copy encrypted link" in dashboard and "js/e2ee-link.js" in dashboard


def test_the_room_page_gives_the_worker_and_the_link_never_a_key(client, make_meeting):
    encrypted = client.get(f"/m/{make_meeting(e2ee=True).slug}").get_data(as_text=True)
    assert "vendor/livekit-client.e2ee.worker.js" in encrypted
    assert "You need the full link" in encrypted and "End-to-end encrypted" in encrypted
    plain = client.get(f"/m/{make_meeting().slug}").get_data(as_text=True)
    assert "e2ee" not in plain  # no E2EE data, markup or worker for other meetings


@pytest.fixture
def encrypted(make_meeting, make_user, fake_rooms) -> Meeting:
    """A running E2EE meeting with its host in the room (the options the settings refuse
    with e2ee are on, as a meeting changed before could have them: the starts still refuse)."""
    meeting = make_meeting(
        host=make_user(), e2ee=True, recording_allowed=True, auto_record=True, captions=True
    )
    fake_rooms.seat(first_room(meeting), "host")
    return meeting


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("recordings", {}),
        ("captions", {"enabled": True}),
        ("streams", {"hls": True}),
        ("ingests", {"name": "Camera"}),
    ],
)
def test_every_server_job_is_refused_with_its_reason(
    client, api_token, encrypted, fake_rooms, path, body
):
    answer = client.post(
        f"/api/v1/meetings/{encrypted.slug}/{path}", json=body, headers=api_token(encrypted.host)
    )
    assert answer.status_code == 409, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == CODE == "e2ee_meeting"
    assert "end-to-end encrypted" in error["message"]
    assert fake_rooms.dispatches == {}
    assert db.session.scalars(sa.select(Recording)).all() == []


def test_the_automatic_starts_leave_an_encrypted_meeting_alone(encrypted, fake_rooms):
    occurrence = rec.current_or_next(encrypted, datetime.now(UTC), timedelta(0))
    assert auto_record(encrypted, occurrence) is None
    assert captions.auto_start(encrypted, occurrence) is None
    assert db.session.scalars(sa.select(Recording)).all() == []
    assert fake_rooms.dispatches == {}


def test_calendar_files_say_the_host_will_share_the_encrypted_link(client, make_meeting):
    meeting = make_meeting(e2ee=True)
    body = client.get(f"/meetings/{meeting.slug}/calendar.ics").get_data(as_text=True)
    unfolded = body.replace("\r\n ", "")
    assert "the host will share the encrypted link" in unfolded
    assert "Join:" not in unfolded
    plain = client.get(f"/meetings/{make_meeting().slug}/calendar.ics").get_data(as_text=True)
    assert "Join:" in plain.replace("\r\n ", "")


def test_the_database_has_a_flag_and_no_place_for_a_key(app):
    columns = {column.name for column in Meeting.__table__.columns}
    assert "e2ee" in columns
    assert not [name for name in columns if "key" in name or "secret" in name]
