"""OpenAPI paths of recordings: start, stop, list, read, delete, and the file."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, errors, json_response

RECORDING_ID = {
    "name": "recording_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
STATUSES = [
    "requested",
    "starting",
    "active",
    "ending",
    "complete",
    "failed",
    "aborted",
    "limit_reached",
]
RECORDING = {
    "type": "object",
    "description": "egress_id, file_name, storage, flag and participants are shown to the "
    "meeting's hosts and operators only. Storage credentials are never shown.",
    "properties": {
        "id": {"type": "integer"},
        "meeting": {"type": "string", "description": "the meeting's slug"},
        "title": {"type": "string"},
        "occurrence": {"type": "string", "example": "20270104T0800Z"},
        "status": {"type": "string", "enum": STATUSES},
        "layout": {"type": "string", "enum": ["grid", "speaker"]},
        "audio_only": {"type": "boolean"},
        "auto_started": {"type": "boolean"},
        "requested_at": {"type": "string", "format": "date-time"},
        "started_at": {"type": "string", "format": "date-time", "nullable": True},
        "ended_at": {"type": "string", "format": "date-time", "nullable": True},
        "duration_seconds": {"type": "number", "nullable": True},
        "size_bytes": {"type": "integer", "nullable": True},
        "error": {
            "type": "string",
            "description": "what went wrong and what to do, in plain words; empty when nothing did",
        },
        "error_detail": {
            "type": "string",
            "description": "the recording service's own reason (operators only)",
        },
        "access": {"type": "string", "enum": ["hosts", "participants", "link"]},
        "legal_hold": {"type": "boolean"},
        "media_url": {"type": "string", "nullable": True},
        "page_url": {"type": "string", "format": "uri"},
        "egress_id": {"type": "string", "nullable": True},
        "file_name": {"type": "string"},
        "storage": {"type": "string", "enum": ["local", "s3"]},
        "flag": {"type": "string"},
        "participants": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "identity": {"type": "string"},
                    "display_name": {"type": "string"},
                },
            },
        },
    },
}
START = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "layout": {"type": "string", "enum": ["grid", "speaker"], "default": "grid"},
        "audio_only": {"type": "boolean", "default": False},
        "preset": {
            "type": "string",
            "description": "an EncodingOptionsPreset name; default RECORDING_PRESET",
            "example": "H264_720P_30",
        },
    },
}
ONE = RECORDING
CONFLICT = {
    "allOf": [
        {"$ref": "#/components/schemas/Error"},
        {"type": "object", "properties": {"recording": RECORDING}},
    ]
}
QUERY = [
    {"name": name, "in": "query", "schema": schema}
    for name, schema in (
        ("meeting", {"type": "string", "description": "a meeting's slug"}),
        ("host", {"type": "string", "description": "part of the host's email"}),
        ("status", {"type": "string", "enum": STATUSES}),
        ("from", {"type": "string", "format": "date"}),
        ("to", {"type": "string", "format": "date"}),
        ("sort", {"type": "string", "enum": ["newest", "oldest", "longest", "largest"]}),
    )
]
RANGE = {
    "name": "Range",
    "in": "header",
    "schema": {"type": "string", "example": "bytes=0-1023"},
    "description": "one byte range; malformed or past the end: 416",
}


def paths() -> dict:
    bearer = BEARER
    return {
        "/meetings/{slug}/recordings": {
            "post": {
                "summary": "Start recording the running occurrence (hosts, co-hosts, operators)",
                "description": "409 `e2ee_meeting` for an end-to-end encrypted meeting (the "
                "server cannot see it). 503 `recording_unavailable` when the recording service "
                "does not answer; the attempt is kept as `failed` with the server's reason.",
                "parameters": [SLUG],
                "security": bearer,
                "requestBody": {"content": {"application/json": {"schema": START}}},
                "responses": {
                    "201": json_response(ONE, "Started (status `starting`)"),
                    "409": json_response(
                        CONFLICT,
                        "Recording already, the meeting is not running or end-to-end encrypted",
                    ),
                    **errors(400, 401, 403, 404, 422, 503),
                },
            }
        },
        "/recordings": {
            "get": {
                "summary": "Recordings you may see: all for operators, your meetings' for hosts",
                "parameters": QUERY,
                "security": bearer,
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": ONE}},
                        },
                        "Recordings",
                    ),
                    **errors(401, 422),
                },
            }
        },
        "/recordings/{recording_id}": {
            "get": {
                "summary": "One recording",
                "parameters": [RECORDING_ID],
                "security": bearer,
                "responses": {"200": json_response(ONE, "The recording"), **errors(401, 404)},
            },
            "delete": {
                "summary": "Delete the file and the record (hosts, operators); audited",
                "parameters": [RECORDING_ID],
                "security": bearer,
                "responses": {
                    "200": json_response({"type": "object"}, "Deleted"),
                    **errors(401, 403, 404, 409, 503),
                },
            },
        },
        "/recordings/{recording_id}/stop": {
            "post": {
                "summary": "Stop a running recording; the file follows through webhooks",
                "parameters": [RECORDING_ID],
                "security": bearer,
                "responses": {
                    "200": json_response(ONE, "Stopping (status `ending`)"),
                    **errors(401, 403, 404, 409, 503),
                },
            }
        },
        "/recordings/{recording_id}/media": {
            "get": {
                "summary": "The file: byte ranges from local storage, or a redirect to a "
                "short-lived presigned URL (S3). `?download=1` saves instead of playing.",
                "parameters": [RECORDING_ID, RANGE],
                "security": bearer,
                "responses": {
                    "200": {"description": "The whole file"},
                    "206": {"description": "The range asked for, with Content-Range"},
                    "302": {"description": "To a presigned URL in the bucket"},
                    "416": {"description": "Malformed range, or one past the end"},
                    **errors(401, 404),
                },
            }
        },
    }


openapi.register(paths)
