"""POST /api/v1/meetings/<slug>/captions as clients see it: who may turn captions on or off
(the meeting's host and co-hosts; refusals audited), what a bad body or a meeting that is
not running gets, the OpenAPI path, the room page's initial state, and the meeting's
"Live captions" setting in the edit form."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import AuditEntry, AuditResult, Meeting, Role, Transcript
from meetings.scheduling import recurrence as rec
from tests.support.accounts import csrf_token_from
from tests.support.captions import captions_worker_online
from tests.support.rooms import first_room
from tests.support.worker_events import worker_request


@pytest.fixture
def meeting(make_meeting, make_user, fake_rooms, client, app):
    """A running meeting with its host in the room, a co-host, and a captions worker."""
    host, co_host = make_user(email="host@example.com"), make_user(email="co@example.com")
    meeting = make_meeting(host=host)
    meeting.co_hosts.append(co_host)
    db.session.commit()
    fake_rooms.seat(first_room(meeting), "host")
    body, headers = worker_request(
        captions_worker_online(), app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]
    )
    assert client.post("/worker/events", data=body, headers=headers).status_code == 200
    return meeting


def url(meeting: Meeting) -> str:
    return f"/api/v1/meetings/{meeting.slug}/captions"


def audit() -> list[tuple[str, AuditResult]]:
    rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
    return [(row.action, row.result) for row in rows]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (None, 400, "bad_json", None),
        ([True], 400, "bad_json", None),
        ({}, 422, "invalid_field", "enabled"),
        ({"enabled": "yes"}, 422, "invalid_field", "enabled"),
        ({"enabled": 1}, 422, "invalid_field", "enabled"),
        ({"enabled": None}, 422, "invalid_field", "enabled"),
        ({"enabled": True, "language": "fr"}, 422, "invalid_field", "language"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(
    client, api_token, meeting, fake_rooms, body, status, code, field
):
    headers = api_token(meeting.host)
    if body is None:
        answer = client.post(url(meeting), data="enabled=1", headers=headers)
    else:
        answer = client.post(url(meeting), json=body, headers=headers)
    assert answer.status_code == status
    error = answer.get_json()["error"]
    assert error["code"] == code and error.get("field") == field
    if field:
        assert error["message"].startswith(f"{field}:")
    assert fake_rooms.dispatches == {}
    assert db.session.scalars(sa.select(Transcript)).all() == []


def test_only_the_meetings_host_and_co_hosts_turn_captions_on_or_off(
    app, client, api_token, meeting, make_user, fake_rooms
):
    stranger, operator = make_user(), make_user(role=Role.OPS)
    on = {"enabled": True}
    assert client.post(url(meeting), json=on).status_code == 401
    guest = app.test_client()
    guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Gwen"})
    assert guest.post(url(meeting), json=on).status_code == 401
    missing = client.post(
        "/api/v1/meetings/no-such-meeting/captions", json=on, headers=api_token(stranger)
    )
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "meeting_not_found"
    for outsider in (stranger, operator):
        refused = client.post(url(meeting), json=on, headers=api_token(outsider))
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"
    off = client.post(url(meeting), json={"enabled": False}, headers=api_token(stranger))
    assert off.status_code == 403
    assert fake_rooms.dispatches == {}
    assert audit() == [
        ("captions_on", AuditResult.REFUSED),
        ("captions_on", AuditResult.REFUSED),
        ("captions_off", AuditResult.REFUSED),
    ]

    [co_host] = meeting.co_hosts
    answer = client.post(url(meeting), json=on, headers=api_token(co_host))
    assert answer.status_code == 200
    assert answer.get_json() == {"captions": {"status": "starting", "enabled": True, "reason": ""}}
    answer = client.post(url(meeting), json={"enabled": False}, headers=api_token(meeting.host))
    assert answer.get_json()["captions"]["status"] == "off"
    [entry] = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "captions_on", AuditEntry.result == "ok")
    ).all()
    assert entry.actor_id == co_host.id and entry.occurrence_key == rec.occurrences(meeting)[0].key


def test_captions_are_turned_on_only_while_the_meeting_runs(
    client, api_token, make_meeting, make_user, fake_rooms
):
    host = make_user()
    past = make_meeting(host=host, starts_at=datetime.now(UTC) - timedelta(days=3))
    answer = client.post(url(past), json={"enabled": True}, headers=api_token(host))
    assert answer.status_code == 409
    assert answer.get_json()["error"] == {
        "code": "not_running",
        "message": "This meeting is not running now.",
    }
    assert fake_rooms.dispatches == {}


def test_a_room_nobody_opened_yet_is_said_so_and_leaves_captions_off(
    client, api_token, meeting, fake_rooms
):
    fake_rooms.present.clear()  # the occurrence is open, but nobody joined: no room
    answer = client.post(url(meeting), json={"enabled": True}, headers=api_token(meeting.host))
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"]["code"] == "room_not_open"
    assert body["captions"]["status"] == "off"
    assert ("captions_on", AuditResult.FAILED) in audit()


def test_a_server_that_does_not_answer_leaves_captions_on(
    client, api_token, meeting, fake_rooms, monkeypatch
):
    headers = api_token(meeting.host)
    client.post(url(meeting), json={"enabled": True}, headers=headers)

    def unreachable(room, dispatch_id):
        raise gateway.LiveKitUnavailable("connection refused")

    monkeypatch.setattr(gateway, "delete_dispatch", unreachable)
    answer = client.post(url(meeting), json={"enabled": False}, headers=headers)
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["error"]["code"] == "livekit_unavailable"
    assert body["captions"] == {"status": "starting", "enabled": True, "reason": ""}
    assert audit()[-1] == ("captions_off", AuditResult.FAILED)


def test_the_openapi_document_describes_the_captions_switch(client):
    document = client.get("/api/v1/openapi.json").get_json()
    post = document["paths"]["/meetings/{slug}/captions"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["enabled"]
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["properties"]["captions"]["properties"]["status"]["enum"] == [
        "off",
        "starting",
        "running",
        "unavailable",
        "failed",
    ]
    assert {"401", "403", "404", "409", "422", "503"} <= set(post["responses"])


def test_the_room_page_reads_the_initial_state_through_a_template_global(
    app, client, api_token, meeting
):
    def state() -> dict:
        with app.test_request_context():
            page = render_template_string("{{ captions_state(meeting)|tojson }}", meeting=meeting)
        return json.loads(page)

    assert state() == {
        "status": "off",
        "enabled": False,
        "reason": "",
        "automatic": False,
        "url": url(meeting),
    }
    client.post(url(meeting), json={"enabled": True}, headers=api_token(meeting.host))
    assert (state()["status"], state()["enabled"]) == ("starting", True)


def test_the_edit_form_offers_live_captions(client, make_user, login):
    login(make_user())
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    new = "/meetings/new"
    form = client.get(new).get_data(as_text=True)
    assert re.search(
        r'<input[^>]*name="captions"[^>]*type="checkbox"|type="checkbox"[^>]*name="captions"', form
    )
    assert "Live captions" in form
    fields = {
        "title": "Captioned",
        "starts_at": f"{day}T09:00",
        "duration_minutes": "30",
        "time_zone": "UTC",
        "repeat": "",
        "access": "link",
        "captions": "y",
    }
    answer = client.post(new, data={**fields, "csrf_token": csrf_token_from(form)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    meeting = db.session.scalar(sa.select(Meeting))
    assert meeting.captions is True
    edit = client.get(f"/meetings/{meeting.slug}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="captions"|name="captions"[^>]*checked', edit)
