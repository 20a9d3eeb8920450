"""Calendar feeds: which meetings a user's feed shows, and the secret in its address."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from meetings import security_log
from meetings.extensions import db
from meetings.models import Meeting, MeetingInvitee, User, hash_api_token, new_secret
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
    mine = [Meeting.host_id == user.id, Meeting.id.in_(co_hosted)]
    if user.email_verified:  # an invitation is for the address: only its proven owner sees it
        invited = sa.select(MeetingInvitee.meeting_id).where(MeetingInvitee.email == user.email)
        mine.append(Meeting.id.in_(invited))
    query = (
        sa.select(Meeting)
        .where(
            sa.or_(*mine),
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
    user = db.session.scalar(
        sa.select(User).where(User.calendar_token_hash == hash_api_token(token))
    )
    return user if user is not None and user.is_active else None


def rotate_feed_token(user: User) -> str:
    """Give the user a new feed address and return its token, shown this once (only its hash
    is kept); the old address stops working at once."""
    clear, token_hash = new_secret()
    user.calendar_token_hash = token_hash
    security_log.record("calendar_feed_token_created", actor=user, target=user)
    db.session.commit()
    return clear
