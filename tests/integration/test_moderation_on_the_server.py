"""Host moderation against a real livekit-server: the server, not the page, enforces it."""

import asyncio

import numpy as np
import pytest
from livekit import rtc

from meetings import livekit_gateway as gateway
from tests.support.live import run_in_thread
from tests.support.live_meetings import (
    api,
    disconnected,
    joined_room_name,
    live_meeting,
    moderate,
    server_view,
)
from tests.support.synthetic import connect, publish_test_pattern
from tests.support.waiting import wait_for_async

pytestmark = pytest.mark.livekit


async def publish_microphone(room: rtc.Room) -> rtc.LocalTrackPublication:
    source = rtc.AudioSource(48000, 1)
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    publication = await room.local_participant.publish_track(track, options)
    silence = np.zeros(480, dtype=np.int16).tobytes()
    await source.capture_frame(rtc.AudioFrame(silence, 48000, 1, 480))
    return publication


def test_mute_is_seen_by_the_server_and_a_removed_person_gets_no_new_token(live_stack):
    slug, room_name, host, member = live_meeting(live_stack)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    status, ticket = api(live_stack, slug, "tokens", member)
    assert status == 201

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        try:
            await publish_microphone(member_room)
            await wait_for_async(
                lambda: server_view(live_stack, room_name, ticket["identity"]).tracks
            )
            assert await moderate(live_stack, slug, ticket["identity"], "mute", host) == 200
            seen = await asyncio.to_thread(server_view, live_stack, room_name, ticket["identity"])
            assert seen.track("microphone").muted

            assert await moderate(live_stack, slug, ticket["identity"], "remove", host) == 200
            await wait_for_async(disconnected(member_room))
        finally:
            await member_room.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    status, refusal = api(live_stack, slug, "tokens", member)
    assert (status, refusal["error"]["code"]) == (403, "removed")
    assert server_view(live_stack, room_name, ticket["identity"]) is None


def test_a_removed_person_who_comes_back_with_the_old_token_is_removed_again(live_stack):
    slug, room_name, host, member = live_meeting(live_stack)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    _, ticket = api(live_stack, slug, "tokens", member)

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        try:
            assert await moderate(live_stack, slug, ticket["identity"], "remove", host) == 200
            await wait_for_async(disconnected(member_room))
            # The token they kept is valid for another hour; the server lets them in...
            back = await connect(ticket["livekit_url"], ticket["token"])
            try:
                # ...and the app, told by the participant_joined webhook, removes them again.

                def turned_away():
                    """the returning participant was disconnected by the server"""
                    return back.connection_state != rtc.ConnectionState.CONN_CONNECTED

                await wait_for_async(turned_away, timeout=15)
            finally:
                await back.disconnect()
        finally:
            await member_room.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    assert server_view(live_stack, room_name, ticket["identity"]) is None


def test_a_promoted_attendee_publishes_without_rejoining(live_stack):
    slug, _, host, member = live_meeting(live_stack, webinar=True)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    _, ticket = api(live_stack, slug, "tokens", member)
    assert ticket["can_publish"] is False

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        attendee = await connect(ticket["livekit_url"], ticket["token"])
        try:
            assert await moderate(live_stack, slug, ticket["identity"], "promote", host) == 200
            await wait_for_async(lambda: attendee.local_participant.permissions.can_publish)
            feeder = await publish_test_pattern(attendee)
            remote = host_room.remote_participants
            await wait_for_async(
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
    slug, room_name, host, member = live_meeting(live_stack)
    assert api(live_stack, slug, "tokens", host)[0] == 201  # provisions the room
    _, ticket = api(live_stack, slug, "tokens", member)
    reasons = []

    async def scenario():
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        member_room.on("disconnected", reasons.append)
        try:
            ended = await asyncio.to_thread(api, live_stack, slug, "end", host)
            assert ended[0] == 200
            await wait_for_async(lambda: reasons)
        finally:
            await member_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    assert reasons == [rtc.DisconnectReason.ROOM_DELETED]
    rooms = run_in_thread(lambda: live_stack.query(gateway.list_room_names))
    assert room_name not in rooms
    status, refusal = api(live_stack, slug, "tokens", member)
    assert (status, refusal["error"]["code"]) == (410, "meeting_ended")


def test_a_waiting_person_gets_a_working_token_once_admitted(live_stack):
    slug, room_name, host, member = live_meeting(live_stack, lobby=True)
    status, place = api(live_stack, slug, "tokens", member)
    assert (status, place["position"]) == (202, 1)
    path = f"/api/v1/meetings/{slug}/lobby/{place['lobby_id']}"
    assert live_stack.http("GET", path, headers=member)[1]["status"] == "waiting"
    assert api(live_stack, slug, f"lobby/{place['lobby_id']}/admit", host)[0] == 200
    status, ticket = live_stack.http("GET", path, headers=member)
    assert status == 200

    assert joined_room_name(ticket) == room_name
