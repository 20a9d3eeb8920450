"""The webhook endpoint: only signed events get in, each is stored once, and what is derived
from them does not depend on the order they arrive in."""

import json
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from meetings.extensions import db
from meetings.models import (
    Attendance,
    MeetingSession,
    ProcessingResult,
    TrackPublication,
    WebhookEvent,
    WebhookRejection,
)
from meetings.webhooks import apply as deriver
from meetings.webhooks import handlers as derive
from meetings.webhooks import store as services
from tests.support.rooms import first_room
from tests.support.waiting import wait_for
from tests.support.webhook_factory import (
    egress_event,
    participant_event,
    room_event,
    sign,
    to_body,
    track_event,
    webhook_request,
)
from tests.support.webhook_scenarios import apply_in_process, derived_snapshot, script_room

URL = "/livekit/webhook"


@pytest.fixture
def keys(app):
    return app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]


def deliver(client, event, keys):
    body, headers = webhook_request(event, *keys)
    return client.post(URL, data=body, headers=headers)


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def rejections() -> dict[str, int]:
    return {row.reason: row.count for row in db.session.scalars(db.select(WebhookRejection))}


def test_signed_event_is_stored_with_its_raw_body_and_result(client, keys):
    event = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1", name="Ann")
    body, headers = webhook_request(event, *keys)
    before = datetime.now(UTC)
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"stored": True}
    stored = db.session.get(WebhookEvent, event.id)
    assert stored.event == "participant_joined"
    assert stored.room_name == "meeting-abc"
    assert stored.payload == body
    assert stored.result == ProcessingResult.APPLIED
    assert before <= stored.received_at <= datetime.now(UTC)


def _body_and_headers(keys, case: str) -> tuple[str, dict]:
    key, secret = keys
    event = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1")
    body = to_body(event)
    if case == "forged":
        return body, {"Authorization": sign(body, key, "another-secret-of-enough-length-000000")}
    if case == "tampered":
        return body.replace("u-1", "u-2"), {"Authorization": sign(body, key, secret)}
    if case == "expired":  # past the 60 s leeway
        return body, {"Authorization": sign(body, key, secret, ttl=timedelta(minutes=-5))}
    if case == "missing_header":
        return body, {}
    if case == "bearer_garbage":
        return body, {"Authorization": "Bearer nonsense"}
    if case == "not_json":
        text = "this is not json"
        return text, {"Authorization": sign(text, key, secret)}
    if case == "json_array":
        text = "[1, 2, 3]"
        return text, {"Authorization": sign(text, key, secret)}
    if case == "unknown_event":
        text = json.dumps({"event": "room_exploded", "id": "EV_strange", "createdAt": "1"})
        return text, {"Authorization": sign(text, key, secret)}
    if case == "no_event_id":
        text = json.dumps({"event": "room_started", "room": {"name": "meeting-abc"}})
        return text, {"Authorization": sign(text, key, secret)}
    if case == "oversized":
        padded = json.dumps({"event": "room_started", "id": "EV_big", "x": "a" * (1 << 20)})
        return padded, {"Authorization": sign(padded, key, secret)}
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("forged", 401, "bad_signature"),
        ("tampered", 401, "hash_mismatch"),
        ("expired", 401, "expired"),
        ("missing_header", 401, "missing_header"),
        ("bearer_garbage", 401, "bad_signature"),
        ("not_json", 400, "not_json"),
        ("json_array", 400, "not_json"),
        ("unknown_event", 400, "unknown_event"),
        ("no_event_id", 400, "unknown_event"),
        ("oversized", 413, "oversized"),
    ],
)
def test_bad_requests_are_refused_counted_and_not_stored(client, keys, case, status, reason):
    body, headers = _body_and_headers(keys, case)
    response = client.post(
        URL, data=body, headers={"Content-Type": "application/webhook+json", **headers}
    )
    assert response.status_code == status
    assert response.is_json and "error" in response.get_json()
    assert "u-1" not in response.get_data(as_text=True)  # nothing of the body is echoed
    assert count(WebhookEvent) == 0
    assert count(MeetingSession) == count(Attendance) == 0
    assert rejections() == {reason: 1}


