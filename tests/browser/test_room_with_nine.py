"""A fuller room: one browser and eight synthetic participants that publish real video (two
of them also a voice)."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.meeting_room import guest_in_meeting, guest_tickets
from tests.support.browser_pages import (
    DESKTOP,
    PHONE,
    PageProblems,
    scheduled,
    screenshot,
    wait_for_video,
)
from tests.support.synthetic import BackgroundParticipants

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

NAMES = ["Ada", "Ben", "Cleo", "Dev", "Emi", "Finn", "Gus", "Hale"]


def names_on_each_page(page: Page) -> list[list[str]]:
    """From the first page of the grid to the last: the names on the tiles in the document."""
    label = page.locator("#page-label")
    expect(label).to_contain_text("Page 1 of ")
    count = int(label.inner_text().rsplit(" ", 1)[1])
    pages = []
    for number in range(1, count + 1):
        if number > 1:
            page.get_by_role("button", name="Next page").click()
        expect(label).to_have_text(f"Page {number} of {count}")
        pages.append(page.locator(".tile .tile-name").all_inner_texts())
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    return pages


def test_nine_people_page_through_the_grid_and_the_speaker_view_follows_the_voice(
    open_context, live_stack
):
    # The browser is a guest, so that nothing but the room itself is on the screen.
    slug, _ = scheduled(live_stack)
    page = guest_in_meeting(open_context, slug, "Gita Guest")
    problems = PageProblems(page)
    tickets = guest_tickets(live_stack, slug, NAMES)
    with BackgroundParticipants(tickets, publish_video=True, voices=[2, 6]) as bots:
        expect(page.locator("#people-count")).to_have_text("(9)")
        expect(page.locator(".tile.remote[data-video='true']")).to_have_count(8)
        screenshot(page, "room-grid")

        page.set_viewport_size(PHONE)
        expect(page.get_by_role("navigation", name="Pages of participants")).to_be_visible()
        pages = names_on_each_page(page)
        assert len(pages) > 1
        # Each page holds only its own tiles: the others are not in the document at all.
        everyone = sorted(name for names in pages for name in names)
        assert everyone == sorted(["Gita Guest (you)", *NAMES])
        for _ in pages[1:]:
            page.get_by_role("button", name="Previous page").click()
        expect(page.locator("#page-label")).to_have_text(f"Page 1 of {len(pages)}")
        expect(page.locator(".tile")).to_have_count(len(pages[0]))
        screenshot(page, "room-grid-phone")

        page.set_viewport_size(DESKTOP)
        page.get_by_role("button", name="Speaker view").click()
        stage = page.locator("#tiles .tile")
        expect(stage).to_have_count(1)
        bots.speak(6)
        expect(stage.locator(".tile-name")).to_have_text("Gus")
        expect(stage).to_have_class("tile remote speaking")
        bots.speak(2)
        expect(stage.locator(".tile-name")).to_have_text("Cleo")
        wait_for_video(page, "#tiles .tile video")
        screenshot(page, "room-speaker")

        # A pin holds the stage whoever speaks; unpinning gives it back to the speaker.
        page.get_by_role("button", name="Pin Ben").click()
        expect(stage.locator(".tile-name")).to_have_text("Ben")
        page.get_by_role("button", name="Unpin Ben").click()
        expect(stage.locator(".tile-name")).to_have_text("Cleo")

        page.get_by_role("button", name="Settings").click()
        page.get_by_label("Low bandwidth mode").check()
        page.get_by_role("button", name="Done").click()
        # Only the speaker's video still arrives; the strip shows initials.
        expect(page.locator("#strip .tile.remote")).not_to_have_count(0)
        expect(page.locator("#strip .tile.remote[data-video='true']")).to_have_count(0)
        expect(page.locator("#tiles .tile[data-video='true']")).to_have_count(1)
        bots.speak(6)
        expect(stage.locator(".tile-name")).to_have_text("Gus")
        wait_for_video(page, "#tiles .tile video")
        screenshot(page, "room-speaker-low-bandwidth")
    assert problems.errors == []
