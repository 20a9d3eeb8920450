"""Request bodies of the REST API. Unknown fields are refused so typos do not pass silently."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt

from meetings.models import Access, Frequency
from meetings.scheduling.recurrence import MAX_OCCURRENCES

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecurrenceBody(Body):
    freq: Frequency
    interval: Annotated[StrictInt, Field(ge=1, le=99)] = 1
    by_weekday: list[Weekday] = []
    count: Annotated[StrictInt, Field(ge=1, le=MAX_OCCURRENCES)] | None = None
    until: date | None = None


class MeetingFields(Body):
    """Every setting; all optional here so PATCH can send only what changes."""

    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    starts_at: AwareDatetime | None = None
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)] | None = None
    time_zone: Annotated[str, Field(max_length=64)] | None = None
    recurrence: RecurrenceBody | None = None
    access: Access | None = None
    invitees: Annotated[list[EmailStr], Field(max_length=500)] | None = None
    access_code: Annotated[str, Field(max_length=64)] | None = None
    lobby: StrictBool | None = None
    join_before_host: StrictBool | None = None
    max_participants: StrictInt | None = None
    join_muted: StrictBool | None = None
    webinar: StrictBool | None = None
    recording_allowed: StrictBool | None = None
    auto_record: StrictBool | None = None
    co_hosts: Annotated[list[EmailStr], Field(max_length=50)] | None = None


class MeetingCreate(MeetingFields):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    starts_at: AwareDatetime
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)]


class MeetingUpdate(MeetingFields):
    pass


class TokenRequest(Body):
    display_name: Annotated[str | None, Field(max_length=64)] = None
    access_code: Annotated[str | None, Field(max_length=64)] = None


def to_iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class MuteRequest(Body):
    source: Literal["microphone", "camera", "screen_share"] = "microphone"


class HandRequest(Body):
    raised: StrictBool


class GuestLobbyRequest(Body):
    on: StrictBool
