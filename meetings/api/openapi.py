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
    "properties": {
        "slug": {"type": "string", "example": "k3vq-8mzt-p2wa"},
        "title": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "duration_minutes": {"type": "integer"},
        "join_url": {"type": "string", "format": "uri"},
        "host": {"type": "object", "properties": {"display_name": {"type": "string"}}},
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
    },
}

ATTENDANCE = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "identity": {"type": "string"},
            "display_name": {"type": "string"},
            "joined_at": {"type": "string", "format": "date-time", "nullable": True},
            "left_at": {"type": "string", "format": "date-time", "nullable": True},
        },
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
    request_models = (schemas.MeetingCreate, schemas.TokenRequest)
    components = {model.__name__: model.model_json_schema() for model in request_models}
    components |= {"Error": ERROR, "Meeting": MEETING, "Token": TOKEN}
    return {
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
                "post": {
                    "summary": "Schedule a meeting",
                    "security": [{"bearer": []}],
                    "requestBody": _body(schemas.MeetingCreate),
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Meeting"}, "Created"),
                        **_errors(400, 401, 422),
                    },
                }
            },
            "/meetings/{slug}": {
                "get": {
                    "summary": "Read a meeting",
                    "parameters": [SLUG],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Meeting"}, "The meeting"),
                        **_errors(404),
                    },
                }
            },
            "/meetings/{slug}/tokens": {
                "post": {
                    "summary": "Get a media token to join: host, signed-in participant or guest",
                    "parameters": [SLUG],
                    "security": [{"bearer": []}, {}],
                    "requestBody": _body(schemas.TokenRequest),
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Token"}, "Token issued"),
                        **_errors(400, 401, 404, 422, 503),
                    },
                }
            },
            "/meetings/{slug}/attendance": {
                "get": {
                    "summary": "Join and leave times reported by the media server (host only)",
                    "parameters": [SLUG],
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": _json(ATTENDANCE, "Attendance intervals"),
                        **_errors(401, 403, 404),
                    },
                }
            },
        },
    }
