"""The ledger's pages in Chromium: the ops LiveKit dashboard with live rooms from the real
server, usage charts and refused requests; a meeting's attendance timeline, also of a room
that closed and opened again. Screenshots go to tests/artifacts/."""

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import Meeting, User
from meetings.scheduling import recurrence as rec
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.support.accounts import PASSWORD
from tests.support.browser_pages import PHONE, PageProblems, screenshot, sign_in
from tests.support.live import run_in_thread
from tests.support.synthetic import BackgroundParticipants
from tests.support.waiting import wait_for
from tests.support.webhook_factory import (
    participant_event,
    room_event,
    track_event,
    webhook_request,
)

pytestmark = pytest.mark.browser

# (name, identity, [(joined, left) in minutes from the start], [(kind, source)])
PEOPLE = [
    ("Hazel Host", "u-hazel", [(0, 58)], [("AUDIO", "MICROPHONE"), ("VIDEO", "CAMERA")]),
    ("Ada Lovelace", "g-ada", [(4, 31), (36, 55)], [("AUDIO", "MICROPHONE")]),
    ("Bob Martin", "g-bob", [(6, 58)], [("AUDIO", "MICROPHONE"), ("VIDEO", "SCREEN_SHARE")]),
    ("Chen Wei", "g-chen", [(12, 19)], []),
    ("Dana Scully", "g-dana", [(15, 50)], [("VIDEO", "CAMERA")]),
    ("Esperanza Rodríguez-Villalobos", "g-esp", [(40, 57)], [("AUDIO", "MICROPHONE")]),
]


