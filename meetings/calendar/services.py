"""Calendar feeds: which meetings a user's feed shows, and the secret in its address."""

import hmac
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from meetings import security_log
from meetings.extensions import db
from meetings.models import Meeting, MeetingInvitee, User
from meetings.models.meetings import meeting_co_hosts

# Calendar apps keep what a feed no longer lists; a month of history is what people look
# back at ("when was that call?") without the feed growing forever.
FEED_HISTORY = timedelta(days=30)


def feed_meetings(user: User, now: datetime | None = None) -> list[Meeting]:
    """Meetings the user hosts, co-hosts or is invited to, not over for more than 30 days."""
    now = now or datetime.now(UTC)
    co_hosted = sa.select(meeting_co_hosts.c.meeting_id).where(
        meeting_co_hosts.c.user_id == user.id
    )
    invited = sa.select(MeetingInvitee.meeting_id).where(MeetingInvitee.email == user.email)
    query = (
        sa.select(Meeting)
        .where(
            sa.or_(Meeting.host_id == user.id, Meeting.id.in_(co_hosted), Meeting.id.in_(invited)),
            Meeting.series_ends_at >= now - FEED_HISTORY,
        )
        .options(selectinload(Meeting.host))  # every VEVENT names its organizer
        .order_by(Meeting.starts_at)
    )
    return list(db.session.scalars(query))


def feed_user(token: str) -> User | None:
    """The active user whose calendar feed address carries `token`, if any."""
    if not token:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token == token))
    if user is None or not user.is_active:
        return None
    # The lookup finds the row; this exact comparison decides (a case-insensitive
    # collation would otherwise accept a token with its letters' case changed).
    return user if hmac.compare_digest(user.calendar_token, token) else None


def rotate_feed_token(user: User) -> str:
    """Give the user a new feed address; the old one stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    security_log.record("calendar_feed_token_created", actor=user, target=user)
    db.session.commit()
    return user.calendar_token
