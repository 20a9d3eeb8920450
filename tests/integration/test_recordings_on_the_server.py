"""Recordings against a real livekit-server (which has no egress worker here), signed egress
webhooks delivered over HTTP, a real MP4 from ffmpeg, and an S3-compatible server (moto)."""

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import Recording, RecordingStatus
from meetings.scheduling.services import MeetingSettings, create_meeting
from tests.support.accounts import PASSWORD, sign_in
from tests.support.egress_factory import SECOND, egress_event
from tests.support.live import run_in_thread
from tests.support.recording_media import deliver, make_mp4
from tests.support.rooms import first_room
from tests.support.s3 import moto_bucket

pytestmark = pytest.mark.livekit


def schedule(stack, **settings):
    """A meeting open now that allows recording: slug, room, the host's API headers, email."""

    def create():
        stamp = time.monotonic_ns()
        host = auth_services.create_user(
            f"rec-host-{stamp}@example.com", "Rita Rec", PASSWORD, email_verified=True
        )
        fields = {"duration_minutes": 60, "lobby": False, "recording_allowed": True} | settings
        start = datetime.now(UTC) + timedelta(minutes=2)
        meeting = create_meeting(host, MeetingSettings("Recorded sync", start, **fields))
        token = auth_services.issue_api_token(host, "t")
        headers = {"Authorization": f"Bearer {token}"}
        return meeting.slug, first_room(meeting), headers, host.email

    return stack.query(create)


