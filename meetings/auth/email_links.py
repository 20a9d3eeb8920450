"""Links we mail: a password reset, and the proof that an email address is the user's."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import rate_limits, security_log
from meetings.auth import mails as mailer
from meetings.auth import signals
from meetings.auth.services import (
    AccountError,
    EmailTaken,
    InvalidLink,
    end_all_sessions,
    find_user_by_email,
    normalise_email,
    now,
)
from meetings.extensions import db
from meetings.models import (
    EmailVerification,
    PasswordReset,
    User,
    hash_api_token,
    new_secret,
)


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
