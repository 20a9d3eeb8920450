"""Background effects: blur and virtual backgrounds on your camera, chosen before joining or in
Settings, seen by the others, remembered by the browser, served from this box alone, and
downloaded only by the people who use them."""

import time
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.meeting_room import guest_in_meeting, guest_tickets
from tests.support.browser_pages import (
    PREVIEW_SHOWS_CAMERA,
    PageProblems,
    join,
    scheduled,
    screenshot,
    sign_in,
    wait_for_video,
)
from tests.support.environment import ARTIFACTS
from tests.support.video_watcher import VideoWatcher, sharpness
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

EFFECTS_CODE = ("/room/effects.js", "/vendor/track-processors.js", "/vendor/mediapipe/")
# securitypolicyviolation events, kept where the test can read them (console messages of
# violations are caught by PageProblems too).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
EFFECT_STATE = "document.querySelector('#effects-{where}').dataset.state"


class Network:
    """Every request a browser context makes; fails the test on any host but 127.0.0.1."""

    def __init__(self, page: Page):
        self.urls: list[str] = []
        page.context.on("request", lambda request: self.urls.append(request.url))

    def outside(self) -> list[str]:
        local = ("127.0.0.1", "localhost")
        return [
            url
            for url in self.urls
            if url.startswith(("http", "ws")) and urlsplit(url).hostname not in local
        ]

    def effects_code(self) -> list[str]:
        return [url for url in self.urls if any(part in url for part in EFFECTS_CODE)]


def mean_sharpness(watcher: VideoWatcher, samples: int = 6) -> float:
    values = []
    for _ in range(samples):
        time.sleep(0.5)
        values.append(sharpness(watcher.frame))
    return float(np.median(values))


def open_menu(page: Page) -> None:
    """Before joining, the menu is folded under "Background effects"."""
    if not page.locator("#effects-prejoin-more").evaluate("(details) => details.open"):
        page.get_by_text("Background effects", exact=True).click()
    expect(page.get_by_role("group", name="Background")).to_be_visible()


def pick(page: Page, where: str, name: str) -> None:
    if where == "prejoin":
        open_menu(page)
    page.locator(f"#effects-{where}").get_by_label(name, exact=True).check()


def expect_effect_on(page: Page, where: str) -> None:
    wait_for(
        lambda: page.evaluate(EFFECT_STATE.format(where=where)) in ("on", "error", "unsupported"),
        60,  # the first time, 10 MB of WASM and the model are compiled on a busy machine
        what="the background effect to be applied",
    )
    assert page.evaluate(EFFECT_STATE.format(where=where)) == "on"


def test_blur_chosen_before_joining_is_what_the_others_receive(open_context, live_stack):
    slug, email = scheduled(live_stack)
    host = open_context().new_page()
    host.add_init_script(WATCH_CSP)
    problems = PageProblems(host)
    network = Network(host)
    sign_in(host, email)
    host.goto(f"/m/{slug}")
    host.wait_for_function(PREVIEW_SHOWS_CAMERA)

    menu = host.locator("#effects-prejoin")
    expect(host.get_by_role("group", name="Background")).to_be_hidden()  # folded
    pick(host, "prejoin", "Strong blur")
    expect(menu.get_by_role("status")).to_have_text("Applying…")
    expect_effect_on(host, "prejoin")
    # --disable-gpu: WebGL on SwiftShader, and the page says what that costs.
    expect(menu.get_by_role("status")).to_contain_text("your video will be jerky")
    screenshot(host, "effects-menu-prejoin")
    join(host)

    [ticket] = guest_tickets(live_stack, slug, ["Watcher"])
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    guest_network = Network(guest)
    wait_for_video(guest)  # the call works: the other side sees the host's tile play
    with VideoWatcher(ticket, "Hilde Host") as watcher:
        wait_for(lambda: watcher.frame is not None, 30, what="the host's video at the watcher")
        blurred, fps_on = mean_sharpness(watcher), watcher.fps()
        wait_for_video(host, ".tile.local video")
        screenshot(host, "effects-blurred-self-view")
        # Video off and on in the call restarts the camera: the blur comes back with it.
        host.get_by_role("button", name="Stop video").click()
        host.get_by_role("button", name="Start video").click()
        seen = len(watcher.times)
        wait_for(lambda: len(watcher.times) >= seen + 3, 60, what="frames after the restart")
        blurred_again = mean_sharpness(watcher)

        host.get_by_role("button", name="Settings").click()
        settings = host.get_by_role("dialog", name="Settings")
        expect(settings.get_by_label("Strong blur", exact=True)).to_be_checked()
        screenshot(host, "effects-menu-settings")
        pick(host, "call", "None")
        wait_for(
            lambda: host.evaluate(EFFECT_STATE.format(where="call")) == "off", 20, what="effect off"
        )
        time.sleep(2)  # frames already in flight
        sharp, fps_off = mean_sharpness(watcher), watcher.fps()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "effects-fps.txt").write_text(
        f"published camera at the receiver: blur on {fps_on:.1f} fps, off {fps_off:.1f} fps\n"
        f"sharpness (Laplacian variance at 320x180): blur on {blurred:.2f}, camera restarted "
        f"{blurred_again:.2f}, off {sharp:.2f}\n"
    )
    # The fake camera's test pattern (all background) loses its edges under the blur.
    assert blurred < 0.5 * sharp, (blurred, sharp)
    assert blurred_again < 0.5 * sharp, (blurred_again, sharp)
    assert network.outside() == []
    assert guest_network.outside() == []
    assert any("/vendor/mediapipe/selfie_segmentation.tflite" in url for url in network.urls)
    assert host.evaluate("window.__cspViolations") == []
    assert problems.errors == []
    # Someone who never picked an effect downloaded none of its code.
    assert guest_network.effects_code() == []


