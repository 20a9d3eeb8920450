"""What the built-in recorder reports (signed worker events) moves a Recording row forward
only, as egress_events.py does for Egress: recording_started -> active, recording_progress
keeps the running duration and size, recording_ended -> complete | failed with the file's
facts, job_rejected -> failed. A repeated or stale event changes nothing. Nothing here
commits: the ledger's transaction does.
"""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import RecorderKind, Recording, RecordingStatus, StorageKind, utcnow
from meetings.recordings import explain, notices, storage

log = logging.getLogger(__name__)

RECORDING_KINDS = ("recording_started", "recording_progress", "recording_ended", "job_rejected")
ENDED = {"complete": RecordingStatus.COMPLETE, "failed": RecordingStatus.FAILED}
# The recorder's participant identity: this prefix and our job id (meetings/worker/jobs.py).
RECORDER_IDENTITY_PREFIX = "recorder-"


def by_job_id(job_id: str) -> Recording | None:
    if not job_id:
        return None
    return db.session.scalar(
        sa.select(Recording).where(
            Recording.job_id == job_id, Recording.recorder == RecorderKind.BUILTIN
        )
    )


def apply_worker_event(event: gateway.WorkerEvent) -> bool:
    """Follow one event of the recorder; True when a recording changed. Does not commit."""
    if event.kind not in RECORDING_KINDS:
        return False
    row = by_job_id(event.job_id)
    if row is None:
        log.info("worker event %s (%s) is for no recording of ours", event.id, event.kind)
        return False
    if not _apply(row, event):
        return False
    db.session.flush()
    notices.announce_after_commit(row.room_name)
    return True


def recorder_left(identity: str) -> bool:
    """The recorder's participant left the room (its webhook). While the recording runs and no
    stop was asked for, that is a lost recorder (killed, crashed, cut off): fail the row now
    and keep the partial file. If the worker was in fact finishing (the room closed under it),
    its `recording_ended` still settles the row. Does not commit; True when it changed."""
    if not identity.startswith(RECORDER_IDENTITY_PREFIX):
        return False
    row = by_job_id(identity.removeprefix(RECORDER_IDENTITY_PREFIX))
    if row is None or not row.status.is_live:
        return False
    fail_as_lost(row, utcnow())
    db.session.flush()
    notices.announce_after_commit(row.room_name)
    return True


def fail_as_lost(row: Recording, now: datetime) -> None:
    """Failed, "recorder lost"; a local file the worker had started writing stays playable."""
    row.status = RecordingStatus.FAILED
    row.error = explain.RECORDER_LOST
    row.ended_at = now
    row.partial_file = row.storage == StorageKind.LOCAL and bool(row.size_bytes)


def _apply(row: Recording, event: gateway.WorkerEvent) -> bool:
    if _lost_but_finishing(row, event):
        row.status, row.error, row.partial_file = RecordingStatus.ENDING, "", False
    if row.status.is_final:
        return False  # settled: repeats and late reports change nothing
    data = event.data
    reported = _status_of(event)
    if reported is None or reported.rank < row.status.rank:
        return False
    at_ns = int(event.at.timestamp() * 1e9) if event.at else 0
    seen_ns = row.server_updated_ns or 0
    if reported == row.status and at_ns and at_ns < seen_ns:
        return False  # an older progress report than the one applied
    row.status = reported
    row.server_updated_ns = max(seen_ns, at_ns)
    if event.kind == "recording_started":
        row.started_at = _when(data.get("started_at")) or event.at or utcnow()
    _take_facts(row, data)
    if reported.is_final:
        row.ended_at = event.at or utcnow()
        error = data.get("error") or data.get("reason")
        if error:
            row.error = str(error)[:1000]
        if event.kind == "recording_ended":
            _check_file(row, data.get("file_name"))
    return True


def _lost_but_finishing(row: Recording, event: gateway.WorkerEvent) -> bool:
    """The recorder left and was taken for lost, yet it reports its end: it was finishing."""
    lost = row.status == RecordingStatus.FAILED and row.error == explain.RECORDER_LOST
    return lost and event.kind == "recording_ended"


def _status_of(event: gateway.WorkerEvent) -> RecordingStatus | None:
    if event.kind in ("recording_started", "recording_progress"):
        return RecordingStatus.ACTIVE
    if event.kind == "job_rejected":
        return RecordingStatus.FAILED
    return ENDED.get(event.data.get("status"))


def _take_facts(row: Recording, data: dict) -> None:
    size, duration = _number(data.get("size_bytes")), _number(data.get("duration_seconds"))
    if size:
        row.size_bytes = int(size)
    if duration:
        row.duration_seconds = float(duration)
    width, height = _number(data.get("width")), _number(data.get("height"))
    if width and height:
        row.width, row.height = int(width), int(height)
    sha256 = data.get("sha256")
    if isinstance(sha256, str) and len(sha256) == 64:
        row.sha256 = sha256.lower()


def _check_file(row: Recording, reported) -> None:
    """The worker writes the file we named; anything else is refused, never served."""
    if reported == row.file_name:
        try:
            storage.check_relative(reported)
            return
        except storage.UnsafeFileName:
            pass
    row.flag = f"Refused file name from the recorder: {reported!r}"[:500]
    log.warning("recording %s: the recorder reported file %r", row.id, reported)
    if row.status == RecordingStatus.COMPLETE:
        row.status = RecordingStatus.FAILED
        row.error = explain.FILE_OUTSIDE_STORAGE


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if value > 0 else None


def _when(seconds) -> datetime | None:
    value = _number(seconds)
    return datetime.fromtimestamp(value, UTC) if value else None
