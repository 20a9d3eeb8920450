"""Helpers of the stream-out tests: the job dispatched and withdrawn as the app does it (the
RTMP destination is tests/support/rtmp_receiver.py)."""

import json
import secrets
from typing import Any

from livekit import api

AGENT = "meetings-stream"


def stream_job(room: str, outputs: list[dict[str, Any]], layout: str = "grid") -> dict:
    return {"job_id": f"SJ_{secrets.token_hex(16)}", "room": room, "layout": layout,
            "outputs": outputs}  # fmt: skip


def dispatch(stack: Any, job: dict[str, Any]) -> str:
    """Dispatch the stream job; its dispatch id (what the app keeps to withdraw it)."""

    async def send() -> str:
        async with api.LiveKitAPI(
            stack.config.url, stack.config.api_key, stack.config.api_secret
        ) as lk:
            made = await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=AGENT, room=job["room"], metadata=json.dumps(job)
                )
            )
            return made.id

    return stack.run(send())


def withdraw(stack: Any, room: str, dispatch_id: str) -> None:
    """How the app stops a stream: DeleteDispatch."""

    async def delete() -> None:
        async with api.LiveKitAPI(
            stack.config.url, stack.config.api_key, stack.config.api_secret
        ) as lk:
            await lk.agent_dispatch.delete_dispatch(dispatch_id, room)

    stack.run(delete())


def close_room(stack: Any, room: str) -> None:
    """How a meeting ends for LiveKit: DeleteRoom."""

    async def delete() -> None:
        async with api.LiveKitAPI(
            stack.config.url, stack.config.api_key, stack.config.api_secret
        ) as lk:
            await lk.room.delete_room(api.DeleteRoomRequest(room=room))

    stack.run(delete())
