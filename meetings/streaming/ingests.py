"""Ingests of a meeting: made and revoked by its hosts, each with its own RTMP port.

The stream key is returned once, when the ingest is made; only its SHA-256 and last four
characters are kept. Revoking frees the port and ends a running job, so the key stops
working at once.
"""

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from meetings import audit_log
from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.audit_log import Actor
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import AuditResult, Ingest, IngestStatus, Meeting, User, utcnow
from meetings.scheduling.encryption import refuse_server_media
from meetings.streaming import livekit_ingress

log = logging.getLogger(__name__)

MAX_NAME = 80
RTMP_APPLICATION = "live"  # the path encoders publish to (meetings/worker/ingest.py)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class NewIngest:
    ingest: Ingest
    stream_key: str  # shown to the host this once


def check_host(meeting: Meeting, user: User, actor: Actor, action: str) -> None:
    """Only the meeting's hosts and co-hosts manage its ingests: an ingest puts whatever its
    encoder sends into the meeting.

    Raises: ApiError 403 for anyone else (audited, committed).
    """
    if not meeting.is_host(user):
        audit_log.record(actor, action, AuditResult.REFUSED, meeting=meeting)
        db.session.commit()
        raise ApiError(403, "forbidden", "Only the meeting's hosts may manage its ingests.")


def active_ingests(meeting: Meeting) -> list[Ingest]:
    query = (
        sa.select(Ingest)
        .where(Ingest.meeting_id == meeting.id, Ingest.revoked_at.is_(None))
        .order_by(Ingest.created_at, Ingest.id)
    )
    return list(db.session.scalars(query))


def find(meeting: Meeting, public_id: str) -> Ingest:
    """Raises: ApiError 404 for an unknown or revoked ingest of this meeting."""
    ingest = db.session.scalar(
        sa.select(Ingest).where(
            Ingest.meeting_id == meeting.id,
            Ingest.public_id == public_id,
            Ingest.revoked_at.is_(None),
        )
    )
    if ingest is None:
        raise ApiError(404, "not_found", f"This meeting has no ingest {public_id!r}.")
    return ingest


def clean_name(name: str) -> str:
    """Raises: ApiError 422 naming the field."""
    name = _CONTROL.sub("", name).strip()
    if not name:
        raise ApiError(422, "invalid_field", "name: give the participant a name", "name")
    if len(name) > MAX_NAME:
        message = f"name: at most {MAX_NAME} characters"
        raise ApiError(422, "invalid_field", message, "name")
    return name


def create(meeting: Meeting, user: User, actor: Actor, name: str) -> NewIngest:
    """Make an ingest on the lowest free port (INGRESS=livekit: a LiveKit ingress); the caller
    starts its job if the room is open.

    Raises: ApiError 422 for a bad name, 409 `e2ee_meeting` (end-to-end encrypted: what it
        would publish is not encrypted), `no_ingest_port` when every port is taken; with
        LiveKit Ingress 409 `meeting_over` or 503 `ingest_unavailable`.
    """
    refuse_server_media(meeting, "take a stream into it")
    name = clean_name(name)
    key = secrets.token_urlsafe(24)
    ingest = Ingest(
        public_id=f"in_{secrets.token_urlsafe(9)}",
        meeting_id=meeting.id,
        name=name,
        key_sha256=hashlib.sha256(key.encode()).hexdigest(),
        key_hint=key[-4:],
        status=IngestStatus.IDLE,
        created_by_id=user.id,
    )
    if current_app.config["INGRESS"] == "livekit":
        key = livekit_ingress.attach(ingest, meeting)
        db.session.add(ingest)
    else:
        _take_a_port(ingest)
    audit_log.record(actor, "ingest_created", AuditResult.OK, meeting=meeting, target=name)
    db.session.commit()
    return NewIngest(ingest, key)


def _take_a_port(ingest: Ingest) -> None:
    """Adds the ingest on a free port. Two hosts at once: the port's unique index lets one
    have it, and the other tries the next.

    Raises: ApiError 409 when none is free.
    """
    ports = port_range()
    taken = set(db.session.scalars(sa.select(Ingest.rtmp_port).where(Ingest.rtmp_port.in_(ports))))
    for port in (p for p in ports if p not in taken):
        ingest.rtmp_port = port
        try:
            with db.session.begin_nested():
                db.session.add(ingest)
            return
        except IntegrityError:
            continue
    message = (
        f"All {len(ports)} ports for encoders are in use. Remove an encoder you no longer "
        "use, or ask your operator for more (INGEST_RTMP_PORTS)."
    )
    raise ApiError(409, "no_ingest_port", message)


def revoke(meeting: Meeting, ingest: Ingest, actor: Actor) -> None:
    """Revoke: the key stops working, the port is freed, a running job ends."""
    ingest.revoked_at = utcnow()
    ingest.rtmp_port = None
    ingest.status = IngestStatus.IDLE
    room_name, dispatch_id, ingress_id = ingest.room_name, ingest.dispatch_id, ingest.ingress_id
    ingest.job_id = ingest.dispatch_id = ingest.ingress_id = None
    audit_log.record(actor, "ingest_revoked", AuditResult.OK, meeting=meeting, target=ingest.name)
    if room_name and dispatch_id:
        after_commit(lambda: withdraw(room_name, dispatch_id))
    if ingress_id:
        after_commit(lambda: livekit_ingress.delete(ingress_id))
    db.session.commit()


def withdraw(room_name: str, dispatch_id: str) -> None:
    """Withdraw a job's dispatch (the server ends the job); quietly, since a room that is
    gone took the job with it."""
    try:
        gateway.delete_dispatch(room_name, dispatch_id)
    except gateway.LiveKitError as error:
        log.info("ingest job %s in %s not withdrawn: %s", dispatch_id, room_name, error)


def port_range() -> list[int]:
    """INGEST_RTMP_PORTS, "first-last" (or one port)."""
    first, _, last = current_app.config["INGEST_RTMP_PORTS"].partition("-")
    return list(range(int(first), int(last or first) + 1))


def rtmp_url(ingest: Ingest) -> str:
    """What the encoder's "Server" field gets (the key goes in "Stream key")."""
    if ingest.ingress_url:
        return ingest.ingress_url
    host = (
        current_app.config["INGEST_RTMP_HOST"]
        or urlsplit(current_app.config["PUBLIC_URL"]).hostname
    )
    return f"rtmp://{host}:{ingest.rtmp_port}/{RTMP_APPLICATION}"


def ingest_json(ingest: Ingest, stream_key: str | None = None) -> dict:
    answer = {
        "ingest_id": ingest.public_id,
        "name": ingest.name,
        "rtmp_url": rtmp_url(ingest),
        "stream_key_hint": f"…{ingest.key_hint}",
        "status": ingest.status.value,
        "reason": ingest.reason or "",
        "refused_count": ingest.refused_count,
        "created_at": ingest.created_at.isoformat(),
    }
    if stream_key is not None:
        answer["stream_key"] = stream_key
    return answer
