"""The lobby and host moderation as people meet them, in real browsers on a real server."""

import time

import pytest
from playwright.sync_api import Page, expect

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from tests.browser.meeting_room import open_panel
from tests.support.accounts import PASSWORD
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
from tests.support.live import run_in_thread

pytestmark = pytest.mark.browser


def host_joins(open_context, host_email: str, slug: str) -> Page:
    host = open_context().new_page()
    sign_in(host, host_email)
    host.goto(f"/m/{slug}")
    join(host)
    return host


def guest_asks(open_context, slug: str, name: str, viewport: dict | None = None) -> Page:
    guest = open_context(viewport).new_page()
    guest.goto(f"/m/{slug}")
    guest.get_by_label("Your name").fill(name)
    guest.get_by_role("button", name="Join meeting").click()
    return guest


def people_panel(page: Page) -> None:
    toggle = page.locator("#toggle-people")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def test_the_lobby_holds_guests_until_a_host_decides(open_context, live_stack):
    slug, host_email = scheduled(live_stack, lobby=True)
    pia = guest_asks(open_context, slug, "Patient Pia")
    expect(pia.get_by_text("You are number 1 in line")).to_be_visible()
    screenshot(pia, "lobby-waiting")

    host = host_joins(open_context, host_email, slug)
    problems = PageProblems(host)
    # The host hears a chime and sees who waits, with an Admit button over the stage.
    expect(
        host.get_by_role("status").filter(has_text="Patient Pia is waiting to join")
    ).to_be_visible()
    people_panel(host)
    lobby = host.get_by_role("region", name="Host controls")
    expect(lobby.get_by_text("1. Patient Pia")).to_be_visible()
    # The host is here, but nobody comes in until the host says so.
    expect(pia.get_by_text("You are number 1 in line")).to_be_visible()
    expect(pia.locator("#connection-status")).not_to_have_text("Connected")

    otto = guest_asks(open_context, slug, "Other Otto")
    expect(lobby.get_by_text("2. Other Otto")).to_be_visible()
    screenshot(host, "host-lobby")
    lobby.get_by_role("button", name="Admit Patient Pia").click()
    expect_connected(pia)
    wait_for_video(pia)
    wait_for_video(host)

    lobby.get_by_role("button", name="Deny Other Otto").click()
    expect(otto.get_by_role("alert")).to_contain_text("The host declined your request")
    expect(lobby.get_by_text("Nobody is waiting.")).to_be_visible()
    assert problems.errors == []


