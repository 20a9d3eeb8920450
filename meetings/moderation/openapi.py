"""OpenAPI paths of the lobby, host moderation and the audit log."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, errors, json_response, listing, request_body
from meetings.moderation.api import GuestLobbyRequest, MuteRequest
from meetings.rooms.openapi import LOBBY_ID, OK

IDENTITY = {"name": "identity", "in": "path", "required": True, "schema": {"type": "string"}}
LOBBY = {
    "type": "object",
    "properties": {
        "locked": {"type": "boolean", "description": "nobody new may join"},
        "guests_wait": {
            "type": "boolean",
            "description": "guests wait in the lobby (since a host removed a guest)",
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "display_name": {"type": "string"},
                    "signed_in": {"type": "boolean"},
                    "waiting_seconds": {"type": "integer"},
                },
            },
        },
    },
}
AUDIT = listing(
    {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in ("at", "meeting", "occurrence", "actor", "action", "target")
        }
        | {
            "detail": {"type": "string"},
            "result": {"type": "string", "enum": ["ok", "failed", "refused"]},
            "error": {"type": "string"},
        },
    }
)
PARTICIPANT_SUMMARIES = {
    "mute": "Mute a participant's microphone, camera or screen share on the server",
    "remove": (
        "Remove a participant; they get no new token for this occurrence. Removing a guest "
        "from a meeting without a lobby makes guests wait in the lobby (`guests_wait`)"
    ),
    "promote": "Let a webinar attendee publish, without a rejoin",
    "demote": "Take a speaker's publishing right away",
    "ask_unmute": "Ask a participant to unmute; they decide",
    "make_co_host": "Give a signed-in participant host powers in this meeting",
    "revoke_co_host": "Take a co-host's host powers, in the live room at once",
    "lower_hand": "Lower a participant's raised hand",
}
MEETING_SUMMARIES = {
    "mute_all": "Mute every microphone but the hosts'",
    "lock": "Take nobody new, lobby included",
    "unlock": "Take new people again",
    "end": "End the meeting for everyone (the room is deleted)",
}
HOSTS_ONLY = (
    "Hosts, co-hosts and operators; other signed-in callers get 403 and the attempt is "
    "audited; callers without credentials get 401 (not audited)."
)


def _action(summary: str, parameters: list, body=None) -> dict:
    operation = {
        "summary": summary,
        "description": HOSTS_ONLY,
        "parameters": parameters,
        "security": [{"bearer": []}, {}],
        "responses": {
            "200": json_response(OK, "Done"),
            **errors(401, 403, 404, 409, 422, 429, 503),
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return {"post": operation}


def paths() -> dict:
    paths = {}
    for action, summary in PARTICIPANT_SUMMARIES.items():
        body = request_body(MuteRequest) if action == "mute" else None
        path = f"/meetings/{{slug}}/participants/{{identity}}/{action}"
        paths[path] = _action(summary, [SLUG, IDENTITY], body)
    for action, summary in MEETING_SUMMARIES.items():
        paths[f"/meetings/{{slug}}/{action}"] = _action(summary, [SLUG])
    for decision in ("admit", "deny"):
        summary = "Let a waiting person in" if decision == "admit" else "Turn a waiting person away"
        paths[f"/meetings/{{slug}}/lobby/{{lobby_id}}/{decision}"] = _action(
            summary, [SLUG, LOBBY_ID]
        )
    paths["/meetings/{slug}/guest_lobby"] = _action(
        "Make guests wait in the lobby for the rest of this occurrence, or not",
        [SLUG],
        request_body(GuestLobbyRequest),
    )
    paths["/meetings/{slug}/lobby"] = {
        "get": {
            "summary": "Who waits in the lobby, first come first (hosts)",
            "parameters": [SLUG],
            "responses": {"200": json_response(LOBBY, "Waiting people"), **errors(403, 404, 409)},
        }
    }
    paths["/meetings/{slug}/audit"] = {
        "get": {
            "summary": "Lobby decisions and moderation actions of this meeting, newest first",
            "parameters": [SLUG],
            "security": BEARER,
            "responses": {"200": json_response(AUDIT, "Audit entries"), **errors(401, 403, 404)},
        }
    }
    return paths


openapi.register(paths, (MuteRequest, GuestLobbyRequest))
