"""Accounts: registration under the ops policy, sign-in sessions that end server-side,
password resets, and API tokens."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import rate_limits, security_log
from meetings.auth import mails as mailer
from meetings.auth import signals
from meetings.extensions import db
from meetings.models import (
    ApiToken,
    EmailVerification,
    Invite,
    LoginSession,
    PasswordReset,
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


@dataclass(frozen=True)
class Registration:
    """What a sign-up did. `user` is set when the account may be used at once (an invite
    made for this very address); otherwise a confirmation link went to the address, or,
    when it has an account already, a note to its owner, and the answer is the same."""

    email: str
    user: User | None = None


def register(
    email: str, display_name: str, password: str, invite_token: str | None
) -> Registration:
    """Self-service sign-up, as the registration policy allows.

    Whether an account exists for `email` is not told to the person signing up: both cases
    answer "check your mail" after the same work, and the owner hears about the attempt.

    Raises:
        RegistrationClosed: no account may be made this way now.
        InvalidLink: the invite is unknown, used, expired or for another email.
    """
    if user_count() == 0:
        raise RegistrationClosed(
            "The first account is created by the operator: "
            "flask --app wsgi users create EMAIL --name NAME --password PASSWORD --role ops"
        )
    role, invite = Role.HOST, None
    if invite_token:
        invite = usable_invite(invite_token)
        if invite is None:
            raise InvalidLink(
                "This invite link has expired or was used already. Ask for a new one."
            )
        if invite.email and invite.email != normalise_email(email):
            raise InvalidLink(f"This invite is for {invite.email}.", field="email")
        role = invite.role
    elif registration_policy() != "open":
        raise RegistrationClosed("Registration needs an invite. Ask your operator for a link.")
    existing = find_user_by_email(email)
    if existing is not None:
        User(email="").set_password(password)  # the same hashing work as a new account
        mailer.tell_owner_of_attempt(existing)
        return Registration(normalise_email(email))
    bound = invite is not None and invite.email is not None  # the invite proves the address
    if invite is not None:
        invite.used_at = now()
    user = create_user(email, display_name, password, role, email_verified=bound)
    if bound:
        return Registration(user.email, user)
    send_email_verification(user)
    return Registration(user.email)


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

# A password hash nobody's password matches, checked when the email is unknown.
UNKNOWN_USER = User(email="")
UNKNOWN_USER.set_password(secrets.token_urlsafe(32))


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None (one answer for unknown email and wrong
    password). Failures are written to the security log.

    Raises:
        AccountDisabled: the credentials are right but ops disabled the account.
    """
    user = find_user_by_email(email)
    # An unknown address costs a password check too: the answer's timing must not tell
    # which addresses have accounts.
    password_ok = (user or UNKNOWN_USER).check_password(password) and user is not None
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


# ---- password reset ---------------------------------------------------------------------


def create_password_reset(user: User, actor: User | None = None) -> str:
    """Store a one-time reset and return its token."""
    clear, token_hash = new_secret()
    minutes = current_app.config["PASSWORD_RESET_VALID_MINUTES"]
    reset = PasswordReset(
        token_hash=token_hash, user=user, expires_at=now() + timedelta(minutes=minutes)
    )
    db.session.add(reset)
    security_log.record("password_reset_created", actor=actor, target=user)
    db.session.commit()
    return clear


def request_password_reset(email: str) -> None:
    """Mail a reset link to the account's owner, if there is an active account; a few an
    hour per account at most, so nobody can fill someone's mailbox with them. The caller
    answers the same in every case."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    limit = current_app.config["RESET_MAIL_LIMIT"]
    if not rate_limits.count_hit(limit, "reset-mail", str(user.id)):
        security_log.record("password_reset_throttled", target=user)
        db.session.commit()
        return
    mailer.password_reset(user, create_password_reset(user))


def usable_reset(token: str) -> PasswordReset | None:
    reset = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == hash_api_token(token))
    )
    return reset if reset is not None and reset.usable(now()) else None


def reset_password(token: str, password: str) -> User:
    """Set a new password with a reset link; the link stops working and every session of the
    account ends.

    Raises:
        InvalidLink: the link is unknown, used or expired.
    """
    reset = usable_reset(token)
    if reset is None:
        raise InvalidLink("This reset link has expired or was used already. Ask for a new one.")
    reset.used_at = now()
    reset.user.set_password(password)
    end_all_sessions(reset.user)
    security_log.record("password_reset_used", actor=reset.user, target=reset.user)
    db.session.commit()
    # Whoever was using the account may still be in a meeting with it: not any more.
    signals.sessions_revoked.send(
        reset.user, reason="The password of your account was changed. Sign in again."
    )
    return reset.user


# ---- proving an email address -----------------------------------------------------------


def send_email_verification(user: User) -> None:
    """Mail the user a one-time link that proves their current address."""
    clear, token_hash = new_secret()
    hours = current_app.config["EMAIL_VERIFICATION_VALID_HOURS"]
    db.session.add(
        EmailVerification(
            token_hash=token_hash,
            user=user,
            email=user.email,
            expires_at=now() + timedelta(hours=hours),
        )
    )
    security_log.record("email_verification_sent", actor=user, target=user, email=user.email)
    db.session.commit()
    mailer.verification(user, clear, hours)


def usable_verification(token: str) -> EmailVerification | None:
    link = db.session.scalar(
        sa.select(EmailVerification).where(EmailVerification.token_hash == hash_api_token(token))
    )
    if link is None or not link.usable(now()) or link.email != link.user.email:
        return None  # expired, used, or sent to an address the account no longer has
    return link


def verify_email(token: str) -> User:
    """Mark the address the link was sent to as the user's own.

    Raises:
        InvalidLink: the link is unknown, used, expired, or for a previous address.
    """
    link = usable_verification(token)
    if link is None:
        raise InvalidLink("This confirmation link has expired or was used. Ask for a new one.")
    link.used_at = now()
    link.user.email_verified_at = now()
    security_log.record("email_verified", actor=link.user, target=link.user, email=link.email)
    db.session.commit()
    return link.user


def change_email(user: User, new_email: str, password: str) -> None:
    """Move the account to another address; it is unproven (and grants nothing by email)
    until the link mailed there is opened.

    Raises:
        AccountError: wrong password (field `password`); EmailTaken.
    """
    if not user.check_password(password):
        raise AccountError("That is not your current password.", field="password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        return
    if find_user_by_email(new_email) is not None:
        raise EmailTaken("Another account uses this email.")
    security_log.record("email_changed", actor=user, target=user, email=new_email)
    user.email = new_email
    user.email_verified_at = None
    send_email_verification(user)


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
