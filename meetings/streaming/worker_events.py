"""What the stream and ingest jobs report (signed worker events), and what LiveKit says about
them, moves their state on.

Stream out: `stream_output` says one output went live, failed (with a reason people can read)
or ended; the stream is live while an output is, and failed when every output failed.
`stream_ended` ends it. With RECORDER=egress, LiveKit's egress webhooks say all this instead
(apply_egress). Its job's participant leaving while it streams (the worker was lost),
or the room finishing, ends it too.

Stream in: an encoder that connects while a host has locked the meeting is taken out again
(as nobody new joins a locked meeting). Only an ingest's current job counts (an event of an
earlier job, or of a revoked ingest, is kept in the ledger only). `ingest_refused` carries
the job's running count of pushes with a wrong key; the stored count only grows, so a
retried or late event changes nothing. When the meeting's room finishes, its ingests are
idle until a host opens it again.

Nothing here commits: the ledger's transaction does.
"""

import logging

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.extensions import db
from meetings.models import Ingest, IngestStatus, LiveStream, OutputStatus, StreamStatus
from meetings.rooms import decisions as host_decisions
from meetings.scheduling import room_names
from meetings.streaming import ingest_jobs, streams

log = logging.getLogger(__name__)

MAX_REASON = 500
INGEST_KINDS = (
    "ingest_listening",
    "ingest_connected",
    "ingest_disconnected",
    "ingest_refused",
    "ingest_failed",
    "job_rejected",
)
STREAM_KINDS = ("stream_output", "stream_ended", "job_rejected")
OUTPUT_STATES = {
    "live": OutputStatus.LIVE,
    "failed": OutputStatus.FAILED,
    "ended": OutputStatus.ENDED,
}
LOST = "The media worker streaming this meeting stopped. Start the stream again."
LOCKED = "The meeting is locked: the encoder was not let in. Unlock it, then restart the encoder."
REPORTED = {
    "ingest_listening": IngestStatus.WAITING,
    "ingest_connected": IngestStatus.LIVE,
    "ingest_disconnected": IngestStatus.WAITING,
    "ingest_failed": IngestStatus.FAILED,
}


def apply_worker_event(event: gateway.WorkerEvent) -> bool:
    """Follow one event of a stream or ingest job; True when one changed. Does not commit."""
    return _stream_event(event) or _ingest_event(event)


# ---- stream out -------------------------------------------------------------------------------


def _stream_event(event: gateway.WorkerEvent) -> bool:
    rejected = event.kind == "job_rejected" and event.data.get("agent_name") == streams.AGENT_NAME
    if event.kind not in ("stream_output", "stream_ended") and not rejected:
        return False
    row = _stream_of_job(event.job_id)
    if row is None or not row.status.is_on:
        return False
    reason = _reason(event.data.get("reason"))
    if rejected:
        streams.end(row, StreamStatus.FAILED, reason or streams.NOT_TAKEN)
    elif event.kind == "stream_ended":
        all_failed = all(o.status == OutputStatus.FAILED for o in row.outputs)
        streams.end(row, StreamStatus.FAILED if all_failed else StreamStatus.ENDED, reason)
    else:
        return _output(row, event.data, reason)
    return True


def _output(row: LiveStream, data: dict, reason: str | None) -> bool:
    output = next((o for o in row.outputs if o.output_id == data.get("output_id")), None)
    status = OUTPUT_STATES.get(str(data.get("status")))
    if (
        output is None
        or status is None
        or output.status in (OutputStatus.FAILED, OutputStatus.ENDED)
    ):
        return False
    output.status = status
    output.reason = reason if status == OutputStatus.FAILED else None
    if status == OutputStatus.LIVE:
        streams.set_status(row, StreamStatus.LIVE)
    return True


EGRESS_OUTPUT_STATES = {
    "active": OutputStatus.LIVE,
    "failed": OutputStatus.FAILED,
    "finished": OutputStatus.ENDED,
}
EGRESS_ENDED = {"complete": StreamStatus.ENDED, "aborted": StreamStatus.ENDED}


