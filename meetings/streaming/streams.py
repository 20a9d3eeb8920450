"""Stream out: the meeting's hosts send the running occurrence's composite live to RTMP
destinations and to HLS for the watch page, through the media worker's `meetings-stream` job.

A start checks every destination (destinations.py), stores it encrypted, dispatches the job
with the destinations in its metadata, and waits (RECORDER_ACCEPT_SECONDS) until a worker
takes it; no worker, or none taking it, fails the start with a reason. Each output then goes
live or fails on its own (worker_events.py). Stopping withdraws the dispatch: the job ends
its outputs (HLS gets its end mark). One stream per room at a time.

With RECORDER=egress, LiveKit Egress streams instead (its stream and segment outputs), and its
webhooks say what each output does; the same rows, pages and API.
"""

import logging
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import audit_log, room_notices
from meetings import livekit_gateway as gateway
from meetings.audit_log import Actor
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import (
    AuditResult,
    LiveStream,
    Meeting,
    OutputStatus,
    StreamOutput,
    StreamStatus,
    User,
    any_worker_serving,
    utcnow,
)
from meetings.scheduling.encryption import refuse_server_media
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window
from meetings.streaming import destinations

log = logging.getLogger(__name__)

AGENT_NAME = "meetings-stream"
IDENTITY_PREFIX = "stream-"  # and our job id: the job's participant (meetings/worker/jobs.py)
MAX_DESTINATIONS = 5
LAYOUTS = ("grid", "speaker")
NO_WORKER = "No media worker is running to stream. Ask your operator."
NOT_TAKEN = "No media worker took the stream in time. Try again, or ask your operator."


class StreamRefused(ApiError):
    """The start or stop is not carried out; the message is for people."""


def running_occurrence(meeting: Meeting) -> Occurrence:
    """Raises: StreamRefused 409 `not_running` outside the occurrence's window."""
    schedule = window(meeting, early_access=True)
    if schedule.phase != Phase.OPEN:
        raise StreamRefused(409, "not_running", "This meeting is not running now.")
    return schedule.occurrence


def streaming_in(room_name: str) -> LiveStream | None:
    """The stream of this room that is starting or live, if any."""
    return db.session.scalar(
        sa.select(LiveStream)
        .where(
            LiveStream.room_name == room_name,
            LiveStream.status.in_([StreamStatus.STARTING, StreamStatus.LIVE]),
        )
        .order_by(LiveStream.id.desc())
    )


def latest_of(meeting: Meeting) -> LiveStream | None:
    return db.session.scalar(
        sa.select(LiveStream)
        .where(LiveStream.meeting_id == meeting.id)
        .order_by(LiveStream.id.desc())
    )


def start(
    meeting: Meeting, user: User, actor: Actor, rtmp_urls: list[str], hls: bool, layout: str
) -> LiveStream:
    """Start streaming the running occurrence to `rtmp_urls` and, with `hls`, the watch page.

    Raises: StreamRefused / ApiError: 422 naming a bad field, 409 `e2ee_meeting` (end-to-end
        encrypted), `not_running`, `already_streaming` or `room_not_open`, 503
        `stream_unavailable` (no worker took it; the stream's row says `failed` and why).
    """
    refuse_server_media(meeting, "stream it", StreamRefused)
    urls = checked(rtmp_urls, hls, layout)
    occurrence = running_occurrence(meeting)
    if streaming_in(occurrence.room_name) is not None:
        raise StreamRefused(409, "already_streaming", "This meeting is streaming already.")
    row = _new_stream(meeting, occurrence, user, urls, hls, layout)
    db.session.commit()
    audit = {"meeting": meeting, "occurrence_key": occurrence.key}
    try:
        if current_app.config["RECORDER"] == "egress":
            _launch_egress(row)
        else:
            _launch(row)
    except StreamRefused as refused:
        audit_log.record(
            actor, "stream_started", AuditResult.FAILED, error=refused.message, **audit
        )
        db.session.commit()
        raise
    audit_log.record(actor, "stream_started", AuditResult.OK, **audit)
    db.session.commit()
    return row


def checked(rtmp_urls: list[str], hls: bool, layout: str) -> list[str]:
    """The destinations, checked. Raises: ApiError 422 naming the field."""
    if layout not in LAYOUTS:
        raise ApiError(422, "invalid_field", "layout: grid or speaker", "layout")
    if len(rtmp_urls) > MAX_DESTINATIONS:
        message = f"rtmp_urls: at most {MAX_DESTINATIONS} destinations"
        raise ApiError(422, "invalid_field", message, "rtmp_urls")
    if not rtmp_urls and not hls:
        message = "rtmp_urls: give a destination, or set hls for the watch page"
        raise ApiError(422, "invalid_field", message, "rtmp_urls")
    urls = [destinations.check(url, f"rtmp_urls.{n}") for n, url in enumerate(rtmp_urls)]
    if len(set(urls)) != len(urls):
        raise ApiError(422, "invalid_field", "rtmp_urls: a destination is repeated", "rtmp_urls")
    return urls


def _new_stream(
    meeting: Meeting, occurrence: Occurrence, user: User, urls: list[str], hls: bool, layout: str
) -> LiveStream:
    row = LiveStream(
        meeting_id=meeting.id,
        occurrence_key=occurrence.key,
        room_name=occurrence.room_name,
        job_id=f"SJ_{uuid.uuid4().hex}",
        layout=layout,
        status=None,
        started_by_id=user.id,
    )
    set_status(row, StreamStatus.STARTING)
    for url in urls:
        row.outputs.append(
            StreamOutput(
                output_id=f"o_{secrets.token_hex(4)}",
                kind="rtmp",
                destination_encrypted=destinations.encrypt(url),
                destination_hint=destinations.hint(url),
            )
        )
    if hls:
        row.outputs.append(StreamOutput(output_id="hls", kind="hls"))
    db.session.add(row)
    return row


