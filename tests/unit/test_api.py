"""The REST API contract: shapes, auth, and clear errors for bad input."""

from datetime import UTC, datetime

import jwt
import pytest

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import ApiToken, Meeting
from tests.support.accounts import csrf_token_from
from tests.support.rooms import first_room

FUTURE = "2099-05-04T10:00:00+02:00"


def decode(app, token: str) -> dict:
    return jwt.decode(token, app.config["LIVEKIT_API_SECRET"], algorithms=["HS256"])


def test_create_meeting_with_api_token(client, make_user, api_token):
    host = make_user(display_name="Grace")
    response = client.post(
        "/api/v1/meetings",
        json={"title": "Launch", "starts_at": FUTURE, "duration_minutes": 60},
        headers=api_token(host),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["title"] == "Launch"
    assert body["starts_at"] == "2099-05-04T08:00:00Z"
    assert body["duration_minutes"] == 60
    assert body["join_url"] == f"http://localhost/m/{body['slug']}"
    assert body["host"] == {"display_name": "Grace"}
    assert body["access_code"] is None
    fetched = client.get(f"/api/v1/meetings/{body['slug']}", headers=api_token(host))
    assert fetched.status_code == 200
    assert fetched.get_json() == body
    anonymous = client.get(f"/api/v1/meetings/{body['slug']}").get_json()
    assert "access_code" not in anonymous
    assert "invitees" not in anonymous


def test_create_meeting_without_credentials_is_401(client):
    response = client.post(
        "/api/v1/meetings", json={"title": "x", "starts_at": FUTURE, "duration_minutes": 5}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_revoked_or_unknown_token_is_401(client, make_user, api_token):
    headers = api_token(make_user())
    token = db.session.scalar(db.select(ApiToken))
    token.revoked_at = token.created_at
    db.session.commit()
    for sent in (headers, {"Authorization": "Bearer mtk_made-up"}):
        response = client.get("/api/v1/meetings/whatever", headers=sent)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"starts_at": FUTURE, "duration_minutes": 30}, 422, "title"),
        ({"title": "", "starts_at": FUTURE, "duration_minutes": 30}, 422, "title"),
        ({"title": "x" * 201, "starts_at": FUTURE, "duration_minutes": 30}, 422, "title"),
        (
            {"title": "t", "starts_at": "2099-05-04T10:00:00", "duration_minutes": 30},
            422,
            "starts_at",
        ),
        ({"title": "t", "starts_at": "tomorrow", "duration_minutes": 30}, 422, "starts_at"),
        (
            {"title": "t", "starts_at": "2001-01-01T10:00:00Z", "duration_minutes": 30},
            422,
            "starts_at",
        ),
        ({"title": "t", "starts_at": FUTURE, "duration_minutes": 0}, 422, "duration_minutes"),
        ({"title": "t", "starts_at": FUTURE, "duration_minutes": 1441}, 422, "duration_minutes"),
        ({"title": "t", "starts_at": FUTURE, "duration_minutes": "30"}, 422, "duration_minutes"),
        ({"title": "t", "starts_at": FUTURE, "duration_minutes": 30, "color": "red"}, 422, "color"),
        ([1, 2], 400, None),
    ],
)
def test_bad_meeting_bodies_name_the_field_and_store_nothing(
    client, make_user, api_token, body, status, field
):
    response = client.post("/api/v1/meetings", json=body, headers=api_token(make_user()))
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error.get("field") == field
    assert error["message"]
    assert db.session.scalar(db.select(db.func.count(Meeting.id))) == 0


