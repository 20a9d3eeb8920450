import pytest

from meetings import livekit_gateway as gateway


class FakeRooms:
    """Stands in for RoomService in view-logic tests; records what was asked of it."""

    def __init__(self):
        self.created: list[dict] = []
        self.calls: list[tuple] = []
        self.unreachable = False
        self.present: dict[str, list[gateway.Participant]] = {}

    def _answer(self) -> None:
        if self.unreachable:
            raise gateway.LiveKitUnavailable("connection refused")

    def provision_room(self, name, **settings):
        self._answer()
        self.created.append({"name": name, **settings})
        return self.present.setdefault(name, [])

    def list_participants(self, room: str):
        self._answer()
        if room not in self.present:
            raise gateway.RoomNotFound(room)
        return self.present[room]

    def seat(self, room: str, *identities: str) -> None:
        """Pretend these identities are in the room, each with an open microphone."""
        people = [gateway.Participant(i, i, f"PA_{i}") for i in identities]
        self.present[room] = people

    # ---- moderation --------------------------------------------------------------------

    def list_live_participants(self, room: str):
        return [self.get_participant(room, p.identity) for p in self.list_participants(room)]

    def get_participant(self, room: str, identity: str):
        if identity not in {p.identity for p in self.list_participants(room)}:
            raise gateway.RoomNotFound("participant not found")
        microphone = gateway.PublishedTrack(f"TR_{identity}", "microphone", False)
        return gateway.LiveParticipant(identity, identity, {}, True, (microphone,))

    def _record(self, *call) -> None:
        self._answer()
        self.calls.append(call)

    def mute_track(self, room, identity, track_sid):
        self._record("mute", room, identity, track_sid)

    def remove_participant(self, room, identity):
        self.get_participant(room, identity)
        self._record("remove", room, identity)

    def set_publishing(self, room, identity, can_publish, metadata):
        self._record("set_publishing", room, identity, can_publish, metadata)

    def send_data(self, room, payload, topic, identities):
        self._record("send_data", room, payload, topic, identities)

    def delete_room(self, room):
        self._record("delete_room", room)


FAKED = (
    "provision_room",
    "list_participants",
    "list_live_participants",
    "get_participant",
    "mute_track",
    "remove_participant",
    "set_publishing",
    "send_data",
    "delete_room",
)


@pytest.fixture
def fake_rooms(monkeypatch) -> FakeRooms:
    fake = FakeRooms()
    for name in FAKED:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    return fake
