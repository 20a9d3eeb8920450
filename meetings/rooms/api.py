"""REST API v1 for joining: the media token, the waiting person's lobby place, one's own hand."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from flask import current_app, jsonify, request, session
from pydantic import Field, StrictBool

from meetings.api import bp
from meetings.api.bodies import Body, parse_body
from meetings.errors import ApiError
from meetings.extensions import limiter
from meetings.models import LobbyEntry, LobbyStatus
from meetings.rooms import decisions as host_decisions
from meetings.rooms import hands, joining
from meetings.web import meeting_or_404, signed_in_user


class TokenRequest(Body):
    display_name: Annotated[str | None, Field(max_length=64)] = None
    access_code: Annotated[str | None, Field(max_length=64)] = None


class HandRequest(Body):
    raised: StrictBool


def own_identity() -> str | None:
    """The caller's identity in rooms: their account's, or this browser's guest identity."""
    user = signed_in_user()
    return user.livekit_identity if user is not None else session.get("guest_identity")


@bp.post("/meetings/<slug>/tokens")
@limiter.limit(lambda: current_app.config["TOKEN_REQUEST_LIMIT"], scope="media-token")
def create_token(slug: str):
    """A media token for the caller: host, signed-in participant or guest."""
    meeting = meeting_or_404(slug)
    body = parse_body(TokenRequest)
    user = signed_in_user()
    fallback_name = user.display_name if user is not None else ""
    display_name = joining.clean_display_name(body.display_name, fallback_name)
    guest_identity = None
    if user is None:
        # The same browser keeps its guest identity across reconnects and reloads.
        guest_identity = session.setdefault("guest_identity", joining.new_guest_identity())
    ticket = joining.issue_join_ticket(
        meeting, user, guest_identity, display_name, body.access_code, request.remote_addr or ""
    )
    if isinstance(ticket, LobbyEntry):
        # The person waits; their page asks `GET .../lobby/<lobby_id>` until a host decides.
        return jsonify(_waiting(ticket)), 202
    return jsonify(ticket.as_json()), 201


def _waiting(entry: LobbyEntry) -> dict:
    # The media server's address lets the waiting page warm its connection up meanwhile.
    return {
        "status": "waiting",
        "lobby_id": entry.id,
        "position": host_decisions.position(entry),
        "livekit_url": current_app.config["LIVEKIT_PUBLIC_URL"],
    }


# Held lobby requests in this process; each holds a gunicorn thread (see LOBBY_WAIT_SLOTS).
_held_lock = threading.Lock()
_held = 0


@contextmanager
def _wait_slot() -> Iterator[bool]:
    """True if this request may hold its answer: a slot was free in this process."""
    global _held
    with _held_lock:
        got = _held < current_app.config["LOBBY_WAIT_SLOTS"]
        _held += got
    try:
        yield got
    finally:
        with _held_lock:
            _held -= got


@bp.get("/meetings/<slug>/lobby/<lobby_id>")
def lobby_status(slug: str, lobby_id: str):
    """The waiting person's own place; the media token once a host let them in.

    With `?wait=N` the answer is held up to N seconds (at most LOBBY_WAIT_SECONDS) until a
    host decides, so the decision reaches the page at once without asking every second.
    """
    meeting = meeting_or_404(slug)
    entry = host_decisions.entry_by_id(meeting, lobby_id)
    identity = own_identity()
    if entry is None or entry.identity != identity:
        raise ApiError(404, "not_in_lobby", "This lobby place is not yours or does not exist.")
    wait = min(
        max(request.args.get("wait", 0, type=int), 0), current_app.config["LOBBY_WAIT_SECONDS"]
    )
    if wait and entry.status == LobbyStatus.WAITING:
        with _wait_slot() as held:
            if held:
                host_decisions.wait_for_decision(entry, wait)
    if entry.status == LobbyStatus.DENIED:
        raise ApiError(403, "lobby_denied", "The host declined your request to join.")
    user = signed_in_user()
    if entry.status == LobbyStatus.WAITING:
        occurrence = joining.open_occurrence(meeting, user)
        joining.check_standing(host_decisions.of_person(meeting, occurrence.key, identity))
        host_decisions.seen(entry)
        return jsonify(_waiting(entry))
    ticket = joining.issue_join_ticket(meeting, user, identity, entry.display_name)
    return jsonify(ticket.as_json())


@bp.post("/meetings/<slug>/hand")
def hand(slug: str):
    """Raise or lower the caller's own hand (`{"raised": true|false}`)."""
    meeting = meeting_or_404(slug)
    raised = parse_body(HandRequest).raised
    identity = own_identity()
    if not identity:
        raise ApiError(404, "not_in_meeting", "Join the meeting first.")
    hands.raise_own_hand(meeting, identity, raised)
    return jsonify({"ok": True, "raised": raised})
