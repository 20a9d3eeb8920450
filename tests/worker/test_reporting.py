"""Signed events to the app: verifiable like livekit-server's webhooks, retried, never blocking."""

import asyncio
import base64
import hashlib
import json
import time
from pathlib import Path

import pytest
from aiohttp import web
from livekit import api

from meetings.livekit_process import free_port, new_api_key
from meetings.worker.reporting import Reporter, sign
from meetings.worker.settings import WorkerSettings


def settings_for(port: int, key: str, secret: str) -> WorkerSettings:
    return WorkerSettings(
        livekit_url="ws://127.0.0.1:1",
        api_key=key,
        api_secret=secret,
        app_url=f"http://127.0.0.1:{port}",
        recordings_dir=Path("/nonexistent"),
    )


async def serve(port: int, answers: list[int], seen: list[tuple[bytes, dict]]) -> web.AppRunner:
    async def events(request: web.Request) -> web.Response:
        seen.append((await request.read(), dict(request.headers)))
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/worker/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def test_signature_verifies_with_the_webhook_code_of_the_app():
    key, secret = new_api_key()
    body = b'{"id":"WE_x","kind":"recording_started"}'
    claims = api.TokenVerifier(key, secret).verify(sign(body, key, secret))
    assert claims.sha256 == base64.b64encode(hashlib.sha256(body).digest()).decode()
    with pytest.raises(Exception):  # noqa: B017 (PyJWT's error types vary)
        api.TokenVerifier(key, "another secret that is long enough to be used").verify(
            sign(body, key, secret)
        )


def test_retries_5xx_and_429_with_the_same_id_and_takes_4xx_as_delivered():
    key, secret = new_api_key()
    port = free_port()
    seen: list[tuple[bytes, dict]] = []

    async def scenario() -> list[str]:
        runner = await serve(port, [503, 429, 200, 400], seen)
        try:
            report = Reporter(settings_for(port, key, secret), job_id="42", room="r")
            report.emit("recording_started", {"file_name": "a.mp4"})
            report.emit("recording_ended", {"status": "complete"})
            await report.aclose(timeout=20)
            return report.delivered
        finally:
            await runner.cleanup()

    delivered = asyncio.run(scenario())
    assert delivered == ["recording_started", "recording_ended"]
    bodies = [json.loads(body) for body, _ in seen]
    assert [b["kind"] for b in bodies] == ["recording_started"] * 3 + ["recording_ended"]
    assert len({b["id"] for b in bodies[:3]}) == 1 and bodies[0]["id"].startswith("WE_")
    assert bodies[0]["job_id"] == "42" and bodies[0]["room"] == "r"
    assert bodies[0]["data"] == {"file_name": "a.mp4"} and isinstance(bodies[0]["at"], float)
    verifier = api.TokenVerifier(key, secret)
    for body, headers in seen:
        assert headers["Content-Type"] == "application/json"
        claims = verifier.verify(headers["Authorization"])
        assert claims.sha256 == base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_emit_never_waits_for_an_app_that_is_down():
    key, secret = new_api_key()

    async def scenario() -> float:
        report = Reporter(settings_for(free_port(), key, secret))
        started = time.perf_counter()
        for n in range(100):
            report.emit("recording_progress", {"n": n}, retry_for=0.2)
        spent = time.perf_counter() - started
        await report.aclose(timeout=5)
        return spent

    assert asyncio.run(scenario()) < 0.05
