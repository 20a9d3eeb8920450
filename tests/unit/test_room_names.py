"""Room names are built and read in one place: what one side writes, the other reads back."""

from datetime import UTC, datetime

import pytest

from meetings.scheduling import room_names


def test_a_room_name_reads_back_as_its_meeting_and_occurrence():
    starts_at = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    name = room_names.room_name("k3vq-8mzt-p2wa", starts_at)

    parsed = room_names.parse(name)

    assert name == "meeting-k3vq-8mzt-p2wa-202701040800"
    assert parsed == room_names.RoomName("k3vq-8mzt-p2wa", starts_at)
    assert parsed.occurrence_key == "20270104T0800Z"


@pytest.mark.parametrize(
    "name",
    [
        "standup",  # made by hand on the server
        "meeting-k3vq-8mzt-p2wa",  # no occurrence
        "meeting-K3VQ-8mzt-p2wa-202701040800",  # not one of our slugs
        "meeting-k3vq-8mzt-p2wa-202713040800",  # month 13: twelve digits that are no time
        "meeting-k3vq-8mzt-p2wa-202701040800-x",
    ],
)
def test_rooms_that_are_not_ours_read_as_none(name):
    assert room_names.parse(name) is None
