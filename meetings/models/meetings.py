"""Meetings as hosts schedule them."""

import enum
import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.accounts import User
from meetings.models.base import Role, UTCDateTime, _enum_values, utcnow

# Lower-case letters and digits without look-alikes (0/o, 1/l): easy to read aloud.
SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_slug() -> str:
    """An unguessable meeting slug such as `k3vq-8mzt-p2wa` (60 random bits)."""
    groups = ("".join(secrets.choice(SLUG_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


class Access(enum.StrEnum):
    LINK = "link"  # anyone with the link, guests included
    SIGNED_IN = "signed_in"  # any signed-in user
    INVITED = "invited"  # hosts, co-hosts and invited emails only


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


meeting_co_hosts = sa.Table(
    "meeting_co_hosts",
    db.metadata,
    sa.Column("meeting_id", sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class MeetingInvitee(db.Model):
    __tablename__ = "meeting_invitees"

    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True)

    def __repr__(self) -> str:
        return f"<MeetingInvitee {self.email} meeting={self.meeting_id}>"


class Meeting(db.Model):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_slug)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The first start, and the zone whose wall clock the series follows (DST included).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    duration_minutes: Mapped[int]
    recurrence_freq: Mapped[Frequency | None] = mapped_column(
        sa.Enum(Frequency, native_enum=False, length=16, values_callable=_enum_values)
    )
    recurrence_interval: Mapped[int] = mapped_column(default=1)
    recurrence_weekdays: Mapped[str] = mapped_column(sa.String(32), default="")  # "mo,we"
    recurrence_count: Mapped[int | None]
    recurrence_until: Mapped[date | None]  # last day, in the meeting's zone
    # End of the last occurrence, kept for queries ("which meetings are not over yet").
    series_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    access: Mapped[Access] = mapped_column(
        sa.Enum(Access, native_enum=False, length=16, values_callable=_enum_values),
        default=Access.LINK,
    )
    access_code: Mapped[str | None] = mapped_column(sa.String(64))
    lobby: Mapped[bool] = mapped_column(default=True)
    join_before_host: Mapped[bool] = mapped_column(default=True)
    max_participants: Mapped[int | None]
    join_muted: Mapped[bool] = mapped_column(default=False)
    webinar: Mapped[bool] = mapped_column(default=False)
    recording_allowed: Mapped[bool] = mapped_column(default=False)
    auto_record: Mapped[bool] = mapped_column(default=False)
    captions: Mapped[bool] = mapped_column(default=False)
    # End-to-end encryption: only the flag; the key lives in the link's fragment, never here.
    e2ee: Mapped[bool] = mapped_column(default=False)
    # Calendar SEQUENCE: every edit a calendar should pick up increments it.
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    host: Mapped[User] = relationship()
    co_hosts: Mapped[list[User]] = relationship(secondary=meeting_co_hosts, order_by=User.email)
    invitees: Mapped[list[MeetingInvitee]] = relationship(
        cascade="all, delete-orphan", order_by=MeetingInvitee.email
    )

    def __repr__(self) -> str:
        return f"<Meeting {self.slug} {self.title!r}>"

    @property
    def ends_at(self) -> datetime:
        """End of the first occurrence."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def is_recurring(self) -> bool:
        return self.recurrence_freq is not None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def weekdays(self) -> list[str]:
        return [day for day in self.recurrence_weekdays.split(",") if day]

    @property
    def invitee_emails(self) -> list[str]:
        return [invitee.email for invitee in self.invitees]

    def is_host(self, user) -> bool:
        """The host or a co-host: host powers in this meeting."""
        if user is None or not user.is_authenticated:
            return False
        return user.id == self.host_id or any(co.id == user.id for co in self.co_hosts)

    def is_managed_by(self, user) -> bool:
        """Host and co-hosts manage a meeting; operators manage every meeting."""
        if user is None or not user.is_authenticated:
            return False
        return self.is_host(user) or user.role == Role.OPS

    @classmethod
    def by_slug(cls, slug: str) -> "Meeting | None":
        return db.session.scalar(sa.select(cls).where(cls.slug == slug))

    def host_identities(self) -> set[str]:
        return {self.host.livekit_identity} | {co.livekit_identity for co in self.co_hosts}