def apply_egress(event: gateway.WebhookEvent) -> bool:
    """RECORDER=egress: an egress_* webhook of a stream moves its outputs on, as the worker's
    events would. Its RTMP results come in the order the destinations were asked for."""
    egress = gateway.egress_from_webhook(event)
    row = egress and db.session.scalar(
        sa.select(LiveStream).where(LiveStream.egress_id == egress.egress_id)
    )
    if not row or not row.status.is_on:
        return False
    rtmp = [o for o in row.outputs if o.kind == "rtmp"]
    for output, result in zip(rtmp, egress.streams, strict=False):
        status = EGRESS_OUTPUT_STATES.get(result.status)
        if status is not None:
            _output(row, {"output_id": output.output_id, "status": status}, _reason(result.error))
    if row.hls is not None and egress.segment_count:
        _output(row, {"output_id": row.hls.output_id, "status": OutputStatus.LIVE}, None)
    if egress.status in EGRESS_ENDED:
        streams.end(row, EGRESS_ENDED[egress.status], "stopped")
    elif egress.status in ("failed", "limit_reached"):
        streams.end(row, StreamStatus.FAILED, _reason(egress.error) or egress.status)
    return True


def stream_job_left(identity: str, room_name: str) -> bool:
    """The stream job's participant left while streaming: its worker was lost."""
    if not identity.startswith(streams.IDENTITY_PREFIX):
        return False
    row = _stream_of_job(identity.removeprefix(streams.IDENTITY_PREFIX))
    if row is None or row.room_name != room_name or not row.status.is_on:
        return False
    streams.end(row, StreamStatus.FAILED, LOST)
    return True


def _stream_of_job(job_id: str) -> LiveStream | None:
    if not job_id:
        return None
    return db.session.scalar(sa.select(LiveStream).where(LiveStream.job_id == job_id))


def _reason(value) -> str | None:
    return str(value)[:MAX_REASON] if value else None


# ---- stream in --------------------------------------------------------------------------------


def _ingest_event(event: gateway.WorkerEvent) -> bool:
    rejected = (
        event.kind == "job_rejected" and event.data.get("agent_name") == ingest_jobs.AGENT_NAME
    )
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
    if event.kind == "ingest_connected" and _locked(ingest):
        _keep_out(ingest)
        return True
    ingest.status = status
    reason = event.data.get("reason") if status == IngestStatus.FAILED else None
    ingest.reason = str(reason)[:MAX_REASON] if reason else None
    return True


def _locked(ingest: Ingest) -> bool:
    """Whether a host locked the ingest's occurrence: nobody new joins, an encoder neither."""
    parsed = room_names.parse(ingest.room_name or "")
    return parsed is not None and host_decisions.is_locked(ingest.meeting, parsed.occurrence_key)


def _keep_out(ingest: Ingest) -> None:
    """Take the encoder's participant out again, once this is committed; it says why."""
    ingest.status, ingest.reason = IngestStatus.WAITING, LOCKED
    room_name, identity = ingest.room_name or "", f"ingest-{ingest.public_id}"

    def remove() -> None:
        try:
            gateway.remove_participant(room_name, identity)
        except gateway.LiveKitError as error:
            log.warning("ingest %s not taken out of a locked meeting: %s", identity, error)

    after_commit(remove)


def room_closed(room_name: str) -> bool:
    """The room finished: its stream and its ingests' jobs ended with it. True when one
    changed."""
    changed = False
    stream = streams.streaming_in(room_name)
    if stream is not None:
        streams.end(stream, StreamStatus.ENDED, "the meeting's room closed")
        changed = True
    ingests = db.session.scalars(
        sa.select(Ingest).where(Ingest.room_name == room_name, Ingest.revoked_at.is_(None))
    ).all()
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
