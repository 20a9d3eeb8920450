"""Live captions in the meeting room (issue 20): the pre-join notice, the sign, captions over
the stage, each person's own choices, and the hosts' switch.

The captioner is stood in for here (tests/worker and the acceptance test run the real one):
the room's metadata is set as the app sets it, and a synthetic participant sends text streams
on the transcription topic with the attributes the captioner uses.
"""

import pytest
from playwright.sync_api import Page, expect

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import Meeting
from tests.browser.meeting_room import guest_tickets, host_in_meeting, room_of
from tests.support.browser_pages import DESKTOP, PHONE, PageProblems, join, screenshot
from tests.support.live import run_in_thread
from tests.support.synthetic import BackgroundParticipants

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

TOPIC = "lk.transcription"


def set_captions(stack, slug: str, status: str) -> None:
    """What the app writes in the room's metadata as captions start, run, fail or stop."""
    room = room_of(stack, slug)
    run_in_thread(
        lambda: stack.query(lambda: gateway.update_room_metadata(room, {"captions": status}))
    )


def set_meeting_captions(stack, slug: str) -> None:
    def update():
        Meeting.by_slug(slug).captions = True
        db.session.commit()

    stack.query(update)


def say(bots: BackgroundParticipants, segment: str, text: str, final: bool) -> None:
    """One caption update from the first synthetic participant, as the captioner sends it."""

    async def send(rooms) -> None:
        attributes = {"lk.segment_id": segment, "lk.transcription_final": str(final).lower()}
        writer = await rooms[0].local_participant.stream_text(topic=TOPIC, attributes=attributes)
        await writer.write(text)
        await writer.aclose()

    bots.call(send)


