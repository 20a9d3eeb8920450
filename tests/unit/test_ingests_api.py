"""Ingests (stream in) as hosts and the media worker see them: who may make, list and revoke
them, what a bad body gets, the key shown once and kept only hashed, the ports they hold,
the worker job a running meeting gets, and the state the job's events give them."""

import hashlib
import time

import pytest
import sqlalchemy as sa
from livekit.api import IngressState, WebhookEvent

from meetings.background import wait_for_background_work
from meetings.extensions import db
from meetings.models import AuditEntry, AuditResult, Ingest, Role, utcnow
from meetings.rooms import decisions as host_decisions
from meetings.scheduling import room_names
from tests.support.rooms import first_room
from tests.support.webhook_factory import room_event, webhook_request
from tests.support.worker_events import heartbeat, worker_event, worker_request

AGENT = "meetings-ingest"


@pytest.fixture
def send(client, app):
    """POST a signed media worker event."""
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def post(body: bytes) -> None:
        body, headers = worker_request(body, *keys)
        answer = client.post("/worker/events", data=body, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)

    return post


@pytest.fixture
def live(make_meeting, make_user, fake_rooms, send):
    """A running meeting whose host is in its room, a co-host, and a worker serving ingests."""
    host, co_host = make_user(email="host@example.com"), make_user(email="co@example.com")
    meeting = make_meeting(host=host)
    meeting.co_hosts.append(co_host)
    db.session.commit()
    fake_rooms.seat(first_room(meeting), "host")
    send(heartbeat(AGENT))
    return meeting


def url(meeting, ingest_id: str = "") -> str:
    return f"/api/v1/meetings/{meeting.slug}/ingests" + (f"/{ingest_id}" if ingest_id else "")


def make(client, api_token, meeting, user=None, name="Stage camera"):
    answer = client.post(url(meeting), json={"name": name}, headers=api_token(user or meeting.host))
    wait_for_background_work()  # the job is dispatched after the answer
    return answer


def dispatched(fake_rooms) -> list[dict]:
    return [call[3] for call in fake_rooms.calls if call[0] == "dispatch" and call[2] == AGENT]


def stored() -> Ingest:
    [row] = db.session.scalars(sa.select(Ingest)).all()
    db.session.refresh(row)
    return row


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (None, 400, None),
        ({}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": " \t\n"}, 422, "name"),
        ({"name": "x" * 81}, 422, "name"),
        ({"name": 7}, 422, "name"),
        ({"name": "Cam", "port": 1935}, 422, "port"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(client, api_token, live, body, status, field):
    headers = api_token(live.host)
    if body is None:
        answer = client.post(url(live), data="name=Cam", headers=headers)
    else:
        answer = client.post(url(live), json=body, headers=headers)
    assert answer.status_code == status
    error = answer.get_json()["error"]
    assert error.get("field") == field
    if field:
        assert error["code"] == "invalid_field" and error["message"].startswith(f"{field}:")
    assert db.session.scalars(sa.select(Ingest)).all() == []


def test_only_the_meetings_hosts_manage_its_ingests(client, api_token, live, make_user):
    stranger, operator = make_user(), make_user(role=Role.OPS)
    assert client.post(url(live), json={"name": "Cam"}).status_code == 401
    assert client.get(url(live)).status_code == 401
    missing = client.get("/api/v1/meetings/no-such/ingests", headers=api_token(stranger))
    assert missing.status_code == 404
    for outsider in (stranger, operator):
        refused = client.post(url(live), json={"name": "Cam"}, headers=api_token(outsider))
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
        assert client.get(url(live), headers=api_token(outsider)).status_code == 403
    assert db.session.scalars(sa.select(Ingest)).all() == []
    refusals = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.result == AuditResult.REFUSED)
    ).all()
    assert refusals.count("ingest_created") == 2

    [co_host] = live.co_hosts
    assert make(client, api_token, live, co_host).status_code == 201
    listed = client.get(url(live), headers=api_token(live.host)).get_json()["ingests"]
    assert [i["name"] for i in listed] == ["Stage camera"]


def test_the_key_is_shown_once_and_kept_only_as_its_hash(client, api_token, live):
    answer = make(client, api_token, live, name="  Stage <b>camera</b>  ")
    assert answer.status_code == 201
    made = answer.get_json()
    key = made["stream_key"]
    assert len(key) >= 32
    # The encoder's settings: the server URL from PUBLIC_URL's host, the first free port.
    assert made["rtmp_url"] == "rtmp://localhost:1935/live"
    assert made["name"] == "Stage <b>camera</b>"  # plain text, trimmed; pages escape it
    assert made["stream_key_hint"] == f"…{key[-4:]}"
    row = stored()
    assert row.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str([getattr(row, c.key) for c in Ingest.__table__.columns])
    [listed] = client.get(url(live), headers=api_token(live.host)).get_json()["ingests"]
    assert "stream_key" not in listed and key not in str(listed)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "ingest_created"))
    assert entry.result == AuditResult.OK and entry.actor_id == live.host.id


