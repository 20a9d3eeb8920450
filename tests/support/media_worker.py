"""The media worker as the tests run it: `python -m meetings.worker start` in its own process
group (so SIGKILL takes its job processes too), logging to a file the failures quote."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meetings.livekit_process import LiveKitServerConfig

PROJECT_DIR = Path(__file__).resolve().parents[2]
REGISTERED = '"registered worker"'  # what livekit-agents logs once the server took it


class WorkerProcess:
    def __init__(
        self,
        livekit: LiveKitServerConfig,
        app_url: str,
        log_path: Path,
        recordings: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.log_path = log_path
        self.recordings = recordings
        full_env = {
            **os.environ,
            "LIVEKIT_URL": livekit.ws_url,
            "LIVEKIT_API_KEY": livekit.api_key,
            "LIVEKIT_API_SECRET": livekit.api_secret,
            "MEETINGS_APP_URL": app_url,
            "RECORDINGS_DIR": str(recordings),
            "MEETINGS_WORKER_IDLE_PROCESSES": "1",
            "MEETINGS_INGEST_BIND": "127.0.0.1",  # encoders push over loopback only
            **(env or {}),
        }
        # One registration per job kind it serves (MEETINGS_WORKER_JOBS; all when empty).
        jobs = full_env.get("MEETINGS_WORKER_JOBS", "")
        self.kinds = [k.strip() for k in jobs.split(",") if k.strip()] or _all_kinds()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "meetings.worker", "start"],
                cwd=PROJECT_DIR,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_registered(self, timeout: float = 60) -> "WorkerProcess":
        """Wait until livekit-server took every kind: a dispatch for a kind not yet
        registered is dropped by the server."""
        deadline = time.monotonic() + timeout
        while self.log().count(REGISTERED) < len(self.kinds):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the media worker did not register:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        return self

    def signal(self, sig: int, group: bool = False) -> None:
        if self.process.poll() is None:
            (os.killpg if group else os.kill)(self.process.pid, sig)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker still running after {timeout}s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL, group=True)
                self.process.wait()
        # Job processes are in the group too; none may outlive a test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _all_kinds() -> list[str]:
    # Imported here: meetings.worker.jobs brings livekit-agents (2 s), which a test process
    # should pay for only when it starts a worker.
    from meetings.worker.jobs import JOB_MODULES

    return list(JOB_MODULES)
