"""What hosts decide in a meeting: the lobby, each person's standing, the audit log.

Decisions are keyed by occurrence (`meeting_id`, `occurrence_key`): a removal or a lock in
today's sitting of a weekly series does not carry over to next week's.
"""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.base import UTCDateTime, _enum_values, utcnow


def new_lobby_id() -> str:
    # The waiting person's page polls with this id; it must not be guessable.
    return secrets.token_urlsafe(16)


class LobbyStatus(enum.StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    DENIED = "denied"


class LobbyEntry(db.Model):
    """One person asking to enter one occurrence."""

    __tablename__ = "lobby_entries"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_lobby_id)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    occurrence_key: Mapped[str] = mapped_column(sa.String(16))
    identity: Mapped[str] = mapped_column(sa.String(128))
    display_name: Mapped[str] = mapped_column(sa.String(128))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[LobbyStatus] = mapped_column(
        sa.Enum(LobbyStatus, native_enum=False, length=16, values_callable=_enum_values),
        default=LobbyStatus.WAITING,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The waiting page polls; someone who closed it drops out of the host's queue.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The address the request came from: a denial holds for it too, so clearing cookies (a
    # new guest identity) does not put a turned-away person back in the queue.
    address: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")

    meeting = relationship("Meeting")
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __table_args__ = (sa.Index("ix_lobby_occurrence", "meeting_id", "occurrence_key", "status"),)

    def __repr__(self) -> str:
        return f"<LobbyEntry {self.display_name} {self.status}>"


class Standing(db.Model):
    """A host's lasting decision about one person in one occurrence."""

    __tablename__ = "standings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id"))
    occurrence_key: Mapped[str] = mapped_column(sa.String(16))
    identity: Mapped[str] = mapped_column(sa.String(128))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A webinar attendee promoted to speaker keeps publishing after a rejoin.
    promoted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (sa.UniqueConstraint("meeting_id", "occurrence_key", "identity"),)


class OccurrenceState(db.Model):
    """Lock and end of one occurrence, and when its room was last provisioned."""

    __tablename__ = "occurrence_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id"))
    occurrence_key: Mapped[str] = mapped_column(sa.String(16))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a CreateRoom for this occurrence left the room in a state that cannot close soon;
    # token requests shortly after skip CreateRoom. In the database, not in process memory,
    # because every app instance must forget it when a host ends the meeting.
    room_provisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since a host removed a guest from a meeting without a lobby, guests wait in the lobby
    # for the rest of the occurrence: the removed person cannot walk back in unseen with a
    # new identity. A host can switch it off again.
    guests_wait_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("meeting_id", "occurrence_key"),)


class AuditResult(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"  # we tried; LiveKit or a check downstream said no
    REFUSED = "refused"  # the caller was not allowed; nothing was sent to LiveKit


class AuditEntry(db.Model):
    """Who did what to whom, when, and how it went."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    occurrence_key: Mapped[str | None] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    result: Mapped[AuditResult] = mapped_column(
        sa.Enum(AuditResult, native_enum=False, length=16, values_callable=_enum_values)
    )
    error: Mapped[str] = mapped_column(sa.String(500), default="")

    meeting = relationship("Meeting")
    actor = relationship("User")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.target} {self.result}>"
