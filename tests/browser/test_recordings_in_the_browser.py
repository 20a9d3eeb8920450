"""Recordings in Chromium: the list, playing a real MP4, downloading it, and the room's
recording sign and buttons (static/js/room/recording.js) against the real server, which has
no egress worker and so refuses to record."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from meetings.auth import services as auth_services
from meetings.recordings.explain import FAILED
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.browser.meeting_room import guest_in_meeting, host_in_meeting, open_panel
from tests.support.accounts import PASSWORD
from tests.support.browser_pages import PHONE, PageProblems, screenshot, sign_in, wait_until
from tests.support.egress_factory import SECOND, egress_event
from tests.support.recording_media import deliver, make_mp4
from tests.support.rooms import first_room

pytestmark = pytest.mark.browser


def schedule(stack, title: str):
    """A meeting open now that allows recording; its slug, room, host email and API headers."""

    def create():
        email = f"rec-{time.monotonic_ns()}@example.com"
        host = auth_services.create_user(email, "Rosa Recorder", PASSWORD, email_verified=True)
        start = datetime.now(UTC) + timedelta(minutes=1)
        settings = MeetingSettings(
            title, start, duration_minutes=60, lobby=False, recording_allowed=True
        )
        meeting = create_meeting(host, settings)
        token = auth_services.issue_api_token(host, "t")
        return meeting.slug, first_room(meeting), email, {"Authorization": f"Bearer {token}"}

    return stack.query(create)


def test_a_recording_plays_in_the_page_and_downloads(
    live_stack, open_context, local_storage, tmp_path
):
    slug, room, email, _ = schedule(live_stack, "Design review")
    name = f"{room}-20300101T000000Z.mp4"
    video = make_mp4(local_storage / name, seconds=3).read_bytes()
    t0 = time.time_ns()
    for event in (
        egress_event("active", room, f"EG_play_{slug}", updated_ns=t0),
        egress_event(
            "complete",
            room,
            f"EG_play_{slug}",
            updated_ns=t0 + 5 * SECOND,
            filename=f"/out/{name}",
            size=len(video),
            duration_s=3.0,
        ),
        egress_event(
            "failed",
            room,
            f"EG_fail_{slug}",
            error="Start signal not received",
        ),
    ):
        assert deliver(live_stack, event) == 200

    page = open_context().new_page()
    problems = PageProblems(page)
    sign_in(page, email)
    page.get_by_role("link", name="Recordings").click()
    expect(page.get_by_role("heading", name="Recordings")).to_be_visible()
    page.get_by_label("Meeting link id").fill(slug)
    page.get_by_role("button", name="Filter").click()
    # Hosts read what happened and what to do, not the server's words (ops see those).
    expect(page.get_by_text("The recording failed in the recording service")).to_be_visible()
    expect(page.get_by_text("Start signal not received")).to_have_count(0)
    expect(page.get_by_role("cell", name="0:03")).to_be_visible()
    screenshot(page, "recordings-list")

    page.get_by_role("link", name="Play Design review").click()
    expect(page.get_by_role("heading", name="Design review")).to_be_visible()
    player = page.locator("#recording-player")
    wait_until(page, "document.getElementById('recording-player').readyState >= 2")
    assert player.evaluate("video => video.videoWidth") == 320
    screenshot(page, "recording-player")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    saved = tmp_path / "downloaded.mp4"
    download.value.save_as(saved)
    assert download.value.suggested_filename == name
    assert saved.read_bytes() == video

    # Issue 17 item 9: the failed one's page says what happened in the same plain words, and
    # offers nothing a recording without a file cannot do (play, download, share).
    page.get_by_role("link", name="All recordings").click()
    page.get_by_role("link", name="Details Design review").click()
    expect(page.get_by_role("heading", name="Design review")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="What happened")).to_contain_text(FAILED)
    expect(page.get_by_role("status")).to_have_count(1)  # not also a bare "no file" notice
    expect(page.get_by_text("Start signal not received")).to_have_count(0)
    expect(page.locator("#recording-player")).to_have_count(0)
    expect(page.get_by_role("link", name="Download")).to_have_count(0)
    expect(page.get_by_role("heading", name="Who may watch")).to_have_count(0)
    expect(page.get_by_role("radio")).to_have_count(0)
    screenshot(page, "recording-failed-desktop")
    page.set_viewport_size(PHONE)
    expect(page.get_by_text(FAILED)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "recording-failed-phone")

    page.goto(f"/recordings?meeting={slug}")
    expect(page.get_by_text("The recording failed in the recording service")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "recordings-list-phone")
    assert problems.errors == []


INSTALL = """async ({ isHost }) => {
  const data = document.createElement("script");
  data.type = "application/json";
  data.id = "recording-data";
  data.textContent = JSON.stringify(%s);
  document.body.append(data);
  // Stands in for a connected LivekitClient.Room: metadata and its change event.
  const handlers = {};
  window.fakeRoom = {
    metadata: "",
    on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
    off() {},
    once() {},
    setMetadata(value) {
      this.metadata = value;
      for (const fn of handlers.roomMetadataChanged || []) fn(value);
    },
  };
  window.notices = [];
  const module = await import("/static/js/room/recording.js");
  module.install({ room: window.fakeRoom, isHost, showNotice: (m) => window.notices.push(m) });
}"""


def test_the_room_shows_the_refusal_and_the_sign_follows_the_room_metadata(
    live_stack, open_context, local_storage
):
    slug, _, email, host = schedule(live_stack, "Board meeting")
    assert live_stack.http("POST", f"/api/v1/meetings/{slug}/tokens", {}, host)[0] == 201
    settings = (
        f'{{"allowed": true, "startUrl": "/api/v1/meetings/{slug}/recordings", '
        '"recordingsUrl": "/api/v1/recordings"}'
    )
    page = open_context().new_page()
    problems = PageProblems(page)
    sign_in(page, email)
    page.goto("/recordings")
    page.evaluate(INSTALL % settings, {"isHost": True})

    sign = page.locator("#recording-indicator")
    expect(sign).to_be_hidden()
    page.get_by_label("Recording layout").select_option("speaker")
    page.get_by_role("button", name="Start recording").click()
    expect(page.get_by_role("button", name="Starting…")).to_be_disabled()
    # The server has no egress worker: it refuses after 20-25 s, within EGRESS_TIMEOUT_SECONDS.
    wait_until(page, "window.notices.length > 0", timeout=60)
    assert page.evaluate("window.notices") == [
        "The recording could not start: the recording service did not answer. "
        "Try again in a minute; if it keeps failing, tell your operator."
    ]
    expect(sign).to_be_hidden()  # never a sign for a recording that does not run
    expect(page.get_by_role("button", name="Start recording")).to_be_enabled()
    _, listed = live_stack.http("GET", f"/api/v1/recordings?meeting={slug}", headers=host)
    assert [(r["status"], r["layout"]) for r in listed["items"]] == [("failed", "speaker")]

    # When the server says the room records (late joiners get this on connect), all see it.
    page.evaluate(
        """window.fakeRoom.setMetadata('{"slug": "x", "recording": true, "recording_id": 7}')"""
    )
    expect(sign).to_be_visible()
    expect(sign).to_have_text("Recording")
    expect(page.get_by_role("button", name="Stop recording")).to_be_visible()
    screenshot(page, "recording-sign-and-controls")
    page.evaluate("""window.fakeRoom.setMetadata('{"slug": "x", "recording": false}')""")
    expect(sign).to_be_hidden()
    assert problems.errors == []


def test_participants_get_the_sign_but_no_buttons(live_stack, open_context, local_storage):
    slug, _, email, _ = schedule(live_stack, "Town hall")
    settings = f'{{"allowed": true, "startUrl": "/api/v1/meetings/{slug}/recordings"}}'
    page = open_context().new_page()
    sign_in(page, email)
    page.goto("/recordings")
    page.evaluate(INSTALL % settings, {"isHost": False})
    expect(page.get_by_role("button", name="Start recording")).to_have_count(0)
    page.evaluate("""window.fakeRoom.setMetadata('{"recording": true, "recording_id": 3}')""")
    expect(page.locator("#recording-indicator")).to_be_visible()


OVERLAPS = """([selector, others]) => {
  const boxes = (css) => [...document.querySelectorAll(css)]
    .filter((el) => el.getClientRects().length)
    .map((el) => el.getBoundingClientRect());
  const meets = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return boxes(selector).some((a) => boxes(others).some((b) => meets(a, b)));
}"""


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_recording_controls_sit_in_the_controls_bar_not_over_the_stage(
    live_stack, open_context, viewport
):
    """Issue 17 item 4: the Start recording box floated over the tiles and the screen-share
    strip. It opens from a "Recording" control, in a side panel like chat and people."""
    slug, host = host_in_meeting(
        open_context, live_stack, recording_allowed=True, viewport=viewport
    )
    guest_in_meeting(open_context, slug, "Gita Guest")
    expect(host.locator(".tile.remote")).to_have_count(1)
    size = "phone" if viewport else "desktop"
    start = host.get_by_role("button", name="Start recording")
    # Closed, nothing of recording covers the stage...
    expect(host.locator(".stage-view")).to_be_visible()
    expect(start).to_be_hidden()
    assert not host.evaluate(OVERLAPS, [".recording-controls, .recording-controls *", ".tile"])
    screenshot(host, f"recording-controls-closed-{size}")
    # ...it opens from the controls bar, next to chat and people.
    open_panel(host, "Recording")
    panel = host.get_by_role("complementary", name="Recording")
    expect(panel.get_by_role("button", name="Start recording")).to_be_visible()
    expect(panel.get_by_label("Recording layout")).to_be_visible()
    expect(panel.get_by_label("Audio only")).to_be_visible()
    if viewport is None:  # on a phone every panel covers the stage, as chat does
        assert not host.evaluate(OVERLAPS, [".recording-controls", ".tile"])
    screenshot(host, f"recording-controls-open-{size}")
    panel.get_by_label("Audio only").focus()
    host.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(host.get_by_role("button", name="Recording")).to_be_focused()
