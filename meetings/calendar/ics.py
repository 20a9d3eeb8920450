"""Calendar files (RFC 5545): one meeting, one sitting of it, or a user's whole feed.

Pure functions: callers pass the join URLs, so nothing here needs a request or the database.
Times are written in the meeting's own zone with a VTIMEZONE, so a weekly 09:00 meeting stays
at 09:00 local time in the calendar app across DST changes, as it does in recurrence.py.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vRecur
from icalendar.enums import STATUS

from meetings.models import Frequency, Meeting, User
from meetings.scheduling.recurrence import Occurrence, Recurrence, series_starts

PRODID = "-//meetings//EN"


def meeting_calendar(meeting: Meeting, join_url: str) -> bytes:
    """The whole meeting (every occurrence of a series) as one calendar file."""
    event = meeting_event(meeting, join_url)
    calendar = _calendar(_method(meeting), [event], meeting.starts_at, meeting.series_ends_at)
    return calendar.to_ical()


def occurrence_calendar(occurrence: Occurrence, join_url: str) -> bytes:
    """One sitting only: its own UID, so it does not replace the series in a calendar."""
    meeting = occurrence.meeting
    event = _event(
        meeting, join_url, f"{meeting.slug}-{occurrence.key}@meetings", occurrence.starts_at
    )
    calendar = _calendar(_method(meeting), [event], occurrence.starts_at, occurrence.ends_at)
    return calendar.to_ical()


def feed_calendar(user: User, meetings_with_urls: list[tuple[Meeting, str]]) -> bytes:
    """Every meeting of the user in one subscribable calendar."""
    events = [meeting_event(meeting, url) for meeting, url in meetings_with_urls]
    meetings = [meeting for meeting, _url in meetings_with_urls]
    first = min((m.starts_at for m in meetings), default=datetime.now(UTC))
    last = max((m.series_ends_at for m in meetings), default=first)
    # A feed is published, never cancelled as a whole: cancelled meetings stay in it with
    # STATUS:CANCELLED so subscribed calendars remove them.
    calendar = _calendar("PUBLISH", events, first, last)
    calendar.calendar_name = f"Meetings: {user.display_name}"  # NAME and X-WR-CALNAME
    return calendar.to_ical()


def meeting_event(meeting: Meeting, join_url: str) -> Event:
    """The VEVENT of a meeting, with its RRULE when it repeats."""
    # DTSTART is the first real occurrence, not the start the host typed: RFC 5545 always
    # counts DTSTART as an instance, while dateutil (which the app uses) skips a start that
    # is off the rule, e.g. a "Mon and Wed" series created for a Tuesday.
    first_start = next(iter(series_starts(meeting)), meeting.starts_at)
    event = _event(meeting, join_url, f"{meeting.slug}@meetings", first_start)
    recurrence = Recurrence.of(meeting)
    if recurrence is not None:
        event.add("RRULE", _rrule(recurrence, meeting.time_zone))
    return event


def _event(meeting: Meeting, join_url: str, uid: str, starts_at: datetime) -> Event:
    zone = ZoneInfo(meeting.time_zone)
    return Event.new(
        uid=uid,
        sequence=meeting.sequence,
        start=starts_at.astimezone(zone),
        end=(starts_at + meeting.duration).astimezone(zone),
        summary=meeting.title,
        description=_description(meeting, join_url),
        url=join_url,
        location=join_url,
        organizer=vCalAddress.new(meeting.host.email, cn=meeting.host.display_name),
        status=STATUS.CANCELLED if meeting.is_cancelled else STATUS.CONFIRMED,
    )


# An encrypted meeting's key is only in the link the host's browser makes; the server never
# has it. The file keeps the plain link (where the meeting is) and says it is not enough.
E2EE_NOTE = (
    "This meeting is end-to-end encrypted: the host will share the encrypted link. "
    "The link below alone does not let you in."
)


def _description(meeting: Meeting, join_url: str) -> str:
    join = f"{E2EE_NOTE}\nMeeting page: {join_url}" if meeting.e2ee else f"Join: {join_url}"
    parts = (meeting.description.strip(), join)
    return "\n\n".join(part for part in parts if part)


def _rrule(recurrence: Recurrence, zone: str) -> vRecur:
    rule = vRecur(FREQ=recurrence.freq.value.upper(), INTERVAL=recurrence.interval)
    if recurrence.freq == Frequency.WEEKLY and recurrence.by_weekday:
        rule["BYDAY"] = [day.upper() for day in recurrence.by_weekday]
    # RFC 5545 allows COUNT or UNTIL, never both; validation already keeps exactly one.
    if recurrence.count is not None:
        rule["COUNT"] = recurrence.count
    elif recurrence.until is not None:
        rule["UNTIL"] = _until_utc(recurrence.until, zone)
    return rule


def _until_utc(last_day: date, zone: str) -> datetime:
    # Same end as recurrence.build_rule (the last day's end, local time), but in UTC:
    # RFC 5545 wants UNTIL in UTC when DTSTART carries a TZID.
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _method(meeting: Meeting) -> str:
    return "CANCEL" if meeting.is_cancelled else "PUBLISH"


def _calendar(method: str, events: Iterable[Event], first: datetime, last: datetime) -> Calendar:
    # Calendar() rather than Calendar.new(): new() stamps a random UID on the VCALENDAR
    # itself, so the same meeting would give a different file on every download.
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    calendar.method = method
    for event in events:
        calendar.add_component(event)
    # icalendar writes a VTIMEZONE only for the dates asked for (1970-2038 by default).
    # Whole years around the events give every zone both its winter and summer rules.
    calendar.add_missing_timezones(
        first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 12, 31)
    )
    for zone in calendar.timezones:
        # icalendar notes "This timezone only works from <first> to <last>." Calendar apps
        # show it to people, who read it as a limit of their meeting; the rules above already
        # span every sitting in the file.
        if str(zone.get("COMMENT", "")).startswith("This timezone only works"):
            del zone["COMMENT"]
    return calendar
