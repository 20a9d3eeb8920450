"""Live captions as the app drives them: turning them on dispatches the media worker's
captioner, turning them off withdraws it, a host joining a meeting set to caption itself
starts them once, and the captioner's signed events and LiveKit's webhooks move the
transcript on (segments stored once, "unavailable" shown to the room, a lost captioner
dispatched again once)."""

import re

import pytest
import sqlalchemy as sa

from meetings.background import wait_for_background_work
from meetings.captions import state
from meetings.extensions import db
from meetings.models import (
    AuditEntry,
    AuditResult,
    CaptionsStatus,
    Transcript,
    TranscriptSegment,
    WebhookEvent,
)
from meetings.scheduling import recurrence as rec
from tests.support.captions import (
    caption,
    captioner_left,
    captions_status,
    captions_worker_online,
)
from tests.support.rooms import first_room
from tests.support.webhook_factory import participant_event, room_event, webhook_request
from tests.support.worker_events import worker_event, worker_request


@pytest.fixture
def send(client, app):
    """POST a signed media worker event; returns the answer's JSON."""
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def post(body: bytes):
        body, headers = worker_request(body, *keys)
        response = client.post("/worker/events", data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return post


@pytest.fixture
def deliver(client, app):
    """Deliver a LiveKit webhook, signed as the server signs it."""
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def post(event):
        body, headers = webhook_request(event, *keys)
        response = client.post("/livekit/webhook", data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    return post


@pytest.fixture
def live(make_meeting, make_user, fake_rooms, send):
    """A running meeting whose host is in its room, and a worker serving captions."""
    host = make_user(email="host@example.com")
    meeting = make_meeting(host=host)
    room = first_room(meeting)
    fake_rooms.seat(room, "host")
    send(captions_worker_online())
    return meeting, room, host


def switch(client, api_token, meeting, user, enabled):
    return client.post(
        f"/api/v1/meetings/{meeting.slug}/captions",
        json={"enabled": enabled},
        headers=api_token(user),
    )


def join(client, api_token, meeting, user):
    answer = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(user)
    )
    assert answer.status_code == 201, answer.get_json()
    wait_for_background_work()  # the captioner is dispatched while they join


def transcript() -> Transcript:
    rows = db.session.scalars(sa.select(Transcript)).all()
    assert len(rows) == 1, rows
    db.session.refresh(rows[0])
    return rows[0]


def dispatches(fake_rooms) -> list[tuple]:
    return [call for call in fake_rooms.calls if call[0] == "dispatch"]


def segments() -> list[tuple]:
    rows = db.session.scalars(sa.select(TranscriptSegment).order_by(TranscriptSegment.start))
    return [(s.segment_id, s.identity, s.display_name, s.start, s.end, s.text) for s in rows]


# ---- on and off ----------------------------------------------------------------------------


def test_turning_captions_on_dispatches_the_captioner_and_tells_the_room(
    client, api_token, live, fake_rooms, send
):
    meeting, room, host = live
    answer = switch(client, api_token, meeting, host, True)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"captions": {"status": "starting", "enabled": True, "reason": ""}}
    row = transcript()
    assert re.fullmatch(r"CJ_[0-9a-f]{32}", row.job_id)
    key = rec.occurrences(meeting)[0].key
    assert (row.occurrence_key, row.room_name, row.dispatch_id) == (key, room, "AD_fake1")
    # The job's parameters, as the captioner parses them.
    [(_, dispatched_room, agent, metadata)] = dispatches(fake_rooms)
    assert (dispatched_room, agent) == (room, "meetings-captions")
    assert metadata.keys() == {"job_id", "room", "language", "occurrence_started_at"}
    assert (metadata["job_id"], metadata["room"], metadata["language"]) == (row.job_id, room, "en")
    assert metadata["occurrence_started_at"] == pytest.approx(row.origin_at.timestamp(), abs=1e-3)
    assert fake_rooms.metadata[room] == {"captions": "starting"}

    send(captions_status(row.job_id, room, "running"))
    assert transcript().status == CaptionsStatus.RUNNING
    assert fake_rooms.metadata[room] == {"captions": "running"}
    # On again: nothing new is dispatched.
    answer = switch(client, api_token, meeting, host, True)
    assert answer.get_json()["captions"] == {"status": "running", "enabled": True, "reason": ""}
    assert len(dispatches(fake_rooms)) == 1
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.result == AuditResult.OK)
    )
    assert list(actions) == ["captions_on", "captions_on"]


