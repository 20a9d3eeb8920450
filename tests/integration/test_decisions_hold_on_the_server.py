"""Host and operator decisions reach the live room at once and outlive the tokens people
keep: on a real livekit-server."""

import asyncio

import pytest
from livekit import rtc

from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import User
from meetings.rooms import live_effects
from tests.support.live import run_in_thread
from tests.support.live_meetings import api, disconnected, live_meeting, moderate, server_view
from tests.support.synthetic import connect
from tests.support.waiting import wait_for, wait_for_async

pytestmark = pytest.mark.livekit

SERVER_LEEWAY_SECONDS = 60  # livekit-server accepts a token up to a minute after it expired


@pytest.fixture
def short_tokens(live_stack):
    """Join tokens that live three seconds, for this test."""
    config = live_stack.app.config
    before = config["LIVEKIT_TOKEN_TTL_SECONDS"]
    config["LIVEKIT_TOKEN_TTL_SECONDS"] = 3
    yield
    config["LIVEKIT_TOKEN_TTL_SECONDS"] = before


def test_a_kept_token_of_a_removed_person_stops_working_and_the_meeting_goes_on(
    live_stack, short_tokens
):
    slug, room_name, host, member = live_meeting(live_stack)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    _, kept = api(live_stack, slug, "tokens", member)

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        member_room = await connect(kept["livekit_url"], kept["token"])
        try:
            assert await moderate(live_stack, slug, kept["identity"], "remove", host) == 200
            await member_room.disconnect()
            # Past the token's life and the server's leeway, the kept token opens nothing. The
            # wait stays real: livekit-server checks expiry on its own clock (another process),
            # and trying the token earlier would let the removed person in again.
            await asyncio.sleep(3 + SERVER_LEEWAY_SECONDS + 2)
            with pytest.raises(Exception):  # noqa: B017 (the SDK raises ConnectError)
                await connect(kept["livekit_url"], kept["token"])
            # Meanwhile the host's call, started with the same short token, is still on: the
            # server keeps handing connected people fresh tokens.
            assert host_room.connection_state == rtc.ConnectionState.CONN_CONNECTED
            assert server_view(live_stack, room_name, host_ticket["identity"]) is not None
        finally:
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))


def test_a_co_host_who_loses_the_role_is_a_participant_in_the_live_room_at_once(live_stack):
    slug, room_name, host, member = live_meeting(live_stack)
    member_identity = api(live_stack, slug, "tokens", member)[1]["identity"]
    made = api(live_stack, slug, f"participants/{member_identity}/make_co_host", host)
    assert made[0] == 404  # not in the room yet: nothing changes
    _, host_ticket = api(live_stack, slug, "tokens", host)

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        _, ticket = await asyncio.to_thread(api, live_stack, slug, "tokens", member)
        co_host_room = await connect(ticket["livekit_url"], ticket["token"])
        try:
            assert await moderate(live_stack, slug, member_identity, "make_co_host", host) == 200
            assert (await asyncio.to_thread(api, live_stack, slug, "lock", member))[0] == 200
            assert await moderate(live_stack, slug, member_identity, "revoke_co_host", host) == 200
            seen = server_view(live_stack, room_name, member_identity)
            assert seen.metadata["role"] == "participant"

            def sees_itself_demoted():
                """The co-host's own client was told it is a participant now."""
                return '"participant"' in co_host_room.local_participant.metadata

            await wait_for_async(sees_itself_demoted)
            refused = await asyncio.to_thread(api, live_stack, slug, "unlock", member)
            assert refused[0] == 403
        finally:
            await co_host_room.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))


def test_disabling_an_account_ends_its_live_meetings_at_once(live_stack):
    slug, room_name, host, member = live_meeting(live_stack)
    _, host_ticket = api(live_stack, slug, "tokens", host)
    _, ticket = api(live_stack, slug, "tokens", member)
    notices: list[bytes] = []

    async def scenario():
        host_room = await connect(host_ticket["livekit_url"], host_ticket["token"])
        member_room = await connect(ticket["livekit_url"], ticket["token"])
        member_room.on("data_received", lambda packet: notices.append(packet.data))
        try:

            def ledger_has_them():
                """The app learned from the server's webhooks who is in the room."""
                return live_stack.query(lambda: live_effects.rooms_with(ticket["identity"]))

            await asyncio.to_thread(wait_for, ledger_has_them, 30)

            def disable():
                ops = auth_services.find_user_by_email("ops@example.com")
                user = db.session.get(User, int(ticket["identity"].removeprefix("u-")))
                auth_services.set_disabled(ops, user, True)

            await asyncio.to_thread(live_stack.query, disable)
            await wait_for_async(disconnected(member_room))
            assert server_view(live_stack, room_name, ticket["identity"]) is None
            assert any(b"signed_out" in notice for notice in notices)
            assert host_room.connection_state == rtc.ConnectionState.CONN_CONNECTED
        finally:
            await member_room.disconnect()
            await host_room.disconnect()

    run_in_thread(lambda: asyncio.run(scenario()))
    status, _ = api(live_stack, slug, "tokens", member)
    assert status == 401  # the API token of a disabled account opens nothing
