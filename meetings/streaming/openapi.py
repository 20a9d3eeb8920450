"""OpenAPI paths of ingests (stream in)."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, errors, json_response

STATUSES = ["idle", "starting", "waiting", "live", "failed"]
INGEST = {
    "type": "object",
    "required": ["ingest_id", "name", "rtmp_url", "stream_key_hint", "status"],
    "properties": {
        "ingest_id": {"type": "string"},
        "name": {"type": "string", "description": "the participant's name in the meeting"},
        "rtmp_url": {"type": "string", "description": "the encoder's server URL"},
        "stream_key_hint": {"type": "string", "description": "the key's last four characters"},
        "status": {
            "type": "string",
            "enum": STATUSES,
            "description": "`idle`: the meeting's room is not open; `waiting`: listening for "
            "the encoder; `live`: the encoder publishes into the meeting",
        },
        "reason": {"type": "string", "description": "why failed; may be empty"},
        "refused_count": {"type": "integer", "description": "pushes with a wrong key"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
CREATED = {
    "allOf": [
        INGEST,
        {
            "type": "object",
            "required": ["stream_key"],
            "properties": {"stream_key": {"type": "string", "description": "shown this once"}},
        },
    ]
}
LISTING = {"type": "object", "properties": {"ingests": {"type": "array", "items": INGEST}}}
NEW = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "maxLength": 80}},
}
INGEST_ID = {"name": "ingest_id", "in": "path", "required": True, "schema": {"type": "string"}}


def paths() -> dict:
    return {
        "/meetings/{slug}/ingests": {
            "get": {
                "summary": "The meeting's ingests and their state (its hosts)",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {"200": json_response(LISTING, "Ingests"), **errors(401, 403, 404)},
            },
            "post": {
                "summary": "Make an ingest: an RTMP URL and stream key for an encoder (its "
                "hosts); audited",
                "description": "While the meeting's room is open, what the encoder pushes "
                "(H.264 and AAC) joins the meeting as a participant with this name. The key is "
                "in this answer only. 409 `no_ingest_port` when every port is taken.",
                "parameters": [SLUG],
                "security": BEARER,
                "requestBody": {"required": True, "content": {"application/json": {"schema": NEW}}},
                "responses": {
                    "201": json_response(CREATED, "The ingest, with its stream key"),
                    **errors(400, 401, 403, 404, 409, 422),
                },
            },
        },
        "/meetings/{slug}/ingests/{ingest_id}": {
            "delete": {
                "summary": "Revoke an ingest: its key stops working (its hosts); audited",
                "parameters": [SLUG, INGEST_ID],
                "security": BEARER,
                "responses": {"204": {"description": "Revoked"}, **errors(401, 403, 404)},
            }
        },
    }


openapi.register(paths)
