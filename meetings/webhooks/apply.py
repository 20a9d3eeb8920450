"""Deriving sessions, attendance and recordings from stored events, after LiveKit has its answer.

Each app process runs one deriver thread. It applies, in arrival order, the events its own
requests stored, and every few seconds sweeps the ledger for pending events of any process
(one killed after answering, another instance), so every event answered 2xx is derived.

Events are claimed and applied in short transactions of a few events each, whose first
statement is `UPDATE ... WHERE id IN (...) AND result = 'pending'`: two derivers never
apply one event twice (the second claim matches no row), and on SQLite that first write
holds the file's write lock, so what the derivation then reads is current. Each event is
applied in a savepoint, so one that fails is marked failed without undoing the others.
Derivation is idempotent and tolerant of order (see handlers.py), so which deriver applies
which event does not change the outcome.

`WEBHOOK_DERIVE = "in_request"` (the unit tests) derives before answering instead.
"""

import collections
import logging
import queue
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import ProcessingResult, WebhookEvent
from meetings.models.ledger import WORKER_EVENT_PREFIX
from meetings.webhooks import handlers
from meetings.webhooks.store import ATTEMPTS, in_writer_turn

log = logging.getLogger(__name__)

SWEEP_SECONDS = 2.0
# A sweep leaves the newest pending events to the process that stored them, which is
# about to derive them; only older ones are taken over.
SWEEP_GRACE = timedelta(seconds=1)
SWEEP_BATCH = 500
# Events claimed per transaction: one commit (a disk sync) for many. The transaction ends
# once it has run this long, so that the webhook answers waiting for their turn to write
# (all of them, on SQLite) never wait much longer.
DERIVE_BATCH = 20
TRANSACTION_SECONDS = 0.015
EXTENSION_KEY = "webhook_deriver"
WAKE_UP = ""  # not an event id: wakes the thread to look at its stop flag


def after_store(event_id: str) -> None:
    """Derive the event now, or hand it to this process's deriver thread."""
    app = current_app._get_current_object()
    if app.config["WEBHOOK_DERIVE"] == "in_request":
        derive_events([event_id])
        return
    deriver_of(app).submit(event_id)


def deriver_of(app: Flask) -> "Deriver":
    deriver = app.extensions.get(EXTENSION_KEY)
    if deriver is None:
        deriver = app.extensions.setdefault(EXTENSION_KEY, Deriver(app))
    return deriver


def start_for(app: Flask) -> None:
    """Start the deriver thread (once); its first sweep picks up what a dead process left."""
    if app.config["WEBHOOK_DERIVE"] == "background":
        deriver_of(app).start()


def pending_count() -> int:
    query = sa.select(sa.func.count()).where(WebhookEvent.result == ProcessingResult.PENDING)
    return db.session.scalar(query) or 0


def derive_pending(older_than: timedelta = timedelta(0), limit: int = SWEEP_BATCH) -> int:
    """Apply up to `limit` pending events received at least `older_than` ago, oldest
    first; returns how many this call applied."""
    cutoff = datetime.now(UTC) - older_than
    ids = db.session.scalars(
        sa.select(WebhookEvent.id)
        .where(WebhookEvent.result == ProcessingResult.PENDING, WebhookEvent.received_at <= cutoff)
        .order_by(WebhookEvent.received_at, WebhookEvent.id)
        .limit(limit)
    ).all()
    db.session.rollback()  # end the read: the claims below are their own transactions
    return derive_events(ids)


def derive_events(event_ids: list[str]) -> int:
    """Apply the events among `event_ids` that are still pending, a few per transaction;
    returns how many this call applied.

    Raises:
        OperationalError: the database stayed unavailable (the events stay pending).
    """
    applied, remaining = 0, list(event_ids)
    conflicts: collections.Counter[str] = collections.Counter()
    while remaining:
        batch, remaining = remaining[:DERIVE_BATCH], remaining[DERIVE_BATCH:]
        count, not_reached, conflicted = in_writer_turn(partial(_claim_and_apply, batch))
        applied += count
        conflicts.update(conflicted)
        # The row another deriver made first is committed by now: apply on top of it at
        # once (a few tries), not only at the next sweep, which in_request never runs.
        retry = [event_id for event_id in conflicted if conflicts[event_id] < ATTEMPTS]
        remaining = not_reached + retry + remaining
    return applied


