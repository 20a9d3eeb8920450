"""What the server reports about egress jobs (webhooks, and reconcile's answers) moves a
Recording row forward only; a stale or repeated report changes nothing. Nothing here commits:
the webhook's transaction does.
"""

import logging

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.extensions import db
from meetings.models import (
    RUNNING_STATUSES,
    Meeting,
    RecorderKind,
    Recording,
    RecordingLayout,
    RecordingParticipant,
    RecordingStatus,
    utcnow,
)
from meetings.recordings import explain, notices, storage
from meetings.scheduling import room_names

log = logging.getLogger(__name__)

FROM_SERVER = {status.value: status for status in RecordingStatus}


def apply_egress_event(event) -> Recording | None:
    """Follow an `egress_started` / `egress_updated` / `egress_ended` webhook.

    Idempotent and order-tolerant; does not commit (the webhook's transaction does).
    Returns the row it touched, if any.
    """
    egress = gateway.egress_from_webhook(event)
    if egress is None:
        return None
    row = _row_for(egress)
    if row is None:
        return None
    if apply_report(row, egress):
        db.session.flush()
        notices.announce_after_commit(row.room_name)
    return row


def on_participant_joined(event) -> bool:
    """Keep who joined while a recording of the room runs; True when one did."""
    if event.event != "participant_joined" or gateway.is_worker_participant(event.participant):
        return False
    rows = db.session.scalars(
        sa.select(Recording).where(
            Recording.room_name == event.room.name,
            Recording.status.in_((RecordingStatus.STARTING, RecordingStatus.ACTIVE)),
        )
    ).all()
    for row in rows:
        note_participant(row, event.participant.identity, event.participant.name)
    return bool(rows)


def on_room_finished(event) -> bool:
    """The room closed: stop its recordings (the server ends them too; we do not wait)."""
    if event.event != "room_finished":
        return False
    rows = db.session.scalars(
        sa.select(Recording).where(
            Recording.room_name == event.room.name, Recording.status.in_(RUNNING_STATUSES)
        )
    ).all()
    for row in rows:
        if not row.accepted:
            continue  # a start in flight settles itself; reconcile catches a lost one
        row.status = RecordingStatus.ENDING
        if row.recorder == RecorderKind.BUILTIN:
            continue  # the worker leaves the closed room, finishes the file and reports
        after_commit(lambda egress_id=row.egress_id: _stop_quietly(egress_id))
    return bool(rows)


def _stop_quietly(egress_id: str) -> None:
    try:
        gateway.stop_egress(egress_id)
    except gateway.LiveKitError as error:
        log.info("stopping egress %s after its room finished: %s", egress_id, error)


def apply_webhook(event) -> bool:
    """Everything recordings take from one webhook (the ledger calls this for each event);
    True when a recording changed. Does not commit."""
    if event.event.startswith("egress_"):
        return apply_egress_event(event) is not None
    if event.event == "participant_joined":
        return on_participant_joined(event)
    if event.event == "room_finished":
        return on_room_finished(event)
    return False


def by_egress_id(egress_id: str) -> Recording | None:
    return db.session.scalar(sa.select(Recording).where(Recording.egress_id == egress_id))


def _row_for(egress: gateway.Egress) -> Recording | None:
    row = by_egress_id(egress.egress_id)
    if row is not None:
        return row
    # Our start call may still be waiting for its answer: the job is that request's.
    pending = db.session.scalars(
        sa.select(Recording)
        .where(
            Recording.room_name == egress.room_name,
            Recording.egress_id.is_(None),
            Recording.recorder == RecorderKind.EGRESS,
            Recording.status == RecordingStatus.REQUESTED,
        )
        .order_by(Recording.requested_at.desc())
    ).first()
    if pending is not None:
        pending.egress_id = egress.egress_id
        return pending
    # Started elsewhere (e.g. the LiveKit CLI) in one of our rooms: keep it all the same.
    found = _meeting_for_room(egress.room_name)
    if found is None:
        log.info("egress %s is for room %s, which is not ours", egress.egress_id, egress.room_name)
        return None
    meeting, occurrence_key = found
    audio_only = egress.audio_only
    row = Recording(
        meeting=meeting,
        occurrence_key=occurrence_key,
        room_name=egress.room_name,
        egress_id=egress.egress_id,
        status=RecordingStatus.REQUESTED,
        layout=RecordingLayout.SPEAKER if egress.layout == "speaker" else RecordingLayout.GRID,
        audio_only=audio_only,
        storage=storage.configured().kind,
        file_name="",
    )
    db.session.add(row)
    return row


def _meeting_for_room(room_name: str) -> tuple[Meeting, str] | None:
    parsed = room_names.parse(room_name)
    meeting = Meeting.by_slug(parsed.slug) if parsed else None
    if meeting is None:
        return None
    return meeting, parsed.occurrence_key


def apply_report(row: Recording, egress: gateway.Egress) -> bool:
    """Move the row forward to what the server reports; False when the report is stale."""
    if row.status.is_final:
        return False  # settled: repeats and late reports change nothing
    reported = FROM_SERVER.get(egress.status)
    if reported is None or reported.rank < row.status.rank:
        return False
    seen_ns = row.server_updated_ns or 0
    if reported == row.status and egress.updated_ns < seen_ns:
        return False
    row.status = reported
    row.server_updated_ns = max(seen_ns, egress.updated_ns)
    row.started_at = egress.started_at or row.started_at
    row.ended_at = egress.ended_at or row.ended_at
    if egress.error:
        row.error = egress.error[:1000]
    if egress.files:
        _take_file(row, egress.files[0])
    if row.status.is_final and row.ended_at is None:
        row.ended_at = utcnow()
    return True


def _take_file(row: Recording, file: gateway.EgressFile) -> None:
    try:
        name = storage.of(row).accept(file.filename)
    except storage.UnsafeFileName as refused:
        # Never serve or delete a path the server handed us from outside our storage.
        row.flag = f"Refused file name from the server: {file.filename!r}"[:500]
        log.warning("recording %s: %s", row.id, refused)
        if row.status == RecordingStatus.COMPLETE:
            row.status = RecordingStatus.FAILED
            row.error = explain.FILE_OUTSIDE_STORAGE
        return
    row.file_name = name
    row.location = file.location[:1024]
    row.size_bytes = file.size or row.size_bytes
    row.duration_seconds = file.duration_seconds or row.duration_seconds


def note_participant(row: Recording, identity: str, name: str) -> None:
    known = {p.identity for p in row.participants}
    if identity and identity not in known:
        row.participants.append(RecordingParticipant(identity=identity, display_name=name[:128]))