def test_rejections_add_up_per_reason(client, keys):
    for _ in range(3):
        body, headers = _body_and_headers(keys, "forged")
        client.post(URL, data=body, headers=headers)
    body, headers = _body_and_headers(keys, "not_json")
    client.post(URL, data=body, headers=headers)
    assert rejections() == {"bad_signature": 3, "not_json": 1}


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
    assert row.seconds == 600


def test_a_room_gives_a_session_with_start_end_peak_and_tracks(client, keys, make_meeting):
    meeting = make_meeting()
    room = first_room(meeting)
    t0 = 1_900_000_000
    events = [
        room_event("room_started", room, creation_time=t0, created_at=t0),
        participant_event("participant_joined", room, "u-1", "PA_1", name="Ann", joined_at=t0 + 5),
        track_event("track_published", room, "u-1", "PA_1", "TR_1", created_at=t0 + 6),
        track_event(
            "track_published",
            room,
            "u-1",
            "PA_1",
            "TR_2",
            track_type="VIDEO",
            source="CAMERA",
            created_at=t0 + 7,
        ),
        participant_event("participant_joined", room, "g-2", "PA_2", name="Bo", joined_at=t0 + 60),
        participant_event(
            "participant_left", room, "g-2", "PA_2", joined_at=t0 + 60, created_at=t0 + 120
        ),
        participant_event(
            "participant_left", room, "u-1", "PA_1", joined_at=t0 + 5, created_at=t0 + 300
        ),
        room_event("room_finished", room, creation_time=t0, created_at=t0 + 320),
    ]
    for event in events:
        assert deliver(client, event, keys).status_code == 200
    session = db.session.scalar(db.select(MeetingSession))
    assert session.meeting_id == meeting.id
    assert session.occurrence_key == meeting.starts_at.strftime("%Y%m%dT%H%MZ")
    assert session.started_at.timestamp() == t0
    assert session.ended_at.timestamp() == t0 + 320
    assert session.duration_seconds == 320
    assert (session.peak_participants, session.total_participants) == (2, 2)
    assert session.participant_seconds == 295 + 60
    tracks = db.session.scalars(db.select(TrackPublication).order_by(TrackPublication.track_sid))
    assert [(t.identity, t.kind, t.source) for t in tracks] == [
        ("u-1", "audio", "microphone"),
        ("u-1", "video", "camera"),
    ]


def test_aborted_connection_is_kept_but_is_not_attendance(client, keys, make_meeting):
    meeting = make_meeting()
    room = first_room(meeting)
    deliver(client, participant_event("participant_joined", room, "u-1", "PA_1"), keys)
    aborted = participant_event("participant_connection_aborted", room, "g-9", "PA_9", name="X")
    deliver(client, aborted, keys)
    assert [row.identity for row in services.attendance_for(meeting)] == ["u-1"]
    session = db.session.scalar(db.select(MeetingSession))
    assert session.total_participants == 1
    assert db.session.get(WebhookEvent, aborted.id).result == ProcessingResult.APPLIED


def test_events_for_rooms_we_never_made_are_stored_and_flagged(client, keys, make_meeting):
    meeting = make_meeting()
    ours = participant_event("participant_joined", first_room(meeting), "u-1", "PA_1")
    theirs = participant_event("participant_joined", "somebody-elses-room", "x-1", "PA_2")
    lookalike = participant_event(
        "participant_joined", "meeting-zzzz-zzzz-zzzz-202601010900", "x-2", "PA_3"
    )
    for event in (ours, theirs, lookalike):
        assert deliver(client, event, keys).status_code == 200
    flags = {row.room_name: row.unknown_room for row in db.session.scalars(db.select(WebhookEvent))}
    assert flags == {
        first_room(meeting): False,
        "somebody-elses-room": True,
        "meeting-zzzz-zzzz-zzzz-202601010900": True,
    }


def test_egress_events_racing_the_room_are_kept_and_change_no_session(client, keys):
    ended = egress_event("egress_ended", "meeting-abc", "EG_1", status="EGRESS_COMPLETE")
    assert deliver(client, ended, keys).status_code == 200  # before the room even started
    deliver(client, room_event("room_started", "meeting-abc", created_at=1_900_000_000), keys)
    started = egress_event("egress_started", "meeting-abc", "EG_1")
    deliver(client, started, keys)
    stored = {row.event: row for row in db.session.scalars(db.select(WebhookEvent))}
    assert stored["egress_ended"].result == ProcessingResult.IGNORED
    assert stored["egress_ended"].room_name == "meeting-abc"
    assert count(MeetingSession) == 1
    assert db.session.scalar(db.select(MeetingSession)).started_at.timestamp() == 1_900_000_000


