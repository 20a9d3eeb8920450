"""Chromium as the browser tier drives it, and what people do in it: sign in, join a call,
see live video. (The Flask test client signs in with `tests.support.accounts.sign_in`.)"""

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from meetings.auth import services as auth_services
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.support.accounts import PASSWORD
from tests.support.environment import ARTIFACTS
from tests.support.joining import expect_connected
from tests.support.live import LiveStack
from tests.support.waiting import wait_for

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
    # Screen sharing needs no extra flag: with the two fake-media flags above, headless
    # Chromium answers getDisplayMedia with a fake 1280x720 screen (and a fake audio track).
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

PREVIEW_SHOWS_CAMERA = "() => document.querySelector('#preview-video').videoWidth > 0"
# True once the <video> in `selector` shows frames that move on.
VIDEO_PLAYING = """
async (selector) => {
  const video = document.querySelector(selector);
  if (!video || video.videoWidth === 0) return false;
  const before = video.currentTime;
  await new Promise((resolve) => setTimeout(resolve, 500));
  return video.currentTime > before;
}
"""


class PageProblems:
    """JavaScript errors and CSP violations a page reported: a user would hit these."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        text = message.text
        if message.type == "error" and "Content Security Policy" in text:
            self.errors.append(f"CSP: {text}")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, email: str = "ops@example.com", password: str = PASSWORD) -> None:
    """Sign in through the login page; returns on the dashboard. The default is the operator
    the live app starts with."""
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Upcoming meetings", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard", exact=True)).to_be_visible()


def scheduled(
    stack: LiveStack,
    starts_in: timedelta = timedelta(minutes=1),
    title: str = "Scheduled call",
    **settings,
) -> tuple[str, str]:
    """A meeting by a new host "Hilde Host"; returns (slug, host email)."""

    def create():
        email = f"host-{time.monotonic_ns()}@example.com"
        host = auth_services.create_user(email, "Hilde Host", PASSWORD, email_verified=True)
        fields = {"duration_minutes": 60, "lobby": False} | settings
        start = datetime.now(UTC) + starts_in
        return create_meeting(host, MeetingSettings(title, start, **fields)).slug, email

    return stack.query(create)


def join(page: Page, name: str | None = None) -> None:
    """On the pre-join page: wait for the camera preview, give a name, join, be connected."""
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    expect(page.locator("#preview-placeholder")).to_be_hidden()
    if name is not None:
        page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join meeting").click()
    expect_connected(page)


def wait_for_video(page: Page, selector: str = ".tile.remote video", timeout: float = 20) -> None:
    """Wait until the <video> in `selector` (by default a remote person's) plays live frames."""
    wait_for(
        lambda: page.evaluate(VIDEO_PLAYING, selector),
        timeout,
        interval=0,  # each check itself watches the video for half a second
        what=f"live video in {selector}",
    )


def wait_until(page: Page, expression: str, timeout: float = 15) -> None:
    """Poll a page expression (wait_for_function would need `unsafe-eval` under our CSP)."""
    wait_for(
        lambda: page.evaluate(expression),
        timeout,
        interval=0.1,
        what=expression,
        pause=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )
