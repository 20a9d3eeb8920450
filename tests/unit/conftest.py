import pytest

from meetings import livekit_gateway


class FakeRooms:
    """Stands in for RoomService in view-logic tests; records what was provisioned."""

    def __init__(self):
        self.created: list[dict] = []
        self.unreachable = False
        self.present: dict[str, list[livekit_gateway.Participant]] = {}

    def provision_room(self, name, **settings):
        if self.unreachable:
            raise livekit_gateway.LiveKitUnavailable("connection refused")
        self.created.append({"name": name, **settings})
        return self.present.get(name, [])

    def list_participants(self, room: str):
        if self.unreachable:
            raise livekit_gateway.LiveKitUnavailable("connection refused")
        if room not in self.present:
            raise livekit_gateway.RoomNotFound(room)
        return self.present[room]

    def seat(self, room: str, *identities: str) -> None:
        """Pretend these identities are in the room."""
        people = [livekit_gateway.Participant(i, i, f"PA_{i}") for i in identities]
        self.present[room] = people


@pytest.fixture
def fake_rooms(monkeypatch) -> FakeRooms:
    fake = FakeRooms()
    monkeypatch.setattr(livekit_gateway, "provision_room", fake.provision_room)
    monkeypatch.setattr(livekit_gateway, "list_participants", fake.list_participants)
    return fake
