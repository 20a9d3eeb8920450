"""The webhook ledger: each verified event stored once, attendance derived from it."""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from livekit.protocol.webhook import WebhookEvent as LiveKitEvent
from sqlalchemy.exc import IntegrityError

from meetings.extensions import db
from meetings.models import Attendance, Meeting, WebhookEvent


def _from_epoch(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def record_event(event: LiveKitEvent, raw_body: str) -> bool:
    """Store `event` and apply it, in one transaction; a repeated delivery changes nothing.

    Returns True when the event was new.
    """
    for _attempt in range(3):
        try:
            return _store_and_apply(event, raw_body)
        except IntegrityError:
            # A concurrent delivery inserted the same event or the same attendance row
            # first; the next attempt sees its row and either stops or updates it.
            db.session.rollback()
    raise RuntimeError(f"event {event.id} kept conflicting with concurrent deliveries")


def _store_and_apply(event: LiveKitEvent, raw_body: str) -> bool:
    if db.session.get(WebhookEvent, event.id) is not None:
        return False
    db.session.add(
        WebhookEvent(
            id=event.id,
            event=event.event,
            room_name=event.room.name or None,
            created_at=_from_epoch(event.created_at),
            payload=raw_body,
        )
    )
    apply_event(event)
    db.session.commit()
    return True


def apply_event(event: LiveKitEvent) -> None:
    """Derive attendance. Order-tolerant: a `left` may arrive before its `joined`."""
    if event.event not in ("participant_joined", "participant_left"):
        return
    participant = event.participant
    row = db.session.scalar(
        sa.select(Attendance).where(Attendance.participant_sid == participant.sid)
    )
    if row is None:
        row = Attendance(
            participant_sid=participant.sid,
            room_name=event.room.name,
            meeting_id=_meeting_id_for_room(event.room.name),
            identity=participant.identity,
        )
        db.session.add(row)
    row.display_name = participant.name or row.display_name or ""
    row.joined_at = _from_epoch(participant.joined_at) or row.joined_at
    if event.event == "participant_left":
        row.left_at = _from_epoch(event.created_at) or datetime.now(UTC)


# Room names are "meeting-<slug>-<YYYYMMDDHHMM>", one per occurrence (see recurrence.py).
ROOM_NAME = re.compile(r"^meeting-(?P<slug>[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})-\d{12}$")


def _meeting_id_for_room(room_name: str) -> int | None:
    match = ROOM_NAME.match(room_name)
    if match is None:
        return None
    return db.session.scalar(sa.select(Meeting.id).where(Meeting.slug == match["slug"]))


def attendance_for(meeting: Meeting) -> list[Attendance]:
    """Every join/leave interval in the meeting, earliest join first."""
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.meeting_id == meeting.id)
            .order_by(Attendance.joined_at, Attendance.id)
        )
    )
