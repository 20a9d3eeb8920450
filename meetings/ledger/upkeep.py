"""Keeping the ledger true and small: reconcile it with the server, purge old events."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import (
    Attendance,
    MeetingSession,
    ProcessingResult,
    Transcript,
    TranscriptSegment,
    WebhookEvent,
    WebhookRejection,
)
from meetings.webhooks import handlers

# A session younger than this is left alone: its room may be too new for the room list we
# just fetched.
RECONCILE_GRACE = timedelta(minutes=1)


@dataclass
class Reconciliation:
    live_rooms: int = 0
    closed: list[MeetingSession] = field(default_factory=list)  # room_finished was lost
    opened: list[MeetingSession] = field(default_factory=list)  # room_started was lost


def reconcile(now: datetime | None = None) -> Reconciliation:
    """Compare the rooms live on the server with the sessions the ledger has open.

    A session whose room is gone is closed at the last moment anything was heard of it,
    marked `end_inferred` (a late room_finished still replaces that guess). A live room
    without a session gets one, started at the server's creation time.

    Raises:
        LiveKitUnavailable: the server did not answer; nothing was changed.
    """
    now = now or datetime.now(UTC)
    rooms = gateway.list_rooms()
    live = {room.sid: room for room in rooms if room.sid}
    report = Reconciliation(live_rooms=len(rooms))
    open_sessions = db.session.scalars(
        sa.select(MeetingSession).where(MeetingSession.ended_at.is_(None)).with_for_update()
    ).all()
    for session in open_sessions:
        if session.room_sid in live:
            continue
        last_heard = _last_heard(session)
        if last_heard is not None and last_heard > now - RECONCILE_GRACE:
            continue
        session.ended_at = last_heard or now
        session.end_inferred = True
        handlers.recount(session)
        report.closed.append(session)
    known = set(
        db.session.scalars(
            sa.select(MeetingSession.room_sid).where(MeetingSession.room_sid.in_(live))
        )
    )
    for sid, room in live.items():
        if sid in known:
            continue
        ref = handlers.RoomRef(room.name, sid, *handlers.occurrence_of_room(room.name))
        session = MeetingSession(
            room_sid=sid,
            room_name=room.name,
            meeting_id=ref.meeting_id,
            occurrence_key=ref.occurrence_key,
            started_at=room.created_at or now,
            last_event_at=room.created_at or now,
        )
        db.session.add(session)
        report.opened.append(session)
    db.session.commit()
    return report


def _last_heard(session: MeetingSession) -> datetime | None:
    times = db.session.execute(
        sa.select(sa.func.max(Attendance.joined_at), sa.func.max(Attendance.left_at)).where(
            Attendance.session_id == session.id
        )
    ).one()
    known = [t for t in (session.started_at, session.last_event_at, *times) if t is not None]
    return max(known, default=None)


@dataclass(frozen=True)
class Purge:
    events: int
    rejection_days: int
    cutoff: datetime
    transcripts: int = 0


def purge_ledger(days: int, now: datetime | None = None) -> Purge:
    """Delete raw events received more than `days` ago, rejection counts as old, and the
    transcripts of occurrences over by then.

    Sessions, attendance and track publications are summaries and are kept. An event not
    derived yet is kept whatever its age: deleting it would lose what it says. What people
    said is not a summary: a transcript goes once nothing was added to it or changed in it
    since the cutoff (its segments go with it).
    """
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    events = db.session.execute(
        sa.delete(WebhookEvent).where(
            WebhookEvent.received_at < cutoff, WebhookEvent.result != ProcessingResult.PENDING
        )
    ).rowcount
    rejection_days = db.session.execute(
        sa.delete(WebhookRejection).where(WebhookRejection.day < cutoff.date())
    ).rowcount
    transcripts = _purge_transcripts(cutoff)
    db.session.commit()
    return Purge(events, rejection_days, cutoff, transcripts)


def _purge_transcripts(cutoff: datetime) -> int:
    said_since = sa.exists().where(
        TranscriptSegment.transcript_id == Transcript.id, TranscriptSegment.created_at >= cutoff
    )
    old = sa.select(Transcript.id).where(
        Transcript.origin_at < cutoff, Transcript.updated_at < cutoff, ~said_since
    )
    ids = list(db.session.scalars(old))
    if not ids:
        return 0
    # Segments first, in this statement's transaction (no reliance on ON DELETE CASCADE),
    # then their transcripts. SQLite's full-text index follows through its triggers.
    db.session.execute(sa.delete(TranscriptSegment).where(TranscriptSegment.transcript_id.in_(ids)))
    return db.session.execute(sa.delete(Transcript).where(Transcript.id.in_(ids))).rowcount
