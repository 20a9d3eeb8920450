"""OpenAPI paths of the meetings endpoints; the options' properties come from OPTIONS."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, errors, json_response, listing, ref, request_body
from meetings.scheduling.options import OPTIONS
from meetings.scheduling.schemas import MeetingCreate, MeetingUpdate

_TYPES = {bool: "boolean", int: "integer"}


def _option_schema(option) -> dict:
    schema = {"type": _TYPES[option.kind], "description": option.description}
    return schema | {"nullable": True} if option.nullable else schema


MEETING = {
    "type": "object",
    "description": "access_code, invitees and co_hosts are only shown to the meeting's hosts.",
    "properties": {
        "slug": {"type": "string", "example": "k3vq-8mzt-p2wa"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "duration_minutes": {"type": "integer"},
        "time_zone": {"type": "string", "example": "Europe/Berlin"},
        "recurrence": ref("RecurrenceBody"),
        "access": {"type": "string", "enum": ["link", "signed_in", "invited"]},
        "access_code_required": {"type": "boolean"},
        "access_code": {"type": "string", "nullable": True},
        "invitees": {"type": "array", "items": {"type": "string", "format": "email"}},
        "co_hosts": {"type": "array", "items": {"type": "string", "format": "email"}},
        **{option.name: _option_schema(option) for option in OPTIONS},
        "cancelled": {"type": "boolean"},
        "join_url": {
            "type": "string",
            "format": "uri",
            "description": "For an end-to-end encrypted meeting (`e2ee`) this link has no key: "
            "the host's browser adds it as the fragment (`#key=...`) and shares that link; "
            "the server never has the key.",
        },
        "ics_url": {"type": "string", "format": "uri"},
        "host": {"type": "object", "properties": {"display_name": {"type": "string"}}},
    },
}

OCCURRENCES = listing(
    {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "key": {"type": "string", "example": "20270104T0800Z"},
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "join_url": {"type": "string", "format": "uri"},
            "ics_url": {"type": "string", "format": "uri"},
        },
    }
)
TIME_QUERY = {"type": "string", "format": "date-time"}


def paths() -> dict:
    meeting = ref("Meeting")
    return {
        "/meetings": {
            "get": {
                "summary": "Occurrences of your meetings (host or co-host) in a time range",
                "security": BEARER,
                "parameters": [
                    {"name": "from", "in": "query", "schema": TIME_QUERY},
                    {"name": "to", "in": "query", "schema": TIME_QUERY},
                ],
                "responses": {"200": json_response(OCCURRENCES, "Occurrences"), **errors(401, 422)},
            },
            "post": {
                "summary": "Schedule a meeting",
                "security": BEARER,
                "requestBody": request_body(MeetingCreate),
                "responses": {
                    "201": json_response(meeting, "Created"),
                    **errors(400, 401, 422),
                },
            },
        },
        "/meetings/{slug}": {
            "get": {
                "summary": "Read a meeting",
                "parameters": [SLUG],
                "responses": {"200": json_response(meeting, "The meeting"), **errors(404)},
            },
            "patch": {
                "summary": "Change settings (fields not sent keep their values; null clears)",
                "parameters": [SLUG],
                "security": BEARER,
                "requestBody": request_body(MeetingUpdate),
                "responses": {
                    "200": json_response(meeting, "Updated"),
                    **errors(400, 401, 403, 404, 422),
                },
            },
            "delete": {
                "summary": "Cancel the meeting (its link then says so)",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {
                    "200": json_response(meeting, "Cancelled"),
                    **errors(401, 403, 404),
                },
            },
        },
    }


openapi.register(paths, (MeetingCreate, MeetingUpdate), Meeting=MEETING)
