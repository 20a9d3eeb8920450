"""Scheduling drives who may join when: settings, recurrence, windows, access, capacity."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import Access, AuditEntry, Frequency, Meeting, MeetingInvitee
from meetings.scheduling import recurrence as rec
from tests.support.accounts import csrf_token_from
from tests.support.rooms import first_room

NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def create(client, headers, **fields):
    body = {"title": "Planning", "starts_at": iso(NEXT_WEEK), "duration_minutes": 30} | fields
    return client.post("/api/v1/meetings", json=body, headers=headers)


def token(client, meeting, **body):
    return client.post(f"/api/v1/meetings/{meeting.slug}/tokens", json=body)


def claims(app, response) -> dict:
    secret = app.config["LIVEKIT_API_SECRET"]
    return jwt.decode(response.get_json()["token"], secret, algorithms=["HS256"])


def meeting_count() -> int:
    return db.session.scalar(db.select(db.func.count(Meeting.id)))


# ---- settings through the API -------------------------------------------------------------


def test_create_with_every_setting_and_read_back(client, make_user, api_token):
    host = make_user()
    co_host = make_user(email="co@example.com")
    headers = api_token(host)
    response = create(
        client,
        headers,
        description="Agenda: <b>budget</b>",
        time_zone="America/New_York",
        recurrence={"freq": "weekly", "by_weekday": ["mo", "we"], "count": 6},
        access="invited",
        invitees=["Ann@Example.com", "bob@example.com"],
        access_code="471147",
        lobby=False,
        join_before_host=False,
        max_participants=12,
        join_muted=True,
        webinar=True,
        recording_allowed=True,
        auto_record=False,
        co_hosts=["co@example.com"],
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["recurrence"] == {
        "freq": "weekly",
        "interval": 1,
        "by_weekday": ["mo", "we"],
        "count": 6,
        "until": None,
    }
    assert body["invitees"] == ["ann@example.com", "bob@example.com"]
    assert body["co_hosts"] == [co_host.email]
    assert body["ics_url"].endswith(f"/meetings/{body['slug']}/calendar.ics")
    assert (body["max_participants"], body["webinar"], body["join_muted"]) == (12, True, True)
    invitee = api_token(make_user(email="ann@example.com"))
    seen_by_invitee = client.get(f"/api/v1/meetings/{body['slug']}", headers=invitee).get_json()
    assert "access_code" not in seen_by_invitee and "invitees" not in seen_by_invitee
    assert seen_by_invitee["access_code_required"] is True
    # Someone the invite-only meeting is not for learns only that it is private.
    stranger = client.get(f"/api/v1/meetings/{body['slug']}").get_json()
    assert set(stranger) == {"slug", "access", "cancelled", "join_url"}


def test_patch_changes_only_what_is_sent_and_bumps_the_sequence(client, make_user, api_token):
    headers = api_token(make_user())
    slug = create(client, headers, max_participants=5).get_json()["slug"]
    response = client.patch(f"/api/v1/meetings/{slug}", json={"title": "Renamed"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["max_participants"] == 5
    meeting = db.session.scalar(db.select(Meeting))
    assert (meeting.title, meeting.sequence) == ("Renamed", 1)
    cleared = client.patch(
        f"/api/v1/meetings/{slug}", json={"max_participants": None}, headers=headers
    )
    assert cleared.get_json()["max_participants"] is None


def test_patch_refuses_unknown_fields_nulls_and_strangers(client, make_user, api_token):
    headers = api_token(make_user())
    slug = create(client, headers).get_json()["slug"]
    url = f"/api/v1/meetings/{slug}"
    assert client.patch(url, json={"colour": "red"}, headers=headers).status_code == 422
    assert (
        client.patch(url, json={"title": None}, headers=headers).get_json()["error"]["field"]
        == "title"
    )
    stranger = client.patch(url, json={"title": "Mine now"}, headers=api_token(make_user()))
    assert stranger.status_code == 403
    assert db.session.scalar(db.select(Meeting)).title == "Planning"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_at": "2020-01-01T10:00:00Z"}, "starts_at"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"max_participants": 1}, "max_participants"),
        ({"access_code": "   "}, "access_code"),
        ({"recurrence": {"freq": "daily"}}, "recurrence"),
        ({"recurrence": {"freq": "daily", "count": 501}}, "recurrence.count"),
        ({"recurrence": {"freq": "daily", "until": "2020-01-01"}}, "recurrence.until"),
        ({"recurrence": {"freq": "daily", "until": "2099-01-01"}}, "recurrence.until"),
        (
            {"recurrence": {"freq": "weekly", "count": 3, "by_weekday": ["xx"]}},
            "recurrence.by_weekday.0",
        ),
        ({"recurrence": {"freq": "hourly", "count": 3}}, "recurrence.freq"),
        ({"access": "invited"}, "invitees"),
        ({"co_hosts": ["nobody@example.com"]}, "co_hosts"),
    ],
)
def test_bad_settings_name_the_field_and_store_nothing(client, make_user, api_token, fields, field):
    response = create(client, api_token(make_user()), **fields)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert meeting_count() == 0


def test_delete_cancels_and_the_link_says_so(client, make_user, api_token):
    headers = api_token(make_user())
    slug = create(client, headers).get_json()["slug"]
    response = client.delete(f"/api/v1/meetings/{slug}", headers=headers)
    assert response.get_json()["cancelled"] is True
    assert "This meeting was cancelled" in client.get(f"/m/{slug}").get_data(as_text=True)
    refused = client.post(f"/api/v1/meetings/{slug}/tokens", json={"display_name": "Al"})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (410, "meeting_cancelled")


def test_listing_shows_each_occurrence_of_a_series(client, make_user, api_token):
    headers = api_token(make_user())
    create(client, headers, recurrence={"freq": "daily", "count": 3})
    create(client, headers, title="One-off", starts_at=iso(NEXT_WEEK + timedelta(hours=3)))
    start, end = iso(NEXT_WEEK - timedelta(hours=1)), iso(NEXT_WEEK + timedelta(days=10))
    items = client.get(f"/api/v1/meetings?from={start}&to={end}", headers=headers).get_json()[
        "items"
    ]
    assert [item["title"] for item in items] == ["Planning", "One-off", "Planning", "Planning"]
    assert items[0]["key"] == NEXT_WEEK.strftime("%Y%m%dT%H%MZ")
    bad = client.get("/api/v1/meetings?from=yesterday", headers=headers)
    assert (bad.status_code, bad.get_json()["error"]["field"]) == (422, "from")


# ---- recurrence across DST ---------------------------------------------------------------


def test_weekly_series_keeps_local_time_across_a_dst_change():
    start = datetime(2027, 10, 18, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (CEST, UTC+2)
    rule = rec.Recurrence(Frequency.WEEKLY, count=3)
    starts = rec.expand(start, "Europe/Berlin", rule)
    # DST ends on 31 October: the 09:00 local meeting moves from 07:00 to 08:00 UTC.
    assert [s.hour for s in starts] == [7, 7, 8]
    assert [s.astimezone(ZoneInfo("Europe/Berlin")).hour for s in starts] == [9, 9, 9]


def test_occurrences_are_found_by_key_and_named_rooms_apart(make_meeting):
    meeting = make_meeting(
        recurrence_freq=Frequency.DAILY, recurrence_count=3,
        series_ends_at=datetime.now(UTC) + timedelta(days=3),
    )  # fmt: skip
    first, second, _ = rec.occurrences(meeting)
    assert rec.occurrence_by_key(meeting, second.key) == second
    assert rec.occurrence_by_key(meeting, "20000101T0000Z") is None
    assert first.room_name != second.room_name


# ---- the join window ---------------------------------------------------------------------


def test_guests_wait_for_the_window_but_hosts_may_open_early(
    app, client, make_meeting, api_token, fake_rooms
):
    meeting = make_meeting(starts_at=datetime.now(UTC) + timedelta(hours=2))
    early = token(client, meeting, display_name="Early Eve")
    assert (early.status_code, early.get_json()["error"]["code"]) == (409, "not_open_yet")
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert "has not opened yet" in page and 'id="countdown"' in page
    host = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(meeting.host)
    )
    assert host.status_code == 201
    assert fake_rooms.created[0]["name"] == first_room(meeting)


def test_a_host_who_opened_early_lets_guests_in(client, make_meeting, fake_rooms, manual_clock):
    meeting = make_meeting(starts_at=datetime.now(UTC) + timedelta(hours=2))
    fake_rooms.seat(first_room(meeting), "someone-else")
    assert "has not opened yet" in client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    fake_rooms.seat(first_room(meeting), meeting.host.livekit_identity)
    manual_clock.advance(3)  # the page asks the server again after a few seconds
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert "Join meeting" in page
    assert token(client, meeting, display_name="Early Eve").status_code == 201


def test_an_unreachable_server_before_the_window_shows_the_schedule(
    client, make_meeting, fake_rooms
):
    meeting = make_meeting(starts_at=datetime.now(UTC) + timedelta(hours=2))
    fake_rooms.unreachable = True
    assert "has not opened yet" in client.get(f"/m/{meeting.slug}").get_data(as_text=True)


def test_a_finished_meeting_is_over(client, make_meeting, fake_rooms):
    meeting = make_meeting(starts_at=datetime.now(UTC) - timedelta(hours=3), duration_minutes=30)
    assert "This meeting is over" in client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert (
        token(client, meeting, display_name="Late Lou").get_json()["error"]["code"]
        == "meeting_over"
    )
    assert fake_rooms.created == []


def test_provisioning_carries_the_meeting_settings(make_meeting, client, fake_rooms):
    meeting = make_meeting(max_participants=8)
    token(client, meeting, display_name="Pat")
    [room] = fake_rooms.created
    assert room["max_participants"] == 8
    assert room["metadata"]["slug"] == meeting.slug
    assert room["metadata"]["occurrence"] == rec.occurrences(meeting)[0].key
    assert room["metadata"]["host_identity"] == meeting.host.livekit_identity


# ---- access rules ------------------------------------------------------------------------


def test_signed_in_only_meetings_turn_guests_away(
    client, make_meeting, make_user, api_token, fake_rooms
):
    meeting = make_meeting(access=Access.SIGNED_IN)
    assert "Sign in to join" in client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert token(client, meeting, display_name="Gus").status_code == 401
    member = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(make_user())
    )
    assert member.status_code == 201


def test_invited_only_meetings_admit_invitees(
    client, make_meeting, make_user, api_token, fake_rooms
):
    meeting = make_meeting(access=Access.INVITED, invitees=[MeetingInvitee(email="in@example.com")])
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    outsider = client.post(url, json={}, headers=api_token(make_user()))
    assert (outsider.status_code, outsider.get_json()["error"]["code"]) == (403, "not_invited")
    invitee = client.post(url, json={}, headers=api_token(make_user(email="in@example.com")))
    assert invitee.status_code == 201


def test_access_code_is_needed_by_everyone_but_hosts(client, make_meeting, api_token, fake_rooms):
    meeting = make_meeting(access_code="4711")
    assert 'id="access-code"' in client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    missing = token(client, meeting, display_name="Al")
    wrong = token(client, meeting, display_name="Al", access_code="1234")
    right = token(client, meeting, display_name="Al", access_code="4711")
    assert (missing.status_code, missing.get_json()["error"]["field"]) == (403, "access_code")
    assert wrong.get_json()["error"]["message"] == "Wrong access code."
    assert right.status_code == 201
    host = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(meeting.host)
    )
    assert host.status_code == 201


def test_without_join_before_host_guests_wait_until_a_host_is_in(client, make_meeting, fake_rooms):
    meeting = make_meeting(join_before_host=False)
    waiting = token(client, meeting, display_name="Wendy")
    assert (waiting.status_code, waiting.get_json()["error"]["code"]) == (409, "waiting_for_host")
    fake_rooms.seat(first_room(meeting), meeting.host.livekit_identity)
    assert token(client, meeting, display_name="Wendy").status_code == 201


def test_a_full_meeting_refuses_newcomers_but_not_a_rejoin(app, client, make_meeting, fake_rooms):
    meeting = make_meeting(max_participants=2)
    fake_rooms.seat(first_room(meeting), "u-98", "u-99")
    full = token(client, meeting, display_name="Third")
    assert (full.status_code, full.get_json()["error"]["code"]) == (409, "meeting_full")
    assert "full" in full.get_json()["error"]["message"]
    with client.session_transaction() as session:
        session["guest_identity"] = "u-99"  # the same person reconnecting
    assert token(client, meeting, display_name="Back again").status_code == 201


# ---- grants follow the settings -------------------------------------------------------------


def test_webinar_attendees_cannot_publish_but_hosts_and_co_hosts_can(
    app, client, make_meeting, make_user, api_token, fake_rooms
):
    co_host = make_user()
    meeting = make_meeting(webinar=True, co_hosts=[co_host])
    attendee = claims(app, token(client, meeting, display_name="Viewer"))["video"]
    assert attendee["canPublish"] is False
    assert attendee["canPublishData"] is True
    assert "roomAdmin" not in attendee
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    for person in (meeting.host, co_host):
        video = claims(app, client.post(url, json={}, headers=api_token(person)))["video"]
        assert video["canPublish"] is True
        assert "roomAdmin" not in video


# ---- pages -------------------------------------------------------------------------------


def post_form(client, url, data):
    form_token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": form_token})


def test_schedule_a_weekly_series_through_the_form(client, make_user, login):
    login(make_user())
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    response = post_form(
        client,
        "/meetings/new",
        {
            "title": "Standup",
            "starts_at": f"{day}T09:00",
            "duration_minutes": "15",
            "time_zone": "Europe/Berlin",
            "repeat": "weekly",
            "interval": "1",
            "by_weekday": ["mo", "tu", "we", "th", "fr"],
            "ends": "count",
            "count": "10",
            "access": "link",
            "lobby": "y",
            "join_before_host": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    meeting = db.session.scalar(db.select(Meeting))
    assert (meeting.recurrence_freq, meeting.weekdays, meeting.recurrence_count) == (
        Frequency.WEEKLY, ["mo", "tu", "we", "th", "fr"], 10,
    )  # fmt: skip
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert dashboard.count("Standup</a>") == 10  # each occurrence listed on its own
    edit = client.get(f"/meetings/{meeting.slug}/edit").get_data(as_text=True)
    assert 'value="Europe/Berlin"' in edit and 'value="09:00"' not in edit
    assert f'value="{day}T09:00"' in edit


def test_the_form_names_the_bad_field(client, make_user, login):
    login(make_user())
    response = post_form(
        client,
        "/meetings/new",
        {
            "title": "Too long",
            "starts_at": "2099-01-01T09:00",
            "duration_minutes": "30",
            "time_zone": "UTC",
            "repeat": "daily",
            "ends": "until",
            "until": "2098-01-01",
            "access": "link",
        },
    )
    assert "The series ends before it starts." in response.get_data(as_text=True)
    assert meeting_count() == 0


def test_cancel_from_the_detail_page(client, make_user, make_meeting, login):
    meeting = make_meeting()
    login(meeting.host)
    page = client.get(f"/meetings/{meeting.slug}").get_data(as_text=True)
    client.post(f"/meetings/{meeting.slug}/cancel", data={"csrf_token": csrf_token_from(page)})
    db.session.refresh(meeting)
    assert meeting.is_cancelled and meeting.sequence == 1
    assert "This meeting was cancelled" in client.get(f"/m/{meeting.slug}").get_data(as_text=True)


def test_until_date_is_inclusive_in_the_meeting_zone():
    start = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)  # 1 March 15:30 in Los Angeles
    rule = rec.Recurrence(Frequency.DAILY, until=date(2027, 3, 3))
    assert len(rec.expand(start, "America/Los_Angeles", rule)) == 3


# ---- no query per row -------------------------------------------------------------------


@contextmanager
def counted_queries():
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_dashboard_queries_do_not_grow_with_the_number_of_meetings(
    client, make_user, make_meeting, login
):
    host = make_user()
    colleague = make_user()
    login(host)

    def queries_for_dashboard() -> int:
        with counted_queries() as statements:
            assert client.get("/dashboard").status_code == 200
        return len(statements)

    make_meeting(host=host, co_hosts=[colleague])
    few = queries_for_dashboard()
    for number in range(15):
        later = datetime.now(UTC) + timedelta(days=number * 9)
        make_meeting(host=host, title=f"Meeting {number}", starts_at=later, co_hosts=[colleague])
    assert queries_for_dashboard() == few


# ---- access codes cannot be guessed --------------------------------------------------------


def test_new_access_codes_have_six_characters_and_old_short_ones_survive_other_edits(
    client, make_user, api_token, make_meeting
):
    headers = api_token(make_user())
    short = create(client, headers, access_code="4711")
    assert short.status_code == 422
    assert short.get_json()["error"]["field"] == "access_code"
    assert "at least 6 characters" in short.get_json()["error"]["message"]
    old = make_meeting(access_code="4711")
    renamed = client.patch(
        f"/api/v1/meetings/{old.slug}", json={"title": "Renamed"}, headers=api_token(old.host)
    )
    assert renamed.status_code == 200


def test_wrong_access_codes_from_everywhere_pause_the_meeting_and_are_audited(
    app, make_meeting, fake_rooms, manual_clock
):
    meeting = make_meeting(access_code="correct-horse")
    url = f"/api/v1/meetings/{meeting.slug}/tokens"

    def attempt(code: str, address: str):
        browser = app.test_client()
        body = {"display_name": "Guesser", "access_code": code}
        return browser.post(url, json=body, environ_base={"REMOTE_ADDR": address})

    for number in range(10):
        wrong = attempt(f"guess-{number}", f"203.0.113.{number}")
        assert wrong.status_code == 403
    # The eleventh try within the window is refused, even with the right code.
    paused = attempt("correct-horse", "198.51.100.1")
    assert paused.status_code == 429
    assert int(paused.headers["Retry-After"]) > 0
    assert "Too many wrong access codes" in paused.get_json()["error"]["message"]
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == "access_code_locked")
    ).all()
    assert len(entries) == 1 and entries[0].meeting_id == meeting.id
    manual_clock.advance(11 * 60)
    assert attempt("correct-horse", "198.51.100.1").status_code == 201


def test_waiting_pages_do_not_turn_into_calls_to_the_media_server(
    client, make_meeting, fake_rooms, manual_clock, monkeypatch
):
    meeting = make_meeting(starts_at=datetime.now(UTC) + timedelta(hours=2))
    fake_rooms.seat(first_room(meeting), "someone-else")
    asked = []
    monkeypatch.setattr(
        gateway,
        "list_participants",
        lambda room: asked.append(room) or fake_rooms.list_participants(room),
    )
    for _ in range(50):
        assert client.get(f"/m/{meeting.slug}").status_code == 200
    assert len(asked) == 1
    manual_clock.advance(3)
    client.get(f"/m/{meeting.slug}")
    assert len(asked) == 2
