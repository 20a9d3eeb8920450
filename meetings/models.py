"""Database models. Times are stored as naive UTC and read back as aware UTC."""

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from meetings.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp that is always UTC-aware in Python, whatever the engine stores."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    # Store the lower-case values users see ("host"), not the Python member names.
    return [member.value for member in enum_class]


class Role(enum.StrEnum):
    HOST = "host"
    OPS = "ops"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16, values_callable=_enum_values),
        default=Role.HOST,
    )
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meetings: Mapped[list["Meeting"]] = relationship(back_populates="host")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:
        return not self.disabled

    @property
    def livekit_identity(self) -> str:
        return f"u-{self.id}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def hash_api_token(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough: no salt, no stretching.
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str = "") -> tuple[str, str]:
    """A random token for a link or header, and the hash that is stored instead of it."""
    clear = prefix + secrets.token_urlsafe(32)
    return clear, hash_api_token(clear)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    PREFIX = "mtk_"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} user={self.user_id}>"

    @classmethod
    def issue(cls, user: User, name: str) -> tuple["ApiToken", str]:
        """A new token row and the clear token, which is shown once and never stored."""
        clear, token_hash = new_secret(cls.PREFIX)
        return cls(user=user, name=name, token_hash=token_hash), clear


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

    host: Mapped[User] = relationship(back_populates="meetings")

    def __repr__(self) -> str:
        return f"<Meeting {self.slug} {self.title!r}>"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def room_name(self) -> str:
        """The LiveKit room this meeting runs in."""
        return f"meeting-{self.slug}"


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


class LoginSession(db.Model):
    """A signed-in browser. The cookie holds only its random id; deleting the row (logout,
    disable, password reset) ends the session on the server at once."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(256), default="")

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"


class OneTimeLink:
    """Columns of a link that expires and works once; only the token's hash is stored."""

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


class Invite(OneTimeLink, db.Model):
    """A registration link made by ops."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16, values_callable=_enum_values),
        default=Role.HOST,
    )
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    created_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Invite {self.id} {self.email or 'anyone'}>"


class PasswordReset(OneTimeLink, db.Model):
    """A password reset link."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PasswordReset {self.id} user={self.user_id}>"


class SecurityEvent(db.Model):
    """Who did what to which account, when and from where."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    target_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    target: Mapped[User | None] = relationship(foreign_keys=[target_user_id])

    def __repr__(self) -> str:
        return f"<SecurityEvent {self.kind} actor={self.actor_id} target={self.target_user_id}>"


class Setting(db.Model):
    """Service-wide settings that ops change at run time (e.g. the registration policy)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(500))

    def __repr__(self) -> str:
        return f"<Setting {self.key}={self.value!r}>"
