"""Stream in: an encoder (OBS, a camera encoder) pushing RTMP into a meeting as a participant.

A host makes an ingest and gets an RTMP URL and a stream key, shown once: only its SHA-256
is kept (the key is 192 random bits, so a fast hash is enough), with its last four characters
for people to recognise it. Each ingest that is not revoked holds its own port, so the
settings in the encoder stay valid across occurrences. While an occurrence's room is open a
media worker job (`meetings-ingest`) listens on that port and publishes what arrives.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.base import UTCDateTime, _enum_values, utcnow


class IngestStatus(enum.StrEnum):
    IDLE = "idle"  # the meeting's room is not open: nothing listens
    STARTING = "starting"  # given to a media worker, not listening yet
    WAITING = "waiting"  # listening: the encoder may start
    LIVE = "live"  # the encoder publishes into the room
    FAILED = "failed"  # no worker took the job, or it could not listen

    @property
    def job_running(self) -> bool:
        return self in (IngestStatus.STARTING, IngestStatus.WAITING, IngestStatus.LIVE)


class Ingest(db.Model):
    __tablename__ = "ingests"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(80))  # the participant's name in the room
    key_sha256: Mapped[str] = mapped_column(sa.String(64))
    key_hint: Mapped[str] = mapped_column(sa.String(4))  # the key's last four characters
    # NULL once revoked, which frees the port for another ingest.
    rtmp_port: Mapped[int | None] = mapped_column(unique=True)
    status: Mapped[IngestStatus] = mapped_column(
        sa.Enum(IngestStatus, native_enum=False, length=16, values_callable=_enum_values),
        default=IngestStatus.IDLE,
    )
    reason: Mapped[str | None] = mapped_column(sa.String(500))  # why failed
    room_name: Mapped[str | None] = mapped_column(sa.String(128))  # where its job runs
    job_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # the current job
    dispatch_id: Mapped[str | None] = mapped_column(sa.String(64))
    # INGRESS=livekit: LiveKit Ingress receives instead of the media worker, at its own URL.
    ingress_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    ingress_url: Mapped[str | None] = mapped_column(sa.String(500))
    # Pushes with a wrong key, as the worker counts them (its count only grows).
    refused_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting = relationship("Meeting")
