"""The webhook ledger: each verified event stored once, its derived records updated after.

The webhook view only stores the event (one INSERT, one commit) and answers: LiveKit drops
events that wait too long in its per-room queue, so the answer must not wait for the ORM
work of deriving sessions and attendance. A stored event is `pending` until the deriver
(`deriver.py`) applies it; a 2xx answer means the event is committed, so nothing answered
2xx is lost even if the process dies before deriving it.
"""

import fcntl
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from meetings import livekit_gateway as gateway
from meetings.extensions import INSERT_ON_CONFLICT, db
from meetings.models import (
    Attendance,
    Meeting,
    ProcessingResult,
    WebhookEvent,
    WebhookRejection,
)
from meetings.models.ledger import WORKER_EVENT_PREFIX
from meetings.webhooks import handlers
from meetings.webhooks.handlers import KNOWN_EVENTS  # noqa: F401 (re-exported)

ATTEMPTS = 4
T = TypeVar("T")
# SQLite has one writer at a time, and a writer that finds the file locked sleeps in steps
# of up to 100 ms before it looks again: under a burst that puts whole seconds on the
# slowest answers. Writers take turns instead: threads on this lock, processes on a lock
# file next to the database (see writer_turn).
_sqlite_writer = threading.Lock()


@dataclass(eq=False)
class _Arrival:
    """A verified event waiting for the next group commit, and what became of it."""

    values: dict
    done: bool = False
    stored: bool = False
    error: Exception | None = None


# Group commit: a commit costs a disk sync, so the request threads that arrive while one
# commit is under way are written together in the next one (at most one per thread).
_arrivals: list[_Arrival] = []
_arrivals_lock = threading.Lock()
_committer = threading.Lock()


def store_event(event: gateway.WebhookEvent, raw_body: str) -> bool:
    """Store `event` as pending; a repeated delivery stores nothing. Returns once the row
    is committed.

    Returns True when the event was new.

    Raises:
        OperationalError: the database stayed unavailable (the caller answers 5xx, so
            LiveKit delivers the event again).
    """
    return _store(_ledger_values(event, raw_body))


def store_worker_event(event: gateway.WorkerEvent, raw_body: str) -> bool:
    """Store one of the media worker's events in the same ledger, as `worker.<kind>`;
    exactly like `store_event` (once by id, committed before the answer).

    Raises:
        OperationalError: as store_event.
    """
    return _store(_worker_ledger_values(event, raw_body))


def _store(values: dict) -> bool:
    already = sa.select(WebhookEvent.id).where(WebhookEvent.id == values["id"])
    if db.session.scalar(already) is not None:
        return False  # a repeat is answered by a read, without waiting to write
    db.session.rollback()  # end the read before waiting for a turn to write
    arrival = _Arrival(values)
    with _arrivals_lock:
        _arrivals.append(arrival)
    with _committer:
        if not arrival.done:  # nobody took it into their commit: lead the next one
            _commit_arrivals()
    if arrival.error is not None:
        raise arrival.error
    return arrival.stored


def _commit_arrivals() -> None:
    with _arrivals_lock:
        batch = list(_arrivals)
        _arrivals.clear()
    try:
        inserted = _insert_committed([arrival.values for arrival in batch])
    except Exception as error:  # every waiter answers 5xx; LiveKit sends again
        inserted, failure = set(), error
    else:
        failure = None
    for arrival in batch:
        event_id = arrival.values["id"]
        arrival.stored = event_id in inserted  # the first of two same-id arrivals only
        inserted.discard(event_id)
        arrival.error = failure
        arrival.done = True


def _insert_committed(rows: list[dict]) -> set[str]:
    """INSERT ... ON CONFLICT (id) DO NOTHING, committed; the ids that were new."""

    def insert() -> set[str]:
        inserted = set(db.session.scalars(_INSERT_ONCE[_dialect()], rows))
        db.session.commit()
        return inserted

    return in_writer_turn(insert)


def in_writer_turn(work: Callable[[], T]) -> T:
    """`work()` (which commits) in this process's turn to write, tried again when the
    database was briefly unavailable (a locked SQLite file, a PostgreSQL failover).

    Raises:
        OperationalError: the last attempt failed too.
    """
    for attempt in range(ATTEMPTS):
        try:
            with writer_turn():
                return work()
        except OperationalError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable: the last attempt returns or raises")


@contextmanager
def writer_turn():
    """On SQLite, wait for this process's and then every process's turn to write."""
    if _dialect() != "sqlite":
        yield  # PostgreSQL: concurrent transactions wait on row locks
        return
    with _sqlite_writer, _file_lock(db.engine.url.database):
        yield


@contextmanager
def _file_lock(database: str | None):
    # flock wakes the next waiter as soon as the lock is free, where SQLite's own
    # busy handler would sleep and poll.
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.writer", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _dialect() -> str:
    return db.engine.dialect.name


def _insert_once_statement(insert):
    # Core on the table, one statement for any number of rows (executemany): compiled once
    # and cached, where an ORM multi-VALUES insert is compiled again for every batch size.
    return (
        insert(WebhookEvent.__table__)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(WebhookEvent.__table__.c.id)  # a row for each one inserted
    )


_INSERT_ONCE = {name: _insert_once_statement(insert) for name, insert in INSERT_ON_CONFLICT.items()}


def _ledger_values(event: gateway.WebhookEvent, raw_body: str) -> dict:
    """The ledger row as stored at the door: what the event says, no lookups. The meeting
    it belongs to is filled in when it is derived."""
    room_name = handlers.room_name_of(event)
    return {
        "id": event.id,
        "event": event.event,
        "room_name": room_name,
        "room_sid": (event.room.sid or event.egress_info.room_id or None) if room_name else None,
        "participant_identity": event.participant.identity or None,
        "meeting_id": None,
        "unknown_room": False,
        "created_at": handlers.from_epoch(event.created_at),
        "received_at": datetime.now(UTC),
        "payload": raw_body,
        "result": ProcessingResult.PENDING,
        "error": "",
    }


def _worker_ledger_values(event: gateway.WorkerEvent, raw_body: str) -> dict:
    return {
        "id": event.id,
        "event": WORKER_EVENT_PREFIX + event.kind,
        "room_name": event.room or None,
        "room_sid": None,
        "participant_identity": None,
        "meeting_id": None,
        "unknown_room": False,
        "created_at": event.at,
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
