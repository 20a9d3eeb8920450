"""Fixtures for every tier: the app, its client, users, and signed webhooks."""

import itertools
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from config import TestingConfig
from meetings import create_app
from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.livekit_process import (
    DEFAULT_BINARY,
    LiveKitServer,
    LiveKitServerConfig,
    free_port,
    free_udp_port,
    new_api_key,
)
from meetings.models import Meeting, Role, User
from meetings.recordings import builtin
from meetings.webhooks import apply as webhook_deriver
from tests.support.accounts import PASSWORD, sign_in
from tests.support.environment import require
from tests.support.live import LiveStack, Outbox
from tests.support.media_worker import WorkerProcess
from tests.support.postgres import ThrowawayPostgres, throwaway_cluster
from tests.support.waiting import wait_for

pytest_plugins = ["tests.support.leak_check", "tests.support.clock", "pytester"]


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, `g` and DB session, as in production.

    The test itself keeps an app context open for its own queries; without this, requests
    would share that context's `g` (cached CSRF tokens, cached logins) and session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test's own objects see what the request wrote
        return response


# ---- the database under test: SQLite by default, PostgreSQL with TEST_DATABASE=postgresql ----

DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
SCHEMA_TEMPLATE = "meetings_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres | None]:
    """One throw-away cluster per run, holding a template database with the schema."""
    if DATABASE != "postgresql":
        yield None
        return
    with throwaway_cluster("run") as server:
        server.admin(f"CREATE DATABASE {SCHEMA_TEMPLATE}")
        template = create_app(
            TestingConfig, {"SQLALCHEMY_DATABASE_URI": server.url(SCHEMA_TEMPLATE)}
        )
        with template.app_context():
            db.create_all()
            db.engine.dispose()  # a template database cannot be copied while in use
        yield server


