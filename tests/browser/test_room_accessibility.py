"""The room for keyboard and screen-reader users, and what the page costs to load."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.meeting_room import guest_in_meeting, host_in_meeting, open_panel
from tests.support.browser_pages import PHONE, PREVIEW_SHOWS_CAMERA
from tests.support.environment import PROJECT_DIR, require

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """
async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
"""


def serious_violations(page: Page) -> list[str]:
    if not page.evaluate("() => 'axe' in window"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def test_axe_finds_no_serious_problem_before_joining_or_in_the_meeting(open_context, live_stack):
    require(AXE.exists(), "axe-core (npm ci)")
    # axe is injected as an inline script, which the page's own CSP rightly refuses.
    slug, host = host_in_meeting(open_context, live_stack)
    page = open_context(bypass_csp=True).new_page()
    page.goto(f"/m/{slug}")
    page.wait_for_function(PREVIEW_SHOWS_CAMERA)
    expect(page.locator("#prejoin-mic-select option")).not_to_have_count(0)
    assert serious_violations(page) == []

    page.get_by_label("Your name").fill("Gita Guest")
    page.get_by_role("button", name="Join meeting").click()
    expect(page.locator(".tile.remote")).to_have_count(1)
    assert serious_violations(page) == []
    host.get_by_role("button", name="Raise hand").click()
    open_panel(page, "People")
    expect(page.locator(".person")).to_have_count(2)
    assert serious_violations(page) == []
    open_panel(page, "Chat")
    page.get_by_label("Message to everyone").fill("Hello https://example.org")
    page.get_by_label("Message to everyone").press("Enter")
    expect(page.locator(".message")).to_have_count(1)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("dialog", name="Settings")).to_be_visible()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    page.set_viewport_size(PHONE)
    assert serious_violations(page) == []


def test_shortcuts_work_except_while_typing(open_context, live_stack):
    slug, host = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    remote_mic = host.locator(".tile.remote .mic-state")

    guest.keyboard.press("m")
    expect(guest.get_by_role("button", name="Unmute")).to_be_visible()
    expect(remote_mic).to_have_text("Muted")
    guest.keyboard.press("m")
    expect(guest.get_by_role("button", name="Mute", exact=True)).to_be_visible()
    guest.keyboard.press("v")
    expect(guest.get_by_role("button", name="Start video")).to_be_visible()
    expect(host.locator(".tile.remote")).to_have_attribute("data-video", "false")
    guest.keyboard.press("h")
    expect(guest.get_by_role("button", name="Lower hand")).to_be_visible()
    guest.keyboard.press("c")
    expect(guest.get_by_role("complementary", name="Chat")).to_be_visible()
    expect(guest.get_by_label("Message to everyone")).to_be_focused()

    guest.keyboard.type("mvhc")
    expect(guest.get_by_label("Message to everyone")).to_have_value("mvhc")
    expect(guest.get_by_role("button", name="Mute", exact=True)).to_be_visible()
    expect(guest.get_by_role("button", name="Lower hand")).to_be_visible()
    guest.keyboard.press("Escape")
    expect(guest.get_by_role("complementary", name="Chat")).to_be_hidden()
    expect(guest.get_by_role("button", name="Chat")).to_be_focused()


FOCUSED = """
() => {
  const element = document.activeElement;
  return { id: element.id, name: (element.getAttribute("aria-label") || element.innerText).trim() };
}
"""


def test_every_control_is_reached_with_tab_and_has_a_name(open_context, live_stack):
    slug, _ = host_in_meeting(open_context, live_stack)
    guest = guest_in_meeting(open_context, slug, "Gita Guest")
    controls = guest.locator("nav.controls button:visible")
    expect(controls).to_have_count(10)
    wanted = set(controls.evaluate_all("(buttons) => buttons.map((b) => b.id)"))
    reached = []
    for _ in range(40):
        guest.keyboard.press("Tab")
        reached.append(guest.evaluate(FOCUSED))
    names = {focused["id"]: focused["name"] for focused in reached if focused["id"]}
    assert wanted <= names.keys()
    assert all(names[control] for control in wanted), names
    # The tiles' pin buttons are reached too, each named after its person.
    pins = {focused["name"] for focused in reached if focused["name"].startswith("Pin ")}
    assert pins == {"Pin Hilde Host", "Pin Gita Guest (you)"}


PAGE_BUDGET_BYTES = 60_000


def test_the_meeting_page_loads_less_than_60_kb_of_its_own_script(open_context, live_stack):
    slug, _ = host_in_meeting(open_context, live_stack)
    page = open_context().new_page()
    scripts = {}

    def count(response) -> None:
        url = response.url
        if "/static/" in url and url.endswith(".js") and "/vendor/" not in url:
            scripts[url] = len(response.body())

    page.on("response", count)
    page.goto(f"/m/{slug}")
    page.get_by_label("Your name").fill("Gita Guest")
    page.get_by_role("button", name="Join meeting").click()
    expect(page.locator(".tile.remote")).to_have_count(1)
    assert any(url.endswith("/room/main.js") for url in scripts)
    assert sum(scripts.values()) < PAGE_BUDGET_BYTES, scripts
