"""The audit log: every lobby decision and moderation action, including refusals.

Like the security log, a record joins the caller's transaction.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from meetings.csv_export import csv_download, to_csv
from meetings.extensions import db
from meetings.models import AuditEntry, AuditResult, Meeting, User, utcnow

PAGE_SIZE = 200
# The actions the ops page's filter offers.
ACTIONS = (
    "admit",
    "deny",
    "mute",
    "mute_all",
    "ask_unmute",
    "remove",
    "promote",
    "demote",
    "make_co_host",
    "lock",
    "unlock",
    "end",
    "view_lobby",
    "captions_on",
    "captions_off",
)


@dataclass(frozen=True)
class Actor:
    """Who asked: a signed-in user, or a label for a guest or an anonymous caller."""

    user: User | None
    label: str

    @classmethod
    def of(cls, user: User | None, guest_identity: str | None, address: str | None) -> "Actor":
        if user is not None:
            return cls(user, user.email)
        if guest_identity:
            return cls(None, f"guest {guest_identity}")
        return cls(None, f"anonymous from {address or 'unknown address'}")


def record(
    actor: Actor,
    action: str,
    result: AuditResult,
    *,
    meeting: Meeting | None = None,
    occurrence_key: str | None = None,
    target: str = "",
    detail: str = "",
    error: str = "",
) -> AuditEntry:
    """Add one entry to the session; the caller's transaction commits it with the change.

    A refusal is committed by its service before the error is raised, so it is never lost.
    """
    entry = AuditEntry(
        created_at=utcnow(),  # the time of the action, not of the commit
        meeting=meeting,
        occurrence_key=occurrence_key,
        actor=actor.user,
        actor_label=actor.label[:200],
        action=action,
        target=target[:200],
        detail=detail[:500],
        result=result,
        error=error[:500],
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    meeting: Meeting | None = None
    action: str | None = None
    result: AuditResult | None = None
    since: datetime | None = None
    until: datetime | None = None


def entries(wanted: AuditFilter, limit: int | None = PAGE_SIZE) -> list[AuditEntry]:
    """Newest first."""
    query = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if wanted.meeting is not None:
        query = query.where(AuditEntry.meeting_id == wanted.meeting.id)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.result is not None:
        query = query.where(AuditEntry.result == wanted.result)
    if wanted.since is not None:
        query = query.where(AuditEntry.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.created_at < wanted.until)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def as_json(entry: AuditEntry) -> dict:
    return {
        "at": entry.created_at.isoformat().replace("+00:00", "Z"),
        "meeting": entry.meeting.slug if entry.meeting else None,
        "occurrence": entry.occurrence_key,
        "actor": entry.actor_label,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
        "result": entry.result.value,
        "error": entry.error,
    }


CSV_COLUMNS = (
    "at",
    "meeting",
    "occurrence",
    "actor",
    "action",
    "target",
    "detail",
    "result",
    "error",
)


def as_csv(rows: list[AuditEntry]) -> str:
    return to_csv(CSV_COLUMNS, (as_json(row) for row in rows))


def download(rows: list[AuditEntry], filename: str):
    return csv_download(as_csv(rows), filename)
