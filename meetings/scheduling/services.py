"""Scheduling meetings: settings, validation, edits, cancellation, and what hosts see."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Access, Meeting, MeetingInvitee, Role, User
from meetings.models.meetings import meeting_co_hosts
from meetings.scheduling import recurrence as rec

MAX_DURATION_MINUTES = 24 * 60
# A start a few minutes in the past is a slow form, not a mistake.
PAST_START_TOLERANCE = timedelta(minutes=5)
MAX_INTERVAL = 99
MAX_LIST_ENTRIES = 200


class InvalidMeeting(ValueError):
    """A meeting setting is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MeetingSettings:
    """Everything a host decides about a meeting; forms and the API both build one."""

    title: str
    starts_at: datetime  # aware
    duration_minutes: int
    time_zone: str = "UTC"
    description: str = ""
    recurrence: rec.Recurrence | None = None
    access: Access = Access.LINK
    invitees: tuple[str, ...] = ()
    access_code: str | None = None
    lobby: bool = True
    join_before_host: bool = True
    max_participants: int | None = None
    join_muted: bool = False
    webinar: bool = False
    recording_allowed: bool = False
    auto_record: bool = False
    co_hosts: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, meeting: Meeting) -> "MeetingSettings":
        """The settings a meeting has now, for partial updates."""
        return cls(
            title=meeting.title,
            starts_at=meeting.starts_at,
            duration_minutes=meeting.duration_minutes,
            time_zone=meeting.time_zone,
            description=meeting.description,
            recurrence=rec.Recurrence.of(meeting),
            access=meeting.access,
            invitees=tuple(meeting.invitee_emails),
            access_code=meeting.access_code,
            lobby=meeting.lobby,
            join_before_host=meeting.join_before_host,
            max_participants=meeting.max_participants,
            join_muted=meeting.join_muted,
            webinar=meeting.webinar,
            recording_allowed=meeting.recording_allowed,
            auto_record=meeting.auto_record,
            co_hosts=tuple(user.email for user in meeting.co_hosts),
        )

    def updated(self, **changes) -> "MeetingSettings":
        return replace(self, **changes)


def zone_or_error(name: str) -> ZoneInfo:
    """Raises: InvalidMeeting naming `time_zone`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidMeeting("time_zone", f"Unknown time zone {name!r}.") from None


def local_to_utc(local: datetime, zone_name: str) -> datetime:
    """A wall-clock time in the host's zone, as an aware UTC datetime."""
    return local.replace(tzinfo=zone_or_error(zone_name)).astimezone(UTC)


# ---- validation -----------------------------------------------------------------------


MIN_ACCESS_CODE = 6


def check_settings(
    settings: MeetingSettings,
    now: datetime | None = None,
    *,
    start_changed: bool = True,
    code_changed: bool = True,
) -> list[datetime]:
    """Validate; returns the series' UTC starts.

    Raises:
        InvalidMeeting: for the first setting that is not acceptable.
    """
    now = now or datetime.now(UTC)
    if not settings.title.strip():
        raise InvalidMeeting("title", "Give the meeting a title.")
    zone_or_error(settings.time_zone)
    if settings.starts_at.tzinfo is None:
        raise InvalidMeeting("starts_at", "Give the start time with its UTC offset.")
    if start_changed and settings.starts_at < now - PAST_START_TOLERANCE:
        raise InvalidMeeting("starts_at", "The start time is in the past.")
    if not 1 <= settings.duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidMeeting("duration_minutes", "The duration must be 1 minute to 24 hours.")
    if settings.max_participants is not None and settings.max_participants < 2:
        raise InvalidMeeting("max_participants", "Allow at least 2 participants.")
    if settings.access_code is not None and not settings.access_code.strip():
        raise InvalidMeeting("access_code", "The access code cannot be only spaces.")
    # A short code falls to guessing; meetings that had one keep it until it is changed.
    if (
        code_changed
        and settings.access_code
        and len(settings.access_code.strip()) < MIN_ACCESS_CODE
    ):
        message = f"Use at least {MIN_ACCESS_CODE} characters for the access code."
        raise InvalidMeeting("access_code", message)
    if settings.access == Access.INVITED and not settings.invitees:
        raise InvalidMeeting("invitees", "Invite at least one person, or let anyone join.")
    return check_recurrence(settings)


