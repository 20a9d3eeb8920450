"""Settle recordings the webhooks left behind: ask the server about every row still running."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import RecorderKind, Recording, RecordingStatus, utcnow
from meetings.recordings import egress_events, explain, notices, worker_events
from meetings.recordings.lifecycle import STALE_REQUEST


@dataclass(frozen=True)
class Settled:
    recording: Recording
    before: RecordingStatus
    note: str


def reconcile() -> list[Settled]:
    """Ask the server about rows stuck in starting/active/ending and settle them; a
    built-in recording whose worker stopped reporting (RECORDER_SILENT_SECONDS) is failed as
    lost.

    Raises: gateway.LiveKitUnavailable when the server cannot list egress jobs.
    """
    settled = []
    now = utcnow()
    silent = timedelta(seconds=current_app.config["RECORDER_SILENT_SECONDS"])
    stuck = db.session.scalars(
        sa.select(Recording)
        .where(
            Recording.status.in_(
                (
                    RecordingStatus.REQUESTED,
                    RecordingStatus.STARTING,
                    RecordingStatus.ACTIVE,
                    RecordingStatus.ENDING,
                )
            )
        )
        .order_by(Recording.id)
    ).all()
    for row in stuck:
        before = row.status
        if not row.accepted:
            if now - row.requested_at < STALE_REQUEST:
                continue
            row.status = RecordingStatus.FAILED
            row.error = explain.NEVER_ANSWERED
            row.ended_at = now
            settled.append(Settled(row, before, row.error))
            continue
        if row.recorder == RecorderKind.BUILTIN:
            if now - _last_report(row) >= silent:
                worker_events.fail_as_lost(row, now)
                settled.append(Settled(row, before, row.error))
            continue
        found = gateway.list_egress(egress_id=row.egress_id)
        if not found:
            row.status = RecordingStatus.FAILED
            row.error = explain.LOST_BY_SERVER
            row.ended_at = now
            settled.append(Settled(row, before, row.error))
        elif egress_events.apply_report(row, found[0]):
            settled.append(Settled(row, before, f"server says {found[0].status}"))
    db.session.commit()
    for room in {item.recording.room_name for item in settled}:
        notices.announce(room)
    return settled


def _last_report(row: Recording) -> datetime:
    """When the worker last reported on a built-in recording (or when it was requested)."""
    if row.server_updated_ns:
        return datetime.fromtimestamp(row.server_updated_ns / 1e9, UTC)
    return row.requested_at
