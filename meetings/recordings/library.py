"""The recordings library: who may watch what, the list, sharing, legal hold, deletion and
retention. Starting, stopping and following recordings is in services.py."""

import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import audit_log
from meetings.audit_log import Actor
from meetings.extensions import db
from meetings.models import (
    RUNNING_STATUSES,
    AuditResult,
    Meeting,
    Recording,
    RecordingAccess,
    RecordingParticipant,
    RecordingStatus,
    Role,
    User,
    hash_api_token,
    new_secret,
    utcnow,
)
from meetings.models.meetings import meeting_co_hosts
from meetings.recordings import storage
from meetings.recordings.lifecycle import RecordingRefused

log = logging.getLogger(__name__)


# ---- who may see what ---------------------------------------------------------------------


def may_manage_recording(user, recording: Recording) -> bool:
    return user is not None and recording.meeting.is_managed_by(user)


def was_present(user, recording: Recording) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return any(p.identity == user.livekit_identity for p in recording.participants)


def may_watch(user, recording: Recording, share_token: str | None = None) -> bool:
    """Hosts always; present signed-in participants from `participants` on; link holders."""
    if may_manage_recording(user, recording):
        return True
    if recording.access == RecordingAccess.HOSTS:
        return False
    if was_present(user, recording):
        return True
    return recording.access == RecordingAccess.LINK and share_token_valid(recording, share_token)


def share_token_valid(recording: Recording, token: str | None) -> bool:
    if not token or recording.share_token_hash is None or recording.share_expires_at is None:
        return False
    if utcnow() >= recording.share_expires_at:
        return False
    return hmac.compare_digest(hash_api_token(token), recording.share_token_hash)


def by_share_token(token: str) -> Recording | None:
    recording = db.session.scalar(
        sa.select(Recording).where(Recording.share_token_hash == hash_api_token(token))
    )
    if recording is None or not share_token_valid(recording, token):
        return None
    if recording.access != RecordingAccess.LINK:
        return None
    return recording


@dataclass(frozen=True)
class RecordingFilter:
    meeting: str = ""  # slug
    host: str = ""  # email, part of it
    status: RecordingStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "newest"


SORTS = {
    "newest": (Recording.requested_at.desc(),),
    "oldest": (Recording.requested_at.asc(),),
    "longest": (sa.func.coalesce(Recording.duration_seconds, 0).desc(),),
    "largest": (sa.func.coalesce(Recording.size_bytes, 0).desc(),),
}


def visible_to(user: User, wanted: RecordingFilter, limit: int = 500) -> list[Recording]:
    """Ops see every recording; hosts their meetings'; others those shared with them."""
    query = sa.select(Recording).join(Meeting, Recording.meeting_id == Meeting.id)
    if user.role != Role.OPS:
        co_hosted = sa.select(meeting_co_hosts.c.meeting_id).where(
            meeting_co_hosts.c.user_id == user.id
        )
        present = sa.select(RecordingParticipant.recording_id).where(
            RecordingParticipant.identity == user.livekit_identity
        )
        shared = sa.and_(Recording.access != RecordingAccess.HOSTS, Recording.id.in_(present))
        query = query.where(sa.or_(Meeting.host_id == user.id, Meeting.id.in_(co_hosted), shared))
    if wanted.meeting:
        query = query.where(Meeting.slug == wanted.meeting)
    if wanted.host:
        hosts = sa.select(User.id).where(User.email.contains(wanted.host.lower()))
        query = query.where(Meeting.host_id.in_(hosts))
    if wanted.status is not None:
        query = query.where(Recording.status == wanted.status)
    if wanted.since is not None:
        query = query.where(Recording.requested_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Recording.requested_at < wanted.until)
    order = SORTS.get(wanted.sort, SORTS["newest"])
    return list(db.session.scalars(query.order_by(*order, Recording.id.desc()).limit(limit)))


# ---- sharing, legal hold, deletion, retention ---------------------------------------------


def has_nothing_to_keep(recording: Recording) -> bool:
    """It ended without a file: nobody can watch it, so sharing and holding mean nothing.

    A running recording is not in this case: its hosts may choose who watches in advance.
    """
    return recording.status.is_final and not recording.has_file


NOTHING_TO_KEEP = "This recording has no file: there is nothing to share or to hold."


