"""Request bodies of the meetings endpoints; the options' fields come from OPTIONS."""

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, EmailStr, Field, StrictBool, StrictInt, create_model

from meetings.api.bodies import Body
from meetings.models import Access, Frequency
from meetings.scheduling.options import OPTIONS
from meetings.scheduling.recurrence import MAX_OCCURRENCES

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Duration = Annotated[StrictInt, Field(ge=1, le=24 * 60)]


class RecurrenceBody(Body):
    freq: Frequency
    interval: Annotated[StrictInt, Field(ge=1, le=99)] = 1
    by_weekday: list[Weekday] = []
    count: Annotated[StrictInt, Field(ge=1, le=MAX_OCCURRENCES)] | None = None
    until: date | None = None


class _ScheduleFields(Body):
    title: Title | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    starts_at: AwareDatetime | None = None
    duration_minutes: Duration | None = None
    time_zone: Annotated[str, Field(max_length=64)] | None = None
    recurrence: RecurrenceBody | None = None
    access: Access | None = None
    invitees: Annotated[list[EmailStr], Field(max_length=500)] | None = None
    access_code: Annotated[str, Field(max_length=64)] | None = None
    co_hosts: Annotated[list[EmailStr], Field(max_length=50)] | None = None


_STRICT = {bool: StrictBool, int: StrictInt}

# Every setting; all optional here so PATCH can send only what changes.
MeetingFields = create_model(
    "MeetingFields",
    __base__=_ScheduleFields,
    **{
        option.name: (_STRICT[option.kind] | None, Field(None, description=option.description))
        for option in OPTIONS
    },
)


class MeetingCreate(MeetingFields):
    title: Title
    starts_at: AwareDatetime
    duration_minutes: Duration


class MeetingUpdate(MeetingFields):
    pass
