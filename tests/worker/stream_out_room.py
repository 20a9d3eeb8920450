"""Helpers of the stream-out tests: the job dispatched and withdrawn as the app does it, and
Debian's ffmpeg listening as an RTMP destination (what YouTube or Twitch would be)."""

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

from livekit import api

from meetings.livekit_process import free_port

FFMPEG = Path("/usr/bin/ffmpeg")
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


def _listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (read from /proc: a probe connection
    would be taken for the one publisher ffmpeg accepts)."""
    wanted = f"0100007F:{port:04X}"
    for table in ("/proc/net/tcp",):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
                return True
    return False


class RtmpReceiver:
    """`ffmpeg -f flv -listen 1 -i rtmp://127.0.0.1:<port>/live/<key> -c copy <file>.flv`."""

    def __init__(self, directory: Path, key: str) -> None:
        self.port = free_port()
        self.key = key
        self.url = f"rtmp://127.0.0.1:{self.port}/live/{key}"
        self.path = directory / f"received-{self.port}.flv"
        self.log_path = directory / f"receiver-{self.port}.log"
        command = [str(FFMPEG), "-hide_banner", "-nostdin", "-loglevel", "error"]
        command += ["-f", "flv", "-listen", "1", "-i", self.url, "-c", "copy", str(self.path)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"the RTMP receiver did not listen: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float) -> None:
        """Until it ends by itself (the publisher went away)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the receiver still ran after {timeout} s") from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
