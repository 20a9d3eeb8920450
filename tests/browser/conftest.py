"""Tier 3: Debian Chromium driven by Playwright, with a fake camera and microphone."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from tests.support.browser_pages import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.support.environment import require

# Waits are bounds, not expectations: on a loaded 2-core machine a page that is fine can take
# several times its usual time, and a condition that is never met fails all the same.
expect.set_options(timeout=20_000)
ACTION_TIMEOUT_MS = 30_000


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