def test_an_event_that_cannot_be_applied_is_stored_as_failed(client, keys, monkeypatch):
    def broken(event, room):
        raise ValueError("unexpected payload")

    monkeypatch.setitem(derive.HANDLERS, "participant_joined", broken)
    event = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1")
    response = deliver(client, event, keys)
    assert response.status_code == 200  # LiveKit must not retry what we stored
    stored = db.session.get(WebhookEvent, event.id)
    assert stored.result == ProcessingResult.FAILED
    assert "unexpected payload" in stored.error
    assert count(MeetingSession) == 0


def reset_ledger() -> None:
    for model in (TrackPublication, Attendance, MeetingSession, WebhookEvent):
        db.session.execute(db.delete(model))
    db.session.commit()


def test_any_arrival_order_gives_the_same_records(app):
    rng = random.Random(7)
    room = script_room("meeting-order-test", 1_900_000_000, rng)
    apply_in_process(room.events)
    in_order = derived_snapshot()
    session = in_order["sessions"][room.sid]
    assert session[3] == room.expected_peak()
    assert session[4] == len({i.identity for i in room.attended})
    for seed in range(12):
        reset_ledger()
        shuffled = list(room.events)
        random.Random(seed).shuffle(shuffled)
        apply_in_process(shuffled + shuffled[: len(shuffled) // 3])  # some twice
        assert derived_snapshot() == in_order, f"shuffle seed {seed}"


def test_concurrent_deliveries_are_all_stored(app, keys):
    events = [
        participant_event("participant_joined", "meeting-load", f"g-{n}", f"PA_{n}")
        for n in range(200)
    ]
    events += events[:40]  # the same event from two threads at once
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
    assert statuses == [200] * 240
    assert count(WebhookEvent) == 200
    assert count(Attendance) == 200
    session = db.session.scalar(db.select(MeetingSession))
    assert (session.peak_participants, session.total_participants) == (200, 200)


def derived_result(event_id: str) -> ProcessingResult:
    db.session.rollback()  # read what the deriver thread committed
    return db.session.get(WebhookEvent, event_id).result


def test_the_answer_does_not_wait_for_derivation_and_nothing_stays_pending(app, client, keys):
    app.config["WEBHOOK_DERIVE"] = "background"  # as production runs
    started = room_event("room_started", "meeting-bg", sid="RM_bg")
    joined = participant_event("participant_joined", "meeting-bg", "u-1", "PA_bg", room_sid="RM_bg")
    for event in (started, joined):
        assert deliver(client, event, keys).get_json() == {"stored": True}
    wait_for(lambda: derived_result(joined.id) == ProcessingResult.APPLIED, timeout=10)
    assert derived_result(started.id) == ProcessingResult.APPLIED
    attendance = db.session.scalar(db.select(Attendance))
    assert (attendance.identity, attendance.session.room_sid) == ("u-1", "RM_bg")


def test_events_a_dead_process_left_pending_are_derived_by_the_next(app, keys):
    # Stored and answered, then the process died before deriving them.
    events = [
        room_event("room_started", "meeting-left", sid="RM_left"),
        participant_event("participant_joined", "meeting-left", "u-2", "PA_l", room_sid="RM_left"),
    ]
    for event in events:
        assert services.store_event(event, to_body(event))
    assert deriver.pending_count() == 2
    app.config["WEBHOOK_DERIVE"] = "background"
    deriver.start_for(app)  # the next process's first request starts its deriver
    wait_for(lambda: (db.session.rollback(), deriver.pending_count())[1] == 0, timeout=10)
    assert count(Attendance) == 1
    assert {derived_result(event.id) for event in events} == {ProcessingResult.APPLIED}


def test_an_event_is_applied_once_however_many_derivers_try(app):
    event = participant_event("participant_joined", "meeting-once", "u-3", "PA_once")
    services.store_event(event, to_body(event))
    assert deriver.derive_events([event.id]) == 1
    assert deriver.derive_events([event.id]) == 0  # claimed already: nothing is redone
    assert count(Attendance) == 1
