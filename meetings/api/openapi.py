"""The API's OpenAPI 3 document, assembled from what each feature registers.

Each feature's `openapi.py` describes its own paths and calls `register` when its `api.py`
is imported; request schemas come from the features' pydantic bodies.
"""

from collections.abc import Callable
from functools import cache

from flask import jsonify

from meetings.api import bp

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_field"},
                "message": {"type": "string", "description": "For people; about `field`."},
                "field": {
                    "type": "string",
                    "description": "The first field to blame, when fields are to blame.",
                },
                "errors": {
                    "type": "array",
                    "description": "Every field to blame (present with `field`), in order.",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {
                            "field": {
                                "type": "string",
                                "nullable": True,
                                "description": "Dotted path (`recurrence.count`); null: the body.",
                            },
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
BEARER = [{"bearer": []}]

_paths: list[Callable[[], dict]] = []
_request_bodies: list[type] = []
_schemas: dict[str, dict] = {"Error": ERROR}


def register(paths: Callable[[], dict], bodies: tuple[type, ...] = (), **schemas: dict) -> None:
    """Add a feature's paths, the request bodies they name and any response schemas."""
    _paths.append(paths)
    _request_bodies.extend(body for body in bodies if body not in _request_bodies)
    _schemas.update(schemas)


def listing(item: dict) -> dict:
    """`{"items": [item, ...]}`: the shape of every list the API answers."""
    return {"type": "object", "properties": {"items": {"type": "array", "items": item}}}


def json_response(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def errors(*statuses: int) -> dict:
    return {str(status): json_response(ref("Error"), "Error") for status in statuses}


def request_body(model: type) -> dict:
    return {"required": True, "content": {"application/json": {"schema": ref(model.__name__)}}}


@cache
def openapi_document() -> dict:
    components = dict(_schemas)
    for model in _request_bodies:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components |= schema.pop("$defs", {})
        components[model.__name__] = schema
    paths: dict = {}
    for contribution in _paths:
        paths |= contribution()
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
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3 description."""
    return jsonify(openapi_document())
