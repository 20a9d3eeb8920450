"""Request bodies of the REST API. Unknown fields are refused so typos do not pass silently."""

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MeetingCreate(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    starts_at: AwareDatetime
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)]


class TokenRequest(Body):
    display_name: Annotated[str | None, Field(max_length=64)] = None


def to_iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