def recordings_of(stack, slug: str, headers: dict) -> list[dict]:
    status, body = stack.http("GET", f"/api/v1/recordings?meeting={slug}", headers=headers)
    assert status == 200
    return body["items"]


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A GET that does not follow redirects: (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_start_without_an_egress_worker_fails_cleanly_with_the_servers_reason(
    live_stack, local_storage
):
    slug, room, host, _ = schedule(live_stack)
    assert live_stack.http("POST", f"/api/v1/meetings/{slug}/tokens", {}, host)[0] == 201

    status, answer = live_stack.http("POST", f"/api/v1/meetings/{slug}/recordings", {}, host)

    assert status == 503
    assert answer["error"]["message"].startswith("The recording could not start: the recording")
    [row] = recordings_of(live_stack, slug, host)
    assert row["status"] == "failed"
    assert row["error"] == answer["error"]["message"]  # plain words for the host
    assert "error_detail" not in row  # the server's reason is for operators
    # The server's own reason is kept, not our timeout: its answer came within
    # EGRESS_TIMEOUT_SECONDS.
    kept = live_stack.query(lambda: db.session.get(Recording, row["id"]).error)
    assert kept.startswith("unavailable:"), kept
    rooms = run_in_thread(lambda: live_stack.query(gateway.list_rooms))
    [live] = [r for r in rooms if r.name == room]
    assert live.metadata.get("recording") is not True  # nobody was told it records


def test_signed_egress_webhooks_make_a_playable_downloadable_file(live_stack, local_storage):
    slug, room, host, _ = schedule(live_stack)
    name = f"{room}-20300101T000000Z.mp4"
    video = make_mp4(local_storage / name).read_bytes()
    t0 = time.time_ns()
    events = {
        "started": egress_event("starting", room, "EG_live1", updated_ns=t0),
        "active": egress_event("active", room, "EG_live1", updated_ns=t0 + SECOND),
        "complete": egress_event(
            "complete",
            room,
            "EG_live1",
            updated_ns=t0 + 3 * SECOND,
            filename=f"/out/{name}",
            location=f"/out/{name}",
            size=len(video),
            duration_s=2.0,
        ),
        "late": egress_event("active", room, "EG_live1", updated_ns=t0 + 2 * SECOND),
    }
    # Out of order and repeated, as retries and egress's own queue deliver them.
    for key in ("active", "started", "active", "complete", "late", "complete"):
        assert deliver(live_stack, events[key]) == 200

    [row] = recordings_of(live_stack, slug, host)
    assert (row["status"], row["size_bytes"], row["duration_seconds"]) == (
        "complete",
        len(video),
        2.0,
    )
    media = f"{live_stack.base_url}{row['media_url']}"
    status, headers, body = fetch(media, host | {"Range": "bytes=0-99"})
    assert (status, headers["Content-Range"], body) == (
        206,
        f"bytes 0-99/{len(video)}",
        video[:100],
    )
    status, headers, body = fetch(f"{media}?download=1", host)
    assert (status, body) == (200, video)
    assert headers["Content-Disposition"] == f'attachment; filename="{name}"'
    status, headers, _ = fetch(media, host | {"Range": f"bytes={len(video)}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{len(video)}")


def test_reconcile_says_so_when_the_server_cannot_list_egress(live_stack, local_storage):
    slug, room, _, _ = schedule(live_stack)
    assert deliver(live_stack, egress_event("active", room, f"EG_stuck_{slug}")) == 200
    runner = live_stack.app.test_cli_runner()
    result = run_in_thread(lambda: runner.invoke(args=["recordings", "reconcile"]))
    # Without Redis the server has no egress service at all; the row waits for a real answer.
    assert result.exit_code == 1
    assert "did not answer" in result.output

    def status():
        return db.session.scalar(
            sa.select(Recording.status).where(Recording.egress_id == f"EG_stuck_{slug}")
        )

    assert live_stack.query(status) == RecordingStatus.ACTIVE


# ---- S3-compatible storage ----------------------------------------------------------------

BUCKET = "meetings-recordings"


@pytest.fixture(scope="module")
def s3_server():
    with moto_bucket(BUCKET, "test-access", "test-secret") as served:
        yield served


@pytest.fixture
def s3_storage(live_stack, s3_server, monkeypatch):
    endpoint, client = s3_server
    config = live_stack.app.config
    for key, value in {
        "RECORDINGS_STORAGE": "s3",
        "RECORDINGS_S3_BUCKET": BUCKET,
        "RECORDINGS_S3_REGION": "us-east-1",
        "RECORDINGS_S3_ENDPOINT": endpoint,
        "RECORDINGS_S3_PATH_STYLE": True,
        "RECORDINGS_S3_ACCESS_KEY": "test-access",
        "RECORDINGS_S3_SECRET_KEY": "test-secret",
        "RECORDINGS_S3_PREFIX": "recordings/",
        "RECORDING_URL_TTL_SECONDS": 120,
    }.items():
        monkeypatch.setitem(config, key, value)
    return endpoint, client


def test_s3_recordings_play_and_download_through_short_lived_presigned_urls(
    live_stack, s3_storage, tmp_path
):
    endpoint, client = s3_storage
    slug, room, host, email = schedule(live_stack)
    key = f"recordings/{room}-20300101T000000Z.mp4"
    video = make_mp4(tmp_path / "upload.mp4").read_bytes()
    client.put_object(Bucket=BUCKET, Key=key, Body=video)  # what the egress worker uploads
    deliver(
        live_stack,
        egress_event(
            "complete",
            room,
            f"EG_s3_{slug}",
            filename=key,
            location=f"{endpoint}/{BUCKET}/{key}",
            size=len(video),
            duration_s=2.0,
        ),
    )
    [row] = recordings_of(live_stack, slug, host)
    assert row["status"] == "complete" and row["storage"] == "s3"
    media = f"{live_stack.base_url}{row['media_url']}"

    status, headers, _ = fetch(media, host)
    assert status == 302
    presigned = headers["Location"]
    assert presigned.startswith(f"{endpoint}/{BUCKET}/{key}?")
    assert "X-Amz-Expires=120" in presigned and "X-Amz-Signature=" in presigned
    assert "test-secret" not in presigned
    status, headers, body = fetch(presigned, {"Range": "bytes=0-99"})
    assert (status, body) == (206, video[:100])

    status, headers, _ = fetch(f"{media}?download=1", host)
    status, s3_headers, body = fetch(headers["Location"])
    assert (status, body) == (200, video)
    assert s3_headers["Content-Disposition"].startswith("attachment;")

    # The page that plays it may load media from the bucket (CSP media-src), and the
    # browser is sent there for the bytes.
    browser = live_stack.app.test_client()
    base = live_stack.base_url  # the host the live app serves
    sign_in(browser, email, base_url=base)
    page = browser.get(f"/recordings/{row['id']}", base_url=base)
    assert page.status_code == 200
    assert f"media-src 'self' blob: {endpoint};" in page.headers["Content-Security-Policy"]

    status, _ = live_stack.http("DELETE", f"/api/v1/recordings/{row['id']}", headers=host)
    assert status == 200
    assert client.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount") == 0


def test_a_start_sends_the_bucket_to_the_server(live_stack, s3_storage, monkeypatch):
    """What the egress worker would get: the bucket, endpoint and path style from config."""
    sent = []

    def capture(room, *, layout, preset, target):
        sent.append(target)
        raise gateway.LiveKitUnavailable("unavailable: captured")

    monkeypatch.setattr(gateway, "start_room_composite_egress", capture)
    slug, room, host, _ = schedule(live_stack)
    assert live_stack.http("POST", f"/api/v1/meetings/{slug}/recordings", {}, host)[0] == 503
    [target] = sent
    assert target.filepath.startswith(f"recordings/{room}-") and target.filepath.endswith(".mp4")
    assert (target.s3.bucket, target.s3.endpoint, target.s3.force_path_style) == (
        BUCKET,
        s3_storage[0],
        True,
    )
