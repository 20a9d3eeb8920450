"""What the ingest job reports (signed worker events) moves its ingest's state on.

Only the ingest's current job counts (an event of an earlier job, or of a revoked ingest, is
kept in the ledger only). `ingest_refused` carries the job's running count of pushes with a
wrong key; the stored count only grows, so a retried or late event changes nothing. When the
meeting's room finishes, its ingests are idle until a host opens it again.

Nothing here commits: the ledger's transaction does.
"""

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import Ingest, IngestStatus
from meetings.streaming.ingest_jobs import AGENT_NAME

MAX_REASON = 500
INGEST_KINDS = (
    "ingest_listening",
    "ingest_connected",
    "ingest_disconnected",
    "ingest_refused",
    "ingest_failed",
    "job_rejected",
)
REPORTED = {
    "ingest_listening": IngestStatus.WAITING,
    "ingest_connected": IngestStatus.LIVE,
    "ingest_disconnected": IngestStatus.WAITING,
    "ingest_failed": IngestStatus.FAILED,
}


def apply_worker_event(event: gateway.WorkerEvent) -> bool:
    """Follow one event of an ingest job; True when an ingest changed. Does not commit."""
    rejected = event.kind == "job_rejected" and event.data.get("agent_name") == AGENT_NAME
    if event.kind not in REPORTED and event.kind != "ingest_refused" and not rejected:
        return False
    ingest = _current_job(event.job_id)
    if ingest is None:
        return False
    if event.kind == "ingest_refused":
        total = event.data.get("total")
        if isinstance(total, int) and total > ingest.refused_count:
            ingest.refused_count = total
            return True
        return False
    status = IngestStatus.FAILED if rejected else REPORTED[event.kind]
    if ingest.status == IngestStatus.FAILED and status != IngestStatus.FAILED:
        return False  # a failed job reports nothing more that could undo it
    ingest.status = status
    reason = event.data.get("reason") if status == IngestStatus.FAILED else None
    ingest.reason = str(reason)[:MAX_REASON] if reason else None
    return True


def room_closed(room_name: str) -> bool:
    """The room finished: its ingests' jobs ended with it. True when one changed."""
    ingests = db.session.scalars(
        sa.select(Ingest).where(Ingest.room_name == room_name, Ingest.revoked_at.is_(None))
    ).all()
    changed = False
    for ingest in ingests:
        if ingest.status.job_running:
            ingest.status, ingest.job_id, ingest.dispatch_id = IngestStatus.IDLE, None, None
            changed = True
    return changed


def _current_job(job_id: str) -> Ingest | None:
    if not job_id:
        return None
    return db.session.scalar(
        sa.select(Ingest).where(Ingest.job_id == job_id, Ingest.revoked_at.is_(None))
    )