@contextmanager
def database_for_test(postgres: ThrowawayPostgres | None, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the schema: a SQLite file, or a copy of the PostgreSQL template."""
    if postgres is None:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = f"test_{os.getpid()}_{next(DATABASE_NUMBERS)}"
    postgres.admin(f"CREATE DATABASE {name} TEMPLATE {SCHEMA_TEMPLATE}")
    try:
        yield postgres.url(name)
    finally:
        postgres.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


DATABASE_NUMBERS = itertools.count(1)


def stop_deriver(app: Flask) -> None:
    """End the app's webhook deriver thread, if a test started one."""
    if (deriver := app.extensions.get(webhook_deriver.EXTENSION_KEY)) is not None:
        deriver.stop()


@pytest.fixture
def app(tmp_path: Path, postgres: ThrowawayPostgres | None) -> Iterator[Flask]:
    with database_for_test(postgres, tmp_path) as url:
        app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": url})
        app.test_client_class = FreshContextClient
        with app.app_context():
            if postgres is None:
                db.create_all()
            yield app
            stop_deriver(app)
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def outbox(app) -> Outbox:
    """The mails `app` sends (TestingConfig keeps them in memory)."""
    return Outbox(app.extensions.setdefault("mail_outbox", []))


@pytest.fixture
def open_registration(app: Flask, make_user) -> User:
    """Self-service sign-up allowed; returns the operator who exists already (the first
    account is always made with the CLI)."""
    app.config["REGISTRATION_POLICY"] = "open"
    return make_user(email="operator@example.com", display_name="Operator", role=Role.OPS)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(**overrides) -> User:
        number = next(counter)
        fields = {
            "email": f"user{number}@example.com",
            "display_name": f"User {number}",
            "password": PASSWORD,
            "role": Role.HOST,
            "email_verified": True,  # people in most tests proved their address long ago
        } | overrides
        return auth_services.create_user(**fields)

    return make


@pytest.fixture
def make_meeting(app: Flask, make_user) -> Callable[..., Meeting]:
    def make(**overrides) -> Meeting:
        fields = {
            "title": "Weekly sync",
            "starts_at": datetime.now(UTC).replace(second=0, microsecond=0),  # open now
            "duration_minutes": 60,
            "lobby": False,  # tests of the lobby turn it on
        } | overrides
        if "host" not in fields:
            fields["host"] = make_user()
        fields.setdefault(
            "series_ends_at", fields["starts_at"] + timedelta(minutes=fields["duration_minutes"])
        )
        meeting = Meeting(**fields)
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Sign `user` in on `client` through the real form, CSRF token included."""

    def sign_in_client(user: User, password: str = PASSWORD) -> FlaskClient:
        sign_in(client, user, password)
        return client

    return sign_in_client


@pytest.fixture
def api_token(app: Flask) -> Callable[[User], dict[str, str]]:
    """Headers carrying a fresh API token for `user`."""

    def headers_for(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {auth_services.issue_api_token(user, 'test')}"}

    return headers_for


# ---- tiers 2 and 3: a real livekit-server and a live app it sends webhooks to ----------


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory, postgres: ThrowawayPostgres | None) -> LiveStack:
    require(DEFAULT_BINARY.exists() or "LIVEKIT_SERVER_BIN" in os.environ, "livekit-server")
    workdir = tmp_path_factory.mktemp("live")
    app_port = free_port()
    key, secret = new_api_key()
    config = LiveKitServerConfig(
        api_key=key,
        api_secret=secret,
        port=free_port(),
        rtc_tcp_port=free_port(),
        rtc_udp_port=free_udp_port(),
        webhook_urls=[f"http://127.0.0.1:{app_port}/livekit/webhook"],
    )
    livekit = LiveKitServer(config, workdir / "livekit").start()
    try:
        yield from _serve_live_app(workdir, app_port, livekit, postgres)
    finally:
        livekit.stop()


@pytest.fixture
def local_storage(live_stack, tmp_path, monkeypatch) -> Path:
    """Recordings of the live app go to a directory of this test (the egress writes them
    to /out on its side)."""
    directory = tmp_path / "recordings"
    directory.mkdir()
    monkeypatch.setitem(live_stack.app.config, "RECORDINGS_STORAGE", "local")
    monkeypatch.setitem(live_stack.app.config, "RECORDINGS_DIR", str(directory))
    monkeypatch.setitem(live_stack.app.config, "RECORDINGS_EGRESS_DIR", "/out")
    return directory


class LiveWorker:
    """The live stack's media worker, registered with its server and reporting to its app. A
    test may kill it; the next test that needs one gets a fresh one."""

    def __init__(self, stack: LiveStack, directory: Path) -> None:
        self.stack, self.directory = stack, directory
        self.recordings = directory / "recordings"
        self.process: WorkerProcess | None = None
        self._started = 0

    def ensure_running(self) -> WorkerProcess:
        if self.process is None or self.process.process.poll() is not None:
            self._started += 1
            log_path = self.directory / f"worker-{self._started}.log"
            config, url = self.stack.livekit_config, self.stack.base_url
            streams = {"STREAMS_DIR": self.stack.app.config["STREAMS_DIR"]}  # the watch page's
            self.process = WorkerProcess(config, url, log_path, self.recordings, env=streams)
            self.process.wait_registered()
            worker = self.process
            wait_for(
                lambda: self.stack.query(builtin.worker_online),
                timeout=30,
                what=lambda: f"the app to hear the worker's heartbeat; its log:\n{worker.log()}",
            )
        return self.process

    def kill(self) -> None:
        """SIGKILL to the worker and its job processes, like the kernel's OOM killer."""
        if self.process is not None:
            self.process.signal(signal.SIGKILL, group=True)
            self.process.wait_exit(10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@pytest.fixture(scope="session")
def media_worker(live_stack: LiveStack, tmp_path_factory) -> Iterator[LiveWorker]:
    """Started when the first test needs it (see `builtin_recorder`)."""
    worker = LiveWorker(live_stack, tmp_path_factory.mktemp("media-worker"))
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def builtin_recorder(live_stack: LiveStack, media_worker: LiveWorker, monkeypatch) -> Path:
    """The live app records with a running media worker (RECORDER=builtin) into the worker's
    directory; returns that directory."""
    media_worker.ensure_running()
    monkeypatch.setitem(live_stack.app.config, "RECORDER", "builtin")
    monkeypatch.setitem(live_stack.app.config, "RECORDINGS_STORAGE", "local")
    monkeypatch.setitem(live_stack.app.config, "RECORDINGS_DIR", str(media_worker.recordings))
    return media_worker.recordings


def _serve_live_app(
    workdir: Path, app_port: int, livekit: LiveKitServer, postgres: ThrowawayPostgres | None
):
    config = livekit.config
    database_url = f"sqlite:///{workdir / 'live.db'}"
    if postgres is not None:
        postgres.admin("CREATE DATABASE live")  # empty: the real migrations build it
        database_url = postgres.url("live")
    app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_URL": f"http://127.0.0.1:{app_port}",
            "LIVEKIT_URL": config.url,
            "LIVEKIT_PUBLIC_URL": config.ws_url,
            "LIVEKIT_API_KEY": config.api_key,
            "LIVEKIT_API_SECRET": config.api_secret,
            "REGISTRATION_POLICY": "open",
            "WEBHOOK_DERIVE": "background",  # as production: derived after the answer
            # A test that ends while a guest waits leaves a held lobby request behind: short
            # enough to end within the leak check's grace (the admission test holds 25 s).
            "LOBBY_WAIT_SECONDS": 3,
            # Stream in: one free port (RTMP's 1935 may be taken; the SQLite and PostgreSQL
            # passes run side by side). A test that makes an ingest removes it.
            "INGEST_RTMP_PORTS": str(free_port()),
            # Stream out: RTMP destinations are ffmpeg on loopback; HLS files the worker writes.
            "STREAM_PRIVATE_DESTINATIONS": True,
            "STREAMS_DIR": str(workdir / "streams"),
        },
    )
    with app.app_context():
        flask_migrate.upgrade()  # the live tiers run on the real migrations
        auth_services.create_user(
            "ops@example.com", "Olive Ops", PASSWORD, Role.OPS, email_verified=True
        )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    webhook_deriver.start_for(app)  # here, so its thread is the live app's, not a test's
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveStack(app=app, base_url=f"http://127.0.0.1:{app_port}", livekit=livekit)
    finally:
        server.shutdown()
        stop_deriver(app)
        with app.app_context():
            db.engine.dispose()  # close pooled connections before the database goes away
