"""The media worker's `meetings-ingest` job: one per ingest while the meeting's room is open.

The job's parameters travel as dispatch metadata (the contract: meetings/worker/ingest.py):
our job id (`IJ_<hex>`, which the worker's events carry back), the room, the ingest's id,
name, port and the key's SHA-256 (never the key). A host joining starts the jobs of the
meeting's ingests, and so does making an ingest while the meeting runs; the dispatch runs in
the background, so neither waits for the media server. Withdrawing the dispatch ends a job.
"""

import logging
import uuid
from datetime import timedelta

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.background import run_in_background
from meetings.extensions import db
from meetings.models import Ingest, IngestStatus, Meeting, any_worker_serving
from meetings.rooms import signals as room_signals
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window
from meetings.streaming import livekit_ingress
from meetings.streaming.ingests import active_ingests, withdraw

log = logging.getLogger(__name__)

AGENT_NAME = "meetings-ingest"
NO_WORKER = "No media worker is running to take the stream. Ask your operator."


def job_metadata(ingest: Ingest) -> dict:
    """The dispatch metadata the ingest job parses (meetings/worker/ingest.py)."""
    return {
        "job_id": ingest.job_id,
        "room": ingest.room_name,
        "ingest_id": ingest.public_id,
        "name": ingest.name,
        "rtmp_port": ingest.rtmp_port,
        "stream_key_sha256": ingest.key_sha256,
    }


def start_in_room(ingest: Ingest, room_name: str) -> None:
    """Give the ingest a new job in this room (`starting`) and dispatch it in the background.
    A job already running for this room is left as it is. A LiveKit ingress follows the room
    instead (INGRESS=livekit)."""
    if ingest.ingress_id:
        livekit_ingress.follow(ingest, room_name)
        return
    if ingest.status.job_running and ingest.room_name == room_name:
        return
    ingest.job_id = f"IJ_{uuid.uuid4().hex}"
    ingest.room_name = room_name
    ingest.dispatch_id = None
    ingest.status, ingest.reason = IngestStatus.STARTING, None
    db.session.commit()
    run_in_background(f"ingest-{ingest.id}", _dispatch, ingest.id, ingest.job_id)


def start_if_running(meeting: Meeting, ingest: Ingest) -> None:
    """A new ingest of a meeting that runs now starts at once (its room may be open)."""
    schedule = window(meeting, early_access=True)
    if schedule.phase == Phase.OPEN:
        start_in_room(ingest, schedule.occurrence.room_name)


def _dispatch(ingest_id: int, job_id: str) -> None:
    ingest = db.session.get(Ingest, ingest_id)
    if ingest is None or ingest.job_id != job_id:
        return  # revoked or started again meanwhile
    seconds = current_app.config["RECORDER_HEARTBEAT_SECONDS"]
    if not any_worker_serving(AGENT_NAME, timedelta(seconds=seconds)):
        _set(ingest, IngestStatus.FAILED, NO_WORKER)
        return
    room_name = ingest.room_name or ""
    try:
        dispatch_id = gateway.dispatch_agent(room_name, AGENT_NAME, job_metadata(ingest))
    except gateway.RoomNotFound:  # not open yet, or closed meanwhile: a host's join starts it
        ingest.status = IngestStatus.IDLE
        db.session.commit()
        return
    except gateway.LiveKitError as error:
        reason = f"The media server did not answer: {str(error) or type(error).__name__}"
        _set(ingest, IngestStatus.FAILED, reason)
        return
    db.session.refresh(ingest)
    if ingest.job_id != job_id:  # revoked while the server answered: no job may stay
        withdraw(room_name, dispatch_id)
        return
    ingest.dispatch_id = dispatch_id
    db.session.commit()


def _set(ingest: Ingest, status: IngestStatus, reason: str) -> None:
    ingest.status, ingest.reason = status, reason
    db.session.commit()
    log.warning("ingest %s: %s", ingest.public_id, reason)


@room_signals.host_joining.connect
def _on_host_joining(meeting: Meeting, occurrence: Occurrence, **_extra) -> None:
    """Never raises: joining matters more than an encoder's stream."""
    if meeting.e2ee:  # ingests made before encryption was turned on would publish in clear
        return
    try:
        for ingest in active_ingests(meeting):
            start_in_room(ingest, occurrence.room_name)
    except Exception:
        db.session.rollback()
        log.exception("ingests of %s did not start", occurrence.room_name)
