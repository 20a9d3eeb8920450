"""The built-in recorder (RECORDER=builtin): the media worker's `meetings-recorder` job.

Starting dispatches the job through the gateway with its parameters as metadata (the
contract is `RecordingJob.parse` in meetings/worker/recorder.py): our `job_id` (a uuid
stored on the row, which the worker's events carry back), the room, the file name, the
layout, audio only, and the storage kind. Stopping withdraws the dispatch: the server then
terminates the job, and the worker finishes the file and reports `recording_ended`.

A start fails at once when no worker serving the recorder has reported in recently (its
`worker_online` heartbeat, kept in media_workers), and within RECORDER_ACCEPT_SECONDS when
no worker takes the job, instead of leaving a recording that never starts.
"""

import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import MediaWorker, Recording, RecordingStatus, any_worker_serving, utcnow
from meetings.recordings import explain

log = logging.getLogger(__name__)

AGENT_NAME = "meetings-recorder"
HEARTBEAT_KIND = "worker_online"
FORGET_WORKERS_AFTER = timedelta(days=1)


class NotStarted(Exception):
    """The worker did not take the job; the row is `failed` with the reason, the message is
    for the host."""


def new_job_id() -> str:
    return f"RJ_{uuid.uuid4().hex}"


def job_metadata(row: Recording) -> dict:
    """The dispatch metadata the recorder parses (meetings/worker/recorder.py)."""
    return {
        "job_id": row.job_id,
        "room": row.room_name,
        "file_name": row.file_name,
        "layout": row.layout.value,
        "audio_only": row.audio_only,
        "storage": row.storage.value,
    }


def worker_online() -> bool:
    """Whether a worker serving the recorder reported in within RECORDER_HEARTBEAT_SECONDS."""
    seconds = current_app.config["RECORDER_HEARTBEAT_SECONDS"]
    return any_worker_serving(AGENT_NAME, timedelta(seconds=seconds))


def workers_seen(since: timedelta) -> list[MediaWorker]:
    """Workers that reported in within `since`, the most recent first (the ops page)."""
    return list(
        db.session.scalars(
            sa.select(MediaWorker)
            .where(MediaWorker.last_seen_at >= utcnow() - since)
            .order_by(MediaWorker.last_seen_at.desc())
        )
    )


def record_heartbeat(event: gateway.WorkerEvent) -> None:
    """Note that the worker which sent this `worker_online` event is alive; commits."""
    data = event.data
    worker_id = str(data.get("worker_id") or "")[:200]
    if not worker_id:
        return
    worker = db.session.get(MediaWorker, worker_id) or MediaWorker(worker_id=worker_id)
    names = data.get("agent_names")
    worker.agent_names = (
        " ".join(str(name) for name in names)[:500] if isinstance(names, list) else ""
    )
    worker.jobs_running = _count(data.get("jobs_running"))
    worker.max_jobs = _count(data.get("max_jobs"))
    worker.last_seen_at = utcnow()
    db.session.add(worker)
    # Each worker process is a row (host-pid): forget those gone for a day.
    db.session.execute(
        sa.delete(MediaWorker).where(MediaWorker.last_seen_at < utcnow() - FORGET_WORKERS_AFTER)
    )
    db.session.commit()


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def launch(row: Recording) -> Recording:
    """Dispatch the recorder job and wait (bounded) until a worker takes it.

    Raises:
        NotStarted: no worker is running or none took the job (the row is `failed`).
        gateway.LiveKitError: the server refused the dispatch (the caller fails the row).
    """
    if not worker_online():
        _fail(row, explain.NO_RECORDER)
        raise NotStarted(explain.NO_RECORDER_RUNNING)
    dispatch_id = gateway.dispatch_agent(row.room_name, AGENT_NAME, job_metadata(row))
    db.session.refresh(row)  # the worker's first events may have been applied meanwhile
    row.dispatch_id = dispatch_id
    db.session.commit()
    try:
        taken = gateway.wait_for_job(
            row.room_name,
            dispatch_id,
            current_app.config["RECORDER_ACCEPT_SECONDS"],
            identity=f"recorder-{row.job_id}",  # as the worker joins (meetings/worker/jobs.py)
        )
    except gateway.LiveKitError as error:
        log.warning("recording %s: could not follow dispatch %s: %s", row.id, dispatch_id, error)
        taken = None
    db.session.refresh(row)
    if taken is None:
        withdraw(row)
        if not row.status.is_final:  # a job_rejected event may have said why already
            _fail(row, explain.NOT_TAKEN)
        raise NotStarted(explain.NO_RECORDER_RUNNING)
    if row.status.rank < RecordingStatus.STARTING.rank:
        row.status = RecordingStatus.STARTING
    return row


def stop(row: Recording) -> None:
    """Withdraw the dispatch: the server terminates the job and the worker finishes the file.

    Raises: gateway.LiveKitUnavailable.
    """
    try:
        gateway.delete_dispatch(row.room_name, row.dispatch_id)
    except gateway.RoomNotFound:
        # The room or the dispatch is gone: the recorder stops on its own and reports.
        log.info("recording %s: dispatch %s was already gone", row.id, row.dispatch_id)


def withdraw(row: Recording) -> None:
    """Stop, quietly: a job nobody took must not start later by surprise."""
    try:
        stop(row)
    except gateway.LiveKitError as error:
        log.warning("recording %s: could not withdraw its dispatch: %s", row.id, error)


def _fail(row: Recording, reason: str) -> None:
    row.status = RecordingStatus.FAILED
    row.error = reason
    row.ended_at = utcnow()
    db.session.commit()
    log.warning("recording %s of %s could not start: %s", row.id, row.room_name, reason)
