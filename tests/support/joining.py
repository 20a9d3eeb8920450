"""Waiting for a browser to be in the call, and saying where it stopped when it is not.

A slow machine and a broken join look the same from outside ("no Connected within N s").
The meeting page records each milestone of a join as a User Timing mark (`join:click`,
`join:token`, `join:signal`, `join:webrtc`, `join:stage`, `join:published`), so a failed
wait can say which phase it was in and what the page itself showed. The call shows (`stage`)
before your own camera and microphone are out (`published`); `join:subscribed`, the first
remote video, is a mark only: it can come at any point after `signal`.
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
    "webrtc": "the stage to show",
    "stage": "publishing the camera and microphone",
    "published": "nothing: the join is done",
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


def expect_connected(
    page: Page, timeout_ms: int = CONNECT_TIMEOUT_MS, published: bool = True
) -> None:
    """Wait until the page says Connected and, with `published`, until its own microphone
    and camera are out too (the call shows before them; a test that acts on them next
    must not race them). Otherwise fail naming the phase the join stopped in."""
    try:
        expect(page.locator("#connection-status")).to_have_text("Connected", timeout=timeout_ms)
        if published:
            phase = page.locator("html")
            expect(phase).to_have_attribute("data-join-phase", "published", timeout=timeout_ms)
    except AssertionError:
        raise AssertionError(f"{page.url} did not connect: {join_state(page)}") from None


# Installed before the page's own scripts (page.add_init_script): when the first remote
# video frame is drawn (requestVideoFrameCallback), as the mark "join:frame".
JOIN_TIMING_SCRIPT = """
new MutationObserver(() => {
  const video = document.querySelector('.tile.remote video');
  if (video && !video.__joinWatched) {
    video.__joinWatched = true;
    video.requestVideoFrameCallback(() => {
      if (!performance.getEntriesByName('join:frame').length) performance.mark('join:frame');
    });
  }
}).observe(document, { subtree: true, childList: true });
"""

JOIN_MILESTONES = ("token", "signal", "webrtc", "stage", "subscribed", "frame", "published")

MILESTONES_AFTER_CLICK = """(names) => {
  const at = (name) => performance.getEntriesByName('join:' + name)[0]?.startTime;
  const click = at('click');
  const after = (name) => (at(name) === undefined ? null : at(name) - click);
  return Object.fromEntries(names.map((name) => [name, after(name)]));
}"""


def join_milestones(page: Page) -> dict[str, float | None]:
    """Milliseconds from the click on Join to each milestone of the first join (None: not yet)."""
    return page.evaluate(MILESTONES_AFTER_CLICK, list(JOIN_MILESTONES))
