"""The schedule as people meet it: waiting for the host, a full room, a meeting not open yet."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from meetings.auth import services as auth_services
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.browser.conftest import screenshot
from tests.browser.test_two_browsers_meet import join, wait_for_remote_video
from tests.conftest import PASSWORD
from tests.synthetic import BackgroundParticipants

pytestmark = pytest.mark.browser


def scheduled(stack, starts_in: timedelta = timedelta(minutes=1), **settings) -> tuple[str, str]:
    """A meeting by a new host; returns (slug, host email)."""

    def create():
        email = f"host-{time.monotonic_ns()}@example.com"
        host = auth_services.create_user(email, "Hilde Host", PASSWORD)
        fields = {"duration_minutes": 60} | settings
        start = datetime.now(UTC) + starts_in
        return create_meeting(host, MeetingSettings("Scheduled call", start, **fields)).slug, email

    return stack.query(create)


def sign_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Upcoming meetings", exact=True)).to_be_visible()


def test_guest_waits_for_the_host_and_the_page_joins_by_itself(open_context, live_stack):
    slug, host_email = scheduled(live_stack, join_before_host=False)
    guest = open_context().new_page()
    guest.goto(f"/m/{slug}")
    join_waiting = guest.get_by_text("Waiting for the host to start the meeting")
    guest.get_by_label("Your name").fill("Patient Pia")
    guest.get_by_role("button", name="Join meeting").click()
    expect(join_waiting).to_be_visible()
    screenshot(guest, "waiting-for-host")

    host = open_context().new_page()
    sign_in(host, host_email)
    host.goto(f"/m/{slug}")
    join(host)
    expect(guest.locator("#connection-status")).to_have_text("Connected", timeout=15_000)
    wait_for_remote_video(guest)
    wait_for_remote_video(host)


def test_a_full_meeting_tells_the_third_person(open_context, live_stack):
    slug, _ = scheduled(live_stack, max_participants=2)
    tickets = [
        live_stack.http("POST", f"/api/v1/meetings/{slug}/tokens", {"display_name": name})[1]
        for name in ("Synth One", "Synth Two")
    ]

    page = open_context().new_page()
    with BackgroundParticipants(tickets):
        page.goto(f"/m/{slug}")
        page.get_by_label("Your name").fill("Third Theo")
        page.get_by_role("button", name="Join meeting").click()
        expect(page.get_by_role("alert")).to_contain_text("This meeting is full")
        screenshot(page, "meeting-full")


def test_a_meeting_that_has_not_opened_shows_a_countdown(open_context, live_stack):
    slug, _ = scheduled(live_stack, starts_in=timedelta(hours=2))
    page = open_context().new_page()
    page.goto(f"/m/{slug}")
    expect(page.get_by_role("heading", name="This meeting has not opened yet")).to_be_visible()
    expect(page.locator("#countdown")).to_contain_text("Opens in 1:4")
    screenshot(page, "not-open-yet")