def check_recurrence(settings: MeetingSettings) -> list[datetime]:
    rule = settings.recurrence
    if rule is None:
        return [settings.starts_at]
    if not 1 <= rule.interval <= MAX_INTERVAL:
        raise InvalidMeeting("recurrence.interval", f"Repeat every 1 to {MAX_INTERVAL} periods.")
    if (rule.count is None) == (rule.until is None):
        raise InvalidMeeting("recurrence", "End the series after a number of times or on a date.")
    if rule.count is not None and not 1 <= rule.count <= rec.MAX_OCCURRENCES:
        message = f"A series has 1 to {rec.MAX_OCCURRENCES} occurrences."
        raise InvalidMeeting("recurrence.count", message)
    local_start = settings.starts_at.astimezone(ZoneInfo(settings.time_zone)).date()
    if rule.until is not None and rule.until < local_start:
        raise InvalidMeeting("recurrence.until", "The series ends before it starts.")
    if any(day not in rec.WEEKDAYS for day in rule.by_weekday):
        raise InvalidMeeting("recurrence.by_weekday", "Weekdays are mo, tu, we, th, fr, sa, su.")
    starts = rec.expand(settings.starts_at, settings.time_zone, rule)
    if len(starts) > rec.MAX_OCCURRENCES:
        message = f"That makes more than {rec.MAX_OCCURRENCES} occurrences; end it sooner."
        raise InvalidMeeting("recurrence.until", message)
    return starts


def _co_host_users(emails: tuple[str, ...], host: User) -> list[User]:
    users = []
    for email in dict.fromkeys(email.strip().lower() for email in emails if email.strip()):
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None or not user.is_active or not user.email_verified:
            # Host powers go to the proven owner of the address, never to whoever typed it in.
            message = f"No active account with the confirmed address {email}: co-hosts sign in."
            raise InvalidMeeting("co_hosts", message)
        if user.id != host.id:
            users.append(user)
    return users


# ---- writes -----------------------------------------------------------------------------


def _apply(meeting: Meeting, settings: MeetingSettings, starts: list[datetime]) -> None:
    rule = settings.recurrence
    meeting.title = settings.title.strip()
    meeting.description = settings.description.strip()
    meeting.starts_at = settings.starts_at.astimezone(UTC)
    meeting.time_zone = settings.time_zone
    meeting.duration_minutes = settings.duration_minutes
    meeting.recurrence_freq = rule.freq if rule else None
    meeting.recurrence_interval = rule.interval if rule else 1
    meeting.recurrence_weekdays = ",".join(rule.by_weekday) if rule else ""
    meeting.recurrence_count = rule.count if rule else None
    meeting.recurrence_until = rule.until if rule else None
    meeting.series_ends_at = starts[-1] + timedelta(minutes=settings.duration_minutes)
    meeting.access = settings.access
    meeting.access_code = settings.access_code.strip() if settings.access_code else None
    meeting.lobby = settings.lobby
    meeting.join_before_host = settings.join_before_host
    meeting.max_participants = settings.max_participants
    meeting.join_muted = settings.join_muted
    meeting.webinar = settings.webinar
    meeting.recording_allowed = settings.recording_allowed
    meeting.auto_record = settings.auto_record
    emails = dict.fromkeys(e.strip().lower() for e in settings.invitees if e.strip())
    meeting.invitees = [MeetingInvitee(email=email) for email in emails]
    meeting.co_hosts = _co_host_users(settings.co_hosts, meeting.host)


def create_meeting(host: User, settings: MeetingSettings) -> Meeting:
    """Validate and store a meeting for `host`.

    Raises:
        InvalidMeeting: a setting is not acceptable; nothing is stored.
    """
    starts = check_settings(settings)
    meeting = Meeting(host=host)
    try:
        _apply(meeting, settings, starts)
    except InvalidMeeting:
        db.session.rollback()
        raise
    db.session.add(meeting)
    db.session.commit()
    return meeting


