"""Meetings as hosts schedule them."""

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.accounts import User
from meetings.models.base import UTCDateTime, utcnow

# Lower-case letters and digits without look-alikes (0/o, 1/l): easy to read aloud.
SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_slug() -> str:
    """An unguessable meeting slug such as `k3vq-8mzt-p2wa` (60 random bits)."""
    groups = ("".join(secrets.choice(SLUG_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


class Meeting(db.Model):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_slug)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int]
    host_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    host: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Meeting {self.slug} {self.title!r}>"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def room_name(self) -> str:
        """The LiveKit room this meeting runs in."""
        return f"meeting-{self.slug}"
