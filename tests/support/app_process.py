"""The app as production runs it: gunicorn in its own process group, on a migrated database,
so that tests and the benchmark can measure it over HTTP, kill it and start it again."""

import contextlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import flask_migrate

from config import ProductionConfig
from meetings import create_app
from meetings.extensions import db
from meetings.livekit_process import free_port, new_api_key

PROJECT_DIR = Path(__file__).resolve().parents[2]
# New for every run: production refuses secrets that were published with the code.
SECRET_KEY = secrets.token_urlsafe(48)


@dataclass
class AppProcess:
    """`gunicorn wsgi:app` with MEETINGS_ENV=production on `database_url`."""

    database_url: str
    log: Path
    livekit_url: str = "http://127.0.0.1:1"  # webhooks need the key pair, not the server
    workers: int = 2
    threads: int = 8
    port: int = field(default_factory=free_port)
    api_key: str = ""
    api_secret: str = ""
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        if not self.api_key:
            self.api_key, self.api_secret = new_api_key()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def environment(self) -> dict[str, str]:
        return os.environ | {
            "MEETINGS_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_URL": self.base_url,
            "INSTANCE_DIR": str(self.log.parent),  # its gunicorn control socket goes here
            "DATABASE_URL": self.database_url,
            "LIVEKIT_URL": self.livekit_url,
            "LIVEKIT_API_KEY": self.api_key,
            "LIVEKIT_API_SECRET": self.api_secret,
            "LIVEKIT_TIMEOUT_SECONDS": "1",
        }

    def app(self):
        """An in-process app on the same database and keys (migrations, queries)."""
        return create_app(
            ProductionConfig,
            {
                "SECRET_KEY": SECRET_KEY,
                "PUBLIC_URL": self.base_url,
                "SQLALCHEMY_DATABASE_URI": self.database_url,
                "LIVEKIT_URL": self.livekit_url,
                "LIVEKIT_API_KEY": self.api_key,
                "LIVEKIT_API_SECRET": self.api_secret,
            },
        )

    def migrate(self) -> None:
        app = self.app()
        with app.app_context():
            flask_migrate.upgrade()
            db.session.remove()
            db.engine.dispose()

    def start(self, timeout: float = 30) -> "AppProcess":
        command = [
            sys.executable, "-m", "gunicorn", "--config", "python:meetings.gunicorn_config",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--threads", str(self.threads), "wsgi:app",
        ]  # fmt: skip
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes the workers too
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=5):
                    return self
            except (urllib.error.URLError, OSError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()  # nothing is left running when start() fails
                    raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()}") from None
                time.sleep(0.1)

    def kill(self) -> None:
        """A crash: SIGKILL to gunicorn and its workers, in the middle of whatever they do."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


class Sender:
    """One keep-alive HTTP connection, as one of LiveKit's webhook queues would use."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        """Raises OSError (and http.client errors) when the app is not there.

        A kept-alive connection the server has closed meanwhile is replaced once, as
        HTTP clients do (the webhook is idempotent by event id).
        """
        reused = self.connection is not None
        try:
            return self._post(path, body, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            return self._post(path, body, headers)

    def _post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, self.timeout)
        try:
            self.connection.request("POST", path, body=body, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def empty_database(postgres, directory: Path, name: str) -> str:
    """A database without tables for the migrations to build: a SQLite file, or a new
    database in the run's PostgreSQL cluster (TEST_DATABASE=postgresql)."""
    if postgres is None:
        return f"sqlite:///{directory / (name + '.db')}"
    postgres.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    postgres.admin(f"CREATE DATABASE {name}")
    return postgres.url(name)
