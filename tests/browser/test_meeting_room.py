"""The meeting room with two people in it: chat, hands, reactions, mute, screen share and the
people panel, as each of them sees it."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from meetings import livekit_gateway as gateway
from tests.browser.meeting_room import (
    chat_messages,
    guest_in_meeting,
    guest_tickets,
    host_in_meeting,
    live_participant,
    open_panel,
    room_of,
    send_chat,
)
from tests.support.browser_pages import DESKTOP, PHONE, PageProblems, screenshot, wait_for_video
from tests.support.joining import expect_connected
from tests.support.live import run_in_thread
from tests.support.synthetic import BackgroundParticipants

pytestmark = [pytest.mark.browser, pytest.mark.one_database]


def test_chat_goes_both_ways_with_safe_links_and_a_length_limit(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    problems = [PageProblems(host), PageProblems(guest)]

    open_panel(guest, "Chat")
    send_chat(guest, "Agenda: https://example.org/agenda. <script>alert(1)</script>")
    expect(host.locator("#chat-unread")).to_have_text("1 unread")
    open_panel(host, "Chat")
    expect(host.locator("#chat-unread")).to_be_hidden()
    message = host.locator("#chat-log .message").last
    expect(message.locator(".message-name")).to_have_text("Gita Guest")
    expect(message.locator(".message-text")).to_have_text(
        "Agenda: https://example.org/agenda. <script>alert(1)</script>"
    )
    link = message.get_by_role("link", name="https://example.org/agenda")
    expect(link).to_have_attribute("href", "https://example.org/agenda")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(host.locator("#chat-log script")).to_have_count(0)

    send_chat(host, "Welcome, Gita")
    expect(chat_messages(guest).last).to_have_text("Welcome, Gita")
    expect(guest.locator("#chat-log .message-name").last).to_have_text("Hilde Host")
    screenshot(host, "room-chat")
    host.set_viewport_size(PHONE)
    screenshot(host, "room-chat-phone")
    host.set_viewport_size(DESKTOP)

    guest.get_by_label("Message to everyone").fill("x" * 2001)
    expect(guest.get_by_role("alert")).to_contain_text("at most 2,000 characters")
    guest.get_by_role("button", name="Send").click()
    send_chat(guest, "x" * 2000)  # the limit itself is fine
    expect(chat_messages(host)).to_have_count(3)
    expect(chat_messages(host).last).to_have_text("x" * 2000)
    send_chat(guest, "See you")
    expect(chat_messages(host).last).to_have_text("See you")

    assert [p.errors for p in problems] == [[], []]


def test_hands_go_up_in_order_and_a_host_lowers_one(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    [sam] = guest_tickets(live_stack, slug, ["Sam Synth"])
    with BackgroundParticipants([sam]):
        guest.get_by_role("button", name="Raise hand").click()
        expect(guest.get_by_role("button", name="Lower hand")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(host.get_by_text("Gita Guest raised their hand")).to_be_visible()
        # Participants cannot write their own attributes; the app's server raises Sam's hand
        # as it does when Sam's page asks.
        raised = datetime.now(UTC).isoformat()
        room = room_of(live_stack, slug)
        run_in_thread(
            lambda: live_stack.query(
                lambda: gateway.set_attributes(room, sam["identity"], {"hand": raised})
            )
        )

        expect(host.locator("#hands-count")).to_have_text("2")
        open_panel(host, "People")
        queue = host.locator("#hand-list .hand-name")
        expect(queue).to_have_text(["Gita Guest", "Sam Synth"])
        expect(host.locator(".tile.remote .hand-state").filter(visible=True)).to_have_count(2)
        expect(host.locator(".person .name-text")).to_have_text(
            ["Hilde Host (you)", "Gita Guest", "Sam Synth"]
        )
        screenshot(host, "room-people")
        host.set_viewport_size(PHONE)
        screenshot(host, "room-people-phone")

        host.get_by_role("button", name="Lower Gita Guest's hand").click()
        expect(guest.get_by_role("button", name="Raise hand")).to_have_attribute(
            "aria-pressed", "false"
        )
        expect(guest.get_by_text("A host lowered your hand")).to_be_visible()
        expect(queue).to_have_text(["Sam Synth"])


def test_reactions_and_mute_reach_the_other_side(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")

    react = guest.get_by_role("button", name="React")
    react.click()
    menu = guest.get_by_role("group", name="Send a reaction")
    expect(menu).to_be_visible()
    menu.get_by_role("button", name="Applause").click()
    expect(host.locator(".reaction")).to_contain_text("Gita Guest")
    expect(guest.locator(".reaction")).to_contain_text("Gita Guest (you)")
    # A pick closes the menu (issue 17 item 15), and the keyboard is back on React.
    expect(menu).to_be_hidden()
    expect(react).to_have_attribute("aria-expanded", "false")
    expect(react).to_be_focused()
    screenshot(guest, "reaction-sent-menu-closed")

    remote_mic = host.locator(".tile.remote .mic-state")
    expect(remote_mic).to_have_text("")
    guest.get_by_role("button", name="Mute", exact=True).click()
    expect(remote_mic).to_have_text("Muted", timeout=2_000)
    guest.get_by_role("button", name="Unmute").click()
    expect(remote_mic).to_have_text("", timeout=2_000)


# The browser's own "Stop sharing" bar ends the capture track; the test reaches that track
# by keeping the streams getDisplayMedia returns.
KEEP_SCREEN_TRACKS = """
window.screenTracks = [];
const getDisplayMedia = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getDisplayMedia = async (...args) => {
  const stream = await getDisplayMedia(...args);
  window.screenTracks.push(...stream.getVideoTracks());
  return stream;
};
"""
BROWSER_STOPS_SHARING = """
() => window.screenTracks.forEach((track) => {
  track.stop();
  track.dispatchEvent(new Event("ended"));
})
"""


def test_a_screen_share_takes_the_stage_and_stops_from_the_page_or_the_browser(
    open_context, live_stack
):
    slug, host = host_in_meeting(open_context, live_stack, init_script=KEEP_SCREEN_TRACKS)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    problems = [PageProblems(host), PageProblems(guest)]
    wait_for_video(guest, ".tile.remote video")
    layout = guest.get_by_role("button", name="Speaker view")
    expect(layout).to_have_attribute("aria-pressed", "false")

    host.get_by_role("button", name="Share screen").click()
    expect(host.get_by_role("button", name="Stop sharing")).to_have_attribute(
        "aria-pressed", "true"
    )
    stage = guest.locator("#tiles .tile.screen")
    expect(stage.locator(".tile-name")).to_have_text("Hilde Host's screen")
    wait_for_video(guest, "#tiles .tile.screen video")
    expect(layout).to_have_attribute("aria-pressed", "true")
    expect(guest.locator("#strip .tile")).to_have_count(2)  # both cameras wait in the strip
    expect(host.locator(".tile.local-screen")).to_contain_text("You are sharing your screen")
    screenshot(guest, "room-speaker-screen-share")
    guest.set_viewport_size(PHONE)
    screenshot(guest, "room-speaker-screen-share-phone")

    host.get_by_role("button", name="Stop sharing").click()
    expect(guest.locator(".tile.screen")).to_have_count(0)
    expect(layout).to_have_attribute("aria-pressed", "false")  # the grid comes back

    host.get_by_role("button", name="Share screen").click()
    expect(stage).to_have_count(1)
    host.evaluate(BROWSER_STOPS_SHARING)
    expect(host.get_by_role("button", name="Share screen")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(guest.locator(".tile.screen")).to_have_count(0)
    assert [p.errors for p in problems] == [[], []]


def test_the_host_mutes_on_the_server_and_asks_to_unmute(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    remote_mic = host.locator(".tile.remote .mic-state")
    expect(remote_mic).to_have_text("")

    person = live_participant(live_stack, slug, "Gita Guest")
    room = room_of(live_stack, slug)
    microphone = person.track("microphone")
    run_in_thread(
        lambda: live_stack.query(lambda: gateway.mute_track(room, person.identity, microphone.sid))
    )
    expect(guest.get_by_text("The host muted your microphone")).to_be_visible()
    expect(guest.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "false")
    expect(remote_mic).to_have_text("Muted")

    ask = {"type": "ask_unmute"}
    run_in_thread(
        lambda: live_stack.query(
            lambda: gateway.send_data(room, ask, "moderation", [person.identity])
        )
    )
    prompt = guest.get_by_role("group", name="The host asks you to unmute")
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name="Stay muted").click()
    expect(prompt).to_be_hidden()
    expect(remote_mic).to_have_text("Muted")

    run_in_thread(
        lambda: live_stack.query(
            lambda: gateway.send_data(room, ask, "moderation", [person.identity])
        )
    )
    prompt.get_by_role("button", name="Unmute").click()
    expect(remote_mic).to_have_text("")


JUNK = [
    ("chat", b"\xff\xfe\xfd"),
    ("chat", b"null"),
    ("chat", b"[1, 2, 3]"),
    ("chat", b'{"type": "chat", "text": 42}'),
    ("chat", b'{"type": "chat", "text": "' + b"y" * 2001 + b'"}'),
    ("reaction", b'{"type": "reaction", "kind": "__proto__"}'),
    ("reaction", b'{"type": "reaction", "kind": "<img src=x>"}'),
    ("hand", b'{"type": "lower"}'),  # hands are lowered by the server, never by a message
    ("moderation", b'{"type": "ask_unmute"}'),  # only a host may ask
    ("moderation", b"{"),
    ("", b"no topic at all"),
]


def test_junk_from_a_participant_does_not_break_the_page(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    problems = PageProblems(host)
    host.get_by_role("button", name="Raise hand").click()
    host.get_by_role("button", name="Mute", exact=True).click()
    name = '<img src=x onerror="alert(1)">Mallory'
    with BackgroundParticipants(guest_tickets(live_stack, slug, [name])) as bots:
        tile = host.locator(".tile.remote")
        expect(tile.locator(".tile-name")).to_have_text(name)

        async def send_junk(rooms):
            for topic, payload in JUNK:
                await rooms[0].local_participant.publish_data(payload, topic=topic)
            await rooms[0].local_participant.publish_data(
                b'{"type": "chat", "text": "still here"}', topic="chat"
            )

        bots.call(send_junk)
        expect(host.locator("#chat-unread")).to_have_text("1 unread")
        open_panel(host, "Chat")
        expect(chat_messages(host)).to_have_text(["still here"])
        expect(host.locator("#chat-log .message-name")).to_have_text([name])
        open_panel(host, "People")
        expect(host.locator(".person .name-text").last).to_have_text(name)
        # The page's only images are its own background swatches: none from a participant.
        expect(host.locator("img:not(.effect-swatch)")).to_have_count(0)
        expect(host.get_by_role("button", name="Lower hand")).to_be_visible()
        expect(host.get_by_role("group", name="The host asks you to unmute")).to_be_hidden()
        expect(host.locator(".reaction")).to_have_count(0)
    expect_connected(host)
    assert problems.errors == []


def test_the_microphone_and_speaker_switch_in_the_call(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    settings = guest.get_by_role("dialog", name="Settings")
    guest.get_by_role("button", name="Settings").click()
    microphone = settings.get_by_label("Microphone")
    expect(microphone).to_have_value("default")
    microphone.select_option(label="Fake Audio Input 1")
    settings.get_by_label("Speaker").select_option(label="Fake Audio Output 2")
    screenshot(guest, "room-settings")
    settings.get_by_role("button", name="Done").click()
    expect(settings).to_be_hidden()

    # The dialog shows the devices the call uses now; the others still hear the microphone.
    guest.get_by_role("button", name="Settings").click()
    expect(microphone.locator("option:checked")).to_have_text("Fake Audio Input 1")
    expect(settings.get_by_label("Speaker").locator("option:checked")).to_have_text(
        "Fake Audio Output 2"
    )
    expect(host.locator(".tile.remote .mic-state")).to_have_text("")
    expect(host.locator(".tile.remote .quality")).to_have_text(re.compile(r"^Connection \w+"))
    # The choice is remembered for the next call from this browser.
    guest.reload()
    expect(guest.locator("#prejoin-mic-select option:checked")).to_have_text("Fake Audio Input 1")