def test_a_host_mutes_then_removes_a_guest(open_context, live_stack):
    slug, host_email = scheduled(live_stack)
    host = host_joins(open_context, host_email, slug)
    gita = guest_asks(open_context, slug, "Gita Guest")
    expect_connected(gita)
    wait_for_video(host)

    people_panel(host)
    host.get_by_role("button", name="Mute Gita Guest").click()
    expect(gita.get_by_text("The host muted your microphone")).to_be_visible()
    room = live_stack.query(lambda: _room_of(slug))
    muted = run_in_thread(lambda: live_stack.query(lambda: _microphone_muted(room, "Gita Guest")))
    assert muted, "the server does not show Gita's microphone muted"
    screenshot(host, "host-moderation")

    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="Remove Gita Guest").click()
    expect(gita.get_by_role("heading", name="You were removed from the meeting")).to_be_visible(
        timeout=5_000
    )
    expect(host.locator(".tile.remote")).to_have_count(0)
    # Asking again from the same browser is refused by the server.
    status = gita.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'Content-Type':
        'application/json'}, body: JSON.stringify({display_name: 'Gita again'})})).status""",
        f"/api/v1/meetings/{slug}/tokens",
    )
    assert status == 403
    # The host learns that guests now wait, since the meeting had no lobby.
    expect(
        host.get_by_text("Guests now wait in the lobby for the rest of this meeting")
    ).to_be_visible()
    # Cookies cleared (a new browser): Gita is a new guest, and waits to be seen.
    back = guest_asks(open_context, slug, "Not Gita")
    expect(back.get_by_text("Waiting for a host to let you in")).to_be_visible()
    host_controls = host.get_by_role("region", name="Host controls")
    expect(host_controls.get_by_text("1. Not Gita")).to_be_visible()
    expect(host_controls.get_by_text("Guests wait here since you removed someone")).to_be_visible()
    screenshot(host, "host-guests-wait-after-removal")
    host_controls.get_by_role("button", name="Deny Not Gita").click()
    expect(back.get_by_role("alert")).to_contain_text("declined")
    host_controls.get_by_role("button", name="Let guests in directly").click()
    expect(host_controls.get_by_text("Guests wait here since you removed someone")).to_be_hidden()


def test_end_for_all_closes_every_page_and_the_room(open_context, live_stack):
    slug, host_email = scheduled(live_stack)
    host = host_joins(open_context, host_email, slug)
    guest = guest_asks(open_context, slug, "Gone Gus")
    expect_connected(guest)
    room = live_stack.query(lambda: _room_of(slug))

    people_panel(host)
    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="End for all").click()
    expect(guest.get_by_role("heading", name="The host ended the meeting")).to_be_visible(
        timeout=3_000
    )
    expect(host.get_by_role("heading", name="You ended the meeting")).to_be_visible(timeout=3_000)
    screenshot(guest, "ended-by-host")
    names = run_in_thread(lambda: live_stack.query(gateway.list_room_names))
    assert room not in names


def test_a_guest_cannot_use_the_host_endpoints(open_context, live_stack):
    slug, host_email = scheduled(live_stack)
    host_joins(open_context, host_email, slug)
    guest = guest_asks(open_context, slug, "Forging Fred")
    expect_connected(guest)
    statuses = guest.evaluate(
        """async (base) => {
          const csrf = document.querySelector('meta[name="csrf-token"]').content;
          const paths = ['end', 'lock', 'mute_all', 'lobby/x/admit', 'participants/u-1/remove'];
          const answers = [];
          for (const path of paths) {
            const response = await fetch(`${base}/${path}`, {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: '{}'});
            answers.push(response.status);
          }
          return answers;
        }""",
        f"/api/v1/meetings/{slug}",
    )
    # Refused before anything is audited: a guest has no account to act with.
    assert statuses == [401, 401, 401, 401, 401]
    expect_connected(guest)


def _room_of(slug: str) -> str:
    from meetings.models import Meeting
    from meetings.scheduling.window import window

    return window(Meeting.by_slug(slug), early_access=True).occurrence.room_name


def _microphone_muted(room: str, name: str) -> bool:
    people = gateway.list_live_participants(room)
    [person] = [p for p in people if p.name == name]
    microphone = person.track("microphone")
    return microphone is not None and microphone.muted


def test_a_promoted_attendee_publishes_a_camera_without_reloading(open_context, live_stack):
    slug, host_email = scheduled(live_stack, webinar=True)
    host = host_joins(open_context, host_email, slug)
    wes = guest_asks(open_context, slug, "Watching Wes")
    expect_connected(wes)
    camera = wes.locator("#toggle-camera")
    expect(camera).to_be_hidden()

    people_panel(host)
    host.get_by_role("button", name="Make speaker: Watching Wes").click()
    expect(camera).to_be_visible()
    if camera.get_attribute("aria-pressed") != "true":
        camera.click()
    wait_for_video(host)
    expect(host.get_by_role("button", name="Make attendee: Watching Wes")).to_be_visible()
    screenshot(wes, "promoted-speaker")


def test_a_participant_made_co_host_gets_host_controls_without_rejoining(open_context, live_stack):
    slug, host_email = scheduled(live_stack)
    email = f"member-{time.monotonic_ns()}@example.com"
    live_stack.query(
        lambda: auth_services.create_user(email, "Mia Member", PASSWORD, email_verified=True)
    )
    host = host_joins(open_context, host_email, slug)
    mia = host_joins(open_context, email, slug)
    problems = PageProblems(mia)
    people_panel(mia)
    expect(mia.get_by_role("region", name="Host controls")).to_have_count(0)

    people_panel(host)
    host.get_by_role("button", name="Make Mia Member a co-host").click()
    expect(mia.get_by_text("A host made you a co-host")).to_be_visible()
    controls = mia.get_by_role("region", name="Host controls")
    expect(controls).to_be_visible()
    # The server takes her word as a host's now: locking turns a newcomer away.
    controls.get_by_role("button", name="Lock meeting").click()
    expect(controls.get_by_role("button", name="Unlock meeting")).to_have_attribute(
        "aria-pressed", "true"
    )
    screenshot(mia, "co-host-mid-call")
    late = guest_asks(open_context, slug, "Late Larry")
    expect(late.get_by_role("alert")).to_contain_text("The host locked this meeting")

    # Taking the role back works the same way: her page drops the host controls at once.
    host.get_by_role("button", name="Take Mia Member's co-host role").click()
    expect(mia.get_by_text("A host took your co-host role.")).to_be_visible()
    expect(controls).to_have_count(0)
    assert problems.errors == []


def test_a_locked_meeting_turns_newcomers_away_until_unlocked(open_context, live_stack):
    slug, host_email = scheduled(live_stack)
    host = host_joins(open_context, host_email, slug)
    people_panel(host)
    host.get_by_role("button", name="Lock meeting").click()
    expect(host.get_by_role("button", name="Unlock meeting")).to_have_attribute(
        "aria-pressed", "true"
    )
    late = guest_asks(open_context, slug, "Late Larry")
    expect(late.get_by_role("alert")).to_contain_text("The host locked this meeting")
    host.get_by_role("button", name="Unlock meeting").click()
    # exact: "Unlock meeting" also contains "lock meeting", which would not wait for the unlock.
    expect(host.get_by_role("button", name="Lock meeting", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    late.get_by_role("button", name="Join meeting").click()
    expect_connected(late)


def test_everyone_is_told_before_and_while_a_meeting_records(open_context, live_stack):
    slug, host_email = scheduled(live_stack, recording_allowed=True)
    host = host_joins(open_context, host_email, slug)
    guest = open_context().new_page()
    guest.goto(f"/m/{slug}")
    expect(guest.get_by_text("This meeting may be recorded.")).to_be_visible()
    guest.get_by_label("Your name").fill("Rita Recorded")
    guest.get_by_role("button", name="Join meeting").click()
    expect_connected(guest)
    open_panel(host, "Recording")  # in a side panel, never over the stage
    expect(host.get_by_role("button", name="Start recording")).to_be_visible()
    expect(guest.get_by_role("button", name="Start recording")).to_have_count(0)
    expect(guest.get_by_role("button", name="Recording")).to_have_count(0)
    expect(guest.locator("#recording-indicator")).to_be_hidden()

    # What the server does once the recorder accepted a job: the room's metadata says so.
    room = live_stack.query(lambda: _room_of(slug))
    run_in_thread(
        lambda: live_stack.query(lambda: gateway.update_room_metadata(room, {"recording": True}))
    )
    expect(guest.locator("#recording-indicator")).to_be_visible()
    expect(host.locator("#recording-indicator")).to_be_visible()
    screenshot(guest, "room-recording-sign")


def test_waiting_and_ending_say_where_people_stand_and_lead_on(open_context, live_stack):
    """Issue 17 item 8: "Connecting…" showed while a guest waited for the host or in the
    lobby; "removed" and "ended" were dead ends; the host who ended read the guests' words."""
    # (Waiting for the host: test_schedule_in_the_browser.py, test_guest_waits_for_the_host...)
    slug, host_email = scheduled(live_stack, lobby=True)
    host = host_joins(open_context, host_email, slug)
    pia = guest_asks(open_context, slug, "Patient Pia", viewport=PHONE)
    expect(pia.get_by_text("You are number 1 in line")).to_be_visible()
    expect(pia.locator("#connection-status")).to_have_text("Waiting to be let in")
    screenshot(pia, "state-lobby-phone")
    otto = guest_asks(open_context, slug, "Other Otto")
    people_panel(host)
    lobby = host.get_by_role("region", name="Host controls")
    lobby.get_by_role("button", name="Admit Patient Pia").click()
    expect_connected(pia)
    lobby.get_by_role("button", name="Admit Other Otto").click()
    expect_connected(otto)

    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="Remove Other Otto").click()
    expect(otto.get_by_role("heading", name="You were removed from the meeting")).to_be_visible()
    expect(otto.get_by_role("link", name="Meeting page")).to_have_attribute("href", f"/m/{slug}")
    screenshot(otto, "state-removed-desktop")

    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="End for all").click()
    expect(pia.get_by_role("heading", name="The host ended the meeting")).to_be_visible()
    expect(pia.get_by_role("link", name="Meeting page")).to_be_visible()
    screenshot(pia, "state-ended-guest-phone")
    expect(host.get_by_role("heading", name="You ended the meeting")).to_be_visible()
    expect(host.get_by_role("link", name="Your dashboard")).to_be_visible()
    meeting_page = host.get_by_role("link", name="Meeting page")
    expect(meeting_page).to_have_attribute("href", f"/meetings/{slug}")
    screenshot(host, "state-ended-host-desktop")
    meeting_page.click()
    expect(host.get_by_role("heading", name="Scheduled call")).to_be_visible()


