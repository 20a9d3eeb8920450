"""The name of an occurrence's LiveKit room: built and read here, and nowhere else.

"meeting-<slug>-<YYYYMMDDHHMM>": one room per occurrence, so attendance, moderation and
recordings never mix two sittings of a series. Anything else on the server is not ours.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "meeting-"
_STARTS_AT = "%Y%m%d%H%M"
# An occurrence's key, as URLs and the ledger write it.
KEY_FORMAT = "%Y%m%dT%H%MZ"
_PATTERN = re.compile(r"^meeting-(?P<slug>[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})-(?P<at>\d{12})$")


@dataclass(frozen=True)
class RoomName:
    """What a room name says: which meeting, and when the occurrence starts (UTC)."""

    slug: str
    starts_at: datetime

    @property
    def occurrence_key(self) -> str:
        return self.starts_at.strftime(KEY_FORMAT)


def room_name(slug: str, starts_at: datetime) -> str:
    return f"{PREFIX}{slug}-{starts_at.astimezone(UTC):{_STARTS_AT}}"


def parse(name: str) -> RoomName | None:
    """The meeting and occurrence a room belongs to; None for a room that is not ours."""
    match = _PATTERN.match(name)
    if match is None:
        return None
    try:
        starts_at = datetime.strptime(match["at"], _STARTS_AT).replace(tzinfo=UTC)
    except ValueError:  # twelve digits that are no time, e.g. month 13
        return None
    return RoomName(match["slug"], starts_at)