def set_access(recording: Recording, user, access: RecordingAccess) -> str | None:
    """Change who may watch; for `link`, returns the new secret link token (shown once).

    Raises: RecordingRefused 403 for anyone but the meeting's hosts and operators, 409 for a
    recording without a file.
    """
    if not may_manage_recording(user, recording):
        raise RecordingRefused(403, "forbidden", "Only the meeting's hosts may share it.")
    if has_nothing_to_keep(recording):
        raise RecordingRefused(409, "no_file", NOTHING_TO_KEEP)
    recording.access = access
    clear = None
    if access == RecordingAccess.LINK:
        clear, recording.share_token_hash = new_secret("rec_")
        days = current_app.config["RECORDING_LINK_DAYS"]
        recording.share_expires_at = utcnow() + timedelta(days=days)
    else:
        recording.share_token_hash = None
        recording.share_expires_at = None
    db.session.commit()
    return clear


def set_legal_hold(recording: Recording, user, hold: bool, actor) -> None:
    """Operators only: a recording on hold cannot be deleted, not even by retention.

    Raises: RecordingRefused 403 for anyone else, 409 for a recording without a file.
    """
    if user is None or user.role != Role.OPS:
        raise RecordingRefused(403, "forbidden", "Only operators may place a legal hold.")
    if hold and has_nothing_to_keep(recording):
        raise RecordingRefused(409, "no_file", NOTHING_TO_KEEP)
    recording.legal_hold = hold
    audit_log.record(
        actor,
        "legal_hold" if hold else "release_hold",
        AuditResult.OK,
        meeting=recording.meeting,
        occurrence_key=recording.occurrence_key,
        target=f"recording {recording.id}",
    )
    db.session.commit()


def delete(recording: Recording, user, actor) -> None:
    """Delete the file and the row; written to the audit log either way.

    Raises:
        RecordingRefused: 403 not a host, 409 on legal hold or still running,
            503 the storage did not delete the file (the row is kept).
    """
    meeting, key, target = recording.meeting, recording.occurrence_key, f"recording {recording.id}"
    if user is not None and not may_manage_recording(user, recording):
        audit_log.record(
            actor, "delete_recording", AuditResult.REFUSED, meeting=meeting, target=target
        )
        db.session.commit()
        raise RecordingRefused(403, "forbidden", "Only the meeting's hosts may delete it.")
    if recording.legal_hold:
        audit_log.record(
            actor,
            "delete_recording",
            AuditResult.REFUSED,
            meeting=meeting,
            occurrence_key=key,
            target=target,
            error="legal hold",
        )
        db.session.commit()
        raise RecordingRefused(409, "legal_hold", "This recording is on legal hold.")
    if recording.status in RUNNING_STATUSES or recording.status == RecordingStatus.ENDING:
        raise RecordingRefused(409, "still_recording", "Stop the recording before deleting it.")
    detail = recording.file_name
    try:
        if recording.file_name:
            storage.of(recording).delete(recording.file_name)
    except (storage.StorageUnavailable, storage.UnsafeFileName, OSError) as error:
        db.session.rollback()
        audit_log.record(
            actor,
            "delete_recording",
            AuditResult.FAILED,
            meeting=meeting,
            occurrence_key=key,
            target=target,
            detail=detail,
            error=str(error),
        )
        db.session.commit()
        raise RecordingRefused(
            503, "storage_unavailable", "The file could not be deleted."
        ) from error
    db.session.delete(recording)
    audit_log.record(
        actor,
        "delete_recording",
        AuditResult.OK,
        meeting=meeting,
        occurrence_key=key,
        target=target,
        detail=detail,
    )
    db.session.commit()


def purge_expired(now: datetime | None = None) -> tuple[int, int]:
    """Delete settled recordings older than RECORDING_RETENTION_DAYS; returns (deleted, held).

    Recordings on legal hold are kept and counted.
    """
    days = current_app.config["RECORDING_RETENTION_DAYS"]
    if days <= 0:
        return 0, 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    final = [s for s in RecordingStatus if s.is_final]
    old = db.session.scalars(
        sa.select(Recording).where(
            Recording.status.in_(final),
            sa.func.coalesce(Recording.ended_at, Recording.requested_at) < cutoff,
        )
    ).all()
    deleted = held = 0
    actor = Actor(None, f"retention ({days} days)")
    for recording in old:
        if recording.legal_hold:
            held += 1
            continue
        try:
            delete(recording, None, actor)
        except RecordingRefused as refusal:
            log.warning("retention could not delete recording %s: %s", recording.id, refusal)
            continue
        deleted += 1
    return deleted, held
