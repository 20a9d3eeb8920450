"""The schedule as people meet it: waiting for the host, a full room, a meeting not open yet."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser_pages import (
    PHONE,
    PageProblems,
    join,
    scheduled,
    screenshot,
    sign_in,
    wait_for_video,
)
from tests.support.joining import expect_connected
from tests.support.synthetic import BackgroundParticipants

pytestmark = pytest.mark.browser


def test_guest_waits_for_the_host_and_the_page_joins_by_itself(open_context, live_stack):
    slug, host_email = scheduled(live_stack, join_before_host=False)
    guest = open_context().new_page()
    guest.goto(f"/m/{slug}")
    join_waiting = guest.get_by_text("Waiting for the host to start the meeting")
    guest.get_by_label("Your name").fill("Patient Pia")
    guest.get_by_role("button", name="Join meeting").click()
    expect(join_waiting).to_be_visible()
    # Not "Connecting…": nothing connects until the host is there (issue 17 item 8).
    expect(guest.locator("#connection-status")).to_have_text("Waiting for the host")
    screenshot(guest, "waiting-for-host")

    host = open_context().new_page()
    sign_in(host, host_email)
    host.goto(f"/m/{slug}")
    join(host)
    expect(guest.locator("#connection-status")).to_have_text("Connected", timeout=15_000)
    wait_for_video(guest)
    wait_for_video(host)


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


# With a webinar ticket, ask the browser's own SDK to publish the camera anyway: the server
# must refuse, whatever the page's buttons show.
FORCE_PUBLISH = """
async ([url, token]) => {
  const room = new window.LivekitClient.Room();
  await room.connect(url, token);
  try {
    await room.localParticipant.setCameraEnabled(true);
    return room.localParticipant.videoTrackPublications.size > 0 ? null : "nothing published";
  } catch (error) {
    return String(error.message || error);
  } finally {
    await room.disconnect();
  }
}
"""


def test_a_webinar_attendee_watches_and_cannot_publish(open_context, live_stack):
    slug, host_email = scheduled(live_stack, webinar=True)
    host = open_context().new_page()
    sign_in(host, host_email)
    host.goto(f"/m/{slug}")
    join(host)

    attendee = open_context().new_page()
    attendee.goto(f"/m/{slug}")
    expect(attendee.get_by_text("This is a webinar: you will watch and listen")).to_be_visible()
    attendee.get_by_label("Your name").fill("Watching Wes")
    attendee.get_by_role("button", name="Join meeting").click()
    expect_connected(attendee)
    wait_for_video(attendee)
    expect(attendee.get_by_role("button", name="Mute")).to_be_hidden()
    # A listener is counted and listed in People, not a tile on the stage (issue 17 item 13).
    expect(host.locator("#people-count")).to_have_text("(2)")
    expect(host.locator(".tile.remote")).to_have_count(0)
    screenshot(attendee, "webinar-attendee")

    status, ticket = live_stack.http(
        "POST", f"/api/v1/meetings/{slug}/tokens", {"display_name": "Sneaky Sam"}
    )
    assert (status, ticket["can_publish"]) == (201, False)
    refusal = attendee.evaluate(FORCE_PUBLISH, [ticket["livekit_url"], ticket["token"]])
    assert refusal is not None, "the server let a webinar attendee publish"
    assert "insufficient permissions" in refusal


def test_a_host_schedules_edits_and_cancels_a_weekly_series(open_context, live_stack):
    _, host_email = scheduled(live_stack)
    page = open_context().new_page()
    problems = PageProblems(page)
    sign_in(page, host_email)
    page.get_by_role("link", name="Schedule a meeting").first.click()
    page.get_by_label("Title").fill("Team sync")
    page.get_by_label("Repeats").select_option("weekly")
    page.get_by_role("checkbox", name="Mon").check()
    page.get_by_role("checkbox", name="Thu").check()
    page.get_by_label("Occurrences").fill("4")
    page.get_by_label("Co-hosts").fill("nobody-here@example.com")
    page.get_by_role("button", name="Schedule").click()
    expect(
        page.get_by_text("No active account with the confirmed address nobody-here@example.com")
    ).to_be_visible()
    screenshot(page, "schedule-form-error")
    page.get_by_label("Co-hosts").fill("")
    page.get_by_role("button", name="Schedule").click()

    expect(page.get_by_role("heading", name="Team sync")).to_be_visible()
    expect(page.locator(".occurrence-list li")).to_have_count(4)
    screenshot(page, "series-detail")
    page.goto("/dashboard")
    expect(page.get_by_role("link", name="Team sync", exact=True)).to_have_count(4)
    screenshot(page, "dashboard-series")

    page.get_by_role("link", name="Team sync", exact=True).first.click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Team sync (moved)")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Team sync (moved)")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel meeting").click()
    expect(page.get_by_text("This meeting was cancelled. Its link says so.")).to_be_visible()
    page.goto(page.get_by_label("Join link").input_value())
    expect(page.get_by_role("heading", name="This meeting was cancelled")).to_be_visible()
    screenshot(page, "cancelled-link")
    assert problems.errors == []


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_start_time_says_which_zone_reads_it_and_when_that_is_here(
    open_context, live_stack, viewport
):
    """Issue 17 item 7: nothing said the start time is read in the Time zone field's zone,
    and `europe/berlin` was refused."""
    _, host_email = scheduled(live_stack)
    page = open_context(viewport, timezone_id="America/New_York").new_page()
    sign_in(page, host_email)
    page.goto("/meetings/new")
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("America/New_York")  # the browser's zone by default
    start = page.get_by_label("Starts")
    expect(page.locator("#starts_at-hint")).to_have_text("Read in the Time zone field's zone.")
    start.fill("2030-01-15T15:00")
    zone.fill("europe/berlin")
    zone.dispatch_event("change")
    expect(zone).to_have_value("Europe/Berlin")
    # 15:00 in Berlin (UTC+1 in January) is 09:00 in New York (UTC-5).
    expect(page.locator("#starts_at-hint")).to_contain_text("Read in Europe/Berlin time:")
    expect(page.locator("#starts_at-hint")).to_contain_text("9:00")
    expect(page.locator("#starts_at-hint")).to_contain_text("America/New_York")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, f"schedule-time-zone-{'phone' if viewport else 'desktop'}")
