import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from meetings import livekit_gateway as gateway


class FakeRooms:
    """Stands in for RoomService in view-logic tests; records what was asked of it."""

    def __init__(self):
        self.created: list[dict] = []
        self.calls: list[tuple] = []
        self.unreachable = False
        self.present: dict[str, list[gateway.Participant]] = {}
        self.egress: dict[str, gateway.Egress] = {}
        self.egress_refusal = ""  # e.g. "unavailable: no response from servers"
        self.metadata: dict[str, dict] = {}
        self.created_at: dict[str, datetime] = {}
        self.dispatches: dict[str, gateway.Dispatch] = {}
        self.workers_take_jobs = True

    def _answer(self) -> None:
        if self.unreachable:
            raise gateway.LiveKitUnavailable("connection refused")

    def ensure_room(self, name, **settings):
        """CreateRoom and ListParticipants: a new room is made now, an existing one kept."""
        self._answer()
        self.created.append({"name": name, **settings})
        made_now = name not in self.present
        people = self.present.setdefault(name, [])
        if made_now or name not in self.created_at:
            self.created_at[name] = datetime.now(UTC)
        return gateway.ProvisionedRoom(list(people), self.created_at[name], bool(people))

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

    def set_attributes(self, room, identity, attributes):
        self._record("set_attributes", room, identity, attributes)

    def delete_room(self, room):
        self._record("delete_room", room)
        # The room is gone from the server, with everyone in it.
        self.present.pop(room, None)
        self.created_at.pop(room, None)

    def list_rooms(self):
        """The rooms provisioned so far, as the server would list them."""
        self._answer()
        return [
            gateway.LiveRoom(name, {}, 0, len(people), sid=f"RM_{name}")
            for name, people in self.present.items()
        ]

    # ---- recording (Egress) and room metadata ------------------------------------------

    def start_room_composite_egress(self, room, *, layout, preset, target):
        self._answer()
        if self.egress_refusal:
            raise gateway.LiveKitUnavailable(self.egress_refusal)
        egress_id = f"EG_fake{len(self.egress) + 1}"
        self.egress[egress_id] = gateway.Egress(
            egress_id, room, "starting", "", None, None, 1, (), layout, target.audio_only
        )
        self.calls.append(("start_egress", room, layout, preset, target))
        return self.egress[egress_id]

    def start_room_composite_stream(self, room, *, layout, rtmp_urls, hls_prefix):
        self._answer()
        if self.egress_refusal:
            raise gateway.LiveKitUnavailable(self.egress_refusal)
        egress_id = f"EG_fake{len(self.egress) + 1}"
        self.egress[egress_id] = gateway.Egress(
            egress_id, room, "starting", "", None, None, 1, (), layout, False
        )
        self.calls.append(("start_stream", room, layout, rtmp_urls, hls_prefix))
        return self.egress[egress_id]

    # ---- LiveKit Ingress (INGRESS=livekit) -------------------------------------------------

    def create_ingress(self, room, *, name, identity):
        self._answer()
        if self.egress_refusal:  # no ingress service either
            raise gateway.LiveKitUnavailable(self.egress_refusal)
        self.calls.append(("create_ingress", room, name, identity))
        number = len([c for c in self.calls if c[0] == "create_ingress"])
        return gateway.Ingress(
            f"IN_fake{number}", "rtmp://ingress.example/x", f"lk-key-{number}", room
        )

    def move_ingress(self, ingress_id, room):
        self._record("move_ingress", ingress_id, room)

    def delete_ingress(self, ingress_id):
        self._record("delete_ingress", ingress_id)

    def stop_egress(self, egress_id):
        self._record("stop_egress", egress_id)
        if egress_id not in self.egress:
            raise gateway.RoomNotFound("egress not found")
        self.egress[egress_id] = replace(self.egress[egress_id], status="ending", updated_ns=2)
        return self.egress[egress_id]

    def list_egress(self, *, room="", egress_id="", active=False):
        self._answer()
        return [e for e in self.egress.values() if egress_id in ("", e.egress_id)]

    # ---- agent dispatch (the media worker) ---------------------------------------------

    def dispatch_agent(self, room, agent_name, metadata):
        self._answer()
        if room not in self.present:
            raise gateway.RoomNotFound("requested room does not exist")
        dispatch_id = f"AD_fake{len(self.dispatches) + 1}"
        self.dispatches[dispatch_id] = gateway.Dispatch(
            dispatch_id, agent_name, room, json.dumps(metadata)
        )
        self.calls.append(("dispatch", room, agent_name, metadata))
        return dispatch_id

    def list_dispatches(self, room, dispatch_id=""):
        self._answer()
        return [
            d
            for d in self.dispatches.values()
            if d.room == room and dispatch_id in ("", d.dispatch_id)
        ]

    def wait_for_job(self, room, dispatch_id, seconds, identity=""):
        """A worker takes the job unless `workers_take_jobs` is off."""
        self._answer()
        if not self.workers_take_jobs or dispatch_id not in self.dispatches:
            return None
        taken = replace(self.dispatches[dispatch_id], job_ids=(f"AJ_{dispatch_id}",))
        self.dispatches[dispatch_id] = taken
        return taken

    def delete_dispatch(self, room, dispatch_id):
        self._record("delete_dispatch", room, dispatch_id)
        if self.dispatches.pop(dispatch_id, None) is None:
            raise gateway.RoomNotFound("dispatch ID not found")

    def update_room_metadata(self, room, changes):
        self._answer()
        self.metadata[room] = self.metadata.get(room, {}) | changes
        return self.metadata[room]


FAKED = (
    "set_attributes",
    "ensure_room",
    "list_participants",
    "list_live_participants",
    "get_participant",
    "mute_track",
    "remove_participant",
    "set_publishing",
    "send_data",
    "delete_room",
    "list_rooms",
    "start_room_composite_egress",
    "start_room_composite_stream",
    "create_ingress",
    "move_ingress",
    "delete_ingress",
    "stop_egress",
    "list_egress",
    "update_room_metadata",
    "dispatch_agent",
    "list_dispatches",
    "wait_for_job",
    "delete_dispatch",
)


@pytest.fixture
def fake_rooms(monkeypatch) -> FakeRooms:
    fake = FakeRooms()
    for name in FAKED:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    return fake
