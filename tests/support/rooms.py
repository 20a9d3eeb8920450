"""Which LiveKit room a meeting uses."""

from meetings.models import Meeting
from meetings.scheduling import recurrence as rec


def first_room(meeting: Meeting) -> str:
    """The LiveKit room of the meeting's first occurrence."""
    return rec.occurrences(meeting)[0].room_name
