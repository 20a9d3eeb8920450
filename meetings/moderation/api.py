"""REST API v1: host moderation, the lobby as hosts see it, and the meeting's audit log.

Hosts, co-hosts and operators act; anyone else gets 403, the attempt is audited and
nothing reaches LiveKit.
"""

from datetime import UTC, datetime
from typing import Literal

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import StrictBool

from meetings import audit_log
from meetings.api import bp
from meetings.api.bodies import Body, parse_body
from meetings.errors import ApiError
from meetings.extensions import limiter
from meetings.models import LobbyEntry, LobbyStatus
from meetings.moderation import services
from meetings.rooms import decisions as host_decisions
from meetings.web import current_actor, managed_meeting, meeting_or_404, signed_in_user

PARTICIPANT_ACTIONS = (
    "mute",
    "remove",
    "promote",
    "demote",
    "ask_unmute",
    "make_co_host",
    "revoke_co_host",
    "lower_hand",
)
MEETING_ACTIONS = ("mute_all", "lock", "unlock", "end")


class MuteRequest(Body):
    source: Literal["microphone", "camera", "screen_share"] = "microphone"


class GuestLobbyRequest(Body):
    on: StrictBool


def caller_key() -> str:
    """Moderation calls count per account (the address for callers without one)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return request.remote_addr or ""


# Every host call, including the lobby's poll every two seconds, shares one budget per caller:
# nobody writes refused rows into an audit log, or load onto LiveKit, without limit.
moderation_limit = limiter.shared_limit(
    lambda: current_app.config["MODERATION_LIMIT"], scope="moderation", key_func=caller_key
)


def moderation(slug: str, action: str, target: str = "") -> services.Moderation:
    meeting = meeting_or_404(slug)
    return services.moderation_for(meeting, signed_in_user(), current_actor(), action, target)


@moderation_limit
def moderate_participant(slug: str, identity: str, action: str):
    """Mute (`{"source": ...}`), remove, promote, demote, ask to unmute, make co-host."""
    context = moderation(slug, action, identity)
    answer = {"ok": True, "action": action, "identity": identity}
    if action == "mute":
        services.mute(context, identity, parse_body(MuteRequest).source)
    elif action == "remove":
        answer["guests_wait"] = services.remove(context, identity)
    elif action in ("promote", "demote"):
        services.set_speaker(context, identity, action == "promote")
    elif action == "ask_unmute":
        services.ask_to_unmute(context, identity)
    elif action == "lower_hand":
        services.lower_hand(context, identity)
    elif action == "revoke_co_host":
        services.revoke_co_host(context, identity)
    else:
        services.make_co_host(context, identity)
    return jsonify(answer)


@moderation_limit
def moderate_meeting(slug: str, action: str):
    """Mute all, lock, unlock, or end the meeting for everyone."""
    context = moderation(slug, action)
    body = {"ok": True, "action": action}
    if action == "mute_all":
        body["muted"] = services.mute_all(context)
    elif action in ("lock", "unlock"):
        services.set_locked(context, action == "lock")
    else:
        services.end_for_all(context)
    return jsonify(body)


def post_per_name(names, path: str, endpoint: str, view, argument: str) -> None:
    """One POST URL per name, so each appears by name in the OpenAPI document and the route
    matrix; the view gets the name as `argument`."""
    for name in names:
        bp.add_url_rule(
            path.format(name=name),
            endpoint=endpoint.format(name=name),
            view_func=view,
            methods=["POST"],
            defaults={argument: name},
        )


post_per_name(
    PARTICIPANT_ACTIONS,
    "/meetings/<slug>/participants/<identity>/{name}",
    "participant_{name}",
    moderate_participant,
    "action",
)
post_per_name(
    MEETING_ACTIONS, "/meetings/<slug>/{name}", "meeting_{name}", moderate_meeting, "action"
)


# ---- the lobby ---------------------------------------------------------------------------


def lobby_json(entry: LobbyEntry, now: datetime) -> dict:
    return {
        "id": entry.id,
        "display_name": entry.display_name,
        "signed_in": entry.user_id is not None,
        "waiting_seconds": int((now - entry.created_at).total_seconds()),
    }


@bp.get("/meetings/<slug>/lobby")
@moderation_limit
def lobby(slug: str):
    """Who is waiting, first come first (hosts)."""
    context = moderation(slug, "view_lobby")
    now = datetime.now(UTC)
    entries = services.lobby_queue(context)
    found = host_decisions.occurrence_state(context.meeting, context.occurrence.key)
    return jsonify(
        {
            "items": [lobby_json(entry, now) for entry in entries],
            "locked": found is not None and found.locked_at is not None,
            "guests_wait": found is not None and found.guests_wait_at is not None,
        }
    )


@bp.post("/meetings/<slug>/guest_lobby")
@moderation_limit
def guest_lobby(slug: str):
    """Make guests wait in the lobby for the rest of this occurrence, or not (`{"on": bool}`)."""
    context = moderation(slug, "guest_lobby")
    on = parse_body(GuestLobbyRequest).on
    services.set_guest_lobby(context, on)
    return jsonify({"ok": True, "guests_wait": on})


@moderation_limit
def decide(slug: str, lobby_id: str, decision: str):
    """Let one waiting person in, or turn them away for ten minutes."""
    context = moderation(slug, decision, lobby_id)
    entry = host_decisions.entry_by_id(context.meeting, lobby_id)
    if entry is None or entry.occurrence_key != context.occurrence.key:
        raise ApiError(404, "not_in_lobby", "Nobody with this id is waiting.")
    if entry.status != LobbyStatus.WAITING:
        raise ApiError(409, "already_decided", f"{entry.display_name} was {entry.status} already.")
    services.decide(context, entry, decision == "admit")
    return jsonify({"ok": True, "id": entry.id, "status": entry.status.value})


post_per_name(
    ("admit", "deny"),
    "/meetings/<slug>/lobby/<lobby_id>/{name}",
    "lobby_{name}",
    decide,
    "decision",
)


# ---- the audit log -----------------------------------------------------------------------


@bp.get("/meetings/<slug>/audit")
def meeting_audit(slug: str):
    """Every lobby decision and moderation action in this meeting, newest first (hosts)."""
    meeting = managed_meeting(slug)
    rows = audit_log.entries(audit_log.AuditFilter(meeting=meeting))
    return jsonify({"items": [audit_log.as_json(row) for row in rows]})
