"""Fixtures for the media worker: a real livekit-server, a receiver that verifies the worker's
signed events, worker processes started as `python -m meetings.worker start`, synthetic
participants and dispatch through livekit-api."""

import asyncio
import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from meetings.livekit_process import (
    DEFAULT_BINARY,
    LiveKitServer,
    LiveKitServerConfig,
    free_port,
    free_udp_port,
    new_api_key,
)
from tests.conftest import require
from tests.support.media_worker import WorkerProcess
from tests.support.s3 import moto_bucket
from tests.worker.participants import ParticipantsProcess

PROJECT_DIR = Path(__file__).resolve().parents[2]


class Sink:
    """Collects the worker's events (verified like the app will) and livekit-server webhooks."""

    def __init__(self, key: str, secret: str) -> None:
        self.verifier = api.TokenVerifier(key, secret)
        self.webhooks = api.WebhookReceiver(api.TokenVerifier(key, secret))
        self.events: list[dict[str, Any]] = []
        self.hooks: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self._changed = threading.Condition()

    def receive(self, path: str, body: bytes, headers: Any) -> int:
        auth = headers.get("Authorization", "")
        try:
            if path == "/livekit/webhook":
                self.webhooks.receive(body.decode(), auth)  # raises unless signed right
                record = json.loads(body)
                target = self.hooks
            else:
                assert headers.get("Content-Type") == "application/json"
                assert not auth.startswith("Bearer"), "the token goes in bare, like webhooks"
                claims = self.verifier.verify(auth)
                expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
                assert claims.sha256 == expected, "body hash does not match the token"
                record = json.loads(body)
                target = self.events
        except Exception as exc:
            self.rejected.append(f"{path}: {type(exc).__name__}: {exc}")
            return 401
        with self._changed:
            target.append(record)
            self._changed.notify_all()
        return 200

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """The predicate's first truthy value, or a failure naming `what`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [(e["kind"], e["job_id"]) for e in self.events[-15:]]
                    pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {kinds}")
                self._changed.wait(min(left, 0.5))

    def of(self, job_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if e["job_id"] == job_id and kind in (None, e["kind"])]

    def wait_event(self, job_id: str, kind: str, timeout: float = 30, **match: Any) -> dict:
        def found() -> dict | None:
            for event in self.of(job_id, kind):
                if all(event["data"].get(k) == v for k, v in match.items()):
                    return event
            return None

        return self.wait(found, timeout, f"{kind} of job {job_id}")


def _serve(sink: Sink) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(sink.receive(self.path, body, self.headers))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Stack:
    config: LiveKitServerConfig
    server: LiveKitServer
    sink: Sink
    app_url: str
    workdir: Path
    groups: list[ParticipantsProcess] = field(default_factory=list)

    def run(self, coro: Any, timeout: float = 30) -> Any:
        """Run one coroutine on a fresh loop (a livekit-api client is bound to its loop)."""

        async def bounded() -> Any:
            return await asyncio.wait_for(coro, timeout)

        return asyncio.run(bounded())

    def create_room(self, name: str) -> None:
        async def create() -> None:
            async with api.LiveKitAPI(
                self.config.url, self.config.api_key, self.config.api_secret
            ) as lk:
                await lk.room.create_room(api.CreateRoomRequest(name=name, empty_timeout=60))

        self.run(create())

    def join(self, *people: dict[str, Any]) -> ParticipantsProcess:
        """Synthetic people ({"room", "identity", "colour", "tone", "flashes", "screen"})."""
        cfg = self.config
        group = ParticipantsProcess(cfg.ws_url, cfg.api_key, cfg.api_secret, list(people))
        self.groups.append(group)
        return group

    def dispatch(self, room: str, job: dict[str, Any], agent: str = "meetings-recorder") -> None:
        async def send() -> None:
            async with api.LiveKitAPI(
                self.config.url, self.config.api_key, self.config.api_secret
            ) as lk:
                await lk.agent_dispatch.create_dispatch(
                    api.CreateAgentDispatchRequest(
                        agent_name=agent, room=room, metadata=json.dumps(job)
                    )
                )

        self.run(send())

    def remove(self, room: str, identity: str) -> None:
        """How the app stops a recording: RemoveParticipant on the recorder."""

        async def remove() -> None:
            async with api.LiveKitAPI(
                self.config.url, self.config.api_key, self.config.api_secret
            ) as lk:
                await lk.room.remove_participant(
                    api.RoomParticipantIdentity(room=room, identity=identity)
                )

        self.run(remove())

    def leave_all(self) -> None:
        for group in self.groups:
            group.close()
        self.groups.clear()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = Path(os.environ.get("LIVEKIT_SERVER_BIN", DEFAULT_BINARY))
    require(binary.exists(), f"livekit-server at {binary}")
    key, secret = new_api_key()
    sink = Sink(key, secret)
    http = _serve(sink)
    base = f"http://127.0.0.1:{http.server_port}"
    config = LiveKitServerConfig(
        key,
        secret,
        port=free_port(),
        rtc_tcp_port=free_port(),
        rtc_udp_port=free_udp_port(),
        webhook_urls=[f"{base}/livekit/webhook"],
    )
    workdir = tmp_path_factory.mktemp("worker")
    server = LiveKitServer(config, workdir, binary).start()
    stack = Stack(config, server, sink, base, workdir)
    try:
        yield stack
    finally:
        stack.leave_all()
        server.stop()
        http.shutdown()
        http.server_close()


@pytest.fixture
def room_stack(stack: Stack) -> Iterator[Stack]:
    """The session stack, with this test's participants gone afterwards."""
    yield stack
    stack.leave_all()


@pytest.fixture
def start_worker(stack: Stack, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start a registered worker (the recorder); `env` adds or overrides its environment."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str] | None = None, name: str = "worker") -> WorkerProcess:
        log_path = stack.workdir / f"{tmp_path.name}-{name}.log"
        # The recorder unless a test names its kinds: a worker serving every kind registers
        # once per kind (and warms a captions process the recorder tests do not need).
        env = {"MEETINGS_WORKER_JOBS": "recorder", **(env or {})}
        worker = WorkerProcess(stack.config, stack.app_url, log_path, tmp_path / "recordings", env)
        started.append(worker)
        worker.wait_registered()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def s3_bucket() -> Iterator[tuple[str, Any]]:
    """An S3-compatible server (moto) with a bucket "recs"; yields (endpoint, client)."""
    with moto_bucket("recs", "k", "s") as served:
        yield served
