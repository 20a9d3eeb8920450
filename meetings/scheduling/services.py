"""Scheduling meetings: create, edit and cancel (the writes; reads are in listings.py)."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Meeting, MeetingInvitee, User
from meetings.scheduling import signals
from meetings.scheduling.options import OPTION_NAMES
from meetings.scheduling.settings import InvalidMeeting, MeetingSettings, check_settings


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
    for name in OPTION_NAMES:
        setattr(meeting, name, getattr(settings, name))
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
        zone_changed=settings.time_zone != meeting.time_zone,
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
    signals.co_hosts_removed.send(meeting, users=former_co_hosts)


def cancel_meeting(meeting: Meeting) -> None:
    """Cancel every future occurrence; the link then says so."""
    if meeting.is_cancelled:
        return
    meeting.cancelled_at = datetime.now(UTC)
    meeting.sequence += 1
    db.session.commit()
