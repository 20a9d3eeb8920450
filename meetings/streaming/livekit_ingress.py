"""INGRESS=livekit: LiveKit Ingress receives an ingest's encoder instead of the media worker.

The ingress is made with the ingest and publishes into the room of the meeting's current or
next occurrence; a host joining a later occurrence moves it to that room. The stream key is
LiveKit's, shown to the host once like ours (only its SHA-256 and last four characters are
kept); the URL is the one LiveKit gives. Ingress webhooks say when the encoder publishes.
"""

import hashlib
import logging

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import Ingest, IngestStatus, Meeting
from meetings.scheduling.window import window

log = logging.getLogger(__name__)

STATES = {
    "publishing": IngestStatus.LIVE,
    "buffering": IngestStatus.LIVE,
    "inactive": IngestStatus.WAITING,
    "complete": IngestStatus.WAITING,
    "error": IngestStatus.FAILED,
}


def attach(ingest: Ingest, meeting: Meeting) -> str:
    """Make the ingest's LiveKit ingress; returns its stream key (for the host, this once).

    Raises: ApiError 409 `meeting_over` when no occurrence is left, 503 `ingest_unavailable`
        with the server's reason.
    """
    occurrence = window(meeting).occurrence
    if occurrence is None:
        raise ApiError(409, "meeting_over", "This meeting has no occurrence left to stream into.")
    try:
        ingress = gateway.create_ingress(
            occurrence.room_name, name=ingest.name, identity=f"ingest-{ingest.public_id}"
        )
    except gateway.LiveKitError as error:
        message = f"LiveKit Ingress did not make the ingest: {error}"
        raise ApiError(503, "ingest_unavailable", message) from error
    ingest.ingress_id, ingest.ingress_url = ingress.ingress_id, ingress.url
    ingest.room_name = ingress.room_name
    ingest.key_sha256 = hashlib.sha256(ingress.stream_key.encode()).hexdigest()
    ingest.key_hint = ingress.stream_key[-4:]
    ingest.status = IngestStatus.WAITING
    return ingress.stream_key


def follow(ingest: Ingest, room_name: str) -> None:
    """The occurrence in `room_name` is open: the ingress publishes there from now on."""
    if ingest.room_name == room_name:
        return
    try:
        gateway.move_ingress(ingest.ingress_id, room_name)
    except gateway.LiveKitError as error:
        ingest.status, ingest.reason = IngestStatus.FAILED, f"LiveKit Ingress: {error}"[:500]
    else:
        ingest.room_name, ingest.status, ingest.reason = room_name, IngestStatus.WAITING, None
    db.session.commit()


def delete(ingress_id: str) -> None:
    """Quietly: an ingress already gone is what was wanted."""
    try:
        gateway.delete_ingress(ingress_id)
    except gateway.LiveKitError as error:
        log.info("ingress %s not deleted: %s", ingress_id, error)


def apply_webhook(event: gateway.WebhookEvent) -> bool:
    """ingress_started / ingress_ended: the encoder publishes, stopped, or failed."""
    state = gateway.ingress_state_of(event)
    if state is None:
        return False
    ingress_id, status, error = state
    ingest = db.session.scalar(
        sa.select(Ingest).where(Ingest.ingress_id == ingress_id, Ingest.revoked_at.is_(None))
    )
    if ingest is None or status not in STATES:
        return False
    ingest.status = STATES[status]
    ingest.reason = error[:500] if ingest.status == IngestStatus.FAILED and error else None
    return True
