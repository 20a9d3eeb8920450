"""The webhook ledger: each verified event stored once, its derived records updated after.

The webhook view only stores the event (one INSERT, one commit) and answers: LiveKit drops
events that wait too long in its per-room queue, so the answer must not wait for the ORM
work of deriving sessions and attendance. A stored event is `pending` until the deriver
(`deriver.py`) applies it; a 2xx answer means the event is committed, so nothing answered
2xx is lost even if the process dies before deriving it.
"""

import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from livekit.protocol.webhook import WebhookEvent as LiveKitEvent
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from meetings.extensions import db
from meetings.models import (
    Attendance,
    Meeting,
    ProcessingResult,
    WebhookEvent,
    WebhookRejection,
)
from meetings.webhooks import derive
from meetings.webhooks.derive import KNOWN_EVENTS, ROOM_NAME  # noqa: F401 (re-exported)

ATTEMPTS = 4
# SQLite has one writer at a time, and a writer that finds the file locked sleeps in steps
# of up to 100 ms before it looks again: under a burst that puts whole seconds on the
# slowest answers. Threads of one process take turns on this lock instead, in order.
_sqlite_writer = threading.Lock()


def store_event(event: LiveKitEvent, raw_body: str) -> bool:
    """Store `event` as pending; a repeated delivery stores nothing.

    Returns True when the event was new.

    Raises:
        OperationalError: the database stayed unavailable (the caller answers 5xx, so
            LiveKit delivers the event again).
    """
    already = sa.select(WebhookEvent.id).where(WebhookEvent.id == event.id)
    if db.session.scalar(already) is not None:
        return False  # a repeat is answered by a read, without waiting to write
    for attempt in range(ATTEMPTS):
        try:
            with writer_turn():
                stored = _insert_once(_ledger_values(event, raw_body))
                db.session.commit()
                return stored
        except OperationalError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))  # a locked SQLite file; PostgreSQL failover
    raise AssertionError("unreachable: the last attempt returns or raises")


def record_event(event: LiveKitEvent, raw_body: str) -> bool:
    """Store `event` and derive from it now (tests, tools); True when the event was new."""
    from meetings.webhooks import deriver

    stored = store_event(event, raw_body)
    if stored:
        deriver.derive_event(event.id)
    return stored


@contextmanager
def writer_turn():
    if db.engine.dialect.name != "sqlite":
        yield  # PostgreSQL: concurrent transactions wait on row locks
        return
    with _sqlite_writer:
        yield


def _insert_once(values: dict) -> bool:
    """INSERT ... ON CONFLICT (id) DO NOTHING; True when the row is new."""
    dialect = db.engine.dialect.name
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
    if insert is None:  # another database: ask first (a race ends in IntegrityError)
        if db.session.get(WebhookEvent, values["id"]) is not None:
            return False
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(WebhookEvent).values(values))
        except IntegrityError:
            return False
        return True
    statement = (
        insert(WebhookEvent)
        .values(values)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(WebhookEvent.id)  # a row only when inserted (rowcount is not portable)
    )
    return db.session.execute(statement).scalar() is not None


def _ledger_values(event: LiveKitEvent, raw_body: str) -> dict:
    """The ledger row as stored at the door: what the event says, no lookups. The meeting
    it belongs to is filled in when it is derived."""
    room_name = derive.room_name_of(event)
    return {
        "id": event.id,
        "event": event.event,
        "room_name": room_name,
        "room_sid": (event.room.sid or event.egress_info.room_id or None) if room_name else None,
        "participant_identity": event.participant.identity or None,
        "meeting_id": None,
        "unknown_room": False,
        "created_at": derive.from_epoch(event.created_at),
        "received_at": datetime.now(UTC),
        "payload": raw_body,
        "result": ProcessingResult.PENDING,
        "error": "",
    }


def count_rejection(reason: str) -> None:
    """One more refused webhook request today for `reason`. Only the count is kept.

    Never raises: a refused request is answered 4xx even when the count cannot be saved.
    """
    now = datetime.now(UTC)
    today = now.date()
    for _attempt in range(3):
        try:
            changed = db.session.execute(
                sa.update(WebhookRejection)
                .where(WebhookRejection.day == today, WebhookRejection.reason == reason)
                .values(count=WebhookRejection.count + 1, last_at=now)
            ).rowcount
            if not changed:
                db.session.add(WebhookRejection(day=today, reason=reason, count=1, last_at=now))
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()  # a concurrent rejection made today's row first
        except SQLAlchemyError:
            db.session.rollback()
            current_app.logger.exception("could not count a webhook rejection (%s)", reason)
            return


def attendance_for(meeting: Meeting) -> list[Attendance]:
    """Every join/leave interval in the meeting, earliest join first."""
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.meeting_id == meeting.id, Attendance.aborted.is_(False))
            .order_by(Attendance.joined_at, Attendance.id)
        )
    )
