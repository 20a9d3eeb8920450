"""The room is provisioned once per occurrence, yet every token the app hands out opens a
room that exists on the real livekit-server (its auto_create is off)."""

import pytest

from meetings import livekit_gateway as gateway
from tests.support.live import run_in_thread
from tests.support.live_meetings import joined_room_name, live_meeting

pytestmark = pytest.mark.livekit


def test_after_the_host_ended_and_reopened_the_meeting_a_member_can_still_join(live_stack):
    slug, room_name, host, member = live_meeting(
        live_stack, "Reopened", host_name="Pat Host", member_name="Mel"
    )
    tokens = f"/api/v1/meetings/{slug}/tokens"
    assert live_stack.http("POST", tokens, {}, host)[0] == 201  # creates the room
    status, ticket = live_stack.http("POST", tokens, {}, member)  # finds it provisioned
    assert status == 201
    assert joined_room_name(ticket) == room_name

    assert live_stack.http("POST", f"/api/v1/meetings/{slug}/end", {}, host)[0] == 200
    rooms = run_in_thread(lambda: live_stack.query(gateway.list_room_names))
    assert room_name not in rooms
    # Moments later, well inside the time a provisioned room is trusted to stay open.
    assert live_stack.http("POST", tokens, {}, host)[0] == 201  # the host reopens
    status, ticket = live_stack.http("POST", tokens, {}, member)
    assert status == 201
    assert joined_room_name(ticket) == room_name
