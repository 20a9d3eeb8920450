"""Accounts: creating users, checking passwords, issuing API tokens."""

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import ApiToken, Role, User


class EmailTaken(Exception):
    """An account with this email already exists."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(email: str, display_name: str, password: str, role: Role = Role.HOST) -> User:
    """Create and commit an account.

    Raises:
        EmailTaken: the email is already registered.
    """
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(email=normalise_email(email), display_name=display_name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every failure)."""
    user = find_user_by_email(email)
    if user is None or not user.check_password(password) or not user.is_active:
        return None
    return user


def issue_api_token(user: User, name: str) -> str:
    """Store a new API token for `user` and return it in clear, the only time it is seen."""
    token, clear = ApiToken.issue(user, name)
    db.session.add(token)
    db.session.commit()
    return clear
