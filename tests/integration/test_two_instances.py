"""Two app instances (separate gunicorn processes) on one PostgreSQL: what one decides, the
other sees, because nothing that must be shared lives in process memory."""

import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from config import ProductionConfig
from meetings import create_app
from meetings.extensions import db
from meetings.livekit_process import free_port
from meetings.models import MeetingSession, WebhookEvent
from meetings.webhooks import apply as webhook_deriver
from tests.support.environment import PROJECT_DIR, require
from tests.support.live import LiveStack, http_json
from tests.support.live_meetings import joined_room_name, meeting_with_member
from tests.support.postgres import ThrowawayPostgres, throwaway_cluster
from tests.support.waiting import wait_for
from tests.support.webhook_factory import webhook_request
from tests.support.webhook_scenarios import script_room

pytestmark = pytest.mark.livekit
SECRET = secrets.token_urlsafe(48)  # both instances share it; production refuses known ones


@pytest.fixture(scope="module")
def shared_postgres(postgres, tmp_path_factory) -> Iterator[ThrowawayPostgres]:
    """The run's cluster on a PostgreSQL run; on a SQLite run, one of this module's own."""
    if postgres is not None:
        yield postgres
        return
    with throwaway_cluster("twins") as own:
        yield own


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory) -> Iterator[str]:
    """A throw-away redis-server on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server (Debian package redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )

    def accepts_connections() -> bool:
        """redis-server accepts connections"""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    wait_for(accepts_connections, timeout=10, interval=0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def twins(shared_postgres, shared_redis, live_stack: LiveStack, tmp_path_factory):
    """Two gunicorn instances on one migrated database; yields (database url, [base urls])."""
    shared_postgres.admin("DROP DATABASE IF EXISTS twins WITH (FORCE)")
    shared_postgres.admin("CREATE DATABASE twins")
    url = shared_postgres.url("twins")
    livekit = live_stack.livekit_config
    environment = os.environ | {
        "MEETINGS_ENV": "production",
        "SECRET_KEY": SECRET,
        "PUBLIC_URL": "http://127.0.0.1",  # one service behind two addresses (ports)
        "DATABASE_URL": url,
        "LIVEKIT_URL": livekit.url,
        "LIVEKIT_PUBLIC_URL": livekit.ws_url,
        "LIVEKIT_API_KEY": livekit.api_key,
        "LIVEKIT_API_SECRET": livekit.api_secret,
        "RATELIMIT_STORAGE_URI": shared_redis,
        "API_AUTH_FAILURE_LIMIT": "3 per minute",
    }
    migrate_app = create_app(ProductionConfig, _settings(environment))
    with migrate_app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    logs = tmp_path_factory.mktemp("twins")
    instances = [_start_gunicorn(environment, logs / f"instance-{n}.log") for n in (1, 2)]
    try:
        yield url, [base for base, _ in instances]
    finally:
        for _, process in instances:
            process.terminate()
            process.wait(10)


def _settings(environment: dict) -> dict:
    return {
        "SECRET_KEY": environment["SECRET_KEY"],
        "PUBLIC_URL": environment["PUBLIC_URL"],
        "SQLALCHEMY_DATABASE_URI": environment["DATABASE_URL"],
        "LIVEKIT_URL": environment["LIVEKIT_URL"],
        "LIVEKIT_API_KEY": environment["LIVEKIT_API_KEY"],
        "LIVEKIT_API_SECRET": environment["LIVEKIT_API_SECRET"],
    }


def _start_gunicorn(environment: dict, log: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "4", "wsgi:app",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # still booting
            return False

    wait_for(answers, timeout=30, what=lambda: f"gunicorn did not start:\n{log.read_text()}")
    return base, process


def call(base: str, method: str, path: str, headers: dict, body=None) -> tuple[int, dict]:
    return http_json(base, method, path, body, headers)


def database_app(url: str) -> Flask:
    """An app on the instances' database, to set up and read rows (it calls no LiveKit)."""
    settings = {"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url,
                "PUBLIC_URL": "http://127.0.0.1",
                "LIVEKIT_URL": "http://127.0.0.1:1", "LIVEKIT_API_KEY": "k",
                "LIVEKIT_API_SECRET": "s" * 40}  # fmt: skip
    return create_app(ProductionConfig, settings)


