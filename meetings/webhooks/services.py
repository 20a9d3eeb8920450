"""The webhook ledger: each verified event stored once, then the derived records updated.

The event row is written first, in the same short transaction as what is derived from it:
the answer LiveKit gets (2xx) means the event is committed. An event whose derivation fails
is still stored, with result `failed` and the error, so nothing answered 2xx is lost and ops
can see it.
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


def record_event(event: LiveKitEvent, raw_body: str) -> bool:
    """Store `event` and apply it; a repeated delivery changes nothing.

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
            with _writer_turn():
                return _store_and_apply(event, raw_body)
        except IntegrityError:
            # Another event of the same room made the session or interval first; the
            # next attempt sees its row.
            db.session.rollback()
        except OperationalError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))  # a locked SQLite file; PostgreSQL failover
    raise RuntimeError(f"event {event.id} kept conflicting with concurrent deliveries")


@contextmanager
def _writer_turn():
    if db.engine.dialect.name != "sqlite":
        yield  # PostgreSQL: concurrent transactions wait on the session's row lock
        return
    with _sqlite_writer:
        yield


def _store_and_apply(event: LiveKitEvent, raw_body: str) -> bool:
    room = derive.room_of(event)
    # Store first: this insert claims the event id (a repeat inserts nothing) and, on
    # SQLite, the write lock, so that what is read below is current.
    if not _insert_once(_ledger_values(event, raw_body, room)):
        db.session.rollback()
        return False
    try:
        result = derive.apply(event, room)
        db.session.flush()
    except SQLAlchemyError:
        raise
    except Exception as error:  # a payload our derivation cannot handle: keep it anyway
        db.session.rollback()
        current_app.logger.exception("webhook %s (%s) could not be applied", event.id, event.event)
        failed = ProcessingResult.FAILED
        error_text = f"{type(error).__name__}: {error}"[:500]
        _insert_once(
            _ledger_values(event, raw_body, room) | {"result": failed, "error": error_text}
        )
    else:
        if result != ProcessingResult.APPLIED:
            db.session.execute(
                sa.update(WebhookEvent).where(WebhookEvent.id == event.id).values(result=result)
            )
    db.session.commit()
    return True


def _insert_once(values: dict) -> bool:
    """INSERT ... ON CONFLICT (id) DO NOTHING; True when the row is new."""
    dialect = db.engine.dialect.name
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
    if insert is None:  # another database: ask first (a race ends in IntegrityError, retried)
        if db.session.get(WebhookEvent, values["id"]) is not None:
            return False
        db.session.execute(sa.insert(WebhookEvent).values(values))
        return True
    statement = (
        insert(WebhookEvent)
        .values(values)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(WebhookEvent.id)  # a row only when inserted (rowcount is not portable)
    )
    return db.session.execute(statement).scalar() is not None


def _ledger_values(event: LiveKitEvent, raw_body: str, room: derive.RoomRef | None) -> dict:
    return {
        "id": event.id,
        "event": event.event,
        "room_name": room.name if room else None,
        "room_sid": (room.sid or None) if room else None,
        "participant_identity": event.participant.identity or None,
        "meeting_id": room.meeting_id if room else None,
        "unknown_room": room.unknown if room else False,
        "created_at": derive.from_epoch(event.created_at),
        "received_at": datetime.now(UTC),
        "payload": raw_body,
        "result": ProcessingResult.APPLIED,
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
