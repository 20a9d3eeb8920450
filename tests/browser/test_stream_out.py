"""Issue 21 acceptance, stream out: a host streams the meeting from the room to two RTMP
destinations and the watch page. Debian's ffmpeg, listening on loopback as YouTube would,
receives H.264 + AAC of the meeting; a destination nobody listens on fails on its own and the
host reads why; an audience member in another browser context (never in the room) watches on
/w/<slug>, which says "starting soon" before and "ended" after; everyone in the room sees
"Live" while it streams."""

import time

import av
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from meetings.background import wait_for_background_work
from meetings.livekit_process import free_port
from tests.browser.meeting_room import host_in_meeting, room_of
from tests.support.browser_pages import PHONE, PageProblems, screenshot, wait_until
from tests.support.rtmp_receiver import RtmpReceiver
from tests.support.waiting import wait_for
from tests.worker import media
from tests.worker.participants import ParticipantsProcess

pytestmark = [pytest.mark.browser, pytest.mark.media_worker]

RED = (255, 0, 0)
STREAM_SECONDS = 10
WATCH_VIDEO = "document.getElementById('watch-video')"


def watch_state(page: Page) -> str:
    return page.locator("#watch").get_attribute("data-state")


def test_a_host_streams_the_meeting_to_rtmp_and_the_watch_page(
    live_stack, open_context, builtin_recorder, tmp_path
):
    # builtin_recorder: the live app sends streams, as recordings, to its running media worker.
    slug, page = host_in_meeting(open_context, live_stack)
    problems = PageProblems(page)
    room = room_of(live_stack, slug)
    config = live_stack.livekit_config
    people = ParticipantsProcess(
        config.ws_url,
        config.api_key,
        config.api_secret,
        [{"room": room, "identity": "red-one", "colour": RED, "tone": 440}],
    )
    receiver = RtmpReceiver(tmp_path, "yt-key-0123456789")
    nowhere = f"rtmp://127.0.0.1:{free_port()}/live/nobody-listens-4321"
    audience = open_context().new_page()  # its own context: not signed in, not in the room
    try:
        expect(page.locator("#tiles .tile.remote")).to_have_count(1)
        audience.goto(f"/w/{slug}")
        expect(audience.get_by_role("heading", name="The stream starts soon")).to_be_visible()
        screenshot(audience, "watch-page-soon")

        page.get_by_role("button", name="Settings").click()
        page.get_by_label("RTMP destinations, one per line").fill(f"{receiver.url}\n{nowhere}")
        page.get_by_role("button", name="Start streaming").click()
        expect(page.locator("#live-indicator")).to_be_visible(timeout=30_000)
        outputs = page.locator("#stream-outputs")
        expect(outputs).to_contain_text("****6789: live", timeout=30_000)
        live_at = time.monotonic()  # the destination takes the stream from about now
        expect(outputs).to_contain_text("****4321: failed: ", timeout=30_000)
        expect(outputs).to_contain_text("Watch page: live", timeout=30_000)
        assert "nobody-listens" not in outputs.inner_text()  # keys are never shown again
        screenshot(page, "stream-out-controls")

        # The audience's page starts playing by itself.
        wait_for(lambda: watch_state(audience) == "live", 30, what="the watch page to go live")
        wait_until(audience, f"{WATCH_VIDEO}.currentTime > 2", timeout=30)
        assert audience.evaluate(f"{WATCH_VIDEO}.videoWidth") == 1280
        played = audience.evaluate(f"{WATCH_VIDEO}.currentTime")
        wait_until(audience, f"{WATCH_VIDEO}.currentTime > {played + 2}", timeout=15)
        expect(audience.locator("#watch-viewers")).to_have_text("1 watching", timeout=15_000)
        screenshot(audience, "watch-page-live")
        audience.set_viewport_size(PHONE)
        expect(audience.locator("#watch-video")).to_be_in_viewport()
        screenshot(audience, "watch-page-live-phone")

        page.wait_for_timeout(max(0, STREAM_SECONDS - (time.monotonic() - live_at)) * 1000)
        page.get_by_role("button", name="Stop streaming").click()
        streamed = time.monotonic() - live_at
        expect(page.locator("#live-indicator")).to_be_hidden(timeout=30_000)
        wait_for(lambda: watch_state(audience) == "ended", 30, what="the watch page to end")
        screenshot(audience, "watch-page-ended")
        receiver.wait(30)
    finally:
        receiver.close()
        people.close()
    assert problems.errors == []

    # What the destination received: the meeting, in H.264 and AAC, for as long as it streamed.
    with av.open(str(receiver.path)) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
        video = container.streams.video[0]
        size = (video.codec_context.width, video.codec_context.height)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert size == (1280, 720)
    assert media.last_timestamp(receiver.path) == pytest.approx(streamed, abs=3)
    frame = media.frame_at(receiver.path, media.last_timestamp(receiver.path) / 2)
    assert (np.abs(frame.reshape(-1, 3) - RED).max(axis=1) < 60).mean() > 0.1  # the red tile
    assert np.sqrt((media.audio_samples(receiver.path) ** 2).mean()) > 0.01  # the tone
    page.context.close()
    live_stack.wait_until_derived()
    live_stack.query(wait_for_background_work)
