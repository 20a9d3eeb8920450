"""Provisioning the room once per occurrence, not on every token request, without ever
handing out a token for a room that is not on the server (its auto_create is off).

RoomService is faked here; tests/integration/test_room_provisioning_on_the_server.py joins
a real livekit-server with the tokens.
"""

from datetime import UTC, datetime, timedelta

import pytest

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import OccurrenceState
from tests.support.rooms import first_room


def token(app, meeting, name="Guest"):
    """A new browser asks for a token; returns the response."""
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    return app.test_client().post(url, json={"display_name": name})


def host_token(client, api_token, meeting):
    url = f"/api/v1/meetings/{meeting.slug}/tokens"
    return client.post(url, json={}, headers=api_token(meeting.host))


def creates(fake_rooms) -> int:
    return len(fake_rooms.created)


def test_more_joins_to_the_same_occurrence_do_not_create_the_room_again(
    app, client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting()
    assert host_token(client, api_token, meeting).status_code == 201
    for name in ("Ann", "Ben", "Cid"):
        assert token(app, meeting, name).status_code == 201
    assert host_token(client, api_token, meeting).status_code == 201
    assert [room["name"] for room in fake_rooms.created] == [first_room(meeting)]


def test_after_the_host_ended_and_reopened_the_meeting_a_guest_can_still_join(
    app, client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting()
    assert host_token(client, api_token, meeting).status_code == 201
    assert token(app, meeting, "Ann").status_code == 201
    end = f"/api/v1/meetings/{meeting.slug}/end"
    assert client.post(end, json={}, headers=api_token(meeting.host)).status_code == 200
    assert first_room(meeting) not in fake_rooms.present  # DeleteRoom: gone from the server

    refused = token(app, meeting, "Ben")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (410, "meeting_ended")
    assert host_token(client, api_token, meeting).status_code == 201  # reopens
    assert creates(fake_rooms) == 2  # the room is on the server again
    assert token(app, meeting, "Ben").status_code == 201
    assert creates(fake_rooms) == 2


def test_a_room_closed_behind_the_apps_back_is_created_again_when_the_join_looks_inside(
    app, client, api_token, make_meeting, fake_rooms
):
    # A capacity limit makes every join ask who is in the room: a missing room shows there.
    meeting = make_meeting(max_participants=5)
    assert host_token(client, api_token, meeting).status_code == 201
    fake_rooms.present.pop(first_room(meeting))
    assert token(app, meeting, "Ann").status_code == 201
    assert creates(fake_rooms) == 2


@pytest.mark.parametrize(
    ("people", "age", "creates_expected"),
    [
        # Everyone left a while ago: the server may close it any second (departure_timeout),
        # so no join may count on it still being there.
        pytest.param((), timedelta(minutes=3), 2, id="empty_provisioned_on_every_join"),
        pytest.param(("g-somebody",), timedelta(minutes=30), 1, id="occupied_remembered"),
    ],
)
def test_an_old_room_is_provisioned_again_unless_someone_is_in_it(
    app, make_meeting, fake_rooms, people, age, creates_expected
):
    meeting = make_meeting()
    room = first_room(meeting)
    fake_rooms.seat(room, *people)
    fake_rooms.created_at[room] = datetime.now(UTC) - age
    for name in ("Ann", "Ben"):
        assert token(app, meeting, name).status_code == 201
    assert creates(fake_rooms) == creates_expected


def test_the_memo_lasts_less_than_the_shortest_room_timeout(app, make_meeting, fake_rooms):
    meeting = make_meeting()
    assert token(app, meeting, "Ann").status_code == 201
    memo = db.session.scalar(db.select(OccurrenceState))
    shortest = min(
        app.config["LIVEKIT_EMPTY_TIMEOUT_SECONDS"], app.config["LIVEKIT_DEPARTURE_TIMEOUT_SECONDS"]
    )
    # As if the first join was that long ago: the room may have closed since.
    memo.room_provisioned_at -= timedelta(seconds=shortest / 2)
    db.session.commit()
    assert token(app, meeting, "Ben").status_code == 201
    assert creates(fake_rooms) == 2


def test_without_the_host_guests_still_wait_when_the_room_was_provisioned(
    app, make_meeting, fake_rooms
):
    meeting = make_meeting(join_before_host=False)
    first = token(app, meeting, "Ann")
    assert (first.status_code, first.get_json()["error"]["code"]) == (409, "waiting_for_host")
    second = token(app, meeting, "Ben")
    assert (second.status_code, second.get_json()["error"]["code"]) == (409, "waiting_for_host")
    fake_rooms.seat(first_room(meeting), meeting.host.livekit_identity)
    assert token(app, meeting, "Cid").status_code == 201


def test_a_full_room_still_turns_newcomers_away_when_it_was_provisioned(
    app, make_meeting, fake_rooms
):
    meeting = make_meeting(max_participants=1)
    assert token(app, meeting, "Ann").status_code == 201
    fake_rooms.seat(first_room(meeting), "g-ann")
    full = token(app, meeting, "Ben")
    assert (full.status_code, full.get_json()["error"]["code"]) == (409, "meeting_full")
    assert creates(fake_rooms) == 1


def test_a_recorder_in_the_room_takes_nobodys_seat(app, make_meeting, fake_rooms):
    meeting = make_meeting(max_participants=2)
    room = first_room(meeting)
    fake_rooms.seat(room, "g-ann")
    recorder = gateway.Participant("recorder-RJ_1", "Recorder", "PA_rec", is_worker=True)
    fake_rooms.present[room].append(recorder)
    assert token(app, meeting, "Ben").status_code == 201  # 1 person of 2, the recorder aside
    fake_rooms.seat(room, "g-ann", "g-ben")
    fake_rooms.present[room].append(recorder)
    full = token(app, meeting, "Cid")
    assert (full.status_code, full.get_json()["error"]["code"]) == (409, "meeting_full")
