import pytest

from meetings import livekit_gateway


class FakeRooms:
    """Stands in for RoomService in view-logic tests; records what was provisioned."""

    def __init__(self):
        self.created: list[dict] = []
        self.unreachable = False

    def ensure_room(self, name, **settings):
        if self.unreachable:
            raise livekit_gateway.LiveKitUnavailable("connection refused")
        self.created.append({"name": name, **settings})


@pytest.fixture
def fake_rooms(monkeypatch) -> FakeRooms:
    fake = FakeRooms()
    monkeypatch.setattr(livekit_gateway, "ensure_room", fake.ensure_room)
    return fake