def job_metadata(row: LiveStream) -> dict:
    """The dispatch metadata the stream job parses (meetings/worker/streamer.py): the only
    place a destination is decrypted."""
    outputs = [
        {
            "output_id": o.output_id,
            "kind": "rtmp",
            "url": destinations.decrypt(o.destination_encrypted),
        }
        if o.kind == "rtmp"
        else {"output_id": o.output_id, "kind": "hls"}
        for o in row.outputs
    ]
    return {"job_id": row.job_id, "room": row.room_name, "layout": row.layout, "outputs": outputs}


def _launch(row: LiveStream) -> None:
    """Dispatch and wait until a worker takes the job. Raises: StreamRefused."""
    seconds = current_app.config["RECORDER_HEARTBEAT_SECONDS"]
    if not any_worker_serving(AGENT_NAME, timedelta(seconds=seconds)):
        _fail(row, NO_WORKER)
        raise StreamRefused(503, "stream_unavailable", NO_WORKER)
    try:
        row.dispatch_id = gateway.dispatch_agent(row.room_name, AGENT_NAME, job_metadata(row))
    except gateway.RoomNotFound as error:
        message = "Nobody is in the meeting yet: join it, then start streaming."
        _fail(row, message)
        raise StreamRefused(409, "room_not_open", message) from error
    except gateway.LiveKitError as error:
        message = f"The media server did not answer: {str(error) or type(error).__name__}"
        _fail(row, message)
        raise StreamRefused(503, "stream_unavailable", message) from error
    db.session.commit()  # from now on, stopping withdraws this dispatch
    identity = IDENTITY_PREFIX + row.job_id
    seconds = current_app.config["RECORDER_ACCEPT_SECONDS"]
    try:
        taken = gateway.wait_for_job(row.room_name, row.dispatch_id, seconds, identity=identity)
    except gateway.LiveKitError:
        taken = None
    if taken is None:
        withdraw(row)
        _fail(row, NOT_TAKEN)
        raise StreamRefused(503, "stream_unavailable", NOT_TAKEN)


def _launch_egress(row: LiveStream) -> None:
    """RECORDER=egress: LiveKit Egress streams the room; its webhooks move the outputs on
    (worker_events.apply_egress). Raises: StreamRefused 503 with the server's reason."""
    rtmp = [destinations.decrypt(o.destination_encrypted) for o in row.outputs if o.kind == "rtmp"]
    hls = f"{egress_streams_dir()}/{row.job_id}/seg" if row.hls is not None else None
    try:
        egress = gateway.start_room_composite_stream(
            row.room_name, layout=row.layout, rtmp_urls=rtmp, hls_prefix=hls
        )
    except gateway.LiveKitError as error:
        reason = f"LiveKit Egress did not start the stream: {str(error) or type(error).__name__}"
        _fail(row, reason)
        raise StreamRefused(503, "stream_unavailable", reason) from error
    row.egress_id = egress.egress_id
    db.session.commit()


def egress_streams_dir() -> str:
    """STREAMS_DIR as the egress service sees it (a shared volume may be mounted elsewhere)."""
    config = current_app.config
    return (config["STREAMS_EGRESS_DIR"] or config["STREAMS_DIR"]).rstrip("/")


def _fail(row: LiveStream, reason: str) -> None:
    end(row, StreamStatus.FAILED, reason)
    db.session.commit()
    log.warning("stream %s of %s failed: %s", row.job_id, row.room_name, reason)


def end(row: LiveStream, status: StreamStatus, reason: str | None = None) -> None:
    """The stream is over; outputs still going end with it. Does not commit."""
    row.reason, row.ended_at = reason, row.ended_at or utcnow()
    set_status(row, status)
    for output in row.outputs:
        if output.status in (OutputStatus.STARTING, OutputStatus.LIVE):
            output.status = OutputStatus.ENDED


def set_status(row: LiveStream, status: StreamStatus) -> None:
    """Everyone in the room learns it from the room's metadata (`{"stream": status}`, the
    room's "Live" sign), once the change is committed. Does not commit."""
    if row.status == status:
        return
    row.status = status
    room_notices.announce_after_commit(row.room_name, "stream", status.value)


def stop(meeting: Meeting, actor: Actor) -> LiveStream:
    """Stop the running occurrence's stream. Raises: StreamRefused 409 `not_streaming`."""
    occurrence = running_occurrence(meeting)
    row = streaming_in(occurrence.room_name)
    if row is None:
        raise StreamRefused(409, "not_streaming", "This meeting is not streaming.")
    end(row, StreamStatus.ENDED, "stopped by a host")
    audit_log.record(
        actor, "stream_stopped", AuditResult.OK, meeting=meeting, occurrence_key=occurrence.key
    )
    db.session.commit()
    withdraw(row)
    return row


def withdraw(row: LiveStream) -> None:
    """Withdraw the job's dispatch (the server ends the job), or stop its egress; quietly."""
    if row.egress_id:
        try:
            gateway.stop_egress(row.egress_id)
        except gateway.LiveKitError as error:
            log.info("stream %s: egress not stopped: %s", row.job_id, error)
        return
    if not row.dispatch_id:
        return
    try:
        gateway.delete_dispatch(row.room_name, row.dispatch_id)
    except gateway.LiveKitError as error:
        log.info("stream %s: dispatch not withdrawn: %s", row.job_id, error)
