"""Tier 3: Debian Chromium driven by Playwright, with a fake camera and microphone."""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import ARTIFACTS, require

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
# Waits are bounds, not expectations: on a loaded 2-core machine a page that is fine can take
# several times its usual time, and a condition that is never met fails all the same.
expect.set_options(timeout=20_000)
ACTION_TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}


# Package scope: Playwright's sync API leaves an event loop on the main thread while it
# runs, which breaks asyncio code (the gateway) called from that thread by later tests.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require(Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None, "Chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


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


@pytest.fixture
def open_context(browser: Browser, live_stack) -> Iterator[Callable[..., BrowserContext]]:
    """New isolated browser profiles (one per person), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_new(viewport: dict | None = None, **options) -> BrowserContext:
        """`options` go to Playwright's new_context (bypass_csp, java_script_enabled...)."""
        context = browser.new_context(
            base_url=live_stack.base_url,
            viewport=viewport or DESKTOP,
            permissions=["camera", "microphone"],
            **options,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_new
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
