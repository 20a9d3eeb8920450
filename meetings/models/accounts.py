"""Accounts: users, API tokens, sign-in sessions, one-time links, the security log."""

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from meetings.extensions import db
from meetings.models.base import Role, UTCDateTime, _enum_values, new_secret, utcnow


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
    # When the owner proved the address is theirs (a mailed link, an invite made for it, or an
    # operator). Until then nothing is granted because of the address: invitations, the
    # calendar feed's list, co-host by email.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the secret in the user's calendar feed URL (the URL is the credential
    # calendar apps use; like every other token, only its hash is stored).
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:
        return not self.disabled

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def livekit_identity(self) -> str:
        return f"u-{self.id}"

    def set_password(self, password: str) -> None:
        # The method and its cost are stored in the hash: checking follows what it was made with.
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


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


class EmailVerification(OneTimeLink, db.Model):
    """A mailed link that proves `email` belongs to the user (only that address: a link sent
    before the user changed their email proves nothing about the new one)."""

    __tablename__ = "email_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<EmailVerification {self.id} user={self.user_id}>"


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
