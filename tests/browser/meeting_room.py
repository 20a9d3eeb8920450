"""Helpers for the meeting-room tests: a meeting with its host in the call, guests, the
server's view of the room, and what a person sees playing on their screen."""

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from meetings import livekit_gateway as gateway
from meetings.models import Meeting
from tests.support.browser_pages import join, scheduled, sign_in
from tests.support.live import LiveStack, run_in_thread
from tests.support.rooms import first_room


def host_in_meeting(
    open_context: Callable[..., BrowserContext], stack: LiveStack, **settings
) -> tuple[str, Page]:
    """A new meeting (no lobby) whose host "Hilde Host" has joined; returns (slug, page)."""
    viewport = settings.pop("viewport", None)
    init_script = settings.pop("init_script", None)
    slug, email = scheduled(stack, **settings)
    page = open_context(viewport).new_page()
    if init_script:
        page.add_init_script(init_script)
    sign_in(page, email)
    page.goto(f"/m/{slug}")
    join(page)
    return slug, page


def guest_in_meeting(
    open_context: Callable[..., BrowserContext], slug: str, name: str, viewport: dict | None = None
) -> Page:
    page = open_context(viewport).new_page()
    page.goto(f"/m/{slug}")
    join(page, name)
    return page


def guest_tickets(stack: LiveStack, slug: str, names: list[str]) -> list[dict]:
    """Join tickets for synthetic guests (each request is a new browser session: a new identity)."""
    tickets = []
    for name in names:
        status, ticket = stack.http(
            "POST", f"/api/v1/meetings/{slug}/tokens", {"display_name": name}
        )
        assert status == 201, ticket
        tickets.append(ticket)
    return tickets


def room_of(stack: LiveStack, slug: str) -> str:
    return stack.query(lambda: first_room(Meeting.by_slug(slug)))


def live_participant(stack: LiveStack, slug: str, name: str) -> gateway.LiveParticipant:
    """The server's view of the participant called `name` (gateway calls need their own thread)."""
    room = room_of(stack, slug)
    people = run_in_thread(lambda: stack.query(lambda: gateway.list_live_participants(room)))
    return next(person for person in people if person.name == name)


def open_panel(page: Page, name: str) -> None:
    button = page.get_by_role("button", name=name, exact=False).filter(
        has=page.locator(".control-label")
    )
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")


def chat_messages(page: Page):
    return page.locator("#chat-log .message-text")


def send_chat(page: Page, text: str) -> None:
    page.get_by_label("Message to everyone").fill(text)
    page.get_by_label("Message to everyone").press("Enter")
