"""The system under test: a local livekit-server and the app under gunicorn (production
config), wired to each other on loopback ports, plus the rows the scenarios need."""

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.livekit_process import (
    LiveKitServer,
    LiveKitServerConfig,
    free_port,
    free_udp_port,
    new_api_key,
)
from meetings.models import Meeting, Role
from meetings.scheduling import recurrence as rec
from tests.support.app_process import AppProcess

# The Dockerfile's entrypoint: 2 workers x 8 threads, what a 2-core box should run.
WORKERS, THREADS = 2, 8
# The per-address token limit (60/min) would turn the load into 429s: every request of the
# bench comes from 127.0.0.1.
BENCH_ENV = {"TOKEN_REQUEST_LIMIT": "100000 per minute"}
# The trivial endpoint every scenario is compared with: a static file of the same app.
BASELINE_PATH = "/static/favicon.svg"


@dataclass
class Host:
    email: str
    password: str
    bearer: str  # an API token in clear


@dataclass
class BenchStack:
    livekit: LiveKitServer
    app_process: AppProcess
    workdir: Path

    @property
    def base_url(self) -> str:
        return self.app_process.base_url

    def app(self):
        if not hasattr(self, "_app"):
            self._app = self.app_process.app()
        return self._app

    def make_host(self) -> Host:
        email = f"bench-{time.monotonic_ns()}@example.com"
        password = "bench-password-123"  # noqa: S105 (a throw-away account)
        with self.app().app_context():
            user = auth_services.create_user(
                email, "Bench Host", password, Role.HOST, email_verified=True
            )
            bearer = auth_services.issue_api_token(user, "bench")
            db.session.remove()
        return Host(email, password, bearer)

    def make_meeting(self, host: Host, title: str, lobby: bool = False) -> tuple[str, str]:
        """An open meeting anyone with the link joins at once (or, with `lobby`, asks to);
        (slug, LiveKit room name)."""
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
        with self.app().app_context():
            user = auth_services.find_user_by_email(host.email)
            meeting = Meeting(
                title=title,
                starts_at=start,
                duration_minutes=180,
                series_ends_at=start + timedelta(minutes=180),
                host=user,
                lobby=lobby,
                join_before_host=True,
                max_participants=None,
            )
            db.session.add(meeting)
            db.session.commit()
            slug, room = meeting.slug, rec.occurrences(meeting)[0].room_name
            db.session.remove()
        return slug, room


def start_stack(workdir: Path) -> BenchStack:
    """Start livekit-server (webhooks to the app) and gunicorn on a migrated SQLite file."""
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
    os.environ.update(BENCH_ENV | {"LIVEKIT_PUBLIC_URL": config.ws_url})
    process = AppProcess(
        f"sqlite:///{workdir / 'bench.db'}",
        workdir / "gunicorn.log",
        livekit_url=config.url,
        workers=WORKERS,
        threads=THREADS,
        port=app_port,
        api_key=key,
        api_secret=secret,
    )
    try:
        process.migrate()
        process.start()
    except BaseException:
        livekit.stop()
        raise
    return BenchStack(livekit, process, workdir)


def stop_stack(stack: BenchStack) -> None:
    stack.app_process.stop()
    stack.livekit.stop()
