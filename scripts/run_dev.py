"""`make run`: a local LiveKit server, the app under gunicorn and the media worker (recording);
Ctrl-C stops them all.

So do SIGINT and SIGTERM sent to this launcher (its pid is in instance/run.pid), also when
it runs in the background, where a shell starts it with SIGINT ignored.
Dev keys and the session secret are generated once into instance/dev.env. When
LIVEKIT_URL is set, no local server is started and that server is used instead.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from meetings.livekit_process import (  # noqa: E402
    LiveKitServer,
    LiveKitServerConfig,
    LiveKitStartError,
    new_api_key,
)

INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_DIR / "instance"))
DEV_ENV = INSTANCE_DIR / "dev.env"
PID_FILE = INSTANCE_DIR / "run.pid"
VENV_BIN = Path(sys.executable).parent
# The worker's own drain budget (MEETINGS_WORKER_DRAIN_SECONDS, 30 s) and a margin.
WORKER_DRAIN_SECONDS = 45


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def dev_settings() -> dict[str, str]:
    """Generate the local secrets once; later runs reuse them (sessions survive restarts)."""
    if not DEV_ENV.exists():
        INSTANCE_DIR.mkdir(exist_ok=True)
        key, secret = new_api_key()
        DEV_ENV.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(48)}\n"
            f"LIVEKIT_API_KEY={key}\nLIVEKIT_API_SECRET={secret}\n"
        )
        DEV_ENV.chmod(0o600)
    return read_env_file(DEV_ENV)


def fail(message: str) -> None:
    print(f"make run: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    env = {**dev_settings(), **os.environ, "MEETINGS_ENV": "development"}
    # Links in mails and calendar files point here; both loopback names are answered.
    public_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    env.setdefault("PUBLIC_URL", f"http://{public_host}:{port}")
    env.setdefault("EXTRA_TRUSTED_HOSTS", "localhost,127.0.0.1")
    # Installed before anything starts, so no signal leaves a child behind. SIGINT is set
    # explicitly: Python ignores it in a process started in the background (`make run &`).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    PID_FILE.write_text(f"{os.getpid()}\n")
    livekit: LiveKitServer | None = None
    gunicorn: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    try:
        if os.environ.get("LIVEKIT_URL"):
            if not (os.environ.get("LIVEKIT_API_KEY") and os.environ.get("LIVEKIT_API_SECRET")):
                fail("LIVEKIT_URL is set: also set LIVEKIT_API_KEY and LIVEKIT_API_SECRET for it")
            print(f"Using the LiveKit server at {env['LIVEKIT_URL']}")
        else:
            livekit = start_local_livekit(env, host, port)
        if flask(env, "db", "upgrade").returncode:
            fail(
                "database migration failed: run `.venv/bin/flask --app wsgi db upgrade` to see why"
            )
        counted = flask(env, "users", "count")
        has_accounts = counted.returncode == 0 and counted.stdout.strip() not in ("", "0")
        gunicorn = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--config",
                "python:meetings.gunicorn_config",
                "--bind",
                f"{host}:{port}",
                "wsgi:app",
            ],
            cwd=PROJECT_DIR,
            env=env,
        )
        worker = start_worker(env, host, port)
        print_welcome(host, port, has_accounts)
        running = [gunicorn, worker] + ([livekit.process] if livekit else [])
        while all(process.poll() is None for process in running):
            time.sleep(0.5)
        print("make run: a process stopped; shutting down", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        stop_worker(worker)
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=15)
        stop(livekit)
        PID_FILE.unlink(missing_ok=True)


def flask(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *command],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def start_local_livekit(env: dict[str, str], host: str, port: int) -> LiveKitServer:
    app_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    config = LiveKitServerConfig(
        api_key=env["LIVEKIT_API_KEY"],
        api_secret=env["LIVEKIT_API_SECRET"],
        port=int(env.get("LIVEKIT_PORT", 7880)),
        rtc_tcp_port=int(env.get("LIVEKIT_RTC_TCP_PORT", 7881)),
        rtc_udp_port=int(env.get("LIVEKIT_RTC_UDP_PORT", 7882)),
        webhook_urls=[f"http://{app_host}:{port}/livekit/webhook"],
    )
    server = LiveKitServer(config, INSTANCE_DIR / "livekit")
    try:
        server.start()
    except LiveKitStartError as error:
        fail(f"{error}\n(is another program using the LiveKit ports? set LIVEKIT_PORT etc.)")
    env["LIVEKIT_URL"] = config.url
    env["LIVEKIT_PUBLIC_URL"] = config.ws_url
    print(f"LiveKit server on {config.ws_url} (log: {server.log_path})")
    return server


def start_worker(env: dict[str, str], host: str, port: int) -> subprocess.Popen:
    """The media worker, registered with the same LiveKit server, reporting to this app."""
    app_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    worker_env = {**env, "MEETINGS_APP_URL": f"http://{app_host}:{port}"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "meetings.worker", "start"],
        cwd=PROJECT_DIR,
        env=worker_env,
        # Not in the terminal's process group: Ctrl-C reaches the launcher only, which then
        # sends the worker one SIGTERM (a second signal would make it skip the drain).
        start_new_session=True,
    )
    print(f"Media worker started (pid {worker.pid}); it records meetings", flush=True)
    return worker


def stop_worker(worker: subprocess.Popen | None) -> None:
    """SIGTERM lets recordings in progress finish their files (bounded by its drain time)."""
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=WORKER_DRAIN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # its job processes too (its own group)
        worker.wait()


def stop(livekit: LiveKitServer | None) -> None:
    if livekit is not None:
        livekit.stop()


def shown(path: Path) -> str:
    """The path as typed from the checkout, where `make run` is started."""
    return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)


def print_welcome(host: str, port: int, has_accounts: bool) -> None:
    first_account = (
        f"""  Sign in at http://{host}:{port}/auth/login"""
        if has_accounts
        else """  Create the first account (an operator) in another terminal:
    .venv/bin/flask --app wsgi users create you@example.com --name "Your Name" \\
        --password 'a-long-password' --role ops
  then invite people from Operations -> Users."""
    )
    print(
        f"""
  Meetings is running on http://{host}:{port}
{first_account}
  Press Ctrl-C to stop (in the background: kill -INT $(cat {shown(PID_FILE)})).
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
