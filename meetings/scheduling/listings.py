"""What hosts see of their meetings: occurrences in a range, upcoming and past."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Meeting, User
from meetings.models.meetings import meeting_co_hosts
from meetings.scheduling import recurrence as rec

MAX_LIST_ENTRIES = 200


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