def twins_meeting(url: str, *, lobby: bool) -> tuple[str, str, dict, dict]:
    """`meeting_with_member` on the instances' database."""
    with database_app(url).app_context():
        meeting = meeting_with_member("Twins", "Tia Host", "Tom Member", lobby=lobby)
        db.session.remove()  # the connection back to the pool, which dispose then closes
        db.engine.dispose()
    return meeting


def test_a_lobby_decision_on_one_instance_is_seen_on_the_other(twins):
    url, (first, second) = twins
    slug, _, host_auth, member_auth = twins_meeting(url, lobby=True)

    status, place = call(first, "POST", f"/api/v1/meetings/{slug}/tokens", member_auth, {})
    assert status == 202
    status, lobby = call(second, "GET", f"/api/v1/meetings/{slug}/lobby", host_auth)
    assert status == 200
    assert [person["display_name"] for person in lobby["items"]] == ["Tom Member"]
    admit = f"/api/v1/meetings/{slug}/lobby/{place['lobby_id']}/admit"
    assert call(second, "POST", admit, host_auth, {})[0] == 200
    status, ticket = call(
        first, "GET", f"/api/v1/meetings/{slug}/lobby/{place['lobby_id']}", member_auth
    )
    assert status == 200 and ticket["token"]


def test_rate_limits_count_across_instances(twins):
    _, (first, second) = twins
    guessing = {"Authorization": "Bearer mtk_guessed-token"}
    statuses = [
        call(base, "GET", "/api/v1/meetings", guessing)[0] for base in (first, second, first)
    ]
    assert statuses == [401, 401, 401]
    assert call(second, "GET", "/api/v1/meetings", guessing)[0] == 429


def test_a_meeting_ended_on_one_instance_and_reopened_on_the_other_can_be_joined(twins):
    # Each instance remembers in the database that it provisioned the room; ending the
    # meeting anywhere must make the next join create the room again, on any instance.
    url, (first, second) = twins
    slug, room_name, host_auth, member_auth = twins_meeting(url, lobby=False)
    tokens = f"/api/v1/meetings/{slug}/tokens"

    assert call(first, "POST", tokens, host_auth, {})[0] == 201  # provisions the room
    assert call(second, "POST", f"/api/v1/meetings/{slug}/end", host_auth, {})[0] == 200
    assert call(first, "POST", tokens, host_auth, {})[0] == 201  # reopens
    status, ticket = call(first, "POST", tokens, member_auth, {})
    assert status == 201

    assert joined_room_name(ticket) == room_name


def test_a_webhook_delivered_to_both_instances_lands_once(twins, live_stack):
    # Behind a load balancer a retry can reach the other instance, even while the first
    # delivery is still being answered: every event goes to both at once here.
    url, instances = twins
    livekit = live_stack.livekit_config
    script = script_room(f"meeting-twins-{time.monotonic_ns()}", int(time.time()) - 3600,
                         random.Random(11))  # fmt: skip

    def deliver(base: str, event) -> tuple[str, int, dict]:
        body, headers = webhook_request(event, livekit.api_key, livekit.api_secret)
        request = urllib.request.Request(
            f"{base}/livekit/webhook", data=body.encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return event.id, response.status, json.loads(response.read())

    deliveries = [(base, event) for event in script.events for base in instances]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda delivery: deliver(*delivery), deliveries))

    assert {status for _, status, _ in answers} == {200}
    stored = Counter(event_id for event_id, _, body in answers if body["stored"])
    assert stored == Counter(event.id for event in script.events)  # "stored" once per event
    with database_app(url).app_context():
        wait_for(lambda: (db.session.rollback(), webhook_deriver.pending_count())[1] == 0)
        ledger = sa.select(sa.func.count()).where(WebhookEvent.room_name == script.name)
        assert db.session.scalar(ledger) == len(script.events)
        session = db.session.scalar(
            sa.select(MeetingSession).where(MeetingSession.room_sid == script.sid)
        )
        assert session.peak_participants == script.expected_peak()
        assert session.total_participants == len({i.identity for i in script.attended})
        db.session.remove()
        db.engine.dispose()
