"""`make run`'s launcher: it serves a usable app with its own LiveKit server and media worker,
and Ctrl-C stops everything it started."""

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from meetings.livekit_process import DEFAULT_BINARY, free_port, free_udp_port
from tests.support.environment import PROJECT_DIR, require
from tests.support.media_worker import REGISTERED
from tests.support.waiting import wait_for

pytestmark = pytest.mark.livekit


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


# Start-up runs migrations, then starts livekit-server and gunicorn: seconds on a quiet
# machine, over a minute seen on a loaded one. A launcher that exits fails the wait at once.
START_SECONDS = 180


class Run:
    """One `make run` in `instance`, on free ports. Its output is read as it comes (a thread),
    so a wait that fails can show what the launcher said."""

    def __init__(self, instance: Path, background: bool = False):
        self.app_port, self.livekit_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.app_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")},
            "HOST": "127.0.0.1",
            "PORT": str(self.app_port),
            "LIVEKIT_PORT": str(self.livekit_port),
            "LIVEKIT_RTC_TCP_PORT": str(free_port()),
            "LIVEKIT_RTC_UDP_PORT": str(free_udp_port()),
            "INSTANCE_DIR": str(instance),
        }
        self.env.pop("DATABASE_URL", None)
        self.launcher = subprocess.Popen(
            [sys.executable, "scripts/run_dev.py"],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's foreground job
            # `make run &` from a script: the shell starts it with SIGINT ignored.
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            if background
            else None,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with self.launcher.stdout as stream:
            self.lines.extend(stream)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def healthy(self) -> bool:
        if self.launcher.poll() is not None:
            pytest.fail(f"make run exited ({self.launcher.returncode}):\n{self.output}")
        status, body = fetch(self.base + "/healthz")
        return status == 200 and '"livekit":"ok"' in body.replace(" ", "")

    def wait_until_healthy(self) -> None:
        def waiting_for() -> str:
            return f"the app to answer /healthz with LiveKit ok; make run said:\n{self.output}"

        wait_for(self.healthy, timeout=START_SECONDS, interval=0.5, what=waiting_for)

    def wait_until_worker_registered(self) -> int:
        """The media worker's pid, once LiveKit has taken its registration."""

        def registered() -> bool:
            return REGISTERED in self.output

        def waiting_for() -> str:
            return f"the media worker to register; make run said:\n{self.output}"

        wait_for(registered, timeout=START_SECONDS, interval=0.5, what=waiting_for)
        return int(re.search(r"Media worker started \(pid (\d+)\)", self.output).group(1))

    def stop(self, sig: int, to_group: bool = True) -> None:
        """Send `sig` (to the launcher's group, as a terminal does, or to its pid alone) and
        wait for it to end; whatever happens, nothing of it is left running or open."""
        try:
            (os.killpg if to_group else os.kill)(self.launcher.pid, sig)
            self.launcher.wait(timeout=30)
        finally:
            if self.launcher.poll() is None:
                os.killpg(self.launcher.pid, signal.SIGKILL)
                self.launcher.wait()
            self._reader.join(10)

    def stopped_everything(self) -> None:
        wait_for(
            lambda: fetch(self.base + "/healthz")[0] == 0,
            timeout=0.5,
            interval=0.1,
            what="the app still answers after the stop",
        )
        livekit = fetch(f"http://127.0.0.1:{self.livekit_port}/")[0]
        assert livekit == 0, "LiveKit still answers after the stop"


def test_run_serves_the_app_with_livekit_and_ctrl_c_stops_both(tmp_path):
    require(DEFAULT_BINARY.exists(), "livekit-server")
    run = Run(tmp_path)
    try:
        run.wait_until_healthy()
        worker_pid = run.wait_until_worker_registered()
        status, page = fetch(run.base + "/auth/register")
        assert status == 200
        assert "Create your account" in page
        assert (tmp_path / "dev.env").stat().st_mode & 0o077 == 0  # secrets readable by owner only
        assert (tmp_path / "meetings.db").exists()  # migrations ran on the embedded database
        # gunicorn's control socket is this instance's own, not one path per home directory.
        [socket] = tmp_path.glob("gunicorn-*.ctl")
        assert socket.is_socket()
    finally:
        run.stop(signal.SIGINT)  # what Ctrl-C does in a terminal
    output = run.output
    assert "Meetings is running on http://127.0.0.1:" in output
    assert "Create the first account" in output and "users create" in output
    assert "kill -INT $(cat " in output
    run.stopped_everything()
    assert not psutil.pid_exists(worker_pid), "the media worker still runs after the stop"


def test_a_background_run_stops_on_sigint_to_its_pid_and_greets_returning_users(tmp_path):
    require(DEFAULT_BINARY.exists(), "livekit-server")
    first = Run(tmp_path)
    try:
        first.wait_until_healthy()
    finally:
        first.stop(signal.SIGINT)
    create = [".venv/bin/flask", "--app", "wsgi", "users", "create", "op@example.com"]
    create += ["--name", "Op", "--password", "a-long-password", "--role", "ops"]
    made = subprocess.run(
        create,
        cwd=PROJECT_DIR,
        env={**first.env, "MEETINGS_ENV": "development"},
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr

    run = Run(tmp_path, background=True)
    try:
        run.wait_until_healthy()
        pid = int((tmp_path / "run.pid").read_text())
        assert pid == run.launcher.pid
    finally:
        run.stop(signal.SIGINT, to_group=False)  # kill -INT $(cat instance/run.pid)
    output = run.output
    assert run.launcher.returncode == 0
    assert "Stopping…" in output
    assert "Create the first account" not in output
    assert f"Sign in at {run.base}/auth/login" in output
    assert not (tmp_path / "run.pid").exists()
    assert not list(tmp_path.glob("gunicorn-*.ctl"))  # no stale control sockets pile up
    run.stopped_everything()
