"""Database models, one module per area. Times are naive UTC in the database and aware
UTC in Python."""

from meetings.models.accounts import (
    ApiToken,
    Invite,
    LoginSession,
    OneTimeLink,
    PasswordReset,
    SecurityEvent,
    Setting,
    User,
)
from meetings.models.base import Role, UTCDateTime, hash_api_token, new_secret, utcnow
from meetings.models.ledger import Attendance, WebhookEvent
from meetings.models.meetings import Access, Frequency, Meeting, MeetingInvitee, new_slug

__all__ = [
    "Access",
    "ApiToken",
    "Attendance",
    "Frequency",
    "Invite",
    "LoginSession",
    "Meeting",
    "MeetingInvitee",
    "OneTimeLink",
    "PasswordReset",
    "Role",
    "SecurityEvent",
    "Setting",
    "UTCDateTime",
    "User",
    "WebhookEvent",
    "hash_api_token",
    "new_secret",
    "new_slug",
    "utcnow",
]
