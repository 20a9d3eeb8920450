"""The webhook endpoint: only signed events get in, each is stored once, attendance follows."""

import threading
from datetime import timedelta

import pytest

from meetings.extensions import db
from meetings.models import Attendance, WebhookEvent
from tests.conftest import first_room
from tests.webhook_factory import participant_event, sign, to_body, webhook_request

URL = "/livekit/webhook"


@pytest.fixture
def keys(app):
    return app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]


def deliver(client, event, keys):
    body, headers = webhook_request(event, *keys)
    return client.post(URL, data=body, headers=headers)


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_signed_event_is_stored_with_its_raw_body(client, keys):
    event = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1", name="Ann")
    body, headers = webhook_request(event, *keys)
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 200
    stored = db.session.get(WebhookEvent, event.id)
    assert stored.event == "participant_joined"
    assert stored.room_name == "meeting-abc"
    assert stored.payload == body


def test_refused_requests_get_401_and_store_nothing(client, keys):
    event = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1")
    body = to_body(event)
    key, secret = keys
    tampered = body.replace("u-1", "u-2")
    attempts = {
        "forged": {"Authorization": sign(body, key, "another-secret-of-enough-length-000000")},
        "tampered": {"Authorization": sign(body, key, secret)},
        "expired": {"Authorization": sign(body, key, secret, ttl=timedelta(minutes=-5))},
        "missing": {},
        "bearer-prefixed-garbage": {"Authorization": "Bearer nonsense"},
    }
    for name, headers in attempts.items():
        sent = tampered if name == "tampered" else body
        response = client.post(
            URL, data=sent, headers={"Content-Type": "application/webhook+json", **headers}
        )
        assert response.status_code == 401, name
        assert "u-1" not in response.get_data(as_text=True)
    assert count(WebhookEvent) == 0


def test_non_json_body_with_valid_signature_is_refused(client, keys):
    body = "this is not json"
    response = client.post(URL, data=body, headers={"Authorization": sign(body, *keys)})
    assert response.status_code == 401
    assert count(WebhookEvent) == 0


def test_same_event_five_times_is_stored_once(client, keys):
    event = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1")
    answers = [deliver(client, event, keys) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.get_json()["stored"] for a in answers] == [True, False, False, False, False]
    assert count(WebhookEvent) == 1
    assert count(Attendance) == 1


def test_left_before_joined_still_gives_one_complete_interval(client, keys, make_meeting):
    meeting = make_meeting()
    room = first_room(meeting)
    joined = participant_event(
        "participant_joined", room, "g-1", "PA_9", name="Bo", joined_at=1_900_000_000
    )
    left = participant_event(
        "participant_left",
        room,
        "g-1",
        "PA_9",
        name="Bo",
        joined_at=1_900_000_000,
        created_at=1_900_000_600,
    )
    deliver(client, left, keys)
    deliver(client, joined, keys)
    row = db.session.scalar(db.select(Attendance))
    assert row.meeting_id == meeting.id
    assert row.display_name == "Bo"
    assert row.joined_at.timestamp() == 1_900_000_000
    assert row.left_at.timestamp() == 1_900_000_600


def test_concurrent_deliveries_are_all_stored(app, keys):
    events = [
        participant_event("participant_joined", "meeting-load", f"g-{n}", f"PA_{n}")
        for n in range(200)
    ]
    statuses = []

    def send(batch):
        client = app.test_client()
        for event in batch:
            statuses.append(deliver(client, event, keys).status_code)

    threads = [threading.Thread(target=send, args=(events[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 200
    assert count(WebhookEvent) == 200
    assert count(Attendance) == 200
