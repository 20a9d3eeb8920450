"""Work that must wait until the database transaction is committed.

LiveKit calls that follow from a change (a notice to a room, removing someone, stopping an
egress) must not hold the database (SQLite's one writer) while the server answers, and must
not happen at all when the transaction is rolled back.
"""

import logging

import sqlalchemy as sa
from flask import Flask

from meetings.extensions import db

log = logging.getLogger(__name__)
PENDING = "meetings.after_commit"


def after_commit(action) -> None:
    """Run `action()` once the current transaction commits; forget it on rollback."""
    db.session.info.setdefault(PENDING, []).append(action)


def _run_pending(session) -> None:
    if session.in_nested_transaction():
        # A savepoint released (SQLAlchemy calls that a commit too): nothing is committed
        # until the outer transaction is (the webhook deriver applies each event in one).
        return
    for action in session.info.pop(PENDING, []):
        try:
            action()
        except Exception:  # the commit happened; a failed follow-up must not undo the answer
            log.exception("follow-up after commit failed")


def _forget_pending(session, *_args) -> None:
    session.info.pop(PENDING, None)


def init_app(_app: Flask) -> None:
    """Install the session hooks (once per process: they are on the Session class)."""
    from flask_sqlalchemy.session import Session

    if not sa.event.contains(Session, "after_commit", _run_pending):
        sa.event.listen(Session, "after_commit", _run_pending)
        sa.event.listen(Session, "after_rollback", _forget_pending)