def box(page: Page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def test_everyone_sees_the_sign_and_the_captions_and_each_person_chooses(open_context, live_stack):
    # The setting is turned on once the host is in: a host joining a meeting set to caption
    # would start the real captioner (the session's media worker serves captions), whose
    # state would race the stand-in's.
    slug, host = host_in_meeting(open_context, live_stack)
    set_meeting_captions(live_stack, slug)
    guest = open_context().new_page()
    problems = PageProblems(guest)
    guest.goto(f"/m/{slug}")
    notice = guest.locator("#captions-prejoin-notice")
    expect(notice).to_contain_text("This meeting has live captions.")
    screenshot(guest, "captions-prejoin")
    guest.set_viewport_size(PHONE)
    expect(notice).to_be_visible()
    screenshot(guest, "captions-prejoin-phone")
    guest.set_viewport_size(DESKTOP)
    join(guest, "Gita Guest")

    with BackgroundParticipants(guest_tickets(live_stack, slug, ["Sam Speaker"])) as bots:
        expect(guest.locator(".tile.remote")).to_have_count(2)
        expect(guest.locator("#captions-indicator")).to_be_hidden()  # "off" until it starts
        set_captions(live_stack, slug, "starting")
        for page in (host, guest):
            expect(page.locator("#captions-indicator")).to_contain_text("Captions on")
        expect(guest.get_by_role("button", name="Captions", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        set_captions(live_stack, slug, "running")

        # Interim text is replaced in place; the final one stays, and only it is spoken.
        say(bots, "seg-1", "hello every", final=False)
        caption = guest.locator("#caption-lines .caption")
        expect(caption).to_have_count(1)
        expect(caption.locator(".caption-speaker")).to_have_text("Sam Speaker")
        expect(caption.locator(".caption-text")).to_have_text("hello every")
        say(bots, "seg-1", "hello everyone this is", final=False)
        expect(caption.locator(".caption-text")).to_have_text("hello everyone this is")
        say(bots, "seg-1", "Hello everyone, this is the weekly sync.", final=True)
        expect(caption).to_have_count(1)
        expect(caption).to_have_attribute("data-final", "true")
        expect(caption.locator(".caption-text")).to_have_text(
            "Hello everyone, this is the weekly sync."
        )
        live = guest.locator("#captions-live")
        expect(live).to_have_attribute("aria-live", "polite")
        expect(live.locator("p")).to_have_text(
            ["Sam Speaker: Hello everyone, this is the weekly sync."]
        )
        say(bots, "seg-2", "We start with the roadmap and then the budget for", final=False)
        expect(caption).to_have_count(2)
        screenshot(guest, "captions-desktop")
        expect(host.locator("#caption-lines .caption")).to_have_count(2)

        # On a phone: above the control bar, within the lower third of the stage.
        guest.set_viewport_size(PHONE)
        say(bots, "seg-2", "We start with the roadmap and then the budget for next year.", True)
        expect(caption.last).to_have_attribute("data-final", "true")
        captions, controls = box(guest, "#captions"), box(guest, "nav.controls")
        stage = box(guest, ".stage-view")
        assert captions["y"] + captions["height"] <= controls["y"]
        assert captions["height"] <= stage["height"] / 3
        assert captions["y"] >= stage["y"] + stage["height"] * 2 / 3
        # The newest caption keeps its speaker's name in view; earlier words give way.
        speaker = caption.last.locator(".caption-speaker").bounding_box()
        assert speaker["y"] >= captions["y"], (speaker, captions)
        expect(caption.last.locator(".caption-text")).to_contain_text("next year.")
        cc = box(guest, "#toggle-captions")
        assert cc["x"] >= 0 and cc["x"] + cc["width"] <= PHONE["width"]
        screenshot(guest, "captions-phone")
        # A final caption fades a few seconds after it was said.
        expect(caption).to_have_count(0)
        guest.set_viewport_size(DESKTOP)

        # Each person hides captions for themselves (remembered), and picks a size.
        guest.get_by_role("button", name="Captions", exact=True).click()
        expect(guest.locator("#toggle-captions")).to_have_attribute("aria-pressed", "false")
        say(bots, "seg-3", "Nobody here reads this.", final=True)
        expect(host.locator("#caption-lines .caption")).to_have_text(
            "Sam Speaker Nobody here reads this."
        )
        expect(guest.locator("#caption-lines .caption")).to_have_count(0)
        assert '"shown":false' in guest.evaluate("localStorage.getItem('meetings.captions')")
        guest.get_by_role("button", name="Captions", exact=True).click()
        guest.get_by_role("button", name="Settings").click()
        guest.get_by_label("Caption size").select_option("large")
        guest.keyboard.press("Escape")
        expect(guest.locator("#captions")).to_have_attribute("data-size", "large")

        # Speech recognition down: the meeting goes on, everyone is told.
        set_captions(live_stack, slug, "unavailable")
        for page in (host, guest):
            expect(page.locator("#captions-indicator")).to_contain_text("Captions unavailable")
        set_captions(live_stack, slug, "off")
        expect(guest.locator("#captions-indicator")).to_be_hidden()
        expect(guest.locator("#toggle-captions")).to_be_hidden()
    assert problems.errors == []


def test_hosts_switch_captions_and_the_page_follows_the_room_not_the_click(
    open_context, live_stack
):
    slug, host = host_in_meeting(open_context, live_stack)  # the meeting setting is off
    guest = open_context().new_page()
    scripts = []
    guest.on("request", lambda request: scripts.append(request.url))
    guest.goto(f"/m/{slug}")
    expect(guest.locator("#captions-prejoin-notice")).to_have_count(0)
    join(guest, "Gita Guest")

    host.get_by_role("button", name="Settings").click()
    toggle = host.locator("#captions-toggle")
    expect(toggle).to_have_text("Turn captions on")
    # The app refuses: its message shows, and nothing claims captions are on.
    answer = '{"error": {"code": "no_worker", "message": "No media worker can take captions now."}}'
    host.route(
        "**/api/v1/meetings/*/captions",
        lambda route: route.fulfill(status=409, content_type="application/json", body=answer),
    )
    toggle.click()
    expect(host.locator("#captions-error")).to_have_text("No media worker can take captions now.")
    expect(toggle).to_have_text("Turn captions on")
    expect(host.locator("#captions-indicator")).to_be_hidden()

    # The app accepts: "Turning on…" until the room's metadata says they start.
    accepted = '{"captions": {"status": "starting", "enabled": true}}'
    host.unroute("**/api/v1/meetings/*/captions")
    host.route(
        "**/api/v1/meetings/*/captions",
        lambda route: route.fulfill(status=200, content_type="application/json", body=accepted),
    )
    toggle.click()
    expect(toggle).to_have_text("Turning captions on…")
    expect(host.locator("#captions-error")).to_be_hidden()
    assert not any(url.endswith("/captions.js") for url in scripts)  # the guest: not yet
    set_captions(live_stack, slug, "starting")
    expect(toggle).to_have_text("Turn captions off")
    expect(host.locator("#captions-indicator")).to_contain_text("Captions on")
    expect(guest.locator("#captions-indicator")).to_contain_text("Captions on")
    screenshot(host, "captions-host-settings")
    host.keyboard.press("Escape")

    # A captioner that could not start: hosts are told, the others see nothing.
    set_captions(live_stack, slug, "failed")
    expect(host.locator("#captions-indicator")).to_contain_text("Captions could not start")
    expect(guest.locator("#captions-indicator")).to_be_hidden()
