"""What hosts and ops see of the ledger: attendance pages and CSV, the REST views, the ops
dashboard, reconcile and purge. Events go in through the real webhook service."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from config import TestingConfig
from meetings import create_app
from meetings.extensions import db
from meetings.models import Attendance, MeetingSession, Role, WebhookEvent
from meetings.webhooks import store as services
from tests.support.rooms import first_room
from tests.support.webhook_factory import participant_event, room_event, sign, to_body, track_event
from tests.support.webhook_scenarios import apply_in_process


def feed(*events) -> None:
    apply_in_process(events)


@pytest.fixture
def held_meeting(make_user, make_meeting):
    """A meeting held an hour ago: Ann (the host) 0-50 min with microphone and camera, Bo
    10-20 and again 30-40 min, room closed at 52 min."""
    host = make_user(email="host@example.com", display_name="Hazel Host")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    meeting = make_meeting(host=host, title="Design review", starts_at=start)
    room = first_room(meeting)
    t0 = int(start.timestamp())
    ann, bo = host.livekit_identity, "g-bo"
    feed(
        room_event("room_started", room, creation_time=t0, created_at=t0),
        participant_event("participant_joined", room, ann, "PA_a", name="Ann", joined_at=t0),
        track_event("track_published", room, ann, "PA_a", "TR_a1", created_at=t0 + 1),
        track_event(
            "track_published",
            room,
            ann,
            "PA_a",
            "TR_a2",
            track_type="VIDEO",
            source="CAMERA",
            created_at=t0 + 2,
        ),
        participant_event("participant_joined", room, bo, "PA_b1", name="Bo", joined_at=t0 + 600),
        participant_event(
            "participant_left", room, bo, "PA_b1", joined_at=t0 + 600, created_at=t0 + 1200
        ),
        participant_event(
            "participant_left",
            room,
            bo,
            "PA_b2",
            name="Bo",
            joined_at=t0 + 1800,
            created_at=t0 + 2400,
        ),
        participant_event(
            "participant_left", room, ann, "PA_a", name="Ann", joined_at=t0, created_at=t0 + 3000
        ),
        room_event("room_finished", room, creation_time=t0, created_at=t0 + 3120),
    )
    return meeting


def occurrence_key(meeting) -> str:
    return meeting.starts_at.strftime("%Y%m%dT%H%MZ")


def test_meeting_history_lists_the_occurrence_with_its_numbers(held_meeting, login):
    client = login(held_meeting.host)
    page = client.get(f"/meetings/{held_meeting.slug}/history").get_data(as_text=True)
    link = f"/meetings/{held_meeting.slug}/history/{occurrence_key(held_meeting)}"
    assert link in page
    row = page[page.index(link) :]
    row = row[: row.index("</tr>")]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in row.split("<td>")[1:]]
    # opened, length, people, most at once, person-time
    assert cells[1:] == ["52 min 00 s", "2", "2", "1 h 10 min"]


def test_detail_page_links_to_the_history(held_meeting, login):
    page = login(held_meeting.host).get(f"/meetings/{held_meeting.slug}").get_data(as_text=True)
    assert f'href="/meetings/{held_meeting.slug}/history"' in page


def test_occurrence_page_has_the_table_and_a_bar_per_visit(held_meeting, login):
    client = login(held_meeting.host)
    url = f"/meetings/{held_meeting.slug}/history/{occurrence_key(held_meeting)}"
    page = client.get(url).get_data(as_text=True)
    table = page[page.index('class="table attendance-table"') :]
    rows = [row[row.index(">") + 1 :] for row in table.split('<th scope="row"')[1:]]
    assert [row[: row.index("<span")] for row in rows] == ["Ann", "Bo"]
    assert "50 min 00 s" in rows[0] and "Microphone, Camera" in rows[0]
    assert "20 min 00 s" in rows[1] and "in 2 visits" in rows[1]
    bars = re.findall(
        r'<rect class="timeline-bar[^"]*" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', page
    )
    # The room was open 52 minutes: Ann from its start, Bo twice, a sixth of it each time.
    assert [(float(x), float(width)) for x, width in bars] == [
        (0.0, round(3000 / 3120 * 1000, 2)),
        (round(600 / 3120 * 1000, 2), round(600 / 3120 * 1000, 2)),
        (round(1800 / 3120 * 1000, 2), round(600 / 3120 * 1000, 2)),
    ]
    assert 'style="' not in page  # the CSP forbids inline styles


def test_occurrence_csv_has_one_line_per_interval(held_meeting, login):
    client = login(held_meeting.host)
    url = f"/meetings/{held_meeting.slug}/history/{occurrence_key(held_meeting)}?format=csv"
    response = client.get(url)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["display_name"], r["seconds"], r["published"]) for r in rows] == [
        ("Ann", "3000", "microphone camera"),
        ("Bo", "600", ""),
        ("Bo", "600", ""),
    ]
    assert rows[0]["joined_at"].endswith("Z")


@pytest.fixture
def reopened_meeting(make_user, make_meeting):
    """A meeting whose room lived twice: open 0-5 min with Ann, closed when she left, open
    again 8-12 min 21 s when she came back."""
    host = make_user(email="host@example.com", display_name="Hazel Host")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    meeting = make_meeting(host=host, title="Stand-up", starts_at=start)
    room, ann, t0 = first_room(meeting), host.livekit_identity, int(start.timestamp())
    t1 = t0 + 480
    feed(
        room_event("room_started", room, sid="RM_one", creation_time=t0, created_at=t0),
        participant_event(
            "participant_joined", room, ann, "PA_1", name="Ann", joined_at=t0, room_sid="RM_one"
        ),
        participant_event(
            "participant_left",
            room,
            ann,
            "PA_1",
            name="Ann",
            joined_at=t0,
            created_at=t0 + 300,
            room_sid="RM_one",
        ),
        room_event("room_finished", room, sid="RM_one", creation_time=t0, created_at=t0 + 300),
        room_event("room_started", room, sid="RM_two", creation_time=t1, created_at=t1),
        participant_event(
            "participant_joined", room, ann, "PA_2", name="Ann", joined_at=t1, room_sid="RM_two"
        ),
        participant_event(
            "participant_left",
            room,
            ann,
            "PA_2",
            name="Ann",
            joined_at=t1,
            created_at=t1 + 261,
            room_sid="RM_two",
        ),
        room_event("room_finished", room, sid="RM_two", creation_time=t1, created_at=t1 + 261),
    )
    return meeting


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_room_that_closed_and_reopened_shows_each_session(reopened_meeting, login):
    client = login(reopened_meeting.host)
    start = reopened_meeting.starts_at
    history = text_of(client.get(f"/meetings/{reopened_meeting.slug}/history").text)
    assert "2 sessions" in history
    page = client.get(
        f"/meetings/{reopened_meeting.slug}/history/{occurrence_key(reopened_meeting)}"
    )
    sessions = page.text[page.text.index('class="table sessions-table"') :]
    sessions = sessions[: sessions.index("</table>")]
    rows = [text_of(row).split() for row in sessions.split("<tr>")[2:]]
    at = lambda seconds: (start + timedelta(seconds=seconds)).strftime("%H:%M:%S")  # noqa: E731
    assert rows == [
        ["1", at(0), "UTC", at(300), "UTC", "5", "min", "00", "s"],
        ["2", at(480), "UTC", at(741), "UTC", "4", "min", "21", "s"],
    ]
    facts = text_of(page.text[: page.text.index("sessions-table")])
    assert "Room sessions 2 (the room closed and opened again)" in facts
    assert "Open in total 9 min 21 s" in facts
    # No single "opened … closed" pair that hides the 3 minutes the room was closed.
    assert "Room opened" not in facts and "Room closed" not in facts
    assert "Total: 9 min 21 s in 2 sessions." in text_of(page.text)


def test_the_csv_says_which_session_each_visit_was_in(reopened_meeting, login):
    client = login(reopened_meeting.host)
    url = f"/meetings/{reopened_meeting.slug}/history/{occurrence_key(reopened_meeting)}"
    rows = list(csv.DictReader(io.StringIO(client.get(f"{url}?format=csv").text)))
    start = reopened_meeting.starts_at

    def iso(seconds: int) -> str:
        return (start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    assert [
        (r["session"], r["session_opened_at"], r["session_closed_at"], r["seconds"]) for r in rows
    ] == [("1", iso(0), iso(300), "300"), ("2", iso(480), iso(741), "261")]


def test_occurrence_that_never_existed_is_404(held_meeting, login):
    client = login(held_meeting.host)
    assert client.get(f"/meetings/{held_meeting.slug}/history/20000101T0000Z").status_code == 404


def test_attendance_api_rows_carry_session_and_seconds(held_meeting, client, api_token):
    headers = api_token(held_meeting.host)
    response = client.get(f"/api/v1/meetings/{held_meeting.slug}/attendance", headers=headers)
    assert response.status_code == 200
    rows = response.get_json()
    session_id = db.session.scalar(db.select(MeetingSession.id))
    assert [(r["display_name"], r["seconds"], r["session_id"]) for r in rows] == [
        ("Ann", 3000, session_id),
        ("Bo", 600, session_id),
        ("Bo", 600, session_id),
    ]
    assert all(r["left_at"] for r in rows)


def test_sessions_api(held_meeting, client, api_token, make_user):
    url = f"/api/v1/meetings/{held_meeting.slug}/sessions"
    body = client.get(url, headers=api_token(held_meeting.host)).get_json()
    (session,) = body["items"]
    assert session["occurrence_key"] == occurrence_key(held_meeting)
    assert session["duration_seconds"] == 3120
    assert (session["peak_participants"], session["total_participants"]) == (2, 2)
    assert session["participant_seconds"] == 4200
    assert session["end_inferred"] is False
    stranger = make_user()
    assert client.get(url, headers=api_token(stranger)).status_code == 403


def test_an_open_interval_in_a_closed_session_ends_with_it(make_meeting, client, api_token):
    meeting = make_meeting()
    room = first_room(meeting)
    t0 = 1_900_000_000
    feed(
        participant_event("participant_joined", room, "g-1", "PA_1", name="Cy", joined_at=t0),
        room_event("room_finished", room, creation_time=t0, created_at=t0 + 90),
    )
    headers = api_token(meeting.host)
    (row,) = client.get(f"/api/v1/meetings/{meeting.slug}/attendance", headers=headers).get_json()
    assert row["seconds"] == 90
    assert datetime.fromisoformat(row["left_at"]).timestamp() == t0 + 90


# ---- ops -------------------------------------------------------------------------------------


@pytest.fixture
def operator(make_user):
    return make_user(email="ops@example.com", display_name="Olive Ops", role=Role.OPS)


def test_dashboard_joins_live_rooms_with_meetings(held_meeting, operator, login, fake_rooms):
    room = first_room(held_meeting)
    fake_rooms.seat(room, "u-1", "g-2")
    fake_rooms.seat("someone-elses-room", "x")
    page = login(operator).get("/ops/livekit").get_data(as_text=True)
    live = page[page.index('class="table live-rooms"') :]
    live = live[: live.index("</table>")]
    rows = live.split("<tr>")[2:]
    ours = next(row for row in rows if "Design review" in row)
    assert "Hazel Host" in ours and "<td>2</td>" in ours
    theirs = next(row for row in rows if "someone-elses-room" in row)
    assert "unknown room" in theirs
    assert "Connected" in page


def test_dashboard_says_when_livekit_is_unreachable(operator, login, fake_rooms):
    fake_rooms.unreachable = True
    response = login(operator).get("/ops/livekit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Unreachable" in page and "connection refused" in page


def test_dashboard_counts_refusals_and_unknown_rooms(operator, login, app, fake_rooms):
    client = login(operator)
    key, secret = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]
    body = to_body(participant_event("participant_joined", "meeting-abc", "u-1", "PA_1"))
    for _ in range(2):
        client.post("/livekit/webhook", data=body, headers={"Authorization": "forged"})
    feed(participant_event("participant_joined", "not-our-room", "x", "PA_x"))
    signed_garbage = "garbage"
    client.post(
        "/livekit/webhook",
        data=signed_garbage,
        headers={"Authorization": sign(signed_garbage, key, secret)},
    )
    page = client.get("/ops/livekit").get_data(as_text=True)
    refused = page[page.index('id="refused-requests"') :]
    assert refused.startswith('id="refused-requests">3 ')
    assert "bad signature: 2" in refused[:300] and "not json: 1" in refused[:300]
    assert (
        '<span class="badge badge-warning">1</span>'
        in page[page.index('id="unknown-room-events"') :][:300]
    )
    events = client.get("/ops/livekit/events?unknown_room=1").get_data(as_text=True)
    assert "not-our-room" in events and "meeting-abc" not in events


def test_dashboard_shows_events_waiting_to_be_derived(operator, login, fake_rooms):
    client = login(operator)
    page = client.get("/ops/livekit").get_data(as_text=True)
    assert 'id="pending-events">0<' in page
    stored = participant_event("participant_joined", "meeting-abc", "u-1", "PA_1")
    services.store_event(stored, to_body(stored))  # answered, not derived (yet)
    page = client.get("/ops/livekit").get_data(as_text=True)
    waiting = page[page.index('id="pending-events"') :][:300]
    assert "result=pending" in waiting and '<span class="badge badge-warning">1</span>' in waiting
    events = client.get("/ops/livekit/events?result=pending").get_data(as_text=True)
    assert stored.id in events or "meeting-abc" in events


def test_dashboard_usage_matches_the_api_and_the_ledger(
    held_meeting, operator, login, api_token, fake_rooms
):
    client = login(operator)
    page = client.get("/ops/livekit").get_data(as_text=True)
    table = page[page.index('class="table usage-table"') :]
    table = table[: table.index("</table>")]
    start = held_meeting.starts_at.date().isoformat()
    row = re.search(rf"<tr><td>{start}</td>(.*?)</tr>", table).group(1)
    page_numbers = re.findall(r"<td>([\d.]+)</td>", row)
    api = client.get(f"/api/v1/ops/usage?from={start}&bucket=day").get_json()
    day = next(item for item in api["items"] if item["start"] == start)
    api_numbers = [
        day["sessions"],
        day["meeting_minutes"],
        day["participants"],
        day["participant_minutes"],
        day["peak_participants"],
    ]
    assert [float(n) for n in page_numbers] == [float(n) for n in api_numbers]
    session = db.session.scalar(db.select(MeetingSession))
    assert day["meeting_minutes"] == round(session.duration_seconds / 60, 1) == 52
    assert day["participant_minutes"] == session.participant_seconds / 60 == 70
    assert day["participants"] == 2


def test_usage_api_by_week_and_bad_values(held_meeting, operator, client, api_token):
    headers = api_token(operator)
    monday = held_meeting.starts_at.date() - timedelta(days=held_meeting.starts_at.weekday())
    body = client.get(
        f"/api/v1/ops/usage?from={monday.isoformat()}&bucket=week", headers=headers
    ).get_json()
    assert body["items"][0]["start"] == monday.isoformat()
    assert body["items"][0]["sessions"] == 1
    for query in ("bucket=hour", "from=yesterday", "from=2026-01-01T00:00:00"):
        response = client.get(f"/api/v1/ops/usage?{query}", headers=headers)
        assert response.status_code == 422, query


def test_rooms_api_for_ops(held_meeting, operator, client, api_token, fake_rooms):
    fake_rooms.seat(first_room(held_meeting), "u-1")
    body = client.get("/api/v1/ops/rooms", headers=api_token(operator)).get_json()
    (room,) = body["items"]
    assert room["meeting"] == {
        "slug": held_meeting.slug,
        "title": "Design review",
        "host": "Hazel Host",
    }
    assert room["participants"] == 1 and room["unknown_room"] is False
    fake_rooms.unreachable = True
    assert client.get("/api/v1/ops/rooms", headers=api_token(operator)).status_code == 503


# ---- reconcile and purge -------------------------------------------------------------------


def test_reconcile_closes_sessions_whose_room_is_gone(make_meeting, app, fake_rooms):
    meeting = make_meeting()
    room = first_room(meeting)
    t0 = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    feed(
        room_event("room_started", room, creation_time=t0, created_at=t0),
        participant_event(
            "participant_joined", room, "g-1", "PA_1", joined_at=t0 + 5, created_at=t0 + 5
        ),
        participant_event(
            "participant_left", room, "g-1", "PA_1", joined_at=t0 + 5, created_at=t0 + 300
        ),
    )  # ... and room_finished was lost
    fake_rooms.seat("meeting-live-room-without-session", "x")
    output = app.test_cli_runner().invoke(args=["livekit", "reconcile"]).output
    assert f"Closed {room}" in output and "inferred" in output
    assert "Opened meeting-live-room-without-session" in output
    session = db.session.scalar(db.select(MeetingSession).where(MeetingSession.room_name == room))
    assert session.end_inferred and session.ended_at.timestamp() == t0 + 300
    # The server's own room_finished still wins when it comes late.
    feed(room_event("room_finished", room, creation_time=t0, created_at=t0 + 320))
    db.session.refresh(session)
    assert not session.end_inferred and session.ended_at.timestamp() == t0 + 320
    again = app.test_cli_runner().invoke(args=["livekit", "reconcile"]).output
    assert "agrees" in again


def test_reconcile_uses_a_room_finished_that_is_stored_but_not_derived(
    make_meeting, app, fake_rooms
):
    room = first_room(make_meeting())
    t0 = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    feed(room_event("room_started", room, creation_time=t0, created_at=t0))
    finished = room_event("room_finished", room, creation_time=t0, created_at=t0 + 600)
    services.store_event(finished, to_body(finished))  # answered; the deriver has not run
    output = app.test_cli_runner().invoke(args=["livekit", "reconcile"]).output
    assert "inferred" not in output
    session = db.session.scalar(db.select(MeetingSession).where(MeetingSession.room_name == room))
    assert not session.end_inferred and session.ended_at.timestamp() == t0 + 600


def test_reconcile_reports_an_unreachable_server(app, fake_rooms):
    fake_rooms.unreachable = True
    result = app.test_cli_runner().invoke(args=["livekit", "reconcile"])
    assert result.exit_code == 1 and "LiveKit did not answer" in result.output


def test_purge_deletes_old_events_and_keeps_attendance(held_meeting, app):
    old = datetime.now(UTC) - timedelta(days=120)
    db.session.execute(db.update(WebhookEvent).values(received_at=old))
    db.session.commit()
    feed(participant_event("participant_joined", "meeting-recent", "g-1", "PA_new"))
    output = app.test_cli_runner().invoke(args=["livekit", "purge"]).output
    assert "Deleted 9 event(s)" in output
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Attendance)) == 4
    assert db.session.scalar(db.select(MeetingSession.participant_seconds)) == 4200


def test_purge_keeps_an_old_event_that_was_never_derived(app):
    waiting = participant_event("participant_joined", "meeting-slow", "g-1", "PA_w")
    services.store_event(waiting, to_body(waiting))
    old = datetime.now(UTC) - timedelta(days=120)
    db.session.execute(db.update(WebhookEvent).values(received_at=old))
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["livekit", "purge"]).output
    assert "Deleted 0 event(s)" in output
    assert db.session.get(WebhookEvent, waiting.id) is not None


def test_purge_does_nothing_when_retention_is_zero(tmp_path):
    assert TestingConfig.LEDGER_RETENTION_DAYS == 90
    app = create_app(
        TestingConfig,
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.db'}", "LEDGER_RETENTION_DAYS": 0},
    )
    with app.app_context():
        db.create_all()
        output = app.test_cli_runner().invoke(args=["livekit", "purge"]).output
    assert "kept for ever" in output
