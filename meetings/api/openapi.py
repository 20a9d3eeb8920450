"""The OpenAPI 3 document of the REST API; request schemas come from the pydantic models."""

from functools import cache

from meetings.api import schemas

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_field"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}

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
        "recurrence": {"$ref": "#/components/schemas/RecurrenceBody"},
        "access": {"type": "string", "enum": ["link", "signed_in", "invited"]},
        "access_code_required": {"type": "boolean"},
        "access_code": {"type": "string", "nullable": True},
        "invitees": {"type": "array", "items": {"type": "string", "format": "email"}},
        "co_hosts": {"type": "array", "items": {"type": "string", "format": "email"}},
        "lobby": {"type": "boolean"},
        "join_before_host": {"type": "boolean"},
        "max_participants": {"type": "integer", "nullable": True},
        "join_muted": {"type": "boolean"},
        "webinar": {"type": "boolean"},
        "recording_allowed": {"type": "boolean"},
        "auto_record": {"type": "boolean"},
        "cancelled": {"type": "boolean"},
        "join_url": {"type": "string", "format": "uri"},
        "ics_url": {"type": "string", "format": "uri"},
        "host": {"type": "object", "properties": {"display_name": {"type": "string"}}},
    },
}

OCCURRENCES = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
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
            },
        }
    },
}

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


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    ref = {"$ref": "#/components/schemas/Error"}
    return {str(status): _json(ref, "Error") for status in statuses}


def _body(model) -> dict:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


@cache
def openapi_document() -> dict:
    from meetings.api.openapi_ledger import ledger_paths
    from meetings.api.openapi_moderation import moderation_paths
    from meetings.api.openapi_recordings import recording_paths

    request_models = (
        schemas.MeetingCreate,
        schemas.MeetingUpdate,
        schemas.TokenRequest,
        schemas.MuteRequest,
        schemas.HandRequest,
    )
    components = {}
    for model in request_models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components |= schema.pop("$defs", {})
        components[model.__name__] = schema
    components |= {"Error": ERROR, "Meeting": MEETING, "Token": TOKEN}
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "Meetings API",
            "version": "1",
            "description": "Schedule meetings and let people join them. Errors are JSON "
            '`{"error": {"code", "message", "field"?}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/meetings": {
                "get": {
                    "summary": "Occurrences of your meetings (host or co-host) in a time range",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "from",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                    ],
                    "responses": {"200": _json(OCCURRENCES, "Occurrences"), **_errors(401, 422)},
                },
                "post": {
                    "summary": "Schedule a meeting",
                    "security": [{"bearer": []}],
                    "requestBody": _body(schemas.MeetingCreate),
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Meeting"}, "Created"),
                        **_errors(400, 401, 422),
                    },
                },
            },
            "/meetings/{slug}": {
                "get": {
                    "summary": "Read a meeting",
                    "parameters": [SLUG],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Meeting"}, "The meeting"),
                        **_errors(404),
                    },
                },
                "patch": {
                    "summary": "Change settings (fields not sent keep their values; null clears)",
                    "parameters": [SLUG],
                    "security": [{"bearer": []}],
                    "requestBody": _body(schemas.MeetingUpdate),
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Meeting"}, "Updated"),
                        **_errors(400, 401, 403, 404, 422),
                    },
                },
                "delete": {
                    "summary": "Cancel the meeting (its link then says so)",
                    "parameters": [SLUG],
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Meeting"}, "Cancelled"),
                        **_errors(401, 403, 404),
                    },
                },
            },
            "/meetings/{slug}/tokens": {
                "post": {
                    "summary": "Get a media token to join: host, signed-in participant or guest",
                    "parameters": [SLUG],
                    "security": [{"bearer": []}, {}],
                    "requestBody": _body(schemas.TokenRequest),
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Token"}, "Token issued"),
                        **_errors(400, 401, 403, 404, 409, 410, 422, 503),
                    },
                }
            },
        },
    }
    document["paths"] |= moderation_paths()
    document["paths"] |= ledger_paths()
    document["paths"] |= recording_paths()
    return document
