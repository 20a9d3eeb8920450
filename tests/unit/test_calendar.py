"""Calendar files: what a calendar app shows after importing a meeting, a sitting or the feed."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event

from meetings.calendar import services
from meetings.extensions import db
from meetings.models import Frequency, MeetingInvitee
from meetings.scheduling import recurrence as rec
from tests.support.accounts import csrf_token_from

BERLIN = ZoneInfo("Europe/Berlin")
# A Monday, 09:00 in Berlin; DST ends on Sunday 2027-10-31.
BEFORE_DST_ENDS = datetime(2027, 10, 18, 9, tzinfo=BERLIN).astimezone(UTC)
JANUARY_MONDAY = datetime(2027, 1, 4, 9, tzinfo=BERLIN).astimezone(UTC)


def weekly(starts_at: datetime, **fields) -> dict:
    """Model fields of a weekly series in Berlin (count 6 on Mondays and Wednesdays unless
    told otherwise)."""
    return {
        "starts_at": starts_at,
        "time_zone": "Europe/Berlin",
        "recurrence_freq": Frequency.WEEKLY,
        "recurrence_weekdays": "mo,we",
        "recurrence_count": 6,
        "series_ends_at": starts_at + timedelta(days=60),
    } | fields


def download(client, path: str) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def only_event(calendar: Calendar) -> Event:
    [event] = calendar.events
    return event


def imported_starts(calendar: Calendar) -> list[datetime]:
    """What a calendar app that trusts only the file shows: DTSTART + RRULE, expanded in
    the file's own VTIMEZONE (not the system's copy of the zone)."""
    event = only_event(calendar)
    [timezone] = calendar.timezones
    start = event.start.replace(tzinfo=timezone.to_tz(lookup_tzid=False))
    rules = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start, forceset=True)
    rules.rdate(start)  # RFC 5545 counts DTSTART as a sitting; dateutil's rrule alone does not
    return list(rules)


# ---- one meeting ------------------------------------------------------------------------


def test_meeting_file_puts_the_meeting_at_its_time_in_its_zone(client, make_meeting):
    starts_at = JANUARY_MONDAY
    meeting = make_meeting(
        title="Budget review",
        description="Bring the numbers.",
        starts_at=starts_at,
        time_zone="Europe/Berlin",
        series_ends_at=starts_at + timedelta(hours=1),
    )

    response = client.get(f"/meetings/{meeting.slug}/calendar.ics")
    calendar = Calendar.from_ical(response.data)
    event = only_event(calendar)

    assert response.headers["Content-Disposition"] == f"attachment; filename={meeting.slug}.ics"
    assert calendar["METHOD"] == "PUBLISH"
    assert event.start == meeting.starts_at
    assert event.end == meeting.ends_at
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Berlin"]
    assert "RRULE" not in event
    assert event["UID"] == f"{meeting.slug}@meetings"
    assert event["SUMMARY"] == "Budget review"
    join_url = f"http://localhost/m/{meeting.slug}"
    assert event["URL"] == event["LOCATION"] == join_url
    assert event["DESCRIPTION"] == f"Bring the numbers.\n\nJoin: {join_url}"
    assert event["ORGANIZER"] == f"mailto:{meeting.host.email}"
    assert event["ORGANIZER"].params["CN"] == meeting.host.display_name
    assert event["STATUS"] == "CONFIRMED"


def test_weekly_series_carries_its_rule(client, make_meeting):
    meeting = make_meeting(**weekly(JANUARY_MONDAY))

    event = only_event(download(client, f"/meetings/{meeting.slug}/calendar.ics"))

    rule = event["RRULE"]
    assert (rule["FREQ"], rule["BYDAY"], rule["COUNT"]) == (["WEEKLY"], ["MO", "WE"], [6])
    assert event.start == meeting.starts_at


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="count"),
        pytest.param({"recurrence_count": None, "recurrence_until": date(2027, 1, 20)}, id="until"),
        # Created for a Tuesday: the app's first sitting is the Wednesday, and so must the
        # calendar's be (RFC 5545 would count a Tuesday DTSTART as an extra sitting).
        pytest.param({"starts_at": JANUARY_MONDAY + timedelta(days=1)}, id="start-off-rule"),
        pytest.param({"recurrence_interval": 2}, id="every-other-week"),
    ],
)
def test_calendar_app_shows_the_sittings_the_app_runs(client, make_meeting, fields):
    meeting = make_meeting(**weekly(**({"starts_at": JANUARY_MONDAY} | fields)))

    calendar = download(client, f"/meetings/{meeting.slug}/calendar.ics")

    app_starts = [occurrence.starts_at for occurrence in rec.occurrences(meeting)]
    assert imported_starts(calendar) == app_starts


def test_until_is_written_in_utc(client, make_meeting):
    meeting = make_meeting(
        **weekly(JANUARY_MONDAY, recurrence_count=None, recurrence_until=date(2027, 1, 20))
    )

    event = only_event(download(client, f"/meetings/{meeting.slug}/calendar.ics"))

    # The last day ends at 23:59:59 in Berlin, which is 22:59:59 UTC in winter.
    assert event["RRULE"]["UNTIL"] == [datetime(2027, 1, 20, 22, 59, 59, tzinfo=UTC)]
    assert "COUNT" not in event["RRULE"]


def test_series_keeps_local_time_across_the_end_of_dst(client, make_meeting):
    meeting = make_meeting(**weekly(BEFORE_DST_ENDS, recurrence_weekdays="mo", recurrence_count=3))

    starts = imported_starts(download(client, f"/meetings/{meeting.slug}/calendar.ics"))

    assert [start.astimezone(BERLIN).hour for start in starts] == [9, 9, 9]
    assert [start.astimezone(UTC).hour for start in starts] == [7, 7, 8]


def test_a_long_series_keeps_its_zone_to_the_end_without_a_warning(client, make_meeting):
    last = JANUARY_MONDAY + timedelta(weeks=rec.MAX_OCCURRENCES - 1, hours=1)  # in 2036
    meeting = make_meeting(
        **weekly(
            JANUARY_MONDAY,
            recurrence_weekdays="mo",
            recurrence_count=rec.MAX_OCCURRENCES,
            series_ends_at=last,
        )
    )
    response = client.get(f"/meetings/{meeting.slug}/calendar.ics")

    starts = imported_starts(Calendar.from_ical(response.data))
    assert len(starts) == rec.MAX_OCCURRENCES
    assert {start.astimezone(BERLIN).hour for start in starts} == {9}
    assert {start.astimezone(UTC).hour for start in starts} == {7, 8}  # summer and winter
    assert b"only works" not in response.data


def test_an_edit_raises_the_sequence_and_keeps_the_uid(client, make_meeting):
    meeting = make_meeting()
    path = f"/meetings/{meeting.slug}/calendar.ics"
    before = only_event(download(client, path))

    meeting.title = "Moved sync"
    meeting.sequence += 1
    db.session.commit()
    after = only_event(download(client, path))

    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["UID"] == before["UID"]
    assert after["SUMMARY"] == "Moved sync"


def test_cancelled_meeting_cancels_the_calendar_entry(client, make_meeting):
    meeting = make_meeting(**weekly(JANUARY_MONDAY), cancelled_at=datetime.now(UTC))
    key = rec.occurrences(meeting)[0].key

    for path in (
        f"/meetings/{meeting.slug}/calendar.ics",
        f"/meetings/{meeting.slug}/occurrences/{key}.ics",
    ):
        calendar = download(client, path)
        assert calendar["METHOD"] == "CANCEL"
        assert only_event(calendar)["STATUS"] == "CANCELLED"


def test_unknown_meeting_has_no_calendar_file(client):
    assert client.get("/meetings/no-such-slug/calendar.ics").status_code == 404


# ---- one occurrence ---------------------------------------------------------------------


def test_occurrence_file_holds_that_sitting_only(client, make_meeting):
    meeting = make_meeting(**weekly(BEFORE_DST_ENDS, recurrence_weekdays="mo", recurrence_count=3))
    after_dst = rec.occurrences(meeting)[2]

    response = client.get(f"/meetings/{meeting.slug}/occurrences/{after_dst.key}.ics")
    event = only_event(Calendar.from_ical(response.data))

    assert response.headers["Content-Disposition"] == (
        f"attachment; filename={meeting.slug}-{after_dst.key}.ics"
    )
    assert event.start == after_dst.starts_at
    assert event.end == after_dst.ends_at
    assert event.start.astimezone(BERLIN).hour == 9
    assert event["UID"] == f"{meeting.slug}-{after_dst.key}@meetings"
    assert "RRULE" not in event


@pytest.mark.parametrize("key", ["20271019T0700Z", "not-a-key"])
def test_occurrence_that_does_not_exist_is_404(client, make_meeting, key):
    meeting = make_meeting(**weekly(BEFORE_DST_ENDS, recurrence_weekdays="mo", recurrence_count=3))

    assert client.get(f"/meetings/{meeting.slug}/occurrences/{key}.ics").status_code == 404
    assert client.get("/meetings/no-such-slug/occurrences/20271018T0700Z.ics").status_code == 404


# ---- the feed ---------------------------------------------------------------------------


def create_feed_address(client) -> str:
    """Press the button on the account page; return the feed address it then shows."""
    page = client.get("/account").get_data(as_text=True)
    response = client.post(
        "/account/calendar-feed", data={"csrf_token": csrf_token_from(page)}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Copy your new feed address into your calendar app now." in page
    return re.search(r'id="calendar-feed"[^>]* value="([^"]+)"', page).group(1)


def test_feed_lists_the_meetings_i_host_and_am_invited_to(client, make_user, make_meeting, login):
    me = make_user(display_name="Ada")
    someone = make_user()
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    hosted = make_meeting(title="Mine", host=me, starts_at=soon)
    co_hosted = make_meeting(
        title="Co-hosted", host=someone, co_hosts=[me], starts_at=soon + timedelta(hours=1)
    )
    invited = make_meeting(
        title="Invited",
        host=someone,
        invitees=[MeetingInvitee(email=me.email)],
        starts_at=soon - timedelta(days=2),
    )
    cancelled = make_meeting(
        title="Called off",
        host=me,
        starts_at=soon + timedelta(hours=2),
        cancelled_at=datetime.now(UTC),
    )
    make_meeting(title="Not mine", host=someone, starts_at=soon)
    make_meeting(title="Long over", host=me, starts_at=soon - timedelta(days=60))

    login(me)
    assert "Create feed address" in client.get("/account").get_data(as_text=True)
    feed_url = create_feed_address(client)
    assert "Replace feed address" in client.get("/account").get_data(as_text=True)
    calendar = download(client, feed_url.removeprefix("http://localhost"))

    assert calendar["X-WR-CALNAME"] == "Meetings: Ada"
    assert calendar["METHOD"] == "PUBLISH"
    listed = {str(event["UID"]): event for event in calendar.events}
    in_start_order = [invited, hosted, co_hosted, cancelled]
    assert list(listed) == [f"{m.slug}@meetings" for m in in_start_order]
    assert listed[f"{cancelled.slug}@meetings"]["STATUS"] == "CANCELLED"
    assert listed[f"{hosted.slug}@meetings"]["STATUS"] == "CONFIRMED"


def test_feed_with_a_wrong_token_is_404(client, make_user):
    user = make_user()
    token = services.rotate_feed_token(user)

    assert client.get(f"/calendar/{token}.ics").status_code == 200
    assert client.get("/calendar/wrong-token.ics").status_code == 404
    assert client.get(f"/calendar/{token.swapcase()}.ics").status_code == 404


def test_replacing_the_feed_address_retires_the_old_one(client, make_user, login):
    login(make_user())
    old_url = create_feed_address(client).removeprefix("http://localhost")
    new_url = create_feed_address(client).removeprefix("http://localhost")

    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200


def test_feed_of_a_disabled_user_is_404(client, make_user):
    user = make_user()
    token = services.rotate_feed_token(user)
    user.disabled = True
    db.session.commit()

    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_creating_a_feed_address_needs_a_signed_in_user(client):
    page = client.get("/auth/login").get_data(as_text=True)
    response = client.post("/account/calendar-feed", data={"csrf_token": csrf_token_from(page)})

    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
