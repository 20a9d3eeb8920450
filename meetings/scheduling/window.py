"""Where a meeting stands in its schedule: cancelled, not open yet, open, or over.

Hosts may open the next occurrence early; once a host is in, everyone may join.
"""

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.models import Meeting
from meetings.scheduling import recurrence as rec
from meetings.scheduling.recurrence import Occurrence
from meetings.short_cache import cache_of


class Phase(enum.StrEnum):
    CANCELLED = "cancelled"
    NOT_OPEN = "not_open"
    OPEN = "open"
    OVER = "over"


@dataclass(frozen=True)
class Window:
    """Where a meeting stands in its schedule at one moment."""

    phase: Phase
    occurrence: Occurrence | None = None
    opens_at: datetime | None = None


def window(meeting: Meeting, now: datetime | None = None, *, early_access: bool = False) -> Window:
    """Is the meeting open now? Hosts (`early_access`) may open the next occurrence early."""
    now = now or datetime.now(UTC)
    config = current_app.config
    if meeting.is_cancelled:
        return Window(Phase.CANCELLED)
    grace = timedelta(minutes=config["JOIN_GRACE_MINUTES"])
    occurrence = rec.current_or_next(meeting, now, grace)
    if occurrence is None:
        return Window(Phase.OVER)
    opens_at = occurrence.starts_at - timedelta(minutes=config["JOIN_EARLY_MINUTES"])
    if now < opens_at and not early_access and not host_is_in(occurrence):
        return Window(Phase.NOT_OPEN, occurrence, opens_at)
    return Window(Phase.OPEN, occurrence, opens_at)


def host_is_in(occurrence: Occurrence) -> bool:
    """A host who opened the meeting early lets everyone in, as people expect.

    An unreachable server counts as "no": the page then shows the schedule.
    """

    def identities() -> frozenset[str]:
        try:
            return frozenset(p.identity for p in gateway.list_participants(occurrence.room_name))
        except gateway.LiveKitError:
            return frozenset()

    # The waiting page before an occurrence opens is for anyone with the link: the server is
    # asked whether a host is in at most every few seconds per room and process.
    present = cache_of("room_identities", seconds=3).get(occurrence.room_name, identities)
    return bool(present & occurrence.meeting.host_identities())
