"""Joining draws the others as soon as they arrive: the stage and the remote video do not
wait for your own camera and microphone to be published (static/js/room/main.js).

The test holds the page's requests to publish (AddTrackRequest on LiveKit's signal
WebSocket) as a slow uplink would, so the order it checks does not depend on which of two
fast things happens to finish first on this machine."""

import re

import pytest
from livekit.protocol.rtc import SignalRequest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.meeting_room import guest_tickets
from tests.support.browser_pages import (
    PREVIEW_SHOWS_CAMERA,
    PageProblems,
    scheduled,
    screenshot,
    wait_for_video,
)
from tests.support.joining import JOIN_TIMING_SCRIPT, expect_connected, join_milestones
from tests.support.synthetic import BackgroundParticipants
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.one_database]


class HeldPublishes:
    """Passes the page's signal messages to livekit-server, except requests to publish a
    track, which wait until `release()`."""

    def __init__(self, page: Page):
        self.held: list[bytes] = []
        self.server = None
        self.released = False
        page.route_web_socket(re.compile(r"/rtc"), self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        self.server = socket.connect_to_server()
        socket.on_message(self._from_page)

    def _from_page(self, message: str | bytes) -> None:
        if not self.released and isinstance(message, bytes) and _adds_track(message):
            self.held.append(message)
        else:
            self.server.send(message)

    def release(self) -> None:
        self.released = True
        for message in self.held:
            self.server.send(message)


def _adds_track(message: bytes) -> bool:
    try:
        return SignalRequest.FromString(message).WhichOneof("message") == "add_track"
    except Exception:  # not a signal request: pass it on untouched
        return False


def test_the_others_video_shows_while_your_own_camera_is_still_starting(open_context, live_stack):
    slug, _ = scheduled(live_stack)
    tickets = guest_tickets(live_stack, slug, ["Pia Publisher"])
    with BackgroundParticipants(tickets, publish_video=True):
        page = open_context().new_page()
        problems = PageProblems(page)
        page.add_init_script(JOIN_TIMING_SCRIPT)
        uplink = HeldPublishes(page)
        page.goto(f"/m/{slug}")
        page.wait_for_function(PREVIEW_SHOWS_CAMERA)
        page.get_by_label("Your name").fill("Jo Joiner")
        page.get_by_role("button", name="Join meeting").click()
        expect_connected(page, published=False)

        # Pia's video plays while this page's own camera and microphone are not out yet.
        wait_for_video(page)
        wait_for(lambda: len(uplink.held) == 2, 10, what="the page asking to publish both")
        expect(page.locator(".tile.local .starting-note")).to_have_text("Starting camera…")
        expect(page.locator("#toggle-mic")).to_have_attribute("aria-busy", "true")
        expect(page.locator("#toggle-mic")).to_contain_text("Starting…")
        expect(page.locator(".tile.local .mic-state")).not_to_have_text("Muted")
        assert join_milestones(page)["published"] is None
        screenshot(page, "join-camera-starting")
        # "Mute" pressed while the microphone is still starting: it is muted once it is out.
        page.keyboard.press("m")

        uplink.release()
        wait_for(lambda: join_milestones(page)["published"] is not None, 30, what="own publish")
        expect(page.get_by_role("button", name="Unmute")).to_have_attribute("aria-busy", "false")
        expect(page.locator(".tile.local .starting-note")).to_be_hidden()
        wait_for_video(page, ".tile.local video")
        milestones = join_milestones(page)
    assert milestones["frame"] < milestones["published"], milestones
    assert problems.errors == []