def test_people_who_never_pick_an_effect_download_none_of_it(open_context, live_stack):
    slug, _ = scheduled(live_stack)
    page = open_context().new_page()
    network = Network(page)
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    expect(page.locator("#effects-prejoin").get_by_label("None", exact=True)).to_be_checked()
    page.get_by_role("button", name="Camera on").click()  # a new preview track
    page.get_by_role("button", name="Camera off").click()
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    assert network.effects_code() == []
    assert not [url for url in network.urls if "/img/backgrounds/" in url and "-thumb" not in url]


def test_the_choice_and_your_own_picture_are_remembered(open_context, live_stack, tmp_path):
    slug, _ = scheduled(live_stack)
    page = open_context().new_page()
    page.add_init_script(WATCH_CSP)
    network = Network(page)
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    pick(page, "prejoin", "Ocean")
    expect_effect_on(page, "prejoin")

    page.reload()
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    # Remembered: the menu unfolds by itself, on the same choice.
    expect(page.locator("#effects-prejoin").get_by_label("Ocean", exact=True)).to_be_checked()
    expect(page.get_by_role("group", name="Background")).to_be_visible()
    expect_effect_on(page, "prejoin")
    wait_for(lambda: preview_colour(page)[2] > preview_colour(page)[1], 20, what="a blue preview")

    picture = tmp_path / "holiday.png"
    Image.new("RGB", (2000, 1000), (200, 30, 30)).save(picture)  # red, and wider than 16:9
    page.locator("#effects-prejoin input[type=file]").set_input_files(str(picture))
    own = page.locator("#effects-prejoin").get_by_label("Your picture", exact=True)
    expect(own).to_be_checked()
    expect_effect_on(page, "prejoin")
    wait_for(lambda: preview_colour(page)[0] > 120, 20, what="a red preview")
    page.reload()
    expect(own).to_be_checked()
    expect_effect_on(page, "prejoin")
    wait_for(lambda: preview_colour(page)[0] > 120, 20, what="a red preview after reload")
    screenshot(page, "effects-own-picture")
    assert network.outside() == []
    assert page.evaluate("window.__cspViolations") == []
    # The picture never left the browser.
    assert not [url for url in network.urls if "holiday" in url]


PREVIEW_COLOUR = """
() => {
  const video = document.getElementById("preview-video");
  const canvas = Object.assign(document.createElement("canvas"), { width: 64, height: 36 });
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0, 64, 36);
  const data = context.getImageData(0, 0, 64, 8).data;  // the top rows: background
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += data[i + c];
  return sum.map((value) => value / (data.length / 4));
}
"""


def preview_colour(page: Page) -> list[float]:
    return page.evaluate(PREVIEW_COLOUR)


# A browser without WebGL 2: the effects cannot run, and the menu says so.
NO_WEBGL2 = """
const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  return kind === "webgl2" ? null : getContext.call(this, kind, ...rest);
};
"""


def test_a_browser_that_cannot_run_effects_is_told_so(open_context, live_stack):
    slug, _ = scheduled(live_stack)
    page = open_context().new_page()
    page.add_init_script(NO_WEBGL2)
    problems = PageProblems(page)
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    menu = page.locator("#effects-prejoin")
    # By keyboard: the summary opens the menu; the radios are one Tab stop, arrows move.
    page.get_by_text("Background effects", exact=True).focus()
    page.keyboard.press("Enter")
    menu.get_by_label("None", exact=True).focus()
    page.keyboard.press("ArrowRight")
    expect(menu.get_by_label("Slight blur", exact=True)).to_be_checked()
    expect(menu.get_by_role("status")).to_have_text(
        "Background effects are not available in this browser."
    )
    expect(menu.get_by_label("Strong blur", exact=True)).to_be_disabled()
    wait_for(lambda: page.evaluate(PREVIEW_SHOWS_CAMERA), 10, what="the preview still plays")
    assert problems.errors == []
