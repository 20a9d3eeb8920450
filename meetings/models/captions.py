"""Live captions and transcripts: one transcript per occurrence room, its final segments.

The captioner (the media worker's `meetings-captions` job) reports each final segment with
times relative to the transcript's `origin_at`; the row also holds the live state of
captions in that room (on or off, and whether the speech-to-text backend answers).
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.base import UTCDateTime, _enum_values, utcnow


class CaptionsStatus(enum.StrEnum):
    OFF = "off"  # never started, or a host turned captions off
    STARTING = "starting"  # dispatched; the captioner has not said it runs
    RUNNING = "running"
    UNAVAILABLE = "unavailable"  # the captioner runs but its speech-to-text backend fails
    FAILED = "failed"  # no worker took the job, or it died twice

    @property
    def is_on(self) -> bool:
        """Captions were asked for and a captioner may be listening."""
        return self in (CaptionsStatus.STARTING, CaptionsStatus.RUNNING, CaptionsStatus.UNAVAILABLE)


class Transcript(db.Model):
    """Captions of one occurrence's room: their live state and, once said, what was said."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    occurrence_key: Mapped[str] = mapped_column(sa.String(32))
    room_name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    # Segment times count from here (when captions first started in this occurrence).
    origin_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    status: Mapped[CaptionsStatus] = mapped_column(
        sa.Enum(CaptionsStatus, native_enum=False, length=16, values_callable=_enum_values),
        default=CaptionsStatus.OFF,
    )
    reason: Mapped[str | None] = mapped_column(sa.String(500))  # why unavailable or failed
    job_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # the current job
    dispatch_id: Mapped[str | None] = mapped_column(sa.String(64))
    # A captioner that dies is dispatched again once per start; this says it was.
    redispatched: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    segments: Mapped[list["TranscriptSegment"]] = relationship(
        back_populates="transcript",
        order_by="TranscriptSegment.start",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class TranscriptSegment(db.Model):
    """One final caption: who said it, when (seconds from the transcript's origin), what."""

    __tablename__ = "transcript_segments"
    __table_args__ = (sa.UniqueConstraint("transcript_id", "segment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[str] = mapped_column(sa.String(64))  # the captioner's; makes retries no-ops
    identity: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(255))
    start: Mapped[float] = mapped_column(sa.Float)
    end: Mapped[float] = mapped_column(sa.Float)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