def test_body_that_is_not_json_is_400(client, make_user, api_token):
    response = client.post(
        "/api/v1/meetings",
        data="{not json",
        headers={**api_token(make_user()), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"


def test_unknown_meeting_is_json_404(client):
    response = client.get("/api/v1/meetings/nope-nope-nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "meeting_not_found"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # Caught by the body's shape
        (
            {"title": "", "starts_at": "tomorrow", "duration_minutes": 0, "colour": "red"},
            ["title", "starts_at", "duration_minutes", "colour"],
        ),
        # Caught by the meeting's rules
        (
            {
                "title": "t",
                "starts_at": "2001-01-01T10:00:00Z",
                "duration_minutes": 30,
                "time_zone": "Mars/Olympus",
                "access_code": "123",
            },
            ["time_zone", "starts_at", "access_code"],
        ),
    ],
)
def test_every_bad_field_of_a_body_is_named_at_once(client, make_user, api_token, body, fields):
    response = client.post("/api/v1/meetings", json=body, headers=api_token(make_user()))
    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (422, "invalid_field")
    assert [each["field"] for each in error["errors"]] == fields
    assert all(each["message"] for each in error["errors"])
    # Clients that read only the first keep working.
    assert error["field"] == fields[0]
    assert error["errors"][0]["message"] in error["message"]
    assert db.session.scalar(db.select(db.func.count(Meeting.id))) == 0


def test_the_openapi_document_describes_every_bad_field(client):
    document = client.get("/api/v1/openapi.json").get_json()
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["properties"]["errors"]["items"]["required"] == ["field", "message"]


def test_an_unknown_endpoint_says_so_in_json(client):
    response = client.get("/api/v1/meetngs")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error == {
        "code": "not_found",
        "message": "There is no endpoint at /api/v1/meetngs. Check the address for a typo.",
    }
    wrong_verb = client.delete("/api/v1/meetings")
    assert wrong_verb.status_code == 405
    assert wrong_verb.get_json()["error"]["message"] == (
        "/api/v1/meetings does not take DELETE requests."
    )


def test_host_token_is_for_one_room_and_carries_no_admin_grant(
    app, client, make_meeting, api_token, fake_rooms
):
    meeting = make_meeting()
    response = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(meeting.host)
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["role"] == "host"
    assert body["identity"] == f"u-{meeting.host.id}"
    assert body["livekit_url"] == app.config["LIVEKIT_PUBLIC_URL"]
    claims = decode(app, body["token"])
    assert claims["sub"] == f"u-{meeting.host.id}"
    assert claims["name"] == meeting.host.display_name
    assert claims["video"]["room"] == first_room(meeting)
    assert claims["video"]["roomJoin"] is True
    # Host actions go through the app (checked, audited), never straight to RoomService.
    for grant in ("roomAdmin", "roomRecord", "roomCreate", "roomList"):
        assert grant not in claims["video"]
    assert claims["exp"] - claims["nbf"] <= 300  # minutes: a kept token soon stops working
    assert fake_rooms.created[0]["name"] == first_room(meeting)


def test_guest_token_has_no_admin_and_a_stable_identity(app, client, make_meeting, fake_rooms):
    meeting = make_meeting()
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    first = client.post(url, json={"display_name": "  Guest   Star "}).get_json()
    second = client.post(url, json={"display_name": "Guest Star"}).get_json()
    assert first["role"] == "guest"
    assert first["identity"].startswith("g-")
    assert first["identity"] == second["identity"]
    claims = decode(app, first["token"])
    assert claims["name"] == "Guest Star"
    assert "roomAdmin" not in claims["video"]
    assert claims["video"]["room"] == first_room(meeting)
    assert claims["exp"] - claims["nbf"] <= 3600


def test_signed_in_non_host_is_a_participant(
    app, client, make_meeting, make_user, login, fake_rooms
):
    meeting = make_meeting()
    user = make_user()
    login(user)
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    response = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens",
        json={},
        headers={"X-CSRFToken": csrf_token_from(page)},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["role"] == "participant"
    assert body["identity"] == f"u-{user.id}"
    assert "roomAdmin" not in decode(app, body["token"])["video"]


def test_session_call_without_csrf_header_is_refused(
    client, make_meeting, make_user, login, fake_rooms
):
    meeting = make_meeting()
    login(make_user())
    response = client.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert fake_rooms.created == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Enter the name"), ("x" * 65, "at most 64"), ("bad\u0000name", "printable")],
)
def test_guest_needs_a_sensible_name(client, make_meeting, fake_rooms, name, message):
    meeting = make_meeting()
    response = client.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": name})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "display_name"
    assert message in error["message"]
    assert fake_rooms.created == []


def test_token_when_livekit_is_down_is_503_with_a_clear_message(client, make_meeting, fake_rooms):
    fake_rooms.unreachable = True
    meeting = make_meeting()
    response = client.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Al"})
    assert response.status_code == 503
    assert "not reachable" in response.get_json()["error"]["message"]


def test_attendance_is_for_the_host_only(client, make_meeting, make_user, api_token):
    meeting = make_meeting()
    url = f"/api/v1/meetings/{meeting.slug}/attendance"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=api_token(make_user())).status_code == 403
    response = client.get(url, headers=api_token(meeting.host))
    assert response.status_code == 200
    assert response.get_json() == []


def test_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {
        (rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == routes
    assert "MeetingCreate" in document["components"]["schemas"]


def test_health_reports_unreachable_livekit_without_failing(client):
    # TestingConfig points LiveKit at a closed loopback port.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "livekit": "unreachable"}


def test_health_checks_asked_by_anyone_reach_livekit_every_few_seconds_only(
    client, monkeypatch, manual_clock
):
    asked = []
    monkeypatch.setattr(gateway, "is_reachable", lambda: asked.append(1) or True)
    for _ in range(30):
        assert client.get("/healthz").get_json()["livekit"] == "ok"
    assert len(asked) == 1
    manual_clock.advance(5)
    client.get("/healthz")
    assert len(asked) == 2


def create_in_zone(client, headers: dict, zone: str):
    body = {"title": "t", "starts_at": "2099-01-01T10:00:00Z", "duration_minutes": 30}
    return client.post("/api/v1/meetings", json=body | {"time_zone": zone}, headers=headers)


@pytest.mark.parametrize(("given", "stored"), [("europe/berlin", "Europe/Berlin"), ("utc", "UTC")])
def test_a_zone_in_any_case_is_stored_as_iana_spells_it(
    client, make_user, api_token, given, stored
):
    response = create_in_zone(client, api_token(make_user()), given)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["time_zone"] == stored


def test_a_zone_abbreviation_is_refused_with_a_place_to_pick(client, make_user, api_token):
    response = create_in_zone(client, api_token(make_user()), "CET")
    error = response.get_json()["error"]
    assert (response.status_code, error["field"]) == (422, "time_zone")
    assert "such as Europe/Berlin" in error["message"]


def test_a_meeting_kept_in_a_zone_accepted_before_can_still_be_renamed(
    client, make_meeting, api_token
):
    # Before zones were checked against the list, CET was accepted; such a meeting keeps it.
    meeting = make_meeting(time_zone="CET", starts_at=datetime(2099, 1, 1, 9, tzinfo=UTC))
    headers = api_token(meeting.host)
    url = f"/api/v1/meetings/{meeting.slug}"
    renamed = client.patch(url, json={"title": "Renamed"}, headers=headers)
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["time_zone"] == "CET"
    moved = client.patch(url, json={"time_zone": "EST"}, headers=headers)
    assert (moved.status_code, moved.get_json()["error"]["field"]) == (422, "time_zone")