def test_turning_captions_off_withdraws_the_captioner_and_keeps_what_it_said_last(
    client, api_token, live, fake_rooms, send
):
    meeting, room, host = live
    switch(client, api_token, meeting, host, True)
    job_id = transcript().job_id
    answer = switch(client, api_token, meeting, host, False)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["captions"] == {
        "status": "off",
        "enabled": False,
        "reason": state.OFF_BY_HOST,
    }
    assert ("delete_dispatch", room, "AD_fake1") in fake_rooms.calls
    assert transcript().status == CaptionsStatus.OFF
    assert fake_rooms.metadata[room] == {"captions": "off"}
    # The captioner's last words, flushed as it stops, are kept; its status reports are not.
    send(caption(job_id, room, "SG_last", "thank you all"))
    send(captions_status(job_id, room, "running"))
    assert [s[-1] for s in segments()] == ["thank you all"]
    assert transcript().status == CaptionsStatus.OFF
    audit = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert audit == ["captions_on", "captions_off"]


def test_a_start_with_no_captions_worker_fails_at_once_and_says_so(
    client, api_token, make_meeting, make_user, fake_rooms, send
):
    host = make_user()
    meeting = make_meeting(host=host)
    fake_rooms.seat(first_room(meeting), "host")
    send(worker_event("worker_online", {"worker_id": "w", "agent_names": ["meetings-recorder"]}))
    answer = switch(client, api_token, meeting, host, True)
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["error"]["code"] == "captions_unavailable"
    assert "No captioner is running" in body["error"]["message"]
    assert body["captions"] == {"status": "failed", "enabled": False, "reason": state.NO_CAPTIONER}
    assert dispatches(fake_rooms) == []
    assert fake_rooms.metadata[first_room(meeting)] == {"captions": "failed"}


def test_a_job_no_worker_takes_is_withdrawn_and_captions_fail(client, api_token, live, fake_rooms):
    meeting, room, host = live
    fake_rooms.workers_take_jobs = False
    answer = switch(client, api_token, meeting, host, True)
    assert answer.status_code == 503
    assert answer.get_json()["captions"]["reason"] == state.NOT_TAKEN
    assert ("delete_dispatch", room, "AD_fake1") in fake_rooms.calls
    assert transcript().status == CaptionsStatus.FAILED
    # A host may try again by hand once a worker is there.
    fake_rooms.workers_take_jobs = True
    answer = switch(client, api_token, meeting, host, True)
    assert answer.get_json()["captions"]["status"] == "starting"
    assert len(dispatches(fake_rooms)) == 2


def test_a_job_the_worker_rejects_fails_captions(client, api_token, live, fake_rooms, send):
    meeting, room, host = live
    switch(client, api_token, meeting, host, True)
    job_id = transcript().job_id
    rejected = {"agent_name": "meetings-recorder", "reason": "not mine"}
    send(worker_event("job_rejected", rejected, job_id=job_id, room=room))
    assert transcript().status == CaptionsStatus.STARTING  # another kind's rejection
    rejected = {"agent_name": "meetings-captions", "reason": "captions already run here"}
    send(worker_event("job_rejected", rejected, job_id=job_id, room=room))
    row = transcript()
    assert row.status == CaptionsStatus.FAILED and "captions already run here" in row.reason
    assert fake_rooms.metadata[room] == {"captions": "failed"}


# ---- a host joining ------------------------------------------------------------------------


def test_captions_start_once_when_a_host_joins_and_a_host_who_stops_them_is_not_overruled(
    client, api_token, make_meeting, make_user, fake_rooms, send
):
    send(captions_worker_online())
    host, co_host, member = make_user(), make_user(), make_user()
    meeting = make_meeting(host=host, captions=True)
    meeting.co_hosts.append(co_host)
    db.session.commit()
    room = first_room(meeting)

    join(client, api_token, meeting, member)
    assert dispatches(fake_rooms) == []  # not for participants
    join(client, api_token, meeting, host)
    row = transcript()
    assert row.status == CaptionsStatus.STARTING and row.dispatch_id == "AD_fake1"
    assert [c[2] for c in dispatches(fake_rooms)] == ["meetings-captions"]
    assert fake_rooms.metadata[room] == {"captions": "starting"}
    join(client, api_token, meeting, co_host)
    join(client, api_token, meeting, host)
    assert len(dispatches(fake_rooms)) == 1  # once per occurrence

    assert switch(client, api_token, meeting, co_host, False).status_code == 200
    join(client, api_token, meeting, host)
    assert len(dispatches(fake_rooms)) == 1
    assert transcript().status == CaptionsStatus.OFF