def update_meeting(meeting: Meeting, settings: MeetingSettings) -> Meeting:
    """Change a meeting; calendars see a higher SEQUENCE.

    Raises:
        InvalidMeeting: a setting is not acceptable; nothing changes.
    """
    if meeting.is_cancelled:
        raise InvalidMeeting("meeting", "This meeting was cancelled; schedule a new one.")
    starts = check_settings(
        settings,
        start_changed=settings.starts_at != meeting.starts_at,
        code_changed=(settings.access_code or None) != meeting.access_code,
    )
    co_hosts_before = set(meeting.co_hosts)
    try:
        _apply(meeting, settings, starts)
    except InvalidMeeting:
        db.session.rollback()
        raise
    meeting.sequence += 1
    db.session.commit()
    _demote_live(meeting, co_hosts_before - set(meeting.co_hosts))
    return meeting


def _demote_live(meeting: Meeting, former_co_hosts: set[User]) -> None:
    """Co-hosts taken off the meeting lose the host controls in a live room at once."""
    from meetings.rooms import live_effects  # here: the rooms package imports scheduling

    for user in former_co_hosts:
        live_effects.demote_in_meeting(meeting, user.livekit_identity)


def cancel_meeting(meeting: Meeting) -> None:
    """Cancel every future occurrence; the link then says so."""
    if meeting.is_cancelled:
        return
    meeting.cancelled_at = datetime.now(UTC)
    meeting.sequence += 1
    db.session.commit()


# ---- reads ------------------------------------------------------------------------------


def may_manage(user: User, meeting: Meeting) -> bool:
    """Host and co-hosts manage a meeting; operators manage every meeting."""
    if not user.is_authenticated:
        return False
    return meeting.is_host(user) or user.role == Role.OPS


def meeting_by_slug(slug: str) -> Meeting | None:
    return db.session.scalar(sa.select(Meeting).where(Meeting.slug == slug))


def _hosted_by(user: User):
    co_hosted = sa.select(meeting_co_hosts.c.meeting_id).where(
        meeting_co_hosts.c.user_id == user.id
    )
    return sa.or_(Meeting.host_id == user.id, Meeting.id.in_(co_hosted))


def hosted_occurrences(
    user: User, start: datetime, end: datetime, *, include_cancelled: bool = False
) -> list[rec.Occurrence]:
    """Occurrences in [start, end) of meetings the user hosts or co-hosts, earliest first."""
    query = sa.select(Meeting).where(
        _hosted_by(user), Meeting.series_ends_at > start, Meeting.starts_at < end
    )
    if not include_cancelled:
        query = query.where(Meeting.cancelled_at.is_(None))
    found = [
        o for meeting in db.session.scalars(query) for o in rec.occurrences(meeting, start, end)
    ]
    return sorted(found, key=lambda occurrence: occurrence.starts_at)[:MAX_LIST_ENTRIES]


def upcoming_occurrences(user: User, now: datetime | None = None, days: int = 60):
    """Occurrences running or starting within `days`, then the next one of each later meeting.

    A meeting scheduled months ahead must still be on the dashboard, without a
    daily series flooding it with occurrences no one needs to see yet.
    """
    now = now or datetime.now(UTC)
    horizon = now + timedelta(days=days)
    soon = hosted_occurrences(user, now, horizon)
    later_meetings = db.session.scalars(
        sa.select(Meeting).where(
            _hosted_by(user), Meeting.cancelled_at.is_(None), Meeting.series_ends_at > horizon
        )
    )
    shown = {occurrence.meeting.id for occurrence in soon}
    later = [
        rec.occurrences(meeting, horizon, None)[0]
        for meeting in later_meetings
        if meeting.id not in shown
    ]
    return (soon + sorted(later, key=lambda occurrence: occurrence.starts_at))[:50]


def past_occurrences(user: User, now: datetime | None = None, days: int = 90):
    now = now or datetime.now(UTC)
    found = hosted_occurrences(user, now - timedelta(days=days), now)
    return [o for o in reversed(found) if o.ends_at <= now][:20]


def next_occurrences(meeting: Meeting, now: datetime | None = None, limit: int = 10):
    now = now or datetime.now(UTC)
    return rec.occurrences(meeting, now, None)[:limit]


def weekday_of(day: date) -> str:
    return rec.WEEKDAYS[day.weekday()]
