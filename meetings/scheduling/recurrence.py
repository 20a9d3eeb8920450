"""Occurrences of a meeting: one-off or a series following the host's wall clock.

A weekly 09:00 meeting in Europe/Berlin stays at 09:00 local time across a DST change, so
its UTC start moves. Series are expanded with dateutil's rrule in the meeting's zone and
converted to UTC; validation keeps every series at MAX_OCCURRENCES or fewer, so expanding a
whole series is cheap.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule

from meetings.models import Frequency, Meeting
from meetings.scheduling.room_names import KEY_FORMAT, room_name

MAX_OCCURRENCES = 500
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_RRULE_FREQ = {
    Frequency.DAILY: rrule.DAILY,
    Frequency.WEEKLY: rrule.WEEKLY,
    Frequency.MONTHLY: rrule.MONTHLY,
}
_RRULE_DAYS = dict(zip(WEEKDAYS, rrule.weekdays, strict=True))


@dataclass(frozen=True)
class Recurrence:
    freq: Frequency
    interval: int = 1
    by_weekday: tuple[str, ...] = ()
    count: int | None = None
    until: date | None = None  # the last day, in the meeting's zone

    @classmethod
    def of(cls, meeting: Meeting) -> "Recurrence | None":
        if meeting.recurrence_freq is None:
            return None
        return cls(
            freq=meeting.recurrence_freq,
            interval=meeting.recurrence_interval,
            by_weekday=tuple(meeting.weekdays),
            count=meeting.recurrence_count,
            until=meeting.recurrence_until,
        )


WEEKDAY_NAMES = dict(zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
PERIODS = {Frequency.DAILY: "day", Frequency.WEEKLY: "week", Frequency.MONTHLY: "month"}


def describe(rule: Recurrence | None) -> str:
    """The rule as a host reads it: `Every 2 weeks on Mon, Wed, 6 times`."""
    if rule is None:
        return "Does not repeat"
    period = PERIODS[rule.freq]
    every = f"Every {period}" if rule.interval == 1 else f"Every {rule.interval} {period}s"
    if rule.freq == Frequency.WEEKLY and rule.by_weekday:
        every += " on " + ", ".join(WEEKDAY_NAMES[day] for day in rule.by_weekday)
    if rule.count is not None:
        return f"{every}, {rule.count} times" if rule.count != 1 else f"{every}, once"
    if rule.until is not None:
        return f"{every}, until {rule.until.isoformat()}"
    return every


@dataclass(frozen=True)
class Occurrence:
    """One sitting of a meeting; its key (UTC start) names it in URLs and room names."""

    meeting: Meeting
    starts_at: datetime  # aware UTC

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + self.meeting.duration

    @property
    def key(self) -> str:
        return self.starts_at.strftime(KEY_FORMAT)

    @property
    def room_name(self) -> str:
        """Unique per occurrence: attendance and moderation never mix two sittings."""
        return room_name(self.meeting.slug, self.starts_at)


def build_rule(starts_at: datetime, zone: str, recurrence: Recurrence) -> rrule.rrule:
    local_start = starts_at.astimezone(ZoneInfo(zone))
    until = None
    if recurrence.until is not None:
        until = datetime.combine(recurrence.until, time(23, 59, 59), tzinfo=ZoneInfo(zone))
    weekdays = [_RRULE_DAYS[day] for day in recurrence.by_weekday] or None
    return rrule.rrule(
        _RRULE_FREQ[recurrence.freq],
        dtstart=local_start,
        interval=recurrence.interval,
        byweekday=weekdays if recurrence.freq == Frequency.WEEKLY else None,
        count=recurrence.count,
        until=until,
    )


def expand(
    starts_at: datetime, zone: str, recurrence: Recurrence | None, limit: int = MAX_OCCURRENCES + 1
) -> list[datetime]:
    """UTC starts of a series (at most `limit`, so a validator can see "too many")."""
    if recurrence is None:
        return [starts_at]
    starts = []
    for local in build_rule(starts_at, zone, recurrence):
        starts.append(local.astimezone(UTC))
        if len(starts) >= limit:
            break
    return starts


def series_starts(meeting: Meeting) -> list[datetime]:
    return expand(meeting.starts_at, meeting.time_zone, Recurrence.of(meeting))


def occurrences(
    meeting: Meeting, start: datetime | None = None, end: datetime | None = None
) -> list[Occurrence]:
    """Occurrences that overlap [start, end), earliest first."""
    found = []
    for begins in series_starts(meeting):
        occurrence = Occurrence(meeting, begins)
        if start is not None and occurrence.ends_at <= start:
            continue
        if end is not None and begins >= end:
            break
        found.append(occurrence)
    return found


def occurrence_by_key(meeting: Meeting, key: str) -> Occurrence | None:
    try:
        wanted = datetime.strptime(key, KEY_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    matches = [o for o in occurrences(meeting, wanted, wanted + timedelta(minutes=1))]
    return next((o for o in matches if o.starts_at == wanted), None)


def current_or_next(meeting: Meeting, now: datetime, grace: timedelta) -> Occurrence | None:
    """The occurrence running now (grace included) or, failing that, the next one."""
    return next(iter(occurrences(meeting, now - grace, None)), None)
