"""The schedule drives the real media server: rooms per occurrence, capacity, webinar grants."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from livekit import rtc

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.support.accounts import PASSWORD
from tests.support.live import run_in_thread
from tests.support.rooms import first_room
from tests.support.synthetic import connect, publish_test_pattern

pytestmark = pytest.mark.livekit


def schedule(stack, **settings):
    """A host with an API token and a meeting that is open now; returns (slug, room, headers)."""

    def create():
        host = auth_services.create_user(
            f"host-{time.monotonic_ns()}@example.com", "Server Host", PASSWORD, email_verified=True
        )
        fields = {"duration_minutes": 60, "lobby": False} | settings
        meeting = create_meeting(
            host,
            MeetingSettings("On the server", datetime.now(UTC) + timedelta(minutes=2), **fields),
        )
        token = auth_services.issue_api_token(host, "t")
        return meeting.slug, first_room(meeting), {"Authorization": f"Bearer {token}"}

    return stack.query(create)


def ticket(stack, slug, headers=None, name="Guest"):
    body = {} if headers else {"display_name": name}
    return stack.http("POST", f"/api/v1/meetings/{slug}/tokens", body, headers)


def test_first_token_provisions_the_occurrence_room_with_its_settings(live_stack):
    slug, room, headers = schedule(live_stack, max_participants=6)
    status, _ = ticket(live_stack, slug, headers)
    assert status == 201
    rooms = run_in_thread(lambda: live_stack.query(gateway.list_rooms))
    [created] = [r for r in rooms if r.name == room]
    assert created.max_participants == 6
    assert created.metadata["slug"] == slug
    assert created.metadata["title"] == "On the server"
    occurrence_start = datetime.strptime(room[-12:], "%Y%m%d%H%M")
    assert created.metadata["occurrence"] == occurrence_start.strftime("%Y%m%dT%H%MZ")


def test_third_person_is_refused_when_two_are_in_a_room_for_two(live_stack):
    slug, _, headers = schedule(live_stack, max_participants=2)
    _, host_ticket = ticket(live_stack, slug, headers)
    status, guest_ticket = ticket(live_stack, slug, name="Second")
    assert status == 201

    async def two_in_then_third_asks():
        first = await connect(host_ticket["livekit_url"], host_ticket["token"])
        second = await connect(guest_ticket["livekit_url"], guest_ticket["token"])
        try:
            # A fresh client (no cookies): a third person.
            return await asyncio.to_thread(ticket, live_stack, slug, None, "Third")
        finally:
            await second.disconnect()
            await first.disconnect()

    status, body = run_in_thread(lambda: asyncio.run(two_in_then_third_asks()))
    assert status == 409
    assert body["error"]["code"] == "meeting_full"


def test_webinar_attendee_cannot_publish_but_the_host_can(live_stack):
    slug, _, headers = schedule(live_stack, webinar=True)
    _, host_ticket = ticket(live_stack, slug, headers)
    _, attendee_ticket = ticket(live_stack, slug, name="Viewer")
    assert attendee_ticket["can_publish"] is False

    async def try_both():
        host = await connect(host_ticket["livekit_url"], host_ticket["token"])
        attendee = await connect(attendee_ticket["livekit_url"], attendee_ticket["token"])
        try:
            feeder = await publish_test_pattern(host)
            feeder.cancel()
            source = rtc.VideoSource(64, 64)
            track = rtc.LocalVideoTrack.create_video_track("camera", source)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
            try:
                await asyncio.wait_for(attendee.local_participant.publish_track(track, options), 10)
            except Exception as error:  # the SDK raises when the server refuses
                return len(host.local_participant.track_publications), str(error)
            return len(host.local_participant.track_publications), None
        finally:
            await attendee.disconnect()
            await host.disconnect()

    host_tracks, attendee_error = run_in_thread(lambda: asyncio.run(try_both()))
    assert host_tracks == 1
    assert attendee_error is not None, "the server let a webinar attendee publish"


def test_a_token_outside_the_window_is_refused(live_stack):
    slug, _, _ = schedule(live_stack)
    late_slug, _, _ = schedule(live_stack)

    def push_later():
        from meetings.extensions import db
        from meetings.models import Meeting

        meeting = db.session.scalar(db.select(Meeting).where(Meeting.slug == late_slug))
        meeting.starts_at = datetime.now(UTC) + timedelta(hours=3)
        meeting.series_ends_at = meeting.starts_at + timedelta(hours=1)
        db.session.commit()

    live_stack.query(push_later)
    status, body = ticket(live_stack, late_slug)
    assert (status, body["error"]["code"]) == (409, "not_open_yet")
    assert ticket(live_stack, slug)[0] == 201
