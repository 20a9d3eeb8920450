"""OpenAPI path of live captions: turning them on or off."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, errors, json_response

STATUSES = ["off", "starting", "running", "unavailable", "failed"]
CAPTIONS = {
    "type": "object",
    "required": ["status", "enabled"],
    "properties": {
        "status": {
            "type": "string",
            "enum": STATUSES,
            "description": "`unavailable`: the captioner runs but its speech-to-text backend "
            "does not answer (the meeting goes on); `failed`: no media worker took the job, "
            "or the captioner was lost twice",
        },
        "enabled": {"type": "boolean", "description": "starting, running or unavailable"},
        "reason": {"type": "string", "description": "why off, unavailable or failed; may be empty"},
    },
}
STATE = {"type": "object", "required": ["captions"], "properties": {"captions": CAPTIONS}}
SWITCH = {
    "type": "object",
    "required": ["enabled"],
    "additionalProperties": False,
    "properties": {"enabled": {"type": "boolean"}},
}
REFUSED = {
    "allOf": [
        {"$ref": "#/components/schemas/Error"},
        {"type": "object", "properties": {"captions": CAPTIONS}},
    ]
}


def paths() -> dict:
    return {
        "/meetings/{slug}/captions": {
            "post": {
                "summary": "Turn live captions on or off in the running occurrence (the "
                "meeting's host and co-hosts); audited",
                "description": "On: a media worker's captioner joins the room and what is said "
                "is shown as captions and kept as the occurrence's transcript. Turning on when "
                "on, or off when off, changes nothing. Everyone in the room reads the state "
                'from the room\'s metadata, `{"captions": "<status>"}`. 409 `not_running` '
                "outside the occurrence, `room_not_open` when its room is not on the server, "
                "`e2ee_meeting` for an end-to-end encrypted meeting (turning on); "
                "503 `captions_unavailable` when no media worker runs or takes the job (the "
                "state says `failed` and why).",
                "parameters": [SLUG],
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": SWITCH}},
                },
                "responses": {
                    "200": json_response(STATE, "The captions' state now"),
                    "409": json_response(REFUSED, "Not running, room not open, or encrypted"),
                    "503": json_response(REFUSED, "No captioner could start, or no answer"),
                    **errors(400, 401, 403, 404, 422),
                },
            }
        }
    }


openapi.register(paths)
