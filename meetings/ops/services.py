"""Queries behind the ops pages."""

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import SecurityEvent, User

PAGE_SIZE = 200


def search_users(query: str = "") -> list[User]:
    statement = sa.select(User).order_by(User.email)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(User.email).like(pattern),
                sa.func.lower(User.display_name).like(pattern),
            )
        )
    return list(db.session.scalars(statement.limit(PAGE_SIZE)))


def security_events(kind: str = "", email: str = "") -> list[SecurityEvent]:
    statement = (
        sa.select(SecurityEvent)
        .options(
            sa.orm.selectinload(SecurityEvent.actor), sa.orm.selectinload(SecurityEvent.target)
        )
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
    )
    if kind:
        statement = statement.where(SecurityEvent.kind == kind)
    if email:
        statement = statement.where(SecurityEvent.email.like(f"%{email.strip().lower()}%"))
    return list(db.session.scalars(statement.limit(PAGE_SIZE)))


def event_kinds() -> list[str]:
    return list(
        db.session.scalars(sa.select(SecurityEvent.kind).distinct().order_by(SecurityEvent.kind))
    )
