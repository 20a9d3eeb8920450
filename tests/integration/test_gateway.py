"""Every gateway function against the real livekit-server."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from meetings import livekit_gateway as gateway
from tests.support.live import run_in_thread
from tests.support.synthetic import connect

pytestmark = pytest.mark.livekit


def unique(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


def grant(room: str, identity: str) -> gateway.MediaGrant:
    return gateway.MediaGrant(
        room=room,
        identity=identity,
        name=identity,
        can_publish=False,
        can_subscribe=True,
        can_publish_data=False,
        ttl=timedelta(minutes=5),
    )


def test_provisioned_room_is_listed_and_empty(live_stack):
    room = unique("gw-room")

    def provision_and_look():
        first = gateway.ensure_room(
            room, empty_timeout=60, departure_timeout=10, max_participants=7, metadata={"slug": "x"}
        ).participants
        again = gateway.ensure_room(room, empty_timeout=60, departure_timeout=10)  # idempotent
        return first, again.participants, gateway.list_rooms(), gateway.list_participants(room)

    first, again, rooms, participants = run_in_thread(lambda: live_stack.query(provision_and_look))
    [listed] = [r for r in rooms if r.name == room]
    assert listed.metadata == {"slug": "x"}
    assert listed.max_participants == 7
    assert first == again == participants == []


def test_ensure_room_says_when_the_room_was_made_and_whether_someone_keeps_it_open(live_stack):
    room = unique("gw-ensure")

    def ensure():
        return gateway.ensure_room(room, empty_timeout=60, departure_timeout=5)

    def provision():
        made = ensure()
        return made, gateway.mint_token(grant(room, "viewer-1"))

    began = datetime.now(UTC)
    made, token = run_in_thread(lambda: live_stack.query(provision))
    assert made.participants == [] and not made.occupied
    assert abs(made.created_at - began) < timedelta(seconds=5)

    async def join_and_ensure():
        lk_room = await connect(live_stack.livekit_config.ws_url, token.jwt)
        try:
            return await asyncio.to_thread(live_stack.query, ensure)
        finally:
            await lk_room.disconnect()

    again = run_in_thread(lambda: asyncio.run(join_and_ensure()))
    assert again.occupied
    assert [p.identity for p in again.participants] == ["viewer-1"]
    assert again.created_at == made.created_at  # the same room, left as it was


def test_token_for_unprovisioned_room_cannot_join(live_stack):
    room = unique("never-created")
    token = run_in_thread(lambda: live_stack.query(lambda: gateway.mint_token(grant(room, "g-1"))))

    async def attempt():
        await connect(live_stack.livekit_config.ws_url, token.jwt)

    with pytest.raises(Exception, match=r"(?i)room|404|not exist|failed"):
        run_in_thread(lambda: asyncio.run(attempt()))


def test_minted_token_joins_the_provisioned_room(live_stack):
    room = unique("gw-join")

    def provision():
        gateway.ensure_room(room, empty_timeout=60, departure_timeout=5)
        return gateway.mint_token(grant(room, "viewer-1"))

    token = run_in_thread(lambda: live_stack.query(provision))

    async def join_and_list():
        lk_room = await connect(live_stack.livekit_config.ws_url, token.jwt)
        try:
            # The gateway is synchronous: call it from a worker thread, not this loop.
            return await asyncio.to_thread(
                live_stack.query, lambda: gateway.list_participants(room)
            )
        finally:
            await lk_room.disconnect()

    participants = run_in_thread(lambda: asyncio.run(join_and_list()))
    assert [p.identity for p in participants] == ["viewer-1"]


def test_unreachable_server_is_reported_quickly(live_stack):
    live_stack.app.config["LIVEKIT_URL"] = "http://127.0.0.1:9"
    try:
        started = time.monotonic()
        reachable = run_in_thread(lambda: live_stack.query(gateway.is_reachable))
        elapsed = time.monotonic() - started
    finally:
        live_stack.app.config["LIVEKIT_URL"] = live_stack.livekit_config.url
    assert reachable is False
    assert elapsed < live_stack.app.config["LIVEKIT_TIMEOUT_SECONDS"] + 1


def test_health_reports_livekit_state(live_stack):
    assert live_stack.http("GET", "/healthz") == (
        200,
        {"status": "ok", "database": "ok", "livekit": "ok"},
    )


NOBODYS_AGENT = "meetings-no-worker-serves-this"


def test_a_dispatch_to_a_room_is_created_listed_and_withdrawn(live_stack):
    room = unique("gw-dispatch")

    def dispatch_and_look():
        gateway.ensure_room(room, empty_timeout=60, departure_timeout=10)
        metadata = {"job_id": "RJ_test", "room": room, "file_name": "x.mp4"}
        # An agent no worker serves: the live stack's media worker may be running.
        dispatch_id = gateway.dispatch_agent(room, NOBODYS_AGENT, metadata)
        listed = gateway.list_dispatches(room)
        one = gateway.list_dispatches(room, dispatch_id)
        began = time.monotonic()
        taken = gateway.wait_for_job(room, dispatch_id, 1.0)
        waited = time.monotonic() - began
        gateway.delete_dispatch(room, dispatch_id)
        return dispatch_id, metadata, listed, one, taken, waited, gateway.list_dispatches(room)

    dispatch_id, metadata, listed, one, taken, waited, after = run_in_thread(
        lambda: live_stack.query(dispatch_and_look)
    )
    assert dispatch_id.startswith("AD_")
    # The server also keeps a dispatch of its own (no agent name) for every room.
    [found] = [d for d in listed if d.agent_name]
    assert one == [found]
    assert (found.dispatch_id, found.agent_name, found.room) == (
        dispatch_id,
        NOBODYS_AGENT,
        room,
    )
    assert json.loads(found.metadata) == metadata
    assert found.job_ids == ()  # no worker took it
    assert taken is None and 0.8 < waited < 5
    assert [d for d in after if d.agent_name] == []


def test_a_dispatch_to_a_room_that_does_not_exist_is_refused(live_stack):
    # livekit-server v1.13.5 answers `unavailable` ("no response from servers": no node
    # holds the room), not `not_found`.
    room = unique("gw-no-room")

    def dispatch():
        try:
            gateway.dispatch_agent(room, "meetings-recorder", {})
        except gateway.LiveKitError as error:
            return error
        return None

    began = time.monotonic()
    refused = run_in_thread(lambda: live_stack.query(dispatch))
    assert isinstance(refused, gateway.LiveKitError), refused
    assert time.monotonic() - began < 10
