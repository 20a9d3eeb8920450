"""How a job runs inside its job process, and how it is told to stop.

livekit-agents ends a job in this order: it waits (15 s at most) for the entrypoint to
return, calls `on_session_end`, disconnects from the room, then runs shutdown callbacks. So
the entrypoint only starts the module's run() as a task; `session_end` asks it to stop (see
`stop_requested`) and waits for its file while the room connection is still up (disconnecting
first was seen to hang after the server had removed the participant); the shutdown callback
waits for whatever run() still does (an upload) and delivers the last events. run() may
return once the job is running (its own shutdown callbacks then clean up) or when the job is
over; a job that is over and still connected calls `ctx.shutdown()`.
"""

import asyncio
import contextlib
import importlib
import logging
from dataclasses import dataclass

from livekit import rtc
from livekit.agents import JobContext, JobProcess

from meetings.worker.jobs import module_for, parse_metadata
from meetings.worker.reporting import RETRY_FOR_SECONDS, Reporter
from meetings.worker.settings import settings

logger = logging.getLogger("meetings.worker.entry")

FINISH_LIMIT_SECONDS = 3600.0  # a job still finishing after this is stuck
CONNECT_GRACE_SECONDS = 0.2


@dataclass
class _Running:
    task: asyncio.Task[None]
    report: Reporter
    stop: asyncio.Event


_JOBS: dict[str, _Running] = {}  # by livekit job id; one job per process, but keyed anyway


def stop_requested(ctx: JobContext) -> asyncio.Event:
    """Set when the job must wrap up now (worker shutting down, job terminated by the server)."""
    return _JOBS[ctx.job.id].stop


def prewarm(module_path: str, proc: JobProcess) -> None:
    """Load a job kind's heavy resources once per job process, before any job arrives."""
    module = importlib.import_module(module_path)
    if hasattr(module, "prewarm"):
        module.prewarm(proc)


async def entrypoint(ctx: JobContext) -> None:
    """Start the job module's run(); return once it has joined the room or ended."""
    module = module_for(ctx.job.agent_name)
    job = parse_metadata(ctx.job.metadata, ctx.job.room.name)  # checked in request_fnc too
    report = Reporter(settings(), job_id=job["job_id"], room=ctx.job.room.name)
    connected = asyncio.Event()

    def on_state(state: int) -> None:
        if state == rtc.ConnectionState.CONN_CONNECTED:
            connected.set()

    ctx.room.on("connection_state_changed", on_state)
    stop = asyncio.Event()
    task = asyncio.create_task(module.run(ctx, job, report), name=f"{module.AGENT_NAME}-run")
    _JOBS[ctx.job.id] = _Running(task, report, stop)

    def ended(task: asyncio.Task[None]) -> None:
        # A job that failed, or returned without ever joining, is over: end it here.
        if task.cancelled() or task.exception() is not None or not ctx.room.isconnected():
            ctx.shutdown("job finished")

    task.add_done_callback(ended)
    ctx.add_shutdown_callback(_finish)
    waiter = asyncio.ensure_future(connected.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    # ctx.connect() marks the job connected just after the room is: returning before that
    # makes agents warn that the job never connected.
    await asyncio.sleep(CONNECT_GRACE_SECONDS)


async def session_end(ctx: JobContext) -> None:
    """Tell run() to stop and wait for it, bounded by agents' session_end_timeout."""
    running = _JOBS.get(ctx.job.id)
    if running is None:
        return
    running.stop.set()
    with contextlib.suppress(Exception):
        await asyncio.shield(running.task)
    await running.report.flush(timeout=RETRY_FOR_SECONDS)


async def _finish(reason: str) -> None:
    # agents runs shutdown callbacks side by side (tasks named "job_shutdown_callback"): a
    # module's own callback may still send events, so the reporter closes after all of them.
    me = asyncio.current_task()
    others = [
        t for t in asyncio.all_tasks() if t is not me and t.get_name() == "job_shutdown_callback"
    ]
    if others:
        await asyncio.wait(others, timeout=FINISH_LIMIT_SECONDS)
    for job_id, running in list(_JOBS.items()):
        try:
            await asyncio.wait_for(asyncio.shield(running.task), FINISH_LIMIT_SECONDS)
        except TimeoutError:
            logger.error("job %s did not finish (%s); cancelling", job_id, reason)
            running.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.task
        except Exception:
            logger.exception("job %s failed", job_id)
        await running.report.aclose(timeout=RETRY_FOR_SECONDS)
        del _JOBS[job_id]