def test_each_ingest_holds_a_port_until_it_is_revoked(app, client, api_token, live, fake_rooms):
    app.config["INGEST_RTMP_PORTS"] = "19350-19351"
    first = make(client, api_token, live, name="One").get_json()
    second = make(client, api_token, live, name="Two").get_json()
    assert [first["rtmp_url"][-10:], second["rtmp_url"][-10:]] == ["19350/live", "19351/live"]
    full = make(client, api_token, live, name="Three")
    assert full.status_code == 409
    assert full.get_json()["error"]["code"] == "no_ingest_port"

    gone = client.delete(url(live, first["ingest_id"]), headers=api_token(live.host))
    assert gone.status_code == 204
    # Its job is withdrawn: the key stops working at once.
    assert ("delete_dispatch", first_room(live), "AD_fake1") in fake_rooms.calls
    again = client.delete(url(live, first["ingest_id"]), headers=api_token(live.host))
    assert again.status_code == 404
    third = make(client, api_token, live, name="Three").get_json()
    assert third["rtmp_url"].endswith(":19350/live")
    listed = client.get(url(live), headers=api_token(live.host)).get_json()["ingests"]
    assert [i["name"] for i in listed] == ["Two", "Three"]


def test_a_running_meeting_gets_the_job_at_once_and_never_the_key(
    client, api_token, live, fake_rooms
):
    made = make(client, api_token, live).get_json()
    [job] = dispatched(fake_rooms)
    row = stored()
    assert job == {
        "job_id": row.job_id,
        "room": first_room(live),
        "ingest_id": made["ingest_id"],
        "name": "Stage camera",
        "rtmp_port": 1935,
        "stream_key_sha256": hashlib.sha256(made["stream_key"].encode()).hexdigest(),
    }
    assert row.status == "starting" and row.dispatch_id == "AD_fake1"


def test_a_host_joining_starts_the_job_of_an_ingest_made_before(
    client, api_token, make_meeting, make_user, fake_rooms, send
):
    host = make_user()
    meeting = make_meeting(host=host)
    send(heartbeat(AGENT))
    assert make(client, api_token, meeting).status_code == 201  # no room yet: nothing listens
    assert dispatched(fake_rooms) == [] and stored().status == "idle"
    fake_rooms.seat(first_room(meeting), "host")
    for _ in range(2):  # a second join does not start a second job
        joined = client.post(
            f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(host)
        )
        assert joined.status_code == 201
        wait_for_background_work()
    assert [job["room"] for job in dispatched(fake_rooms)] == [first_room(meeting)]
    assert stored().status == "starting"


def test_with_no_worker_running_the_ingest_says_so(
    client, api_token, make_meeting, make_user, fake_rooms
):
    host = make_user()
    meeting = make_meeting(host=host)
    fake_rooms.seat(first_room(meeting), "host")
    made = make(client, api_token, meeting).get_json()
    assert dispatched(fake_rooms) == []
    [listed] = client.get(url(meeting), headers=api_token(host)).get_json()["ingests"]
    assert listed["ingest_id"] == made["ingest_id"]
    assert listed["status"] == "failed" and "No media worker" in listed["reason"]


def test_the_jobs_events_give_the_state_hosts_see(client, api_token, live, send, app):
    make(client, api_token, live)
    row = stored()
    job, room, ingest_id = row.job_id, row.room_name, row.public_id

    def event(kind, **data):
        send(worker_event(kind, {"ingest_id": ingest_id, **data}, job_id=job, room=room))
        [listed] = client.get(url(live), headers=api_token(live.host)).get_json()["ingests"]
        return listed["status"], listed["refused_count"], listed["reason"]

    assert event("ingest_listening", port=1935) == ("waiting", 0, "")
    assert event("ingest_refused", reason="invalid stream key", peer="x", total=3) == (
        "waiting",
        3,
        "",
    )
    assert event("ingest_refused", reason="invalid stream key", peer="x", total=2)[1] == 3
    assert event("ingest_connected", peer="127.0.0.1:5000") == ("live", 3, "")
    assert event("ingest_disconnected", peer="127.0.0.1:5000", reason="", duration_s=9) == (
        "waiting",
        3,
        "",
    )
    # An event of another job (an earlier one) changes nothing.
    send(worker_event("ingest_connected", {"ingest_id": ingest_id}, job_id="IJ_old", room=room))
    assert stored().status == "waiting"
    assert event("ingest_failed", reason="port 1935 is taken") == (
        "failed",
        3,
        "port 1935 is taken",
    )
    assert event("ingest_listening", port=1935)[0] == "failed"  # a failed job stays failed


