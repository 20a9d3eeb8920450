"""The room is provisioned once per occurrence, yet every token the app hands out opens a
room that exists on the real livekit-server (its auto_create is off)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.conftest import PASSWORD, first_room, run_in_thread
from tests.support.synthetic import connect

pytestmark = pytest.mark.livekit


def schedule(stack):
    """A meeting open now: its slug, room, and the host's and a member's API headers."""

    def create():
        stamp = time.monotonic_ns()
        host = auth_services.create_user(
            f"prov-host-{stamp}@example.com", "Pat Host", PASSWORD, email_verified=True
        )
        member = auth_services.create_user(
            f"prov-member-{stamp}@example.com", "Mel", PASSWORD, email_verified=True
        )
        start = datetime.now(UTC) + timedelta(minutes=2)
        meeting = create_meeting(host, MeetingSettings("Reopened", start, 60, lobby=False))
        headers = [
            {"Authorization": f"Bearer {auth_services.issue_api_token(user, 't')}"}
            for user in (host, member)
        ]
        return meeting.slug, first_room(meeting), *headers

    return stack.query(create)


def joins(ticket: dict) -> str:
    """Connect with the ticket's token as a real participant; the room's name once in."""

    async def join():
        room = await connect(ticket["livekit_url"], ticket["token"])
        await room.disconnect()
        return room.name

    return run_in_thread(lambda: asyncio.run(join()))


def test_after_the_host_ended_and_reopened_the_meeting_a_member_can_still_join(live_stack):
    slug, room_name, host, member = schedule(live_stack)
    tokens = f"/api/v1/meetings/{slug}/tokens"
    assert live_stack.http("POST", tokens, {}, host)[0] == 201  # creates the room
    status, ticket = live_stack.http("POST", tokens, {}, member)  # finds it provisioned
    assert status == 201
    assert joins(ticket) == room_name

    assert live_stack.http("POST", f"/api/v1/meetings/{slug}/end", {}, host)[0] == 200
    rooms = run_in_thread(lambda: live_stack.query(gateway.list_room_names))
    assert room_name not in rooms
    # Moments later, well inside the time a provisioned room is trusted to stay open.
    assert live_stack.http("POST", tokens, {}, host)[0] == 201  # the host reopens
    status, ticket = live_stack.http("POST", tokens, {}, member)
    assert status == 201
    assert joins(ticket) == room_name
