"""Meetings on the live tiers: a host and a member with API tokens, the app's API as they
call it, and the server's own view of the people in a room."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from livekit import rtc

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.support.accounts import PASSWORD
from tests.support.live import LiveStack, run_in_thread
from tests.support.rooms import first_room
from tests.support.synthetic import connect


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {auth_services.issue_api_token(user, 't')}"}


def meeting_with_member(
    title: str, host_name: str = "Mo Host", member_name: str = "Pam Member", **settings
) -> tuple[str, str, dict, dict]:
    """In an app context: a new host's meeting opening in two minutes (no lobby unless
    `settings` say so) and a member, both with API tokens: (slug, first room name, host's
    headers, member's headers)."""
    stamp = time.monotonic_ns()
    host = auth_services.create_user(
        f"host-{stamp}@example.com", host_name, PASSWORD, email_verified=True
    )
    member = auth_services.create_user(
        f"member-{stamp}@example.com", member_name, PASSWORD, email_verified=True
    )
    fields = {"duration_minutes": 60, "lobby": False} | settings
    start = datetime.now(UTC) + timedelta(minutes=2)
    meeting = create_meeting(host, MeetingSettings(title, start, **fields))
    return meeting.slug, first_room(meeting), bearer(host), bearer(member)


def api(stack: LiveStack, slug: str, path: str, headers: dict, body=None):
    """POST to one of the meeting's API routes on the live app: (status, body)."""
    return stack.http("POST", f"/api/v1/meetings/{slug}/{path}", body or {}, headers)


async def moderate(stack: LiveStack, slug: str, identity: str, action: str, headers: dict) -> int:
    """A moderation call on a participant from inside a scenario's event loop; its status."""
    path = f"participants/{identity}/{action}"
    status, _ = await asyncio.to_thread(api, stack, slug, path, headers)
    return status


def server_view(stack: LiveStack, room: str, identity: str):
    """The participant as the server sees them, or None once they are gone."""

    def look():
        try:
            return gateway.get_participant(room, identity)
        except gateway.RoomNotFound:
            return None

    return run_in_thread(lambda: stack.query(look))


def joined_room_name(ticket: dict) -> str:
    """Connect with the ticket's token as a real participant; the room's name once in."""

    async def join():
        room = await connect(ticket["livekit_url"], ticket["token"])
        await room.disconnect()
        return room.name

    return run_in_thread(lambda: asyncio.run(join()))


def disconnected(room: rtc.Room) -> Callable[[], bool]:
    """A condition for `wait_for_async`: the server has ended this SDK room's connection."""

    def check() -> bool:
        """the participant was disconnected"""
        return room.connection_state != rtc.ConnectionState.CONN_CONNECTED

    return check


def live_meeting(stack: LiveStack, title: str = "Moderated", **settings):
    """`meeting_with_member` in the live app's database."""
    return stack.query(lambda: meeting_with_member(title, **settings))
