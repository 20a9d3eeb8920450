"""The acceptance walk-through: a host signs up, schedules, and meets a guest with live video."""

import time

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser_pages import (
    PHONE,
    PageProblems,
    join,
    screenshot,
    sign_in,
    wait_for_video,
)

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

PASSWORD = "a-long-password-123"


def sign_up(page: Page, stack, name: str, email: str) -> None:
    """Register, confirm the address from the mail, sign in: a new host's first minutes."""
    page.goto("/auth/register")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    (link,) = stack.mail_links(email)
    page.goto(link)
    page.get_by_role("button", name=f"Confirm {email}").click()
    expect(page.get_by_text(f"{email} is confirmed.")).to_be_visible()
    sign_in(page, email, PASSWORD)


def schedule(page: Page, title: str) -> str:
    page.get_by_role("link", name="Schedule a meeting").first.click()
    page.get_by_label("Title").fill(title)
    # Guests walk straight in here; the lobby has its own tests.
    page.get_by_label("Lobby: I admit people").uncheck()
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.get_by_label("Join link").input_value()


def test_host_and_guest_see_each_others_live_video(open_context, live_stack):
    host_page = open_context().new_page()
    host_problems = PageProblems(host_page)
    sign_up(host_page, live_stack, "Hana Host", f"hana-{time.monotonic_ns()}@example.com")
    screenshot(host_page, "dashboard-empty")
    join_url = schedule(host_page, "Browser acceptance")
    assert join_url.startswith(live_stack.base_url + "/m/")
    screenshot(host_page, "meeting-detail")
    host_page.goto("/dashboard")
    expect(host_page.get_by_role("link", name="Browser acceptance", exact=True)).to_be_visible()
    screenshot(host_page, "dashboard")

    host_page.get_by_role("link", name="Join Browser acceptance").click()
    expect(host_page.get_by_label("Your name")).to_have_value("Hana Host")
    screenshot(host_page, "prejoin")
    join(host_page)

    guest_page = open_context().new_page()
    guest_problems = PageProblems(guest_page)
    guest_page.goto(join_url)
    join(guest_page, "Gita Guest")

    wait_for_video(host_page)
    wait_for_video(guest_page)
    expect(host_page.locator(".tile.remote .tile-name")).to_have_text("Gita Guest")
    expect(guest_page.locator(".tile.remote .tile-name")).to_have_text("Hana Host")
    screenshot(host_page, "meeting")

    guest_page.get_by_role("button", name="Mute", exact=True).click()
    expect(host_page.locator(".tile.remote .mic-state")).to_have_text("Muted")

    guest_page.get_by_role("button", name="Leave").click()
    expect(guest_page.get_by_role("heading", name="You left the meeting")).to_be_visible()
    expect(host_page.locator(".tile.remote")).to_have_count(0)
    screenshot(guest_page, "left")
    assert host_problems.errors == []
    assert guest_problems.errors == []


def test_guest_on_a_phone_joins_and_sees_the_host(open_context, live_stack):
    host = open_context().new_page()
    sign_up(host, live_stack, "Pat Phone-Host", f"pat-{time.monotonic_ns()}@example.com")
    join_url = schedule(host, "Phone check")
    host.goto(join_url)
    join(host)

    phone = open_context(viewport=PHONE).new_page()
    phone.goto(join_url)
    screenshot(phone, "prejoin-phone")
    join(phone, "Mo Mobile")
    wait_for_video(phone)
    screenshot(phone, "meeting-phone")
    phone.get_by_role("button", name="Leave").click()
    expect(host.locator(".tile.remote")).to_have_count(0)
