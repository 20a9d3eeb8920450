"""Accounts: registration under the ops policy, sign-in sessions that end server-side,
password resets, and API tokens."""

import functools
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import security_log
from meetings.auth import signals
from meetings.extensions import db
from meetings.models import (
    ApiToken,
    Invite,
    LoginSession,
    Role,
    Setting,
    User,
    hash_api_token,
    new_secret,
)

REGISTRATION_POLICIES = ("open", "invite", "closed")
# The Flask session key holding the login token (the cookie names a LoginSession row).
SESSION_TOKEN_KEY = "login_token"  # noqa: S105 (a key name, not a secret)
MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    """A request about an account that cannot be granted; the message is for people."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field or self.field


class EmailTaken(AccountError):
    field = "email"


class RegistrationClosed(AccountError):
    pass


class InvalidLink(AccountError):
    pass


class AccountDisabled(AccountError):
    pass


def now() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


# ---- registration ------------------------------------------------------------------------


def registration_policy() -> str:
    stored = db.session.get(Setting, "registration_policy")
    return stored.value if stored else current_app.config["REGISTRATION_POLICY"]


def set_registration_policy(actor: User, policy: str) -> None:
    """Raises: ValueError for a policy that does not exist."""
    if policy not in REGISTRATION_POLICIES:
        raise ValueError(f"unknown registration policy {policy!r}")
    setting = db.session.get(Setting, "registration_policy") or Setting(key="registration_policy")
    setting.value = policy
    db.session.add(setting)
    security_log.record("registration_policy_changed", actor=actor, detail=policy)
    db.session.commit()


def create_user(
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.HOST,
    actor: User | None = None,
    *,
    email_verified: bool = False,
) -> User:
    """Create and commit an account (CLI, registration and tests all come through here).
    `email_verified` only where the address was proven another way (an operator made the
    account, or an invite made for that address).

    Raises:
        EmailTaken: the email is already registered.
    """
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account with this email exists already. Sign in?")
    user = User(email=normalise_email(email), display_name=display_name.strip(), role=role)
    user.email_verified_at = now() if email_verified else None
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    security_log.record("user_created", actor=actor, target=user, detail=f"role={role}")
    db.session.commit()
    return user


def usable_invite(token: str | None) -> Invite | None:
    if not token:
        return None
    invite = db.session.scalar(sa.select(Invite).where(Invite.token_hash == hash_api_token(token)))
    return invite if invite is not None and invite.usable(now()) else None


def create_invite(actor: User, email: str | None, role: Role) -> str:
    """Store an invite and return its token (shown once, in the link ops hands out)."""
    clear, token_hash = new_secret()
    days = current_app.config["INVITE_VALID_DAYS"]
    invite = Invite(
        token_hash=token_hash,
        email=normalise_email(email) if email else None,
        role=role,
        created_by=actor,
        expires_at=now() + timedelta(days=days),
    )
    db.session.add(invite)
    security_log.record("invite_created", actor=actor, email=invite.email or "", detail=str(role))
    db.session.commit()
    return clear


# ---- sign-in sessions -------------------------------------------------------------------


@functools.cache
def _nobody(hash_method: str) -> User:
    """An account nobody's password matches, checked when the email is unknown: its hash is
    made like every real one (`hash_method`), so checking it costs the same."""
    placeholder = User(email="")
    placeholder.set_password(secrets.token_urlsafe(32))
    return placeholder


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None (one answer for unknown email and wrong
    password). Failures are written to the security log.

    Raises:
        AccountDisabled: the credentials are right but ops disabled the account.
    """
    user = find_user_by_email(email)
    # An unknown address costs a password check too: the answer's timing must not tell
    # which addresses have accounts.
    nobody = _nobody(current_app.config["PASSWORD_HASH_METHOD"])
    password_ok = (user or nobody).check_password(password) and user is not None
    if not password_ok:
        security_log.record("login_failed", target=user, email=normalise_email(email)[:254])
        db.session.commit()
        return None
    if not user.is_active:
        security_log.record("login_refused_disabled", target=user)
        db.session.commit()
        raise AccountDisabled("This account is disabled. Ask your operator to enable it.")
    return user


def start_session(user: User, ip: str, user_agent: str) -> str:
    """Record a new signed-in browser; returns the token the session cookie carries."""
    clear, token_hash = new_secret()
    db.session.add(
        LoginSession(token_hash=token_hash, user=user, ip=ip[:64], user_agent=user_agent[:256])
    )
    security_log.record("login_succeeded", actor=user, target=user)
    db.session.commit()
    return clear


def session_user(user_id: str, token: str | None) -> User | None:
    """The active user behind a session cookie, if its server-side session still exists."""
    if not token or not user_id.isdigit():
        return None
    login = db.session.scalar(
        sa.select(LoginSession).where(LoginSession.token_hash == hash_api_token(token))
    )
    if login is None or login.user_id != int(user_id) or not login.user.is_active:
        return None
    return login.user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            sa.delete(LoginSession).where(LoginSession.token_hash == hash_api_token(token))
        )
        db.session.commit()


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere (the caller commits)."""
    db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))


# ---- API tokens -------------------------------------------------------------------------


def issue_api_token(user: User, name: str) -> str:
    """Store a new API token for `user` and return it in clear, the only time it is seen."""
    token, clear = ApiToken.issue(user, name)
    db.session.add(token)
    security_log.record("api_token_created", actor=user, target=user, detail=name)
    db.session.commit()
    return clear


# "Last used" is shown to people, not audited: once a minute is precise enough and spares
# a database write on every API call.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def note_api_token_use(token: ApiToken) -> None:
    if token.last_used_at is None or now() - token.last_used_at > TOKEN_USE_RESOLUTION:
        token.last_used_at = now()
        db.session.commit()


def active_api_tokens(user: User) -> list[ApiToken]:
    query = (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    )
    return list(db.session.scalars(query))


def revoke_api_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs or already revoked."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = now()
    security_log.record("api_token_revoked", actor=user, target=user, detail=token.name)
    db.session.commit()
    return True


# ---- ops: roles and disabling -----------------------------------------------------------


def change_role(actor: User, user: User, role: Role) -> None:
    """Raises: AccountError when ops would take away their own operator role."""
    if user.role == role:
        return
    if user.id == actor.id:
        raise AccountError("You cannot change your own role; ask another operator.")
    security_log.record("role_changed", actor=actor, target=user, detail=f"{user.role}->{role}")
    user.role = role
    db.session.commit()


def set_disabled(actor: User, user: User, disabled: bool) -> None:
    """Disable or enable an account; disabling ends its sessions at once (tokens stop working
    because they are checked against the account on every request).

    Raises:
        AccountError: ops tried to disable their own account.
    """
    if disabled and user.id == actor.id:
        raise AccountError("You cannot disable your own account.")
    user.disabled = disabled
    if disabled:
        end_all_sessions(user)
    security_log.record("user_disabled" if disabled else "user_enabled", actor=actor, target=user)
    db.session.commit()
    if disabled:
        reason = "An operator disabled your account, so your meeting ended."
        signals.sessions_revoked.send(user, reason=reason)