def _claim_and_apply(event_ids: list[str]) -> tuple[int, list[str], list[str]]:
    """Claim the pending ones of `event_ids` and apply them until the transaction's time is
    up; returns (how many were applied, the ids released again for the next one, the ids
    left pending because a concurrent deriver made their session or interval first)."""
    claimed = db.session.execute(
        sa.update(WebhookEvent)
        .where(WebhookEvent.id.in_(event_ids), WebhookEvent.result == ProcessingResult.PENDING)
        .values(result=ProcessingResult.APPLIED)
        .returning(WebhookEvent.id, WebhookEvent.room_sid, WebhookEvent.received_at)
    ).all()
    # Room by room, so that two derivers lock sessions in the same order (no deadlock),
    # and in arrival order within a room.
    claimed.sort(key=lambda row: (row.room_sid or "", row.received_at, row.id))
    deadline = time.monotonic() + TRANSACTION_SECONDS
    outcomes, not_reached = [], []
    for row in claimed:
        if outcomes and time.monotonic() > deadline:
            not_reached.append(row.id)
        else:
            outcomes.append(_apply_one(row.id))
    released = [{"id": event_id, "result": ProcessingResult.PENDING} for event_id in not_reached]
    db.session.execute(sa.update(WebhookEvent), outcomes + released)  # by primary key
    db.session.commit()
    conflicted = [o["id"] for o in outcomes if o["result"] == ProcessingResult.PENDING]
    return len(outcomes) - len(conflicted), not_reached, conflicted


def _apply_one(event_id: str) -> dict:
    """Apply one claimed event inside a savepoint; the ledger columns to set for it."""
    kind, payload = db.session.execute(
        sa.select(WebhookEvent.event, WebhookEvent.payload).where(WebhookEvent.id == event_id)
    ).one()
    if kind.startswith(WORKER_EVENT_PREFIX):
        event = gateway.parse_worker_event_json(payload)
        room = handlers.room_named(event.room)
        apply_event = handlers.apply_worker
    else:
        event = gateway.parse_webhook_json(payload)
        room = handlers.room_of(event)
        apply_event = handlers.apply
    outcome = {
        "id": event_id,
        "meeting_id": room.meeting_id if room else None,
        "unknown_room": room.unknown if room else False,
        "error": "",
    }
    try:
        with db.session.begin_nested():
            outcome["result"] = apply_event(event, room)
    except IntegrityError:
        # Another deriver made this room's session or interval first: left pending and
        # applied again on top of that row (derive_events).
        outcome["result"] = ProcessingResult.PENDING
    except SQLAlchemyError:
        raise
    except Exception as error:  # a payload our derivation cannot handle: keep it anyway
        log.exception("webhook %s (%s) could not be applied", event_id, kind)
        outcome["result"] = ProcessingResult.FAILED
        outcome["error"] = f"{type(error).__name__}: {error}"[:500]
    return outcome


class Deriver:
    """One thread per process: derives the events this process stored, then sweeps."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stored_ids: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._stopping = threading.Event()

    def submit(self, event_id: str) -> None:
        self.stored_ids.put(event_id)
        self.start()

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="webhook-deriver", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Finish the event in hand and end the thread (tests; a process exiting need not)."""
        self._stopping.set()
        self.stored_ids.put(WAKE_UP)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        self._sweep()
        while not self._stopping.is_set():
            try:
                first = self.stored_ids.get(timeout=SWEEP_SECONDS)
            except queue.Empty:
                self._sweep()
                continue
            if first != WAKE_UP:
                self._derive([first, *self._drain()])

    def _drain(self) -> list[str]:
        ids = []
        while True:
            try:
                event_id = self.stored_ids.get_nowait()
                if event_id != WAKE_UP:
                    ids.append(event_id)
            except queue.Empty:
                return ids

    def _derive(self, event_ids: list[str]) -> None:
        with self.app.app_context():
            try:
                derive_events(event_ids)
            except Exception:  # the events stay pending; the next sweep tries again
                log.exception("deriving %d webhook events failed", len(event_ids))
            finally:
                db.session.remove()

    def _sweep(self) -> None:
        with self.app.app_context():
            try:
                while derive_pending(older_than=SWEEP_GRACE) == SWEEP_BATCH:
                    pass
            except Exception:
                log.exception("sweeping pending webhook events failed")
            finally:
                db.session.remove()
