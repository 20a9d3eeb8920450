"""Host moderation against a real livekit-server: the server, not the page, enforces it."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from livekit import rtc

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.conftest import PASSWORD, first_room, run_in_thread
from tests.support.synthetic import connect, publish_test_pattern

pytestmark = pytest.mark.livekit


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {auth_services.issue_api_token(user, 't')}"}


def schedule(stack, **settings):
    """A meeting open now, its host's and a participant's API headers, and its room."""

    def create():
        stamp = time.monotonic_ns()
        host = auth_services.create_user(
            f"mod-host-{stamp}@example.com", "Mo Host", PASSWORD, email_verified=True
        )
        member = auth_services.create_user(
            f"member-{stamp}@example.com", "Pam Member", PASSWORD, email_verified=True
        )
        fields = {"duration_minutes": 60, "lobby": False} | settings
        start = datetime.now(UTC) + timedelta(minutes=2)
        meeting = create_meeting(host, MeetingSettings("Moderated", start, **fields))
        return meeting.slug, first_room(meeting), bearer(host), bearer(member)

    return stack.query(create)


def api(stack, slug, path, headers, body=None):
    return stack.http("POST", f"/api/v1/meetings/{slug}/{path}", body or {}, headers)


def server_view(stack, room, identity):
    """The participant as the server sees them, or None once they are gone."""

    def look():
        try:
            return gateway.get_participant(room, identity)
        except gateway.RoomNotFound:
            return None

    return run_in_thread(lambda: stack.query(look))


async def publish_microphone(room: rtc.Room) -> rtc.LocalTrackPublication:
    source = rtc.AudioSource(48000, 1)
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    publication = await room.local_participant.publish_track(track, options)
    silence = np.zeros(480, dtype=np.int16).tobytes()
    await source.capture_frame(rtc.AudioFrame(silence, 48000, 1, 480))
    return publication


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout}s: {predicate.__doc__}"
        await asyncio.sleep(0.1)


def test_mute_is_seen_by_the_server_and_a_removed_person_gets_no_new_token(live_stack):
    slug, room_name, host, member = schedule(live_stack)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    status, ticket = api(live_stack, slug, "tokens", member)
    assert status == 201

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        try:
            await publish_microphone(member_room)
            await until(lambda: server_view(live_stack, room_name, ticket["identity"]).tracks)
            muted = await asyncio.to_thread(
                api, live_stack, slug, f"participants/{ticket['identity']}/mute", host
            )
            assert muted[0] == 200
            seen = await asyncio.to_thread(server_view, live_stack, room_name, ticket["identity"])
            assert seen.track("microphone").muted

            removed = await asyncio.to_thread(
                api, live_stack, slug, f"participants/{ticket['identity']}/remove", host
            )
            assert removed[0] == 200
            await until(lambda: member_room.connection_state != rtc.ConnectionState.CONN_CONNECTED)
        finally:
            await member_room.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    status, refusal = api(live_stack, slug, "tokens", member)
    assert (status, refusal["error"]["code"]) == (403, "removed")
    assert server_view(live_stack, room_name, ticket["identity"]) is None


def test_a_removed_person_who_comes_back_with_the_old_token_is_removed_again(live_stack):
    slug, room_name, host, member = schedule(live_stack)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    _, ticket = api(live_stack, slug, "tokens", member)

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        try:
            removed = await asyncio.to_thread(
                api, live_stack, slug, f"participants/{ticket['identity']}/remove", host
            )
            assert removed[0] == 200
            await until(lambda: member_room.connection_state != rtc.ConnectionState.CONN_CONNECTED)
            # The token they kept is valid for another hour; the server lets them in...
            back = await connect(ticket["livekit_url"], ticket["token"])
            try:
                # ...and the app, told by the participant_joined webhook, removes them again.

                def turned_away():
                    """the returning participant was disconnected by the server"""
                    return back.connection_state != rtc.ConnectionState.CONN_CONNECTED

                await until(turned_away, timeout=15)
            finally:
                await back.disconnect()
        finally:
            await member_room.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    assert server_view(live_stack, room_name, ticket["identity"]) is None


def test_a_promoted_attendee_publishes_without_rejoining(live_stack):
    slug, _, host, member = schedule(live_stack, webinar=True)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    _, ticket = api(live_stack, slug, "tokens", member)
    assert ticket["can_publish"] is False

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        attendee = await connect(ticket["livekit_url"], ticket["token"])
        try:
            promoted = await asyncio.to_thread(
                api, live_stack, slug, f"participants/{ticket['identity']}/promote", host
            )
            assert promoted[0] == 200
            await until(lambda: attendee.local_participant.permissions.can_publish)
            feeder = await publish_test_pattern(attendee)
            remote = host_room.remote_participants
            await until(
                lambda: (
                    ticket["identity"] in remote and remote[ticket["identity"]].track_publications
                )
            )
            feeder.cancel()
        finally:
            await attendee.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))


def test_end_for_all_disconnects_everyone_and_deletes_the_room(live_stack):
    slug, room_name, host, member = schedule(live_stack)
    assert api(live_stack, slug, "tokens", host)[0] == 201  # provisions the room
    _, ticket = api(live_stack, slug, "tokens", member)
    reasons = []

    async def scenario():
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        member_room.on("disconnected", reasons.append)
        try:
            ended = await asyncio.to_thread(api, live_stack, slug, "end", host)
            assert ended[0] == 200
            await until(lambda: reasons)
        finally:
            await member_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    assert reasons == [rtc.DisconnectReason.ROOM_DELETED]
    rooms = run_in_thread(lambda: live_stack.query(gateway.list_room_names))
    assert room_name not in rooms
    status, refusal = api(live_stack, slug, "tokens", member)
    assert (status, refusal["error"]["code"]) == (410, "meeting_ended")


def test_a_waiting_person_gets_a_working_token_once_admitted(live_stack):
    slug, room_name, host, member = schedule(live_stack, lobby=True)
    status, place = api(live_stack, slug, "tokens", member)
    assert (status, place["position"]) == (202, 1)
    path = f"/api/v1/meetings/{slug}/lobby/{place['lobby_id']}"
    assert live_stack.http("GET", path, headers=member)[1]["status"] == "waiting"
    assert api(live_stack, slug, f"lobby/{place['lobby_id']}/admit", host)[0] == 200
    status, ticket = live_stack.http("GET", path, headers=member)
    assert status == 200

    async def join():
        room = await connect(ticket["livekit_url"], ticket["token"])
        await room.disconnect()
        return room.name

    assert run_in_thread(lambda: asyncio.run(join())) == room_name
