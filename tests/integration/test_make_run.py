"""`make run`'s launcher: it serves a usable app with its own LiveKit server, and Ctrl-C
stops everything it started."""

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from meetings.livekit_process import DEFAULT_BINARY, free_port, free_udp_port
from tests.support.environment import PROJECT_DIR, require
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


def test_run_serves_the_app_with_livekit_and_ctrl_c_stops_both(tmp_path):
    require(DEFAULT_BINARY.exists(), "livekit-server")
    app_port, livekit_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")},
        "HOST": "127.0.0.1",
        "PORT": str(app_port),
        "LIVEKIT_PORT": str(livekit_port),
        "LIVEKIT_RTC_TCP_PORT": str(free_port()),
        "LIVEKIT_RTC_UDP_PORT": str(free_udp_port()),
        "INSTANCE_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    launcher = subprocess.Popen(
        [sys.executable, "scripts/run_dev.py"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        base = f"http://127.0.0.1:{app_port}"

        def healthy():
            """the app answers /healthz with LiveKit ok"""
            status, body = fetch(base + "/healthz")
            return status == 200 and '"livekit":"ok"' in body.replace(" ", "")

        wait_for(healthy, timeout=60, interval=0.5)
        status, page = fetch(base + "/auth/register")
        assert status == 200
        assert "Create your account" in page
        assert (tmp_path / "dev.env").stat().st_mode & 0o077 == 0  # secrets readable by owner only
        assert (tmp_path / "meetings.db").exists()  # migrations ran on the embedded database
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
        output, _ = launcher.communicate(timeout=30)
    assert "Meetings is running on http://127.0.0.1:" in output
    assert "users create" in output
    wait_for(
        lambda: fetch(base + "/healthz")[0] == 0,
        timeout=0.5,
        interval=0.1,
        what="the app still answers after Ctrl-C",
    )
    assert fetch(f"http://127.0.0.1:{livekit_port}/")[0] == 0, "LiveKit still answers after Ctrl-C"
