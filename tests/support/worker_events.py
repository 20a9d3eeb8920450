"""Signed media worker events, built and signed by the worker's own code
(meetings/worker/reporting.py), so the app is tested against what the worker sends."""

import itertools
import json
import time

from meetings.worker.reporting import sign

_ids = itertools.count(1)


def worker_event(
    kind: str, data: dict | None = None, *, job_id: str = "", room: str = "", event_id: str = ""
) -> bytes:
    """The body the worker POSTs: {id, kind, job_id, room, at, data}."""
    envelope = {
        "id": event_id or f"WE_test{next(_ids):06d}",
        "kind": kind,
        "job_id": job_id,
        "room": room,
        "at": time.time(),
        "data": data or {},
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def worker_request(body: bytes, key: str, secret: str) -> tuple[bytes, dict[str, str]]:
    return body, {"Authorization": sign(body, key, secret), "Content-Type": "application/json"}


def heartbeat(*agent_names: str) -> bytes:
    return worker_event(
        "worker_online",
        {
            "worker_id": "test-1",
            "agent_names": list(agent_names or ("meetings-recorder",)),
            "jobs_running": 0,
            "max_jobs": 4,
            "load": 0.0,
        },
    )
