"""The ledger with real parts: three synthetic participants join and leave a real
livekit-server at different times; the session, each person's interval and the published
track come out of the server's own webhooks, and match what the test did within the
server's one-second resolution."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import MeetingSession, TrackPublication, WebhookEvent
from tests.integration.test_join_and_attendance import create_host_and_meeting
from tests.support.live import run_in_thread
from tests.support.synthetic import connect, publish_test_pattern
from tests.support.waiting import wait_for

pytestmark = pytest.mark.livekit
DEPARTURE_TIMEOUT = 2  # the room closes this long after the last person leaves


def ops_headers(stack) -> dict[str, str]:
    def issue():
        user = auth_services.find_user_by_email("ops@example.com")
        return {"Authorization": f"Bearer {auth_services.issue_api_token(user, 'ledger')}"}

    return stack.query(issue)


def stamp(moment: str | None) -> float | None:
    return datetime.fromisoformat(moment).timestamp() if moment else None


def test_three_people_come_and_go_and_the_ledger_says_when(live_stack, monkeypatch):
    monkeypatch.setitem(live_stack.app.config, "LIVEKIT_DEPARTURE_TIMEOUT_SECONDS", 2)
    slug, room_name, host_headers = create_host_and_meeting(live_stack)
    tokens = f"/api/v1/meetings/{slug}/tokens"
    first_token_at = time.time()
    tickets = {"host": live_stack.http("POST", tokens, {}, host_headers)[1]}
    for name in ("Ada", "Bob"):  # no cookies between calls: two different guests
        status, tickets[name] = live_stack.http("POST", tokens, {"display_name": name})
        assert status == 201
    ops = ops_headers(live_stack)
    did: dict[str, list[float]] = {}  # name -> [before connect, after, before leave, after]

    def live_room():
        """the room is listed with all three people, by the server and by the webhooks"""
        status, body = live_stack.http("GET", "/api/v1/ops/rooms", headers=ops)
        assert status == 200
        room = next((r for r in body["items"] if r["name"] == room_name), None)
        ready = room and room["participants"] == 3 and room["ledger_participants"] == 3
        return room if ready else None

    async def meeting():
        rooms = {}

        async def join(name: str) -> None:
            before = time.time()
            rooms[name] = await connect(tickets[name]["livekit_url"], tickets[name]["token"])
            did[name] = [before, time.time()]

        async def leave(name: str) -> None:
            before = time.time()
            await rooms[name].disconnect()
            did[name] += [before, time.time()]

        await join("host")
        camera = await publish_test_pattern(rooms["host"])
        # The pauses are the scenario: livekit-server (another process) stamps each join and
        # leave in whole seconds with its own clock, and the ledger must keep them apart.
        await asyncio.sleep(1.5)
        await join("Ada")
        await asyncio.sleep(1.5)
        await join("Bob")
        room = await asyncio.to_thread(wait_for, live_room, 15)
        await asyncio.sleep(1)
        await leave("Ada")
        await asyncio.sleep(1.5)
        camera.cancel()
        await leave("host")
        await asyncio.sleep(1.5)
        await leave("Bob")
        return room

    live = run_in_thread(lambda: asyncio.run(meeting()))
    assert live["meeting"]["slug"] == slug and live["unknown_room"] is False

    def finished_session():
        """room_finished has arrived"""
        status, body = live_stack.http(
            "GET", f"/api/v1/meetings/{slug}/sessions", headers=host_headers
        )
        assert status == 200
        return body["items"] if body["items"] and body["items"][0]["ended_at"] else None

    (session,) = wait_for(finished_session, timeout=30)
    assert first_token_at - 1 <= stamp(session["started_at"]) <= did["host"][1] + 1
    last_leave = did["Bob"][3]
    assert last_leave - 1 <= stamp(session["ended_at"]) <= last_leave + DEPARTURE_TIMEOUT + 3
    assert session["end_inferred"] is False
    assert (session["peak_participants"], session["total_participants"]) == (3, 3)

    status, rows = live_stack.http(
        "GET", f"/api/v1/meetings/{slug}/attendance", headers=host_headers
    )
    assert status == 200
    by_name = {row["display_name"]: row for row in rows}
    assert set(by_name) == {"Hazel Host", "Ada", "Bob"}
    for name, row in by_name.items():
        before_join, after_join, before_leave, after_leave = did[
            "host" if name == "Hazel Host" else name
        ]
        joined, left = stamp(row["joined_at"]), stamp(row["left_at"])
        assert before_join - 1 <= joined <= after_join + 1, name
        assert before_leave - 1 <= left <= after_leave + 1, name
        assert abs(row["seconds"] - (left - joined)) <= 1, name
        assert row["session_id"] == session["id"]
    # The order people came and went is the order the test made them.
    assert sorted(by_name, key=lambda n: by_name[n]["joined_at"]) == ["Hazel Host", "Ada", "Bob"]
    assert sorted(by_name, key=lambda n: by_name[n]["left_at"]) == ["Ada", "Hazel Host", "Bob"]
    assert session["participant_seconds"] == sum(row["seconds"] for row in rows)

    def from_the_server():
        kinds = db.session.scalars(
            db.select(WebhookEvent.event).where(WebhookEvent.room_name == room_name)
        ).all()
        tracks = db.session.execute(
            db.select(TrackPublication.identity, TrackPublication.kind, TrackPublication.source)
            .join(MeetingSession, TrackPublication.session_id == MeetingSession.id)
            .where(MeetingSession.room_name == room_name)
        ).all()
        return sorted(kinds), tracks

    kinds, tracks = live_stack.query(from_the_server)
    assert kinds.count("participant_joined") == kinds.count("participant_left") == 3
    assert {"room_started", "room_finished", "track_published"} <= set(kinds)
    assert [tuple(track) for track in tracks] == [(tickets["host"]["identity"], "video", "camera")]


def test_reconcile_closes_what_the_server_no_longer_has(live_stack):
    """A session whose room_finished was lost is closed (inferred); a room the server has
    is left open, and one the ledger never heard of gets a session."""
    lost_sid = f"RM_lost{time.monotonic_ns()}"
    heard_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    def open_a_session_whose_end_was_lost():
        db.session.add(
            MeetingSession(
                room_sid=lost_sid,
                room_name="meeting-lost-finished",
                started_at=heard_at - timedelta(minutes=20),
                last_event_at=heard_at,
            )
        )
        db.session.commit()

    live_stack.query(open_a_session_whose_end_was_lost)
    room = f"reconcile-{time.monotonic_ns()}"
    run_in_thread(
        lambda: live_stack.query(
            lambda: gateway.ensure_room(room, empty_timeout=60, departure_timeout=5)
        )
    )

    def started():
        """the room's room_started webhook has arrived"""
        query = db.select(MeetingSession).where(MeetingSession.room_name == room)
        return live_stack.query(lambda: db.session.scalar(query) is not None)

    wait_for(started)

    def forget_it():  # as if room_started had been lost
        db.session.execute(db.delete(MeetingSession).where(MeetingSession.room_name == room))
        db.session.commit()

    live_stack.query(forget_it)
    result = run_in_thread(
        lambda: live_stack.app.test_cli_runner().invoke(args=["livekit", "reconcile"])
    )
    assert result.exit_code == 0, result.output
    assert f"Closed meeting-lost-finished ({lost_sid})" in result.output
    assert f"Opened {room}" in result.output

    def sessions():
        rows = db.session.scalars(
            db.select(MeetingSession).where(
                MeetingSession.room_name.in_(["meeting-lost-finished", room])
            )
        )
        return {row.room_name: (row.ended_at, row.end_inferred) for row in rows}

    after = live_stack.query(sessions)
    assert after["meeting-lost-finished"] == (heard_at, True)
    assert after[room] == (None, False)
