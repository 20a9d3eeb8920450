"""The job kinds this worker runs, and which job requests it takes.

A job module exposes `AGENT_NAME` and `async def run(ctx, job, report)`, and optionally
`prewarm(proc)`, `IDENTITY_PREFIX` (its participant is that plus the app's job id; default
"<name>-" for agent name "meetings-<name>"), `PARTICIPANT_NAME` and `job_key(job)`: what a
job of the kind must be alone in (default: the room; stream-in jobs: their ingest). How a
job runs and stops is in entry.py.
"""

import asyncio
import importlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any

from livekit import api, rtc
from livekit.agents import JobRequest

from meetings.worker.reporting import Reporter
from meetings.worker.settings import WorkerSettings

logger = logging.getLogger("meetings.worker.jobs")

# One line per job kind: the short name (MEETINGS_WORKER_JOBS) and its module.
JOB_MODULES: dict[str, str] = {
    "recorder": "meetings.worker.recorder",
    "captions": "meetings.worker.captioner",
    "ingest": "meetings.worker.ingest",
    "stream": "meetings.worker.streamer",
}

LIST_PARTICIPANTS_TIMEOUT = 5.0
# After an accept, the job's participant takes a moment to appear in ListParticipants.
JOIN_GRACE_SECONDS = 10.0


def load_kinds(names: Iterable[str] = ()) -> list[ModuleType]:
    """The job modules to serve; all of them when `names` is empty.

    Raises: ValueError for an unknown name.
    """
    names = list(names) or list(JOB_MODULES)
    unknown = [name for name in names if name not in JOB_MODULES]
    if unknown:
        raise ValueError(f"unknown job kind(s) {unknown}; known: {sorted(JOB_MODULES)}")
    return [importlib.import_module(JOB_MODULES[name]) for name in names]


def module_for(agent_name: str) -> ModuleType:
    """Raises: KeyError when no job module has this agent name."""
    for path in JOB_MODULES.values():
        module = importlib.import_module(path)
        if agent_name == module.AGENT_NAME:
            return module
    raise KeyError(agent_name)


def identity_prefix(module: ModuleType) -> str:
    """The start of this kind's participant identities, e.g. "recorder-"."""
    default = module.AGENT_NAME.removeprefix("meetings-") + "-"
    return getattr(module, "IDENTITY_PREFIX", default)


def parse_metadata(metadata: str, room: str) -> dict[str, Any]:
    """The job's parameters from the dispatch metadata.

    Raises: ValueError when it is not a JSON object with a job id for this room.
    """
    try:
        job = json.loads(metadata or "")
    except json.JSONDecodeError as exc:
        raise ValueError(f"dispatch metadata is not JSON: {exc}") from exc
    if not isinstance(job, dict) or not isinstance(job.get("job_id"), str) or not job["job_id"]:
        raise ValueError("dispatch metadata has no job_id")
    if job.get("room", room) != room:
        raise ValueError(f"dispatch metadata names room {job.get('room')!r}, not {room!r}")
    return job


RequestHandler = Callable[[JobRequest], Awaitable[None]]


def request_handler(
    module: ModuleType, settings: WorkerSettings, running: Callable[[], int], report: Reporter
) -> RequestHandler:
    """The request_fnc: refuse bad metadata, a full process, or a kind already in the room."""
    # A refusal is reported as `job_rejected`: the app need not wait for events that won't come.
    pending: set[str] = set()  # job keys (rooms) with an accept of this kind under way
    accepted: dict[str, float] = {}  # job key -> when: the participant is not listed at once

    async def reject(request: JobRequest, job: dict[str, Any], reason: str) -> None:
        logger.warning("rejecting %s job in %s: %s", module.AGENT_NAME, request.room.name, reason)
        await request.reject(terminate=True)
        report.emit(
            "job_rejected",
            {"agent_name": module.AGENT_NAME, "reason": reason},
            job_id=str(job.get("job_id", "")),
            room=request.room.name,
        )

    async def on_request(request: JobRequest) -> None:
        room = request.room.name
        try:
            job = parse_metadata(request.job.metadata, room)
        except ValueError as exc:
            await reject(request, {}, str(exc))
            return
        if running() + len(pending) >= settings.max_jobs:
            # Not terminal: livekit-server offers the job to another worker.
            logger.info("full (%d jobs): passing on %s", settings.max_jobs, request.id)
            await request.reject(terminate=False)
            return
        key = job_key(module, job, room)
        recent = time.monotonic() - accepted.get(key, -math.inf) < JOIN_GRACE_SECONDS
        if key in pending or recent:
            await reject(request, job, f"{module.AGENT_NAME} is starting in this room")
            return
        pending.add(key)  # before any await: a second request must see it
        try:
            if await _kind_in_room(module, settings, room, key):
                await reject(request, job, f"{module.AGENT_NAME} already runs in this room")
                return
            await request.accept(
                identity=identity_prefix(module) + job["job_id"],
                name=getattr(module, "PARTICIPANT_NAME", module.AGENT_NAME),
                attributes={"meetings.job_id": job["job_id"], JOB_KEY_ATTRIBUTE: key},
            )
            accepted[key] = time.monotonic()
        finally:
            pending.discard(key)

    return on_request


JOB_KEY_ATTRIBUTE = "meetings.job_key"


def job_key(module: ModuleType, job: dict[str, Any], room: str) -> str:
    """What a job of this kind must be alone in: the room, unless the module says otherwise."""
    key_of = getattr(module, "job_key", None)
    return key_of(job) if key_of is not None else room


async def _kind_in_room(module: ModuleType, settings: WorkerSettings, room: str, key: str) -> bool:
    """Whether a worker's participant of this kind, for the same job key, is in the room
    (hidden ones included). One that predates job keys has its room's."""
    try:
        async with api.LiveKitAPI(
            settings.livekit_url, settings.api_key, settings.api_secret
        ) as lk:
            # livekit-api's own timeout does not work; bound the call here.
            response = await asyncio.wait_for(
                lk.room.list_participants(api.ListParticipantsRequest(room=room)),
                LIST_PARTICIPANTS_TIMEOUT,
            )
    except Exception as exc:  # the server is the judge; without it, accept and let it decide
        logger.warning("could not list participants of %s: %s", room, exc)
        return False
    return any(
        p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
        and p.identity.startswith(identity_prefix(module))
        and p.attributes.get(JOB_KEY_ATTRIBUTE, room) == key
        for p in response.participants
    )