def test_webinar_attendees_are_counted_in_people_not_tiles_on_the_stage(open_context, live_stack):
    """Issue 17 item 13: listen-only attendees got full-size "Muted" avatar tiles in
    everyone's grid. The grid shows who may speak; attendees are in People."""
    slug, host_email = scheduled(live_stack, webinar=True)
    host = host_joins(open_context, host_email, slug)
    ava = guest_asks(open_context, slug, "Attendee Ava", viewport=PHONE)
    abe = guest_asks(open_context, slug, "Attendee Abe")
    for attendee in (ava, abe):
        expect_connected(attendee)
    people_panel(host)
    people = host.get_by_role("list", name="Everyone in the meeting")
    expect(people.get_by_role("listitem")).to_have_count(3)
    expect(host.locator("#people-count")).to_have_text("(3)")
    expect(host.locator(".tile")).to_have_count(1)  # the host alone: attendees do not speak
    screenshot(host, "webinar-host-desktop")
    expect(abe.locator(".tile")).to_have_count(1)
    expect(abe.locator(".tile")).to_have_attribute("aria-label", "Hilde Host")
    expect(ava.locator(".tile")).to_have_count(1)
    screenshot(ava, "webinar-attendee-phone")

    # An attendee made speaker takes a tile; made attendee again, leaves the stage.
    host.get_by_role("button", name="Make speaker: Attendee Abe").click()
    expect(host.locator(".tile")).to_have_count(2)
    expect(ava.locator(".tile")).to_have_count(2)
    host.get_by_role("button", name="Make attendee: Attendee Abe").click()
    expect(host.locator(".tile")).to_have_count(1)