def test_when_the_room_finishes_its_ingests_are_idle(client, api_token, live, send, app):
    make(client, api_token, live)
    row = stored()
    send(worker_event("ingest_connected", {"ingest_id": row.public_id}, job_id=row.job_id))
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]
    body, headers = webhook_request(room_event("room_finished", first_room(live)), *keys)
    assert client.post("/livekit/webhook", data=body, headers=headers).status_code == 200
    row = stored()
    assert row.status == "idle" and row.job_id is None


def test_the_api_description_has_the_ingest_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/meetings/{slug}/ingests"]) == {"get", "post"}
    assert set(paths["/meetings/{slug}/ingests/{ingest_id}"]) == {"delete"}


# ---- INGRESS=livekit: LiveKit Ingress receives instead of the media worker ----------------------


def ingress_event(kind: str, ingress_id: str, status: str, error: str = ""):
    event = WebhookEvent(event=kind, id=f"EV_{kind}_{status}", created_at=int(time.time()))
    event.ingress_info.ingress_id = ingress_id
    event.ingress_info.state.status = IngressState.Status.Value(status)
    event.ingress_info.state.error = error
    return event


def test_with_livekit_ingress_the_ingest_is_livekits_and_its_webhooks_say_how(
    app, client, api_token, live, fake_rooms
):
    app.config["INGRESS"] = "livekit"
    made = make(client, api_token, live).get_json()
    assert made["rtmp_url"] == "rtmp://ingress.example/x" and made["stream_key"] == "lk-key-1"
    assert ("create_ingress", first_room(live), "Stage camera", f"ingest-{made['ingest_id']}") in (
        fake_rooms.calls
    )
    row = stored()
    assert row.rtmp_port is None and row.status == "waiting"
    assert row.key_sha256 == hashlib.sha256(b"lk-key-1").hexdigest()
    assert dispatched(fake_rooms) == []  # no media worker job

    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def hook(event) -> str:
        body, headers = webhook_request(event, *keys)
        assert client.post("/livekit/webhook", data=body, headers=headers).status_code == 200
        return stored().status

    assert hook(ingress_event("ingress_started", "IN_fake1", "ENDPOINT_PUBLISHING")) == "live"
    assert hook(ingress_event("ingress_ended", "IN_fake1", "ENDPOINT_INACTIVE")) == "waiting"
    assert hook(ingress_event("ingress_ended", "IN_fake1", "ENDPOINT_ERROR", "bad codec")) == (
        "failed"
    )
    assert stored().reason == "bad codec"

    # A later occurrence's room: a host joining moves the ingress there.
    row = stored()
    row.room_name = "meeting-of-another-day"
    db.session.commit()
    client.post(f"/api/v1/meetings/{live.slug}/tokens", json={}, headers=api_token(live.host))
    assert ("move_ingress", "IN_fake1", first_room(live)) in fake_rooms.calls
    assert stored().status == "waiting"

    gone = client.delete(url(live, made["ingest_id"]), headers=api_token(live.host))
    assert gone.status_code == 204 and ("delete_ingress", "IN_fake1") in fake_rooms.calls


def test_with_livekit_ingress_a_refusal_says_why_and_stores_nothing(
    app, client, api_token, live, fake_rooms
):
    app.config["INGRESS"] = "livekit"
    fake_rooms.egress_refusal = "unavailable: ingress not connected"
    answer = make(client, api_token, live)
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "ingest_unavailable"
    assert "ingress not connected" in answer.get_json()["error"]["message"]
    assert db.session.scalars(sa.select(Ingest)).all() == []


def test_an_encoder_is_kept_out_of_a_locked_meeting(client, api_token, live, send, fake_rooms):
    make(client, api_token, live)
    row = stored()
    occurrence_key = room_names.parse(row.room_name).occurrence_key
    host_decisions.occurrence_state_for_update(live, occurrence_key).locked_at = utcnow()
    db.session.commit()
    fake_rooms.seat(row.room_name, "host", f"ingest-{row.public_id}")
    data = {"ingest_id": row.public_id, "peer": "127.0.0.1:5000"}
    send(worker_event("ingest_connected", data, job_id=row.job_id, room=row.room_name))
    row = stored()
    assert row.status == "waiting" and "The meeting is locked" in row.reason
    assert ("remove", row.room_name, f"ingest-{row.public_id}") in fake_rooms.calls
