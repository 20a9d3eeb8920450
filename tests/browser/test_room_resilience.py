"""When the call goes wrong: a lost network, being removed, the host ending the meeting."""

import pytest
from playwright.sync_api import expect

from meetings import livekit_gateway as gateway
from tests.browser.meeting_room import (
    guest_in_meeting,
    host_in_meeting,
    live_participant,
    room_of,
)
from tests.support.browser_pages import PageProblems, join, screenshot, wait_for_video
from tests.support.live import run_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

# Playwright's offline mode stops new connections but leaves open ones alone, where a real
# outage kills them too. The page's sockets and peer connections are kept so that the test
# can end them the way a dead network would.
KEEP_CONNECTIONS = """
window.openConnections = [];
for (const name of ["WebSocket", "RTCPeerConnection"]) {
  const Native = window[name];
  window[name] = class extends Native {
    constructor(...args) {
      super(...args);
      window.openConnections.push(this);
    }
  };
}
"""
NETWORK_DIES = "() => window.openConnections.forEach((connection) => connection.close())"


def host_and_a_guest_page_whose_network_can_die(open_context, stack):
    """A meeting with its host in the call, and a guest page (not yet on the meeting) that
    keeps its connections for NETWORK_DIES: (slug, host page, guest's context, guest page)."""
    slug, host = host_in_meeting(open_context, stack)
    context = open_context()
    guest = context.new_page()
    guest.add_init_script(KEEP_CONNECTIONS)
    return slug, host, context, guest


def test_a_page_that_loses_its_network_reconnects_and_its_video_flows_again(
    open_context, live_stack
):
    slug, host, context, guest = host_and_a_guest_page_whose_network_can_die(
        open_context, live_stack
    )
    guest.goto(f"/m/{slug}")
    problems = PageProblems(guest)
    join(guest, "Gita Guest")
    wait_for_video(guest, ".tile.remote video")
    status = guest.locator("#connection-status")

    context.set_offline(True)
    guest.evaluate(NETWORK_DIES)
    expect(status).to_have_text("Reconnecting…")
    expect(guest.locator("#banner")).to_contain_text("Connection lost")
    context.set_offline(False)
    expect(status).to_have_text("Connected", timeout=30_000)
    wait_for_video(guest, ".tile.remote video")
    wait_for_video(host, ".tile.remote video")
    assert problems.errors == []


def test_being_removed_and_the_meeting_ending_are_not_network_trouble(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    room = room_of(live_stack, slug)
    identity = live_participant(live_stack, slug, "Gita Guest").identity

    run_in_thread(lambda: live_stack.query(lambda: gateway.remove_participant(room, identity)))
    expect(guest.get_by_role("heading", name="You were removed from the meeting")).to_be_visible()
    expect(guest.get_by_role("button", name="Rejoin")).to_be_hidden()
    expect(guest.locator("#connection-status")).to_have_text("Disconnected")
    screenshot(guest, "room-removed")

    run_in_thread(lambda: live_stack.query(lambda: gateway.delete_room(room)))
    expect(host.get_by_role("heading", name="The host ended the meeting")).to_be_visible()
    expect(host.get_by_text("The meeting has ended for everyone.")).to_be_visible()
    screenshot(host, "room-ended")


def test_a_call_that_livekit_cannot_resume_is_joined_again_with_a_fresh_token(
    open_context, live_stack
):
    slug, host, context, guest = host_and_a_guest_page_whose_network_can_die(
        open_context, live_stack
    )
    token_requests = []
    guest.on(
        "request",
        lambda r: r.method == "POST" and r.url.endswith("/tokens") and token_requests.append(r),
    )
    guest.goto(f"/m/{slug}")
    join(guest, "Gita Guest")
    assert len(token_requests) == 1

    # Offline for longer than livekit-client keeps resuming: the page joins anew by itself.
    context.set_offline(True)
    guest.evaluate(NETWORK_DIES)
    expect(guest.locator("#banner")).to_have_text("Connection lost. Rejoining…", timeout=90_000)
    context.set_offline(False)
    expect(guest.locator("#connection-status")).to_have_text("Connected", timeout=30_000)
    assert len(token_requests) > 1
    wait_for_video(guest, ".tile.remote video")
    wait_for_video(host, ".tile.remote video")
    expect(host.locator(".tile.remote")).to_have_count(1)
