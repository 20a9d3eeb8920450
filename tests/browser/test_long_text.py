"""Issue 17 item 3: user text without spaces (a 200-character title, a 64-character name)
wraps or truncates on every page it appears on, and truncated text keeps its full form in a
`title` attribute. A page wider than the window is zoomed out on a phone."""

import pytest
from playwright.sync_api import Page, expect

from meetings.models import Meeting
from tests.browser.meeting_room import guest_in_meeting, host_in_meeting, open_panel, send_chat
from tests.support.browser_pages import PHONE, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

LONG_TITLE = "Quarterly-planning-" + "x" * 181
LONG_NAME = "Gwendolyn" + "g" * 55


def too_wide(page: Page, name: str) -> dict[str, int]:
    """{name: width} when the page is wider than its window (sideways scroll, or zoomed out on
    a phone); {} when it fits. Saves a screenshot either way."""
    screenshot(page, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    return {name: width} if width > page.viewport_size["width"] else {}


def test_a_long_title_and_name_fit_every_page_at_desktop_and_phone_width(open_context, live_stack):
    assert len(LONG_TITLE) == 200 and len(LONG_NAME) == 64
    slug, host = host_in_meeting(open_context, live_stack, title=LONG_TITLE)
    guest = guest_in_meeting(open_context, slug, LONG_NAME, viewport=PHONE)
    expect(host.locator(".tile.remote")).to_have_count(1)
    wide: dict[str, int] = {}
    open_panel(guest, "Chat")
    send_chat(guest, "hello")
    open_panel(host, "Chat")
    expect(host.locator("#chat-log .message-text")).to_have_count(1)
    wide |= too_wide(host, "long-text-room-chat-desktop")
    open_panel(host, "People")
    wide |= too_wide(host, "long-text-room-people-desktop")
    open_panel(guest, "People")
    wide |= too_wide(guest, "long-text-room-people-phone")

    host_email = live_stack.query(lambda: Meeting.by_slug(slug).host.email)
    for viewport, size in ((None, "desktop"), (PHONE, "phone")):
        page = open_context(viewport).new_page()
        sign_in(page, host_email)
        wide |= too_wide(page, f"long-text-dashboard-{size}")
        for path, name in (
            (f"/meetings/{slug}", "meeting"),
            (f"/meetings/{slug}/history", "history"),
            (f"/meetings/{slug}/audit", "audit"),
            (f"/m/{slug}", "prejoin"),
        ):
            page.goto(path)
            wide |= too_wide(page, f"long-text-{name}-{size}")
    assert not wide, wide

    # The truncated places keep the whole text for a pointer (title) and a screen reader.
    expect(host.locator(".room-title [title]")).to_have_attribute("title", LONG_TITLE)
    expect(host.locator(".tile.remote .tile-name")).to_have_attribute("title", LONG_NAME)
    expect(host.locator(".person .name-text").filter(has_text="Gwendolyn")).to_have_attribute(
        "title", LONG_NAME
    )
    expect(host.locator("#chat-log .message-name").first).to_have_attribute("title", LONG_NAME)
