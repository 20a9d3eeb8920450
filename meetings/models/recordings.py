"""Recordings: one row per LiveKit egress, who was present, who may watch it."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.base import UTCDateTime, _enum_values, utcnow


class RecordingStatus(enum.StrEnum):
    REQUESTED = "requested"  # our row exists; the server has not accepted the job (yet)
    STARTING = "starting"
    ACTIVE = "active"
    ENDING = "ending"
    COMPLETE = "complete"
    FAILED = "failed"
    ABORTED = "aborted"
    LIMIT_REACHED = "limit_reached"

    @property
    def rank(self) -> int:
        """Position in the lifecycle; a row never moves to a lower rank."""
        return _RANKS[self]

    @property
    def is_final(self) -> bool:
        return self.rank == FINAL_RANK

    @property
    def is_live(self) -> bool:
        """The job may be recording the room now (what people in it must be told)."""
        return self in (RecordingStatus.STARTING, RecordingStatus.ACTIVE)


FINAL_RANK = 4
_RANKS = {
    RecordingStatus.REQUESTED: 0,
    RecordingStatus.STARTING: 1,
    RecordingStatus.ACTIVE: 2,
    RecordingStatus.ENDING: 3,
    RecordingStatus.COMPLETE: FINAL_RANK,
    RecordingStatus.FAILED: FINAL_RANK,
    RecordingStatus.ABORTED: FINAL_RANK,
    RecordingStatus.LIMIT_REACHED: FINAL_RANK,
}
# Requested, starting or active: a recording that a stop may still end.
RUNNING_STATUSES = (RecordingStatus.REQUESTED, RecordingStatus.STARTING, RecordingStatus.ACTIVE)


class RecordingLayout(enum.StrEnum):
    GRID = "grid"
    SPEAKER = "speaker"


class RecordingAccess(enum.StrEnum):
    HOSTS = "hosts"  # the meeting's hosts and co-hosts, and operators
    PARTICIPANTS = "participants"  # also signed-in people who were in it while it recorded
    LINK = "link"  # also anyone holding the secret link, until it expires


class RecorderKind(enum.StrEnum):
    EGRESS = "egress"  # LiveKit Egress (RoomCompositeEgress); egress_id names the job
    BUILTIN = "builtin"  # the media worker's meetings-recorder job; job_id names it


class StorageKind(enum.StrEnum):
    LOCAL = "local"
    S3 = "s3"


def _enum(enum_class: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(enum_class, native_enum=False, length=16, values_callable=_enum_values)


class Recording(db.Model):
    """One egress job of one occurrence's room, from request to file (or failure)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    occurrence_key: Mapped[str] = mapped_column(sa.String(16))
    room_name: Mapped[str] = mapped_column(sa.String(128), index=True)
    egress_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    recorder: Mapped[RecorderKind] = mapped_column(
        _enum(RecorderKind), default=RecorderKind.EGRESS, server_default=RecorderKind.EGRESS.value
    )
    # builtin: the id we give the worker's job (its events carry it), set before the dispatch,
    # and the server's dispatch id once it accepted the dispatch.
    job_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    dispatch_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[RecordingStatus] = mapped_column(
        _enum(RecordingStatus), default=RecordingStatus.REQUESTED, index=True
    )
    layout: Mapped[RecordingLayout] = mapped_column(
        _enum(RecordingLayout), default=RecordingLayout.GRID
    )
    audio_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    preset: Mapped[str] = mapped_column(sa.String(32), default="")
    auto_started: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    storage: Mapped[StorageKind] = mapped_column(_enum(StorageKind), default=StorageKind.LOCAL)
    # The name we asked the egress worker to write (relative to the storage root) and,
    # once it reports, the checked name it wrote; never a path from outside the root.
    file_name: Mapped[str] = mapped_column(sa.String(512), default="")
    location: Mapped[str] = mapped_column(sa.String(1024), default="")
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    duration_seconds: Mapped[float | None]
    # builtin: what the worker reports about the finished file.
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    # builtin, failed because the recorder was lost: the fragmented file it was writing is
    # kept in the recordings directory and plays up to within seconds of the loss.
    partial_file: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    error: Mapped[str] = mapped_column(sa.String(1000), default="")
    # Something the server reported that we refused (e.g. a file outside the storage root).
    flag: Mapped[str] = mapped_column(sa.String(500), default="")
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The server's own `updated_at` (ns) of the last EgressInfo applied: older ones are stale.
    server_updated_ns: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    access: Mapped[RecordingAccess] = mapped_column(
        _enum(RecordingAccess), default=RecordingAccess.HOSTS
    )
    share_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    share_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    meeting = relationship("Meeting")
    requested_by = relationship("User")
    participants: Mapped[list["RecordingParticipant"]] = relationship(
        cascade="all, delete-orphan",
        order_by="RecordingParticipant.first_seen_at",
        back_populates="recording",
    )

    def __repr__(self) -> str:
        return f"<Recording {self.id} {self.egress_id or self.job_id} {self.status}>"

    @property
    def accepted(self) -> bool:
        """The recorder took the job (an egress id, or a dispatch the server accepted)."""
        return self.egress_id is not None or self.dispatch_id is not None

    @property
    def has_file(self) -> bool:
        """A file people can play: a complete recording's, or a lost one's partial file."""
        kept = self.status == RecordingStatus.COMPLETE or (
            self.status == RecordingStatus.FAILED and self.partial_file
        )
        return kept and bool(self.file_name)

    @property
    def content_type(self) -> str:
        if self.file_name.endswith(".ogg"):
            return "audio/ogg"
        return "audio/mp4" if self.file_name.endswith(".m4a") else "video/mp4"


class RecordingParticipant(db.Model):
    """Someone who was in the room while it was recorded."""

    __tablename__ = "recording_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    identity: Mapped[str] = mapped_column(sa.String(128))
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recording: Mapped[Recording] = relationship(back_populates="participants")

    __table_args__ = (sa.UniqueConstraint("recording_id", "identity"),)

    def __repr__(self) -> str:
        return f"<RecordingParticipant {self.identity} recording={self.recording_id}>"
