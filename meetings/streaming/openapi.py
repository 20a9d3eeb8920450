"""OpenAPI paths of streaming: streams (out) and ingests (in)."""

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


OUTPUT = {
    "type": "object",
    "properties": {
        "output_id": {"type": "string"},
        "kind": {"type": "string", "enum": ["rtmp", "hls"]},
        "destination": {
            "type": ["string", "null"],
            "description": "rtmp: the URL with its stream key masked (`****` and its last four)",
        },
        "status": {"type": "string", "enum": ["starting", "live", "failed", "ended"]},
        "reason": {"type": "string", "description": "why it failed"},
    },
}
STREAM = {
    "type": "object",
    "properties": {
        "stream_id": {"type": "integer"},
        "occurrence_key": {"type": "string"},
        "status": {"type": "string", "enum": ["starting", "live", "ended", "failed"]},
        "reason": {"type": "string"},
        "layout": {"type": "string", "enum": ["grid", "speaker"]},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "watch_url": {"type": ["string", "null"], "description": "the watch page, with hls"},
        "outputs": {"type": "array", "items": OUTPUT},
    },
}
ONE_STREAM = {"type": "object", "properties": {"stream": STREAM}}
STREAMS = {"type": "object", "properties": {"streams": {"type": "array", "items": STREAM}}}
NEW_STREAM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rtmp_urls": {
            "type": "array",
            "maxItems": 5,
            "items": {"type": "string"},
            "description": "rtmp(s)://server/app/<stream key>, as the streaming service shows it",
        },
        "hls": {"type": "boolean", "description": "also stream to the watch page /w/<slug>"},
        "layout": {"type": "string", "enum": ["grid", "speaker"], "default": "grid"},
    },
}


def paths() -> dict:
    return {
        "/meetings/{slug}/streams": {
            "post": {
                "summary": "Stream the running occurrence to RTMP destinations and/or the "
                "watch page (its hosts); audited",
                "description": "One composite of the meeting, encoded once by a media worker. "
                "Destination URLs are stored encrypted and never shown again (only their key's "
                "last four characters). 409 `e2ee_meeting` (end-to-end encrypted), "
                "`not_running`, `already_streaming`, `room_not_open`; 503 `stream_unavailable` "
                "when no media worker takes it.",
                "parameters": [SLUG],
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": NEW_STREAM}},
                },
                "responses": {
                    "201": json_response(ONE_STREAM, "The stream, starting"),
                    **errors(400, 401, 403, 404, 409, 422, 503),
                },
            },
            "delete": {
                "summary": "Stop the running occurrence's stream (its hosts); audited",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {
                    "200": json_response(ONE_STREAM, "The stream, ended"),
                    **errors(401, 403, 404, 409),
                },
            },
            "get": {
                "summary": "The meeting's streams, latest first, with each output's state",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {"200": json_response(STREAMS, "Streams"), **errors(401, 403, 404)},
            },
        },
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
                "in this answer only. 409 `no_ingest_port` when every port is taken, "
                "`e2ee_meeting` for an end-to-end encrypted meeting.",
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
