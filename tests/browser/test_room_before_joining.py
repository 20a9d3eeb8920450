"""The check before joining: devices, preview, level meter, remembered choices, clear words
when a device cannot start, and a page that paints without JavaScript."""

import pytest
from playwright.sync_api import expect

from tests.browser.meeting_room import host_in_meeting
from tests.support.browser_pages import (
    PHONE,
    PREVIEW_SHOWS_CAMERA,
    PageProblems,
    join,
    scheduled,
    screenshot,
)
from tests.support.joining import expect_connected

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

MIC_LEVEL_MOVES = """
() => /scaleX\\((0\\.[1-9]|1)/.test(document.getElementById("mic-level").style.transform)
"""


def test_devices_are_listed_the_level_moves_and_choices_are_remembered(open_context, live_stack):
    slug, _ = scheduled(live_stack)
    page = open_context().new_page()
    problems = PageProblems(page)
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    prejoin = page.locator("#prejoin")
    camera = prejoin.get_by_label("Camera", exact=True)
    microphone = prejoin.get_by_label("Microphone", exact=True)
    expect(camera.locator("option")).not_to_have_count(0)
    expect(microphone.locator("option")).not_to_have_count(1)  # Chromium fakes several
    page.wait_for_function(MIC_LEVEL_MOVES)  # the fake microphone beeps
    page.get_by_label("Your name").fill("Gita Guest")
    screenshot(page, "room-prejoin")
    page.set_viewport_size(PHONE)
    screenshot(page, "room-prejoin-phone")

    second = microphone.locator("option").nth(1).get_attribute("value")
    microphone.select_option(second)
    page.get_by_role("button", name="Camera on").click()
    expect(page.locator("#preview-placeholder")).to_have_text("Camera is off")

    page.reload()
    expect(microphone).to_have_value(second)
    expect(page.get_by_role("button", name="Camera off")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#preview-placeholder")).to_have_text("Camera is off")
    page.wait_for_function(MIC_LEVEL_MOVES)
    assert problems.errors == []


def test_a_meeting_that_starts_muted_lets_people_in_muted(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack, join_muted=True)
    guest = open_context().new_page()
    guest.goto(f"/m/{slug}")
    expect(guest.get_by_text("Everyone joins this meeting muted")).to_be_visible()
    expect(guest.get_by_role("button", name="Microphone off")).to_have_attribute(
        "aria-pressed", "false"
    )
    join(guest, "Gita Guest")
    expect(guest.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "false")
    expect(host.locator(".tile.remote .mic-state")).to_have_text("Muted")
    guest.get_by_role("button", name="Unmute").click()
    expect(host.locator(".tile.remote .mic-state")).to_have_text("")


# The browser's answer for each kind of device, as getUserMedia gives it.
REFUSE_DEVICES = """
([cameraError, microphoneError]) => {
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const name = constraints.video ? cameraError : microphoneError;
    throw new DOMException("refused by the test", name);
  };
}
"""


@pytest.mark.parametrize(
    ("camera_error", "microphone_error", "camera_text", "microphone_text"),
    [
        (
            "NotAllowedError",
            "NotAllowedError",
            "The browser blocked your camera. Allow it in the address bar",
            "The browser blocked your microphone.",
        ),
        (
            "NotFoundError",
            "NotFoundError",
            "No camera was found.",
            "No microphone was found.",
        ),
        (
            "NotReadableError",
            "NotAllowedError",
            "Your camera is in use by another application.",
            "The browser blocked your microphone.",
        ),
    ],
)
def test_a_device_that_cannot_start_is_explained_and_joining_still_works(
    open_context, live_stack, camera_error, microphone_error, camera_text, microphone_text
):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = open_context().new_page()
    script = REFUSE_DEVICES.strip()
    guest.add_init_script(f"({script})({[camera_error, microphone_error]!r})")
    guest.goto(f"/m/{slug}")
    note = guest.locator("#device-note")
    expect(note).to_contain_text(camera_text)
    expect(note).to_contain_text(microphone_text)
    expect(guest.locator("#preview-placeholder")).to_have_text("Camera unavailable")
    if camera_error == "NotReadableError":
        screenshot(guest, "room-prejoin-device-in-use")

    guest.get_by_label("Your name").fill("Gita Guest")
    guest.get_by_role("button", name="Join meeting").click()
    expect_connected(guest)
    expect(host.locator(".tile.remote .tile-name")).to_have_text("Gita Guest")
    expect(host.locator(".tile.remote")).to_have_attribute("data-video", "false")


def test_the_page_paints_its_form_without_javascript(open_context, live_stack):
    slug, _ = scheduled(live_stack)
    page = open_context(java_script_enabled=False).new_page()
    page.goto(f"/m/{slug}")
    expect(page.get_by_role("heading", name="Ready to join?")).to_be_visible()
    expect(page.get_by_label("Your name")).to_be_visible()
    expect(page.get_by_role("button", name="Join meeting")).to_be_visible()
    expect(page.locator("#stage")).to_be_hidden()
    expect(page.locator("#ended")).to_be_hidden()


# The colour painted behind an element: the first ancestor with a background whose box holds
# it; when none does, the canvas, which takes the body's background only if <html> has none.
BACKGROUND_BEHIND = """(selector) => {
  const element = document.querySelector(selector);
  const target = element.getBoundingClientRect();
  const clear = (colour) => colour === "rgba(0, 0, 0, 0)" || colour === "transparent";
  for (let el = element.parentElement; el; el = el.parentElement) {
    const colour = getComputedStyle(el).backgroundColor;
    if (clear(colour)) continue;
    const box = el.getBoundingClientRect();
    if (el === document.documentElement || (box.top <= target.top && box.bottom >= target.bottom)) {
      return colour;
    }
  }
  return getComputedStyle(document.body).backgroundColor;
}"""


def brightness(colour: str) -> float:
    red, green, blue = (
        float(part) for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]
    )
    return (red + green + blue) / 3


def test_the_whole_pre_join_page_stays_dark_on_a_phone(open_context, live_stack):
    """Issue 17 item 5: at 390x844 the lobby notice, the recording notice and the Join button
    sat on the light page background below the first screenful."""
    slug, _ = scheduled(live_stack, lobby=True, recording_allowed=True)
    page = open_context(PHONE).new_page()
    page.goto(f"/m/{slug}")
    page.get_by_label("Your name").fill("Phone Pia")
    page.get_by_role("button", name="Join meeting").click()
    expect(page.locator("#lobby-waiting")).to_contain_text("Waiting for a host to let you in")
    screenshot(page, "prejoin-lobby-phone")
    behind = {
        selector: page.evaluate(BACKGROUND_BEHIND, selector)
        for selector in ("#lobby-waiting", "#recording-prejoin-notice", "#join-button")
    }
    assert all(brightness(colour) < 60 for colour in behind.values()), behind
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
