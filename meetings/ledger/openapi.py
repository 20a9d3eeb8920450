"""OpenAPI paths of what the webhook ledger derived: sessions, attendance, rooms, usage."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, NULLABLE_TIME, SLUG, TIME, errors, json_response, listing

SESSIONS = listing(
    {
        "type": "object",
        "description": "One life of an occurrence's room, from room_started to room_finished.",
        "properties": {
            "id": {"type": "integer"},
            "room_name": {"type": "string"},
            "occurrence_key": {"type": "string", "example": "20270104T0800Z"},
            "started_at": NULLABLE_TIME,
            "ended_at": {**NULLABLE_TIME, "description": "null while the room is open"},
            "end_inferred": {
                "type": "boolean",
                "description": "room_finished never came; `flask livekit reconcile` "
                "closed the session at the last moment anything was heard of it",
            },
            "duration_seconds": {"type": "integer", "nullable": True},
            "peak_participants": {"type": "integer"},
            "total_participants": {"type": "integer", "description": "different people"},
            "participant_seconds": {"type": "integer"},
        },
    }
)

ATTENDANCE = {
    "type": "array",
    "items": {
        "type": "object",
        "description": "One join/leave interval. A leave that was never reported is the "
        "session's end once it is over.",
        "properties": {
            "identity": {"type": "string"},
            "display_name": {"type": "string"},
            "joined_at": NULLABLE_TIME,
            "left_at": {**NULLABLE_TIME, "description": "null while still in the room"},
            "session_id": {"type": "integer", "nullable": True},
            "seconds": {"type": "integer", "nullable": True},
        },
    },
}

ROOMS = {
    "type": "object",
    "properties": {
        "latency_ms": {"type": "integer", "description": "how long ListRooms took"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "sid": {"type": "string"},
                    "meeting": {
                        "type": "object",
                        "nullable": True,
                        "properties": {
                            "slug": {"type": "string"},
                            "title": {"type": "string"},
                            "host": {"type": "string"},
                        },
                    },
                    "occurrence_key": {"type": "string", "nullable": True},
                    "unknown_room": {"type": "boolean", "description": "not one of our rooms"},
                    "participants": {"type": "integer", "description": "the server's count"},
                    "ledger_participants": {
                        "type": "integer",
                        "description": "people in the room according to the webhooks",
                    },
                    "started_at": NULLABLE_TIME,
                    "duration_seconds": {"type": "integer", "nullable": True},
                },
            },
        },
    },
}

USAGE = {
    "type": "object",
    "properties": {
        "bucket": {"type": "string", "enum": ["day", "week"]},
        "from": TIME,
        "to": TIME,
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "Sessions that started in the bucket (UTC; weeks start on "
                "Monday); every bucket in the range is listed, empty ones too.",
                "properties": {
                    "start": {"type": "string", "format": "date"},
                    "sessions": {"type": "integer"},
                    "meeting_minutes": {"type": "number"},
                    "participants": {"type": "integer", "description": "different people"},
                    "participant_minutes": {"type": "number"},
                    "peak_participants": {"type": "integer"},
                },
            },
        },
    },
}

DAY_OR_TIME = {
    "type": "string",
    "description": "a date (midnight UTC) or a date-time with offset",
    "example": "2026-11-01",
}


def paths() -> dict:
    return {
        "/meetings/{slug}/sessions": {
            "get": {
                "summary": "Each time the meeting's rooms were open (hosts, co-hosts, ops)",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {"200": json_response(SESSIONS, "Sessions"), **errors(401, 403, 404)},
            }
        },
        "/meetings/{slug}/attendance": {
            "get": {
                "summary": "Join and leave times reported by the media server, one row per "
                "interval (hosts, co-hosts, ops)",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {
                    "200": json_response(ATTENDANCE, "Attendance intervals"),
                    **errors(401, 403, 404),
                },
            }
        },
        "/ops/rooms": {
            "get": {
                "summary": "Rooms live on the LiveKit server with their meetings (ops only)",
                "security": BEARER,
                "responses": {"200": json_response(ROOMS, "Live rooms"), **errors(401, 403, 503)},
            }
        },
        "/ops/usage": {
            "get": {
                "summary": "Meeting minutes and participants per day or week (ops only)",
                "security": BEARER,
                "parameters": [
                    {"name": "from", "in": "query", "schema": DAY_OR_TIME},
                    {"name": "to", "in": "query", "schema": DAY_OR_TIME},
                    {
                        "name": "bucket",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["day", "week"], "default": "day"},
                    },
                ],
                "responses": {"200": json_response(USAGE, "Usage"), **errors(401, 403, 422)},
            }
        },
    }


openapi.register(paths)
