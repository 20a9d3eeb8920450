"""The core loop with real parts: REST tokens, two peers in the room, attendance from the
server's own webhooks."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import WebhookEvent
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.support.live import run_in_thread
from tests.support.rooms import first_room
from tests.support.synthetic import connect
from tests.support.waiting import wait_for

pytestmark = pytest.mark.livekit


def create_host_and_meeting(stack):
    def create():
        host = auth_services.create_user(
            f"host-{time.monotonic_ns()}@example.com",
            "Hazel Host",
            "a-long-password",
            email_verified=True,
        )
        settings = MeetingSettings(
            "Integration sync",
            datetime.now(UTC) + timedelta(minutes=5),
            duration_minutes=30,
            lobby=False,
        )
        meeting = create_meeting(host, settings)
        token = auth_services.issue_api_token(host, "integration")
        return meeting.slug, first_room(meeting), {"Authorization": f"Bearer {token}"}

    return stack.query(create)


def test_two_rest_tokens_meet_and_attendance_comes_from_webhooks(live_stack):
    slug, room_name, host_headers = create_host_and_meeting(live_stack)
    tokens_path = f"/api/v1/meetings/{slug}/tokens"
    host_status, host_ticket = live_stack.http("POST", tokens_path, {}, host_headers)
    guest_status, guest_ticket = live_stack.http("POST", tokens_path, {"display_name": "Gus"})
    assert host_status == guest_status == 201

    async def meet():
        host = await connect(host_ticket["livekit_url"], host_ticket["token"])
        guest = await connect(guest_ticket["livekit_url"], guest_ticket["token"])
        joined = time.time()
        in_room = await asyncio.to_thread(
            live_stack.query, lambda: gateway.list_participants(room_name)
        )
        # Real time in the room: the server stamps joins and leaves with its own clock (another
        # process, nothing to inject), and the attendance must show the time spent.
        await asyncio.sleep(1.5)
        await guest.disconnect()
        await host.disconnect()
        return in_room, joined, time.time()

    in_room, joined, left = run_in_thread(lambda: asyncio.run(meet()))
    assert {p.identity for p in in_room} == {host_ticket["identity"], guest_ticket["identity"]}

    def attendance_complete():
        """both participants have a join and a leave time"""
        path = f"/api/v1/meetings/{slug}/attendance"
        status, rows = live_stack.http("GET", path, headers=host_headers)
        assert status == 200
        done = len(rows) == 2 and all(row["left_at"] for row in rows)
        return rows if done else None

    rows = wait_for(attendance_complete, timeout=20)
    by_identity = {row["identity"]: row for row in rows}
    assert by_identity[host_ticket["identity"]]["display_name"] == "Hazel Host"
    assert by_identity[guest_ticket["identity"]]["display_name"] == "Gus"
    for row in rows:
        joined_at = datetime.fromisoformat(row["joined_at"]).timestamp()
        left_at = datetime.fromisoformat(row["left_at"]).timestamp()
        # The server reports whole seconds; allow for that and for connection set-up.
        assert joined - 5 <= joined_at <= joined + 1
        assert left - 2 <= left_at <= left + 3
        assert left_at >= joined_at

    def delivered_events():
        query = db.select(WebhookEvent.event).where(WebhookEvent.room_name == room_name)
        return set(db.session.scalars(query))

    kinds = live_stack.query(delivered_events)
    assert {"participant_joined", "participant_left"} <= kinds