def test_captions_start_again_when_a_host_comes_back_after_the_room_closed(
    client, api_token, make_meeting, make_user, fake_rooms, send, deliver
):
    send(captions_worker_online())
    host = make_user()
    meeting = make_meeting(host=host, captions=True)
    room = first_room(meeting)
    join(client, api_token, meeting, host)
    origin = transcript().origin_at
    deliver(room_event("room_finished", room))
    row = transcript()
    assert (row.status, row.reason) == (CaptionsStatus.OFF, state.ROOM_CLOSED)
    join(client, api_token, meeting, host)
    row = transcript()
    assert row.status == CaptionsStatus.STARTING and len(dispatches(fake_rooms)) == 2
    assert row.origin_at == origin  # segment times still count from the first start
    # Closed again, and this time a host turns them off before anyone is back: they stay off.
    deliver(room_event("room_finished", room))
    assert switch(client, api_token, meeting, host, False).status_code == 200
    join(client, api_token, meeting, host)
    assert transcript().reason == state.OFF_BY_HOST and len(dispatches(fake_rooms)) == 2


def test_a_host_who_turns_captions_off_before_anyone_joined_is_not_overruled(
    client, api_token, make_meeting, make_user, fake_rooms, send
):
    send(captions_worker_online())
    host, co_host = make_user(), make_user()
    meeting = make_meeting(host=host, captions=True)
    meeting.co_hosts.append(co_host)
    db.session.commit()
    answer = switch(client, api_token, meeting, co_host, False)
    assert answer.get_json()["captions"] == {
        "status": "off",
        "enabled": False,
        "reason": state.OFF_BY_HOST,
    }
    join(client, api_token, meeting, host)
    assert dispatches(fake_rooms) == [] and transcript().status == CaptionsStatus.OFF
    # Turned on by hand later: segment times count from then.
    switch(client, api_token, meeting, host, True)
    row = transcript()
    assert row.status == CaptionsStatus.STARTING
    started_at = dispatches(fake_rooms)[0][3]["occurrence_started_at"]
    assert started_at == pytest.approx(row.origin_at.timestamp(), abs=1e-3)


def test_a_failed_automatic_start_does_not_keep_the_host_out(
    client, api_token, make_meeting, make_user, fake_rooms
):
    host = make_user()
    meeting = make_meeting(host=host, captions=True)  # and no worker has reported in
    join(client, api_token, meeting, host)
    row = transcript()
    assert (row.status, row.reason) == (CaptionsStatus.FAILED, state.NO_CAPTIONER)
    assert fake_rooms.metadata[first_room(meeting)] == {"captions": "failed"}
    join(client, api_token, meeting, host)  # a rejoin does not try (and wait) again
    assert transcript().status == CaptionsStatus.FAILED


def test_with_captions_off_nothing_is_dispatched_and_nothing_stored(
    client, api_token, make_meeting, make_user, fake_rooms, send
):
    send(captions_worker_online())
    host = make_user()
    meeting = make_meeting(host=host, captions=False)
    room = first_room(meeting)
    join(client, api_token, meeting, host)
    assert dispatches(fake_rooms) == [] and "captions" not in fake_rooms.metadata.get(room, {})
    # A segment nobody asked for (no captioner of ours) is kept in the ledger only.
    assert send(caption("CJ_" + "0" * 32, room, "SG_1", "hello")) == {"stored": True}
    assert db.session.scalars(sa.select(Transcript)).all() == []
    assert segments() == []
    [ledger] = db.session.scalars(sa.select(WebhookEvent)).all()
    assert (ledger.event, ledger.result.value) == ("worker.caption_segment", "ignored")


# ---- what the captioner says ---------------------------------------------------------------


def test_segments_are_stored_once_as_plain_text(client, api_token, live, send):
    meeting, room, host = live
    switch(client, api_token, meeting, host, True)
    job_id = transcript().job_id
    first = caption(
        job_id, room, "SG_1", "  hello\n<b>everyone</b>\x07 ", 1.234, 2.5, event_id="WE_a"
    )
    assert send(first) == {"stored": True}
    assert send(first) == {"stored": False}  # the worker's retry of the same event
    # The same segment reported again under a new event id changes nothing either.
    send(caption(job_id, room, "SG_1", "something else", event_id="WE_b"))
    send(caption(job_id, room, "SG_2", "x" * 5000, 3.0, 2.0, identity="u-bo", display_name=""))
    assert segments() == [
        ("SG_1", "u-ann", "Ann", 1.23, 2.5, "hello <b>everyone</b>"),
        ("SG_2", "u-bo", "u-bo", 3.0, 3.0, "x" * 2000),
    ]
    # Incomplete or foreign segments are kept in the ledger and ignored.
    send(caption(job_id, room, "SG_3", "   "))
    send(caption(job_id, "another-room", "SG_4", "hello"))
    send(caption("CJ_unknown", room, "SG_5", "hello"))
    assert len(segments()) == 2


