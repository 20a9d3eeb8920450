"""Every page works under the Content-Security-Policy (no inline script, no violations)."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser_pages import PHONE, PageProblems, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.one_database]


def test_operator_pages_work_under_the_csp(open_context):
    page = open_context().new_page()
    problems = PageProblems(page)
    page.goto("/auth/login")
    screenshot(page, "login")
    sign_in(page)  # the operator the live app starts with

    page.get_by_role("link", name="Operations").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("cell", name="ops@example.com", exact=True)).to_be_visible()
    page.get_by_label("Email (optional").fill("new.host@example.com")
    page.get_by_role("button", name="Create invite link").click()
    expect(page.get_by_label("Invite link")).to_have_value(re.compile(r"/auth/register\?invite="))
    screenshot(page, "ops-invite")

    page.goto("/ops/users")
    screenshot(page, "ops-users")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Open: anyone can create an account").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Registration policy saved.")).to_be_visible()
    page.get_by_role("link", name="Security log").click()
    expect(page.get_by_role("cell", name="login_succeeded", exact=True).first).to_be_visible()
    screenshot(page, "ops-security-log")

    page.get_by_role("link", name="Account").click()
    page.get_by_label("Token name").fill("browser test")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New API token")).to_have_value(re.compile(r"^mtk_"))
    screenshot(page, "account-tokens")
    page.set_viewport_size(PHONE)
    screenshot(page, "account-tokens-phone")
    assert problems.errors == []
