"""Database models, one module per area. Times are naive UTC in the database and aware
UTC in Python."""

# Not a model: the full-text index made with the segments table (SQLite FTS5, PostgreSQL GIN).
from meetings.models import transcript_search  # noqa: F401
from meetings.models.accounts import (
    ApiToken,
    EmailVerification,
    Invite,
    LoginSession,
    OneTimeLink,
    PasswordReset,
    SecurityEvent,
    Setting,
    User,
)
from meetings.models.base import Role, UTCDateTime, hash_api_token, new_secret, utcnow
from meetings.models.captions import CaptionsStatus, Transcript, TranscriptSegment
from meetings.models.ingests import Ingest, IngestStatus
from meetings.models.ledger import (
    Attendance,
    MeetingSession,
    ProcessingResult,
    TrackPublication,
    WebhookEvent,
    WebhookRejection,
)
from meetings.models.limits import RateLimitCounter
from meetings.models.meetings import Access, Frequency, Meeting, MeetingInvitee, new_slug
from meetings.models.moderation import (
    AuditEntry,
    AuditResult,
    LobbyEntry,
    LobbyStatus,
    OccurrenceState,
    Standing,
)
from meetings.models.recordings import (
    RUNNING_STATUSES,
    RecorderKind,
    Recording,
    RecordingAccess,
    RecordingLayout,
    RecordingParticipant,
    RecordingStatus,
    StorageKind,
)
from meetings.models.streams import (
    LiveStream,
    OutputStatus,
    StreamOutput,
    StreamPlan,
    StreamStatus,
    StreamViewer,
)
from meetings.models.workers import MediaWorker, any_worker_serving

__all__ = [
    "RUNNING_STATUSES",
    "Access",
    "ApiToken",
    "Attendance",
    "AuditEntry",
    "AuditResult",
    "CaptionsStatus",
    "EmailVerification",
    "Frequency",
    "Ingest",
    "IngestStatus",
    "Invite",
    "LiveStream",
    "LobbyEntry",
    "LobbyStatus",
    "LoginSession",
    "MediaWorker",
    "Meeting",
    "MeetingInvitee",
    "MeetingSession",
    "OccurrenceState",
    "OneTimeLink",
    "OutputStatus",
    "PasswordReset",
    "ProcessingResult",
    "RateLimitCounter",
    "RecorderKind",
    "Recording",
    "RecordingAccess",
    "RecordingLayout",
    "RecordingParticipant",
    "RecordingStatus",
    "Role",
    "SecurityEvent",
    "Setting",
    "Standing",
    "StorageKind",
    "StreamOutput",
    "StreamPlan",
    "StreamStatus",
    "StreamViewer",
    "TrackPublication",
    "Transcript",
    "TranscriptSegment",
    "UTCDateTime",
    "User",
    "WebhookEvent",
    "WebhookRejection",
    "any_worker_serving",
    "hash_api_token",
    "new_secret",
    "new_slug",
    "utcnow",
]
