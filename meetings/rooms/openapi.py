"""OpenAPI paths of joining: the media token, the lobby place, one's own hand."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, errors, json_response, ref, request_body
from meetings.rooms.api import HandRequest, TokenRequest

TOKEN = {
    "type": "object",
    "properties": {
        "token": {"type": "string", "description": "LiveKit access token (JWT)"},
        "livekit_url": {"type": "string", "example": "wss://livekit.example.com"},
        "identity": {"type": "string", "example": "u-42"},
        "role": {"type": "string", "enum": ["host", "participant", "guest"]},
        "expires_at": {"type": "string", "format": "date-time"},
        "occurrence": {
            "type": "object",
            "properties": {
                "key": {"type": "string"},
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
            },
        },
        "can_publish": {"type": "boolean", "description": "false for webinar attendees"},
        "join_muted": {"type": "boolean"},
    },
}
WAITING = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["waiting"]},
        "lobby_id": {"type": "string"},
        "position": {"type": "integer", "description": "1 for the first in line"},
        "livekit_url": {"type": "string", "description": "where the token will be used"},
    },
}
OK = {"type": "object", "properties": {"ok": {"type": "boolean"}, "action": {"type": "string"}}}
LOBBY_ID = {"name": "lobby_id", "in": "path", "required": True, "schema": {"type": "string"}}
WAIT = {
    "name": "wait",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0, "default": 0},
    "description": (
        "Hold the answer up to this many seconds (at most 25 by default) until a host "
        "decides, the meeting ends or the person is removed; without it the answer is "
        "immediate. A busy server may answer at once anyway: wait a second before asking "
        "again after a quick 'waiting' answer."
    ),
}


def paths() -> dict:
    return {
        "/meetings/{slug}/tokens": {
            "post": {
                "summary": "Get a media token to join: host, signed-in participant or guest",
                "parameters": [SLUG],
                "security": [*BEARER, {}],
                "requestBody": request_body(TokenRequest),
                "responses": {
                    "201": json_response(ref("Token"), "Token issued"),
                    "202": json_response(WAITING, "Waiting in the lobby"),
                    **errors(400, 401, 403, 404, 409, 410, 422, 503),
                },
            }
        },
        "/meetings/{slug}/lobby/{lobby_id}": {
            "get": {
                "summary": "The waiting person's own place; their media token once admitted",
                "parameters": [SLUG, LOBBY_ID, WAIT],
                "responses": {
                    "200": json_response(
                        {"oneOf": [WAITING, ref("Token")]}, "Still waiting, or admitted (a token)"
                    ),
                    **errors(403, 404, 409, 410),
                },
            }
        },
        "/meetings/{slug}/hand": {
            "post": {
                "summary": "Raise or lower your own hand (set by the server in your attributes)",
                "parameters": [SLUG],
                "requestBody": request_body(HandRequest),
                "responses": {"200": json_response(OK, "Done"), **errors(400, 404, 409, 422, 503)},
            }
        },
    }


openapi.register(paths, (TokenRequest, HandRequest), Token=TOKEN)
