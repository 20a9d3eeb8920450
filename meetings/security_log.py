"""The security log: sign-ins, role changes, disables, tokens. Ops read it on /ops/security."""

from flask import has_request_context, request

from meetings.extensions import db
from meetings.models import SecurityEvent, User


def client_address() -> str:
    return (request.remote_addr or "") if has_request_context() else "cli"


def record(
    kind: str,
    *,
    actor: User | None = None,
    target: User | None = None,
    email: str = "",
    detail: str = "",
) -> SecurityEvent:
    """Add an event to the session; the caller's transaction commits it with the change."""
    event = SecurityEvent(
        kind=kind,
        actor=actor,
        target=target,
        email=email or (target.email if target is not None else ""),
        ip=client_address(),
        detail=detail[:500],
    )
    db.session.add(event)
    return event
