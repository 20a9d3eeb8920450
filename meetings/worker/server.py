"""Run one livekit-agents AgentServer per job kind in this process, with a heartbeat.

An AgentServer registers exactly one agent name (a second `rtc_session` raises), and the app
dispatches each kind by its own name, so this process runs one server per kind on a shared
event loop; they share the job capacity. livekit-agents' own CLI runs a single server, hence
this small runner: SIGTERM/SIGINT close every server, which asks each running job to finish
its file (bounded by MEETINGS_WORKER_DRAIN_SECONDS) before the process exits.
"""

import asyncio
import functools
import logging
import math
import os
import signal
import socket
import sys
from types import ModuleType

from livekit.agents import AgentServer, WorkerPermissions
from livekit.agents.cli.log import setup_logging

from meetings.worker import entry, jobs
from meetings.worker.reporting import Reporter
from meetings.worker.settings import WorkerSettings, settings

logger = logging.getLogger("meetings.worker")

HEARTBEAT_SECONDS = 10.0
INITIALIZE_PROCESS_SECONDS = 60.0
SHUTDOWN_SECONDS = 8.0  # leaving the room and sending the last events, after the file


def build_server(
    kind: ModuleType, config: WorkerSettings, servers: list[AgentServer], report: Reporter
) -> AgentServer:
    """An AgentServer for one job kind; `servers` is the list it will be part of."""

    def running() -> int:
        return sum(len(server.active_jobs) for server in servers)

    server = AgentServer(
        ws_url=config.livekit_url,
        api_key=config.api_key,
        api_secret=config.api_secret,
        # Users never see the worker's participants (no tile, not in the participant list).
        permissions=WorkerPermissions(hidden=True),
        # Capacity is counted in jobs by the request handler, not by CPU load: a CPU threshold
        # on a shared host would turn jobs away at random.
        load_threshold=math.inf,
        load_fnc=lambda: min(running() / config.max_jobs, 1.0),
        num_idle_processes=config.idle_processes,
        # After SIGTERM, a job first gets session_end_timeout to finish its file (room still
        # connected), then shutdown_process_timeout to leave and deliver its last events.
        session_end_timeout=max(config.drain_seconds - SHUTDOWN_SECONDS, 1.0),
        shutdown_process_timeout=SHUTDOWN_SECONDS,
        host=config.health_host,
        port=config.health_port if not servers else 0,
        setup_fnc=functools.partial(entry.prewarm, kind.__name__),
        # Starting a job process (imports, fonts, codecs) took over agents' default 10 s on a
        # loaded 2-core machine; killing it then and starting another only added load.
        initialize_process_timeout=INITIALIZE_PROCESS_SECONDS,
        max_retry=360,  # keep reconnecting through a livekit-server restart (about an hour)
    )
    server.rtc_session(
        entry.entrypoint,
        agent_name=kind.AGENT_NAME,
        on_request=jobs.request_handler(kind, config, running, report),
        on_session_end=entry.session_end,
    )
    return server


async def serve(config: WorkerSettings, kinds: list[ModuleType]) -> int:
    """Run until a signal (exit status 0) or until a server gives up connecting (1)."""
    servers: list[AgentServer] = []
    report = Reporter(config)  # the process's own events: heartbeats, refused jobs
    for kind in kinds:
        servers.append(build_server(kind, config, servers, report))
    runs = [
        asyncio.create_task(server.run(), name=f"server-{k.AGENT_NAME}")
        for server, k in zip(servers, kinds, strict=True)
    ]
    stop = asyncio.Event()
    _handle_signals(stop)
    heartbeat = asyncio.create_task(_heartbeat(report, config, kinds, servers))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([stopping, *runs], return_when=asyncio.FIRST_COMPLETED)
    status = 0 if stop.is_set() else 1
    logger.info("shutting down: running jobs finish their files")
    await asyncio.gather(*(server.aclose() for server in servers), return_exceptions=True)
    heartbeat.cancel()
    stopping.cancel()
    await report.aclose(timeout=2)
    for run in runs:
        if run.done() and not run.cancelled() and run.exception():
            logger.error("agent server failed: %s", run.exception())
            status = 1
        run.cancel()
    return status


def _handle_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            logger.warning("second signal: exiting now")
            os._exit(1)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)


async def _heartbeat(
    report: Reporter, config: WorkerSettings, kinds: list[ModuleType], servers: list[AgentServer]
) -> None:
    """Tell the app every few seconds that this worker is alive."""
    # So the app can fail a start at once when no worker is.
    worker_id = f"{socket.gethostname()}-{os.getpid()}"
    while True:
        running = sum(len(server.active_jobs) for server in servers)
        report.emit(
            "worker_online",
            {
                "worker_id": worker_id,
                "agent_names": [kind.AGENT_NAME for kind in kinds],
                "registrations": {k.AGENT_NAME: s.id for k, s in zip(kinds, servers, strict=True)},
                "jobs_running": running,
                "max_jobs": config.max_jobs,
                "load": round(running / config.max_jobs, 3),
            },
            retry_for=HEARTBEAT_SECONDS,  # a stale heartbeat is worth nothing
        )
        await asyncio.sleep(HEARTBEAT_SECONDS)


def main(argv: list[str]) -> int:
    """`start [--log-level LEVEL]`: the only command."""
    if not argv or argv[0] != "start":
        print(
            "usage: python -m meetings.worker start [--log-level DEBUG|INFO|WARN|ERROR]",
            file=sys.stderr,
        )
        return 2
    level = argv[argv.index("--log-level") + 1] if "--log-level" in argv else "INFO"
    try:
        config = settings()
        kinds = jobs.load_kinds(config.job_kinds)
    except ValueError as exc:  # a configuration mistake: say which, no traceback
        print(f"meetings worker: {exc}", file=sys.stderr)
        return 2
    setup_logging(level.upper(), devmode=False, console=False)
    return asyncio.run(serve(config, kinds))
