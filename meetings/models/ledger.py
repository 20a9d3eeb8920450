"""What LiveKit reported through its webhooks."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from meetings.extensions import db
from meetings.models.base import UTCDateTime, utcnow


class WebhookEvent(db.Model):
    """Every verified LiveKit webhook, stored once by its event id."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(64))
    room_name: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<WebhookEvent {self.id} {self.event}>"


class Attendance(db.Model):
    """One join/leave interval of one participant, as the server reported it."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id"), index=True)
    room_name: Mapped[str] = mapped_column(sa.String(128))
    participant_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    identity: Mapped[str] = mapped_column(sa.String(128))
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Attendance {self.identity} in {self.room_name}>"
