"""The captioner: the media worker's `meetings-captions` job, dispatched through the gateway.

The job's parameters travel as dispatch metadata (the contract is meetings/worker/
captioner.py): our job id (`CJ_<hex>`, stored on the Transcript, which the worker's events
carry back), the room, the language and the transcript's origin (segment times count from
there). Withdrawing the dispatch ends the job.

A launch fails at once when no worker serving captions has reported in recently (its
`worker_online` heartbeat, kept in media_workers), and within RECORDER_ACCEPT_SECONDS when
no worker takes the job, instead of leaving captions that never start. These are the media
worker's settings, shared with the built-in recorder.
"""

import logging
import threading
import uuid
from datetime import timedelta

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.background import run_in_background
from meetings.captions.state import NO_CAPTIONER, NOT_TAKEN, ROOM_CLOSED, set_status
from meetings.extensions import db
from meetings.models import CaptionsStatus, Transcript, any_worker_serving

log = logging.getLogger(__name__)

AGENT_NAME = "meetings-captions"
# The captioner's participant identity: this prefix and our job id (meetings/worker/jobs.py).
IDENTITY_PREFIX = "captions-"
JOB_PREFIX = "CJ_"


class NotStarted(Exception):
    """The captioner did not start. `code` says why for the API (`captions_unavailable`, or
    `room_not_open` when the room is not on the server); the row says it already."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def new_job_id() -> str:
    return f"{JOB_PREFIX}{uuid.uuid4().hex}"


def job_metadata(row: Transcript) -> dict:
    """The dispatch metadata the captioner parses (meetings/worker/captioner.py)."""
    return {
        "job_id": row.job_id,
        "room": row.room_name,
        "language": row.language,
        "occurrence_started_at": row.origin_at.timestamp(),
    }


def worker_online() -> bool:
    """Whether a worker serving captions reported in within RECORDER_HEARTBEAT_SECONDS."""
    seconds = current_app.config["RECORDER_HEARTBEAT_SECONDS"]
    return any_worker_serving(AGENT_NAME, timedelta(seconds=seconds))


def _still_wanted(row: Transcript, job_id: str) -> bool:
    """After a wait: is this job still the one captions want? False when a host turned them
    off or another start replaced the job (its dispatch is then withdrawn by the caller).

    Raises: NotStarted when the job failed meanwhile (the worker rejected it).
    """
    db.session.refresh(row)  # the worker's events or a host may have changed it meanwhile
    if row.job_id != job_id or row.status == CaptionsStatus.OFF:
        return False
    if row.status == CaptionsStatus.FAILED:
        raise NotStarted("captions_unavailable", row.reason or NOT_TAKEN)
    return True


def launch(row: Transcript) -> Transcript:
    """Dispatch the captioner for the row's current job (`starting`) and wait (bounded)
    until a worker takes it. Returns quietly when captions were turned off meanwhile.

    Raises:
        NotStarted: no worker is running, none took the job, the server did not answer
            (the row is `failed` with the reason), or the room is not on the server (the
            row is `off`, ROOM_CLOSED).
    """
    job_id = row.job_id
    if not worker_online():
        _fail(row, NO_CAPTIONER)
        raise NotStarted("captions_unavailable", NO_CAPTIONER)
    try:
        dispatch_id = gateway.dispatch_agent(row.room_name, AGENT_NAME, job_metadata(row))
    except gateway.RoomNotFound as error:
        if _still_wanted(row, job_id):
            set_status(row, CaptionsStatus.OFF, ROOM_CLOSED)
            db.session.commit()
        raise NotStarted("room_not_open", ROOM_CLOSED) from error
    except gateway.LiveKitError as error:
        reason = f"The media server did not answer: {str(error) or type(error).__name__}"
        if _still_wanted(row, job_id):
            _fail(row, reason)
        raise NotStarted("captions_unavailable", reason) from error
    try:
        wanted = _still_wanted(row, job_id)
    except NotStarted:
        _withdraw(row.room_name, dispatch_id)
        raise
    if not wanted:
        _withdraw(row.room_name, dispatch_id)
        return row
    row.dispatch_id = dispatch_id
    db.session.commit()  # from now on, turning captions off withdraws this dispatch
    try:
        seconds = current_app.config["RECORDER_ACCEPT_SECONDS"]
        # The identity the worker joins as (meetings/worker/jobs.py).
        taken = gateway.wait_for_job(
            row.room_name, dispatch_id, seconds, identity=IDENTITY_PREFIX + job_id
        )
    except gateway.LiveKitError as error:
        log.warning(
            "captions of %s: dispatch %s not followed: %s", row.room_name, dispatch_id, error
        )
        taken = None
    if taken is not None:
        return row
    _withdraw(row.room_name, dispatch_id)  # a job nobody took must not start later by surprise
    if _still_wanted(row, job_id):  # (a job_rejected event may have failed it already)
        _fail(row, NOT_TAKEN)
        raise NotStarted("captions_unavailable", NOT_TAKEN)
    return row


def withdraw(row: Transcript) -> None:
    """Withdraw the row's dispatch: the server ends the captioner's job.

    Raises: gateway.LiveKitUnavailable.
    """
    if not row.dispatch_id:
        return
    try:
        gateway.delete_dispatch(row.room_name, row.dispatch_id)
    except gateway.RoomNotFound:
        # The room or the dispatch is gone, and the captioner with it.
        log.info("captions of %s: dispatch %s was already gone", row.room_name, row.dispatch_id)


def _withdraw(room_name: str, dispatch_id: str) -> None:
    """Withdraw, quietly."""
    try:
        gateway.delete_dispatch(room_name, dispatch_id)
    except gateway.LiveKitError as error:
        log.info("captions of %s: dispatch %s not withdrawn: %s", room_name, dispatch_id, error)


def _fail(row: Transcript, reason: str) -> None:
    set_status(row, CaptionsStatus.FAILED, reason)
    db.session.commit()
    log.warning("captions of %s could not start: %s", row.room_name, reason)


# ---- in the background: a host joining, a lost captioner -----------------------------------


def launch_in_background(
    transcript_id: int, job_id: str, replaces: str | None = None
) -> threading.Thread:
    """Launch the job in a thread: the server may take seconds, and whoever asked (a host
    joining, the webhook deriver) must not wait. Its outcome is on the row. `replaces`: the
    dispatch of a lost captioner, withdrawn first so that the server never runs two."""
    name = f"captions-{transcript_id}"
    return run_in_background(name, _launch, transcript_id, job_id, replaces)


def _launch(transcript_id: int, job_id: str, replaces: str | None) -> None:
    row = db.session.get(Transcript, transcript_id)
    if row is not None and replaces:
        _withdraw(row.room_name, replaces)
    if row is None or row.job_id != job_id or not row.status.is_on:
        return
    try:
        launch(row)
    except NotStarted as refused:
        log.warning("captions %s did not start: %s", transcript_id, refused.reason)
