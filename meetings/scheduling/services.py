"""Scheduling meetings."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Meeting, Role, User

MAX_DURATION_MINUTES = 24 * 60
# A start a few minutes in the past is a slow form, not a mistake.
PAST_START_TOLERANCE = timedelta(minutes=5)


class InvalidMeeting(ValueError):
    """A meeting setting is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MeetingDraft:
    title: str
    starts_at: datetime  # aware
    duration_minutes: int


def zone_or_error(name: str) -> ZoneInfo:
    """Raises: InvalidMeeting naming `time_zone`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidMeeting("time_zone", f"Unknown time zone {name!r}.") from None


def local_to_utc(local: datetime, zone_name: str) -> datetime:
    """A wall-clock time in the host's zone, as an aware UTC datetime."""
    return local.replace(tzinfo=zone_or_error(zone_name)).astimezone(UTC)


def check_draft(draft: MeetingDraft, now: datetime | None = None) -> None:
    """Raises: InvalidMeeting for the first setting that is not acceptable."""
    now = now or datetime.now(UTC)
    if not draft.title.strip():
        raise InvalidMeeting("title", "Give the meeting a title.")
    if draft.starts_at.tzinfo is None:
        raise InvalidMeeting("starts_at", "Give the start time with its UTC offset.")
    if draft.starts_at < now - PAST_START_TOLERANCE:
        raise InvalidMeeting("starts_at", "The start time is in the past.")
    if not 1 <= draft.duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidMeeting("duration_minutes", "The duration must be 1 minute to 24 hours.")


def create_meeting(host: User, draft: MeetingDraft) -> Meeting:
    """Validate and store a meeting for `host`.

    Raises:
        InvalidMeeting: a setting is not acceptable; nothing is stored.
    """
    check_draft(draft)
    meeting = Meeting(
        title=draft.title.strip(),
        starts_at=draft.starts_at.astimezone(UTC),
        duration_minutes=draft.duration_minutes,
        host=host,
    )
    db.session.add(meeting)
    db.session.commit()
    return meeting


def upcoming_meetings(host: User, now: datetime | None = None) -> list[Meeting]:
    """The host's meetings that have not ended yet, soonest first."""
    now = now or datetime.now(UTC)
    # No meeting lasts longer than a day, so older starts cannot still be running.
    earliest_start = now - timedelta(minutes=MAX_DURATION_MINUTES)
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.host_id == host.id, Meeting.starts_at > earliest_start)
        .order_by(Meeting.starts_at)
    )
    return [meeting for meeting in meetings if meeting.ends_at > now]


def may_manage(user: User, meeting: Meeting) -> bool:
    """Hosts manage their own meetings; operators manage every meeting."""
    return user.is_authenticated and (user.id == meeting.host_id or user.role == Role.OPS)


def meeting_by_slug(slug: str) -> Meeting | None:
    return db.session.scalar(sa.select(Meeting).where(Meeting.slug == slug))
