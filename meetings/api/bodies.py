"""Request bodies and JSON times, the same way for every endpoint of the API."""

from datetime import datetime
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from meetings.errors import ApiError, FieldError

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    """A request body: unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def parse_body(model: type[M]) -> M:
    """The JSON body as `model`.

    Raises:
        ApiError: 400 for a body that is not a JSON object; 422 naming every bad field
            (`field` and `message` tell the first, as clients have always read them).
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "Send a JSON object with Content-Type: application/json.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems = [
            FieldError(".".join(str(part) for part in each["loc"]) or None, each["msg"])
            for each in error.errors()
        ]
        first = problems[0]
        message = f"{first.field}: {first.message}" if first.field else first.message
        raise ApiError(422, "invalid_field", message, first.field, errors=problems) from error


def to_iso(value: datetime | None) -> str | None:
    """UTC times end in Z, as JavaScript and most clients expect."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