def test_an_unavailable_backend_is_shown_to_the_room_and_running_again_clears_it(
    client, api_token, live, fake_rooms, send
):
    meeting, room, host = live
    switch(client, api_token, meeting, host, True)
    job_id = transcript().job_id
    send(captions_status(job_id, room, "unavailable", "speech-to-text server unreachable"))
    row = transcript()
    assert (row.status, row.reason) == (
        CaptionsStatus.UNAVAILABLE,
        "speech-to-text server unreachable",
    )
    assert fake_rooms.metadata[room] == {"captions": "unavailable"}
    answer = switch(client, api_token, meeting, host, True)
    assert answer.get_json()["captions"]["status"] == "unavailable"
    send(captions_status(job_id, room, "running"))
    assert (transcript().status, transcript().reason) == (CaptionsStatus.RUNNING, None)
    assert fake_rooms.metadata[room] == {"captions": "running"}
    send(captions_status(job_id, room, "exploded"))  # not a status: ignored
    assert transcript().status == CaptionsStatus.RUNNING


# ---- a lost captioner ----------------------------------------------------------------------


def test_a_lost_captioner_is_dispatched_again_once_then_captions_fail(
    client, api_token, live, fake_rooms, send, deliver
):
    meeting, room, host = live
    deliver(participant_event("participant_joined", room, "host", "PA_host"))
    switch(client, api_token, meeting, host, True)
    first_job = transcript().job_id
    send(captions_status(first_job, room, "running"))
    send(caption(first_job, room, "SG_1", "before the crash"))

    deliver(captioner_left(room, first_job))
    wait_for_background_work()
    row = transcript()
    assert row.redispatched and row.status == CaptionsStatus.STARTING
    second_job = row.job_id
    assert second_job != first_job
    [first, second] = dispatches(fake_rooms)
    assert second[3]["job_id"] == second_job
    assert second[3]["occurrence_started_at"] == first[3]["occurrence_started_at"]
    assert ("delete_dispatch", room, "AD_fake1") in fake_rooms.calls  # never two captioners
    # What the lost captioner still reports is kept; its status reports are not.
    send(caption(first_job, room, "SG_2", "its last words"))
    send(captions_status(first_job, room, "unavailable", "late"))
    assert [s[-1] for s in segments()] == ["before the crash", "its last words"]
    assert transcript().status == CaptionsStatus.STARTING
    send(captions_status(second_job, room, "running"))
    assert fake_rooms.metadata[room] == {"captions": "running"}

    deliver(captioner_left(room, second_job))
    wait_for_background_work()
    row = transcript()
    assert (row.status, row.reason) == (CaptionsStatus.FAILED, state.LOST_TWICE)
    assert len(dispatches(fake_rooms)) == 2
    assert fake_rooms.metadata[room] == {"captions": "failed"}
    # A host starts them again by hand: one more re-dispatch is allowed after that.
    switch(client, api_token, meeting, host, True)
    row = transcript()
    assert row.status == CaptionsStatus.STARTING and not row.redispatched


def test_a_captioner_that_leaves_with_everyone_is_not_dispatched_again(
    client, api_token, live, fake_rooms, send, deliver
):
    meeting, room, host = live
    deliver(participant_event("participant_joined", room, "host", "PA_host"))
    switch(client, api_token, meeting, host, True)
    job_id = transcript().job_id
    deliver(participant_event("participant_left", room, "host", "PA_host"))
    deliver(captioner_left(room, job_id))
    wait_for_background_work()
    row = transcript()
    assert (row.status, row.reason) == (CaptionsStatus.OFF, state.ROOM_CLOSED)
    assert len(dispatches(fake_rooms)) == 1
    assert fake_rooms.metadata[room] == {"captions": "off"}


def test_a_captioner_leaving_after_captions_were_turned_off_changes_nothing(
    client, api_token, live, fake_rooms, deliver
):
    meeting, room, host = live
    deliver(participant_event("participant_joined", room, "host", "PA_host"))
    switch(client, api_token, meeting, host, True)
    job_id = transcript().job_id
    switch(client, api_token, meeting, host, False)
    deliver(captioner_left(room, job_id))
    wait_for_background_work()
    assert transcript().status == CaptionsStatus.OFF
    assert len(dispatches(fake_rooms)) == 1
