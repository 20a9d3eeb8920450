"""Waiting for a browser to be in the call, and saying where it stopped when it is not.

A slow machine and a broken join look the same from outside ("no Connected within N s").
The meeting page records each milestone of a join as a User Timing mark (`join:click`,
`join:token`, `join:signal`, `join:webrtc`, `join:published`), so a failed wait can say
which phase it was in and what the page itself showed.
"""

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

# Generous on purpose: a loaded 2-core machine has taken 10+ s to connect. A real
# regression fails just the same, with the phase below to tell it from slowness.
CONNECT_TIMEOUT_MS = 45_000

WAITING_FOR = {
    None: "the page to start joining (the Join click did not register)",
    "click": "the join ticket (POST .../tokens, or the lobby)",
    "token": "LiveKit's signal connection (WebSocket)",
    "signal": "the WebRTC connection (ICE/DTLS)",
    "webrtc": "publishing the camera and microphone",
    "published": "the stage to show",
}

PAGE_STATE = """() => ({
  phase: document.documentElement.dataset.joinPhase || null,
  status: document.querySelector('#connection-status')?.textContent || '',
  error: document.querySelector('#join-error:not([hidden])')?.textContent || '',
  banner: document.querySelector('#banner:not([hidden])')?.textContent || '',
  marks: performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith('join:'))
    .map((m) => `${m.name}@${Math.round(m.startTime)}ms`),
})"""


def join_state(page: Page) -> str:
    """One line about where this page's join stands, for failure messages."""
    try:
        state = page.evaluate(PAGE_STATE)
    except PlaywrightError as error:
        return f"(the page could not be read: {error})"
    waiting = WAITING_FOR.get(state["phase"], state["phase"])
    return (
        f"waiting for {waiting}; status {state['status']!r}, error {state['error']!r}, "
        f"banner {state['banner']!r}; milestones: {', '.join(state['marks']) or 'none'}"
    )


def expect_connected(page: Page, timeout_ms: int = CONNECT_TIMEOUT_MS) -> None:
    """Wait until the page says Connected; otherwise fail naming the phase it stopped in."""
    try:
        expect(page.locator("#connection-status")).to_have_text("Connected", timeout=timeout_ms)
    except AssertionError:
        raise AssertionError(f"{page.url} did not connect: {join_state(page)}") from None
