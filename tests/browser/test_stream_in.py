"""Issue 21 acceptance, stream in: a host adds an encoder on the meeting's Streaming page and
copies its settings; Debian's ffmpeg, as OBS would, pushes a moving test picture and a tone
to the real media worker; the host in Chromium sees a tile with moving video named as they
chose, and livekit-server lists that participant. A wrong key is refused and counted;
stopping the encoder takes the tile away."""

import pytest
from playwright.sync_api import Page, expect

from meetings.background import wait_for_background_work
from tests.browser.meeting_room import host_in_meeting, live_participant
from tests.support.browser_pages import PageProblems, screenshot
from tests.support.rtmp_encoder import Encoder
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.media_worker]

NAME = "Stage camera"
# Two looks at the tile's video half a second apart: its size, and how much its pixels moved.
VIDEO_MOTION = """async (video) => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 36;
  const draw = () => {
    const context = canvas.getContext("2d");
    context.drawImage(video, 0, 0, 64, 36);
    return context.getImageData(0, 0, 64, 36).data;
  };
  const before = draw();
  await new Promise((done) => setTimeout(done, 500));
  const after = draw();
  let change = 0;
  for (let i = 0; i < before.length; i += 1) change += Math.abs(before[i] - after[i]);
  return {width: video.videoWidth, change: change / before.length};
}"""


def ingest_row(page: Page, slug: str):
    page.goto(f"/meetings/{slug}/streaming")  # not a reload: that would post the form again
    return page.locator("tr[data-ingest]")


def state_is(page: Page, slug: str, text: str) -> bool:
    return text in ingest_row(page, slug).inner_text()


def test_an_encoder_streams_into_the_meeting_as_the_participant_its_host_named(
    live_stack, open_context, media_worker
):
    media_worker.ensure_running()
    slug, room_page = host_in_meeting(open_context, live_stack)
    problems = PageProblems(room_page)
    settings = room_page.context.new_page()
    settings.goto(f"/meetings/{slug}/streaming")
    settings.get_by_label("Name in the meeting").fill(NAME)
    settings.get_by_role("button", name="Add encoder").click()
    server = settings.locator("#new-ingest-url").input_value()
    key = settings.locator("#new-ingest-key").input_value()
    assert server == f"rtmp://127.0.0.1:{live_stack.app.config['INGEST_RTMP_PORTS']}/live"
    screenshot(settings, "stream-in-settings")
    # The meeting is open, so the worker's job listens for the encoder at once.
    wait_for(lambda: state_is(settings, slug, "waiting for the encoder"), 30, what="job listening")

    with Encoder(f"{server}/not-the-key", seconds=3, size="640x360") as wrong:
        code, log = wrong.wait(30)
    assert code != 0, log
    wait_for(lambda: state_is(settings, slug, "1 attempt with a wrong key"), 15, what="refusal")
    expect(room_page.locator(".tile.remote")).to_have_count(0)

    tile = room_page.locator(".tile.remote", has=room_page.locator(".tile-name", has_text=NAME))
    with Encoder(f"{server}/{key}", size="640x360"):
        expect(tile).to_be_visible(timeout=30_000)
        video = tile.locator("video")
        moving = wait_for(
            lambda: (m := video.evaluate(VIDEO_MOTION))["width"] > 0 and m["change"] > 1 and m,
            20,
            what="moving video in the tile",
        )
        assert moving["width"] == 640
        assert live_participant(live_stack, slug, NAME).identity.startswith("ingest-in_")
        wait_for(lambda: state_is(settings, slug, "live in the meeting"), 15, what="live state")
        screenshot(room_page, "stream-in-tile")
        screenshot(settings, "stream-in-settings-live")
    # The encoder stopped (as OBS's Stop does): the participant leaves.
    expect(tile).to_have_count(0, timeout=20_000)
    wait_for(lambda: state_is(settings, slug, "waiting for the encoder"), 15, what="waiting again")
    # Removing it frees its port; its key no longer works.
    ingest_row(settings, slug).get_by_role("button", name=f"Remove encoder {NAME}").click()
    expect(settings.locator(".flash")).to_contain_text("no longer works")
    assert problems.errors == []
    room_page.context.close()
    live_stack.wait_until_derived()
    live_stack.query(wait_for_background_work)
