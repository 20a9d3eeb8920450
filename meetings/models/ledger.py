"""What LiveKit reported through its webhooks, and what we derive from it.

The ledger (`WebhookEvent`) keeps every verified event once, raw. Sessions, attendance
intervals and track publications are derived from it; each is keyed by a LiveKit id (room
sid, participant sid, track sid) and every field is set by one kind of event only, so the
derived rows come out the same whatever order the events arrive in. Retention purges old
ledger rows; the derived rows are the summaries that stay.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.base import UTCDateTime, _enum_values, utcnow


class ProcessingResult(enum.StrEnum):
    PENDING = "pending"  # stored and answered; derivation has not run yet
    APPLIED = "applied"  # derived records were updated
    IGNORED = "ignored"  # kept in the ledger; nothing is derived from this kind (yet)
    FAILED = "failed"  # kept in the ledger; deriving raised, `error` says why


# The media worker's events share the ledger with LiveKit's webhooks; their `event` is this
# prefix and the worker's kind ("worker.recording_ended"), their payload its JSON envelope.
WORKER_EVENT_PREFIX = "worker."


class WebhookEvent(db.Model):
    """Every verified LiveKit webhook, stored once by its event id."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(64), index=True)
    room_name: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    room_sid: Mapped[str | None] = mapped_column(sa.String(64))
    participant_identity: Mapped[str | None] = mapped_column(sa.String(128))
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    # A room the app never created (no meeting has its name): kept, and shown to ops.
    unknown_room: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    payload: Mapped[str] = mapped_column(sa.Text)
    result: Mapped[ProcessingResult] = mapped_column(
        sa.Enum(ProcessingResult, native_enum=False, length=16, values_callable=_enum_values),
        default=ProcessingResult.APPLIED,
        server_default=ProcessingResult.APPLIED.value,
    )
    error: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")

    meeting = relationship("Meeting")

    # The deriver looks for the oldest pending events; without this it would read the ledger.
    __table_args__ = (sa.Index("ix_webhook_events_result_received_at", "result", "received_at"),)

    def __repr__(self) -> str:
        return f"<WebhookEvent {self.id} {self.event}>"


class WebhookRejection(db.Model):
    """How many webhook requests were refused, per day and reason; nothing else is kept."""

    __tablename__ = "webhook_rejections"

    day: Mapped[date] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<WebhookRejection {self.day} {self.reason} x{self.count}>"


class MeetingSession(db.Model):
    """One life of a LiveKit room (room_started to room_finished), keyed by the room sid.

    An occurrence's room can live more than once (it closes when empty and opens again
    when someone rejoins): each life is a session.
    """

    __tablename__ = "meeting_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    room_name: Mapped[str] = mapped_column(sa.String(128), index=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    occurrence_key: Mapped[str | None] = mapped_column(sa.String(16))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # `flask livekit reconcile` closed it: the room was gone but room_finished never came.
    end_inferred: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    peak_participants: Mapped[int] = mapped_column(default=0, server_default="0")
    total_participants: Mapped[int] = mapped_column(default=0, server_default="0")
    participant_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    # The latest event time seen for this room: where an inferred end is put.
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting = relationship("Meeting")

    def __repr__(self) -> str:
        return f"<MeetingSession {self.room_sid} {self.room_name}>"

    @property
    def duration_seconds(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0, round((self.ended_at - self.started_at).total_seconds()))


class Attendance(db.Model):
    """One join/leave interval of one participant (one participant sid), as the server
    reported it."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id"), index=True)
    room_name: Mapped[str] = mapped_column(sa.String(128))
    participant_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    identity: Mapped[str] = mapped_column(sa.String(128))
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # participant_connection_aborted: signalled but never connected media; not attendance.
    aborted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    seconds: Mapped[int | None]

    session = relationship("MeetingSession")

    def __repr__(self) -> str:
        return f"<Attendance {self.identity} in {self.room_name}>"


class TrackPublication(db.Model):
    """One track a participant published (camera, microphone, screen share...)."""

    __tablename__ = "track_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id"), index=True)
    participant_sid: Mapped[str] = mapped_column(sa.String(64), index=True)
    identity: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(16))  # "audio", "video", "data"
    source: Mapped[str] = mapped_column(sa.String(32))  # "camera", "microphone", ...
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<TrackPublication {self.track_sid} {self.kind}/{self.source}>"