def deliver(stack, event) -> None:
    config = stack.livekit_config
    body, headers = webhook_request(event, config.api_key, config.api_secret)
    request = urllib.request.Request(
        stack.base_url + "/livekit/webhook", data=body.encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    stack.wait_until_derived()


def held_meeting(
    stack, title: str, start: datetime, people=PEOPLE, room_lives=None
) -> tuple[str, str]:
    """A meeting that took place at `start`, told to the app as the server would; returns
    (slug, occurrence key). `room_lives` are the (opened, closed) minutes of each life of its
    room, one room sid each: by default one, until 20 s after the last person left. A visit
    belongs to the life it starts in."""

    def create():
        host = db.session.scalar(db.select(User).where(User.email == "ops@example.com"))
        meeting = Meeting(
            title=title,
            starts_at=start,
            duration_minutes=60,
            series_ends_at=start + timedelta(hours=1),
            host=host,
            lobby=False,
        )
        db.session.add(meeting)
        db.session.commit()
        return meeting.slug, rec.occurrences(meeting)[0]

    slug, occurrence = stack.query(create)
    room, t0 = occurrence.room_name, int(start.timestamp())
    last_left = 60 * max(left for *_, spans, _ in people for _, left in spans) + 20
    lives = [(60 * a, 60 * b) for a, b in room_lives] if room_lives else [(0, last_left)]
    for number, (opened, closed) in enumerate(lives):
        life = {"sid": f"RM_{slug}{t0}_{number}", "creation_time": t0 + opened}
        deliver(stack, room_event("room_started", room, **life, created_at=t0 + opened))
        for person in people:
            for visit, (joined, left) in enumerate(person[2]):
                if opened <= 60 * joined < closed:
                    deliver_visit(
                        stack, room, life, person, visit, t0 + 60 * joined, t0 + 60 * left
                    )
        deliver(stack, room_event("room_finished", room, **life, created_at=t0 + closed))
    return slug, occurrence.key


def deliver_visit(
    stack, room: str, life: dict, person, visit: int, joined_at: int, left_at: int
) -> None:
    """Visit number `visit` of `person` (a PEOPLE row) to one life of the room (its sid and
    creation time): the join, the tracks published on a first visit, the leave."""
    name, identity, _, tracks = person
    sid = life["sid"]
    psid = f"PA_{sid}{identity}{visit}"
    times = {"joined_at": joined_at, "room_sid": sid, "creation_time": life["creation_time"]}
    deliver(
        stack,
        participant_event("participant_joined", room, identity, psid, name=name, **times,
                          created_at=joined_at),
    )  # fmt: skip
    for index, (kind, source) in enumerate(tracks if visit == 0 else []):
        deliver(
            stack,
            track_event(
                "track_published", room, identity, psid, f"TR_{psid}{index}",
                track_type=kind, source=source, created_at=joined_at + 2, room_sid=sid,
            ),
        )  # fmt: skip
    deliver(
        stack,
        participant_event("participant_left", room, identity, psid, name=name, **times,
                          created_at=left_at),
    )  # fmt: skip


def meeting_open_now(stack, title: str) -> tuple[str, dict]:
    """A meeting its host may open now; (slug, the host's API headers)."""

    def create():
        host = auth_services.create_user(
            f"dashboard-{datetime.now(UTC).timestamp()}@example.com",
            "Rosa Host",
            PASSWORD,
            email_verified=True,
        )
        starts = datetime.now(UTC) + timedelta(minutes=5)
        meeting = create_meeting(host, MeetingSettings(title, starts, 30, lobby=False))
        token = auth_services.issue_api_token(host, "dashboard")
        return meeting.slug, {"Authorization": f"Bearer {token}"}

    return stack.query(create)


def test_attendance_timeline_of_a_meeting(live_stack, open_context):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    slug, key = held_meeting(live_stack, "Quarterly planning", start)
    page = open_context().new_page()
    problems = PageProblems(page)
    sign_in(page)
    page.goto(f"/meetings/{slug}")
    page.get_by_role("link", name="History / attendance").click()
    expect(page.get_by_role("heading", name="History and attendance")).to_be_visible()
    page.get_by_role("link", name=start.strftime("%Y")).first.click()  # the occurrence
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert page.url.endswith(f"/meetings/{slug}/history/{key}")

    rows = page.locator(".timeline-row")
    expect(rows).to_have_count(len(PEOPLE))
    expect(page.locator(".timeline-bar")).to_have_count(sum(len(p[2]) for p in PEOPLE))
    expect(rows.nth(1)).to_contain_text("Ada Lovelace")
    expect(rows.nth(1)).to_contain_text("46 min 00 s")  # 27 + 19 minutes in two visits
    ada = page.get_by_role("row", name="Ada Lovelace")
    expect(ada).to_contain_text("in 2 visits")
    expect(page.get_by_role("row", name="Bob Martin")).to_contain_text("Microphone, Screen share")
    # The bars sit where the people were: Chen's (12-19 min) in the first third.
    track = rows.nth(3).locator("svg").bounding_box()
    bar = rows.nth(3).locator("rect").bounding_box()
    span = 58 * 60 + 20
    assert abs((bar["x"] - track["x"]) / track["width"] - 12 * 60 / span) < 0.01
    assert abs(bar["width"] / track["width"] - 7 * 60 / span) < 0.01
    screenshot(page, "attendance-timeline")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + sum(len(p[2]) for p in PEOPLE)

    page.set_viewport_size(PHONE)
    screenshot(page, "attendance-timeline-phone")
    assert problems.errors == []


def test_attendance_of_a_room_that_closed_and_opened_again(live_stack, open_context):
    """Issue 17 item 12: one "opened ... closed" pair hid that the room was closed for a
    quarter of an hour; the page counts the room's sessions and lists each."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    people = [
        ("Hazel Host", "u-hazel", [(0, 22), (41, 68)], [("AUDIO", "MICROPHONE")]),
        ("Ada Lovelace", "g-ada", [(3, 24)], [("AUDIO", "MICROPHONE")]),
        ("Bob Martin", "g-bob", [(43, 65)], [("VIDEO", "SCREEN_SHARE")]),
    ]
    slug, key = held_meeting(live_stack, "Budget review", start, people, [(0, 25), (40, 70)])
    page = open_context().new_page()
    problems = PageProblems(page)
    sign_in(page)
    page.goto(f"/meetings/{slug}/history")
    expect(page.get_by_role("row", name=start.strftime("%Y"))).to_contain_text("2 sessions")
    page.get_by_role("link", name=start.strftime("%Y")).first.click()  # the occurrence
    expect(page.get_by_role("heading", name="Sessions of the room")).to_be_visible()
    assert page.url.endswith(f"/meetings/{slug}/history/{key}")

    sessions = page.locator(".facts div", has_text="Room sessions")
    expect(sessions).to_have_text(
        "Room sessions 2 (the room closed and opened again)", use_inner_text=True
    )
    rows = page.locator(".sessions-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("25 min 00 s")
    expect(rows.nth(1)).to_contain_text("30 min 00 s")
    expect(page.get_by_text("Total: 55 min 00 s in 2 sessions.")).to_be_visible()
    expect(page.get_by_role("row", name="Hazel Host")).to_contain_text("in 2 visits")
    screenshot(page, "attendance-sessions-desktop")

    page.set_viewport_size(PHONE)
    expect(rows).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "attendance-sessions-phone")
    assert problems.errors == []


def test_ops_dashboard_with_live_rooms_and_usage(live_stack, open_context):
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    for days_ago, people in ((1, 6), (2, 3), (4, 5), (5, 2), (8, 4), (11, 6)):
        held_meeting(live_stack, f"Daily sync -{days_ago}", today - timedelta(days=days_ago),
                     PEOPLE[:people])  # fmt: skip
    slug, host_headers = meeting_open_now(live_stack, "Live dashboard demo")
    tokens = f"/api/v1/meetings/{slug}/tokens"
    tickets = [live_stack.http("POST", tokens, {}, host_headers)[1]]
    tickets.append(live_stack.http("POST", tokens, {"display_name": "Gus"})[1])
    # A room some other program made on the same server: ours to see, not ours.
    run_in_thread(
        lambda: live_stack.query(
            lambda: gateway.ensure_room("standup-from-elsewhere", empty_timeout=120,
                                           departure_timeout=5)
        )
    )  # fmt: skip
    forged = urllib.request.Request(
        live_stack.base_url + "/livekit/webhook",
        data=b'{"event": "room_started"}',
        headers={"Authorization": "not-a-token"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 401

    with BackgroundParticipants(tickets, publish_video=True):

        def both_in_the_ledger():
            """the webhooks of both joins have arrived"""
            status, body = live_stack.http("GET", "/api/v1/meetings/" + slug + "/attendance",
                                           headers=host_headers)  # fmt: skip
            return status == 200 and len(body) == 2

        wait_for(both_in_the_ledger, timeout=15)
        page = open_context().new_page()
        problems = PageProblems(page)
        sign_in(page)
        page.get_by_role("link", name="Operations").click()
        page.get_by_role("link", name="LiveKit").click()
        expect(page.get_by_role("heading", name="LiveKit", exact=True)).to_be_visible()
        expect(page.get_by_text("Connected")).to_be_visible()
        live_rooms = page.locator(".live-rooms")
        ours = live_rooms.get_by_role("row", name="Live dashboard demo")
        expect(ours).to_contain_text("Rosa Host")

        def server_counts_both():
            """ListRooms counts both people (the server updates its count every few s)"""
            if ours.get_by_role("cell").nth(2).inner_text() == "2":
                return True
            page.reload()
            return False

        wait_for(server_counts_both, timeout=20, interval=1)
        # ...and the webhooks agree: no "differs" warning.
        expect(ours.get_by_role("cell").nth(3)).to_have_text("2")
        expect(live_rooms.get_by_role("row", name="standup-from-elsewhere")).to_contain_text(
            "unknown room"
        )
        expect(page.locator("#refused-requests")).to_contain_text("bad signature")
        expect(page.locator(".bar-chart")).to_have_count(2)
        expect(page.locator(".bar-column")).to_have_count(28)  # 14 days, two charts
        screenshot(page, "ops-livekit-dashboard")

        page.get_by_role("link", name="Weeks").click()
        expect(page.get_by_role("heading", name="Usage per week")).to_be_visible()
        page.get_by_text("The numbers").click()
        expect(page.locator(".usage-table")).to_be_visible()
        screenshot(page, "ops-livekit-dashboard-weeks")

        page.get_by_role("link", name="All events and filters").click()
        page.get_by_label("Unknown rooms only").check()
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_role("cell", name="standup-from-elsewhere").first).to_be_visible()
        screenshot(page, "ops-livekit-events")

        page.goto("/ops/livekit")
        page.set_viewport_size(PHONE)
        screenshot(page, "ops-livekit-dashboard-phone")
        assert problems.errors == []
