"""Signed events to the app: POST {MEETINGS_APP_URL}/worker/events, signed like LiveKit webhooks.

The app verifies them with the code it uses for livekit-server's webhooks: a JWT in
`Authorization` (no "Bearer"), HS256 with the API secret, issuer = API key, and claim `sha256` =
base64(SHA-256(raw body)).
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from livekit import api

from meetings.worker.settings import WorkerSettings

logger = logging.getLogger("meetings.worker.reporting")

TOKEN_TTL = timedelta(minutes=5)
RETRY_FOR_SECONDS = 120.0  # how long one event is retried before it is dropped
POST_TIMEOUT_SECONDS = 10.0


def sign(body: bytes, api_key: str, api_secret: str) -> str:
    """The Authorization header value for `body`, as livekit-server signs a webhook."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return api.AccessToken(api_key, api_secret).with_ttl(TOKEN_TTL).with_sha256(digest).to_jwt()


@dataclass
class _Event:
    body: bytes
    kind: str
    deadline: float  # monotonic: give up retrying after this
    attempts: int = field(default=0)


class Reporter:
    """Queues events and delivers them in order from a task; emit() never waits."""

    def __init__(self, settings: WorkerSettings, *, job_id: str = "", room: str = "") -> None:
        self._settings = settings
        self._job_id = job_id
        self._room = room
        self._queue: asyncio.Queue[_Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.delivered: list[str] = []  # kinds, in order; read by tests and logs

    def emit(
        self,
        kind: str,
        data: dict[str, Any],
        *,
        retry_for: float = RETRY_FOR_SECONDS,
        job_id: str | None = None,
        room: str | None = None,
    ) -> str:
        """Queue one event; returns its id (the same on every retry)."""
        event_id = "WE_" + secrets.token_urlsafe(12)
        envelope = {
            "id": event_id,
            "kind": kind,
            "job_id": self._job_id if job_id is None else job_id,
            "room": self._room if room is None else room,
            "at": time.time(),
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        self._queue.put_nowait(_Event(body, kind, time.monotonic() + retry_for))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._deliver_all())
        return event_id

    async def send(self, kind: str, data: dict[str, Any]) -> None:
        """emit() for callers that await: returns at once, delivery happens in the background."""
        self.emit(kind, data)

    async def flush(self, timeout: float) -> bool:
        """Wait (bounded) until every queued event is delivered or given up on."""
        if self._task is None:
            return True
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def aclose(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (bounded), then stop."""
        if self._task is None:
            return
        if not await self.flush(timeout):
            logger.error("dropping %d undelivered event(s) at shutdown", self._queue.qsize())
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _deliver_all(self) -> None:
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                event = await self._queue.get()
                try:
                    await self._deliver(session, event)
                finally:
                    self._queue.task_done()

    async def _deliver(self, session: aiohttp.ClientSession, event: _Event) -> None:
        delay = 0.5
        while True:
            event.attempts += 1
            # A fresh token per attempt: a retry minutes later must not carry an expired one.
            headers = {
                "Authorization": sign(
                    event.body, self._settings.api_key, self._settings.api_secret
                ),
                "Content-Type": "application/json",
            }
            try:
                async with session.post(
                    self._settings.events_url, data=event.body, headers=headers
                ) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, reason = None, f"{type(exc).__name__}: {exc}"
            else:
                reason = f"HTTP {status}"
                if status < 300:
                    self.delivered.append(event.kind)
                    return
                if 400 <= status < 500 and status != 429:
                    # The app understood and refused: retrying would not change its answer.
                    logger.warning("app refused %s event: %s", event.kind, reason)
                    self.delivered.append(event.kind)
                    return
            if time.monotonic() + delay > event.deadline:
                logger.error(
                    "giving up on %s event after %d tries: %s", event.kind, event.attempts, reason
                )
                return
            logger.info("event %s not delivered (%s), retrying in %.1fs", event.kind, reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
