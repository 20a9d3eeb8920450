"""Every route x every kind of caller -> the status each must get.

A route that is not in MATRIX fails `test_matrix_covers_every_route`: whoever adds a route
decides here who may use it.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest

from meetings.extensions import db
from meetings.models import (
    ApiToken,
    Recording,
    RecordingStatus,
    Role,
    Transcript,
    TranscriptSegment,
)
from meetings.scheduling import recurrence as rec
from tests.support.accounts import csrf_token_from, signed_in_client

ROLES = ("anonymous", "guest", "other", "host", "ops")


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def signed_in(anonymous: int, user: int) -> dict[str, int]:
    return {"anonymous": anonymous, "guest": anonymous, "other": user, "host": user, "ops": user}


def moderators(allowed: int) -> dict[str, int]:
    # Callers without an account are refused before anything is audited (401).
    return {"anonymous": 401, "guest": 401, "other": 403, "host": allowed, "ops": allowed}


def ops_only(allowed: int) -> dict[str, int]:
    return {"anonymous": 302, "guest": 302, "other": 403, "host": 403, "ops": allowed}


# (method, rule) -> expected status per role. `guest` holds a guest session from a join.
MATRIX = {
    ("GET", "/"): everyone(302),
    ("GET", "/healthz"): everyone(200),
    ("GET", "/auth/login"): signed_in(200, 302),
    ("POST", "/auth/login"): signed_in(200, 302),
    ("GET", "/auth/register"): signed_in(200, 302),
    ("POST", "/auth/register"): signed_in(200, 302),
    ("POST", "/auth/logout"): everyone(302),
    ("GET", "/auth/reset"): everyone(200),
    ("POST", "/auth/reset"): everyone(302),
    ("GET", "/auth/reset/<token>"): everyone(404),
    ("POST", "/auth/reset/<token>"): everyone(404),
    # A confirmation link's token is its credential; the fake one in `values` confirms nothing.
    ("GET", "/auth/verify/<token>"): everyone(404),
    ("POST", "/auth/verify/<token>"): everyone(404),
    ("POST", "/auth/verify"): signed_in(302, 302),
    ("GET", "/account"): signed_in(302, 200),
    ("POST", "/account"): signed_in(302, 200),
    ("POST", "/account/tokens/<int:token_id>/revoke"): signed_in(302, 302),
    # The matrix sends no new address: the form says which field is missing.
    ("POST", "/account/email"): signed_in(302, 422),
    ("GET", "/dashboard"): signed_in(302, 200),
    ("GET", "/meetings/new"): signed_in(302, 200),
    ("POST", "/meetings/new"): signed_in(302, 200),
    ("GET", "/meetings/<slug>"): {**signed_in(302, 200), "other": 404},
    ("GET", "/meetings/<slug>/audit"): {**signed_in(302, 200), "other": 404},
    ("GET", "/ops/audit"): ops_only(200),
    # Co-hosts and operators manage a meeting like its host; others must not learn it exists.
    ("GET", "/meetings/<slug>/edit"): {**signed_in(302, 200), "other": 404},
    ("POST", "/meetings/<slug>/edit"): {**signed_in(302, 200), "other": 404},
    ("POST", "/meetings/<slug>/cancel"): {**signed_in(302, 302), "other": 404},
    ("GET", "/m/<slug>"): everyone(200),
    # Calendar files go to whoever holds the meeting link, like the join page.
    ("GET", "/meetings/<slug>/calendar.ics"): everyone(200),
    ("GET", "/meetings/<slug>/occurrences/<key>.ics"): everyone(200),
    # The feed's token is its credential; the fake token in `values` opens no feed.
    ("GET", "/calendar/<token>.ics"): everyone(404),
    # The new address is shown on the answer itself, once (only its hash is kept).
    ("POST", "/account/calendar-feed"): signed_in(302, 200),
    ("GET", "/ops/users"): ops_only(200),
    ("POST", "/ops/users/<int:user_id>/role"): ops_only(302),
    ("POST", "/ops/users/<int:user_id>/disable"): ops_only(302),
    ("POST", "/ops/users/<int:user_id>/enable"): ops_only(302),
    ("POST", "/ops/users/<int:user_id>/reset-link"): ops_only(200),
    ("POST", "/ops/invites"): ops_only(200),
    ("GET", "/ops/settings"): ops_only(200),
    ("POST", "/ops/settings"): ops_only(302),
    ("GET", "/ops/security"): ops_only(200),
    ("GET", "/ops/livekit"): ops_only(200),
    ("GET", "/ops/livekit/events"): ops_only(200),
    # Attendance of a meeting is for whoever manages it; others must not learn it exists.
    ("GET", "/meetings/<slug>/history"): {**signed_in(302, 200), "other": 404},
    ("GET", "/meetings/<slug>/history/<key>"): {**signed_in(302, 200), "other": 404},
    # Transcripts too; the search covers only the caller's own meetings, so anyone signed in
    # may use it.
    ("GET", "/meetings/<slug>/transcripts/<key>"): {**signed_in(302, 200), "other": 404},
    ("GET", "/transcripts/search"): signed_in(302, 200),
    ("GET", "/api/v1/openapi.json"): everyone(200),
    ("POST", "/api/v1/meetings"): signed_in(401, 422),
    ("GET", "/api/v1/meetings"): signed_in(401, 200),
    ("GET", "/api/v1/meetings/<slug>"): everyone(200),
    ("PATCH", "/api/v1/meetings/<slug>"): {**signed_in(401, 200), "other": 403},
    ("DELETE", "/api/v1/meetings/<slug>"): {**signed_in(401, 200), "other": 403},
    # Anyone with the link may join; a caller without an account must give a name.
    ("POST", "/api/v1/meetings/<slug>/tokens"): signed_in(422, 201),
    ("GET", "/api/v1/meetings/<slug>/attendance"): {**signed_in(401, 200), "other": 403},
    ("GET", "/api/v1/meetings/<slug>/sessions"): {**signed_in(401, 200), "other": 403},
    ("GET", "/api/v1/meetings/<slug>/transcripts"): {**signed_in(401, 200), "other": 403},
    ("GET", "/api/v1/meetings/<slug>/transcripts/<occurrence_key>"): {
        **signed_in(401, 200),
        "other": 403,
    },
    ("GET", "/api/v1/ops/rooms"): {**signed_in(401, 403), "ops": 200},
    ("GET", "/api/v1/ops/usage"): {**signed_in(401, 403), "ops": 200},
    # Moderation: anyone but hosts and operators gets 403 (audited); `identity` is nobody
    # in the room, so a host learns that (404) without anything reaching the server.
    **{
        ("POST", f"/api/v1/meetings/<slug>/participants/<identity>/{action}"): moderators(404)
        for action in ("mute", "remove", "promote", "demote", "ask_unmute", "lower_hand")
    },
    ("POST", "/api/v1/meetings/<slug>/participants/<identity>/make_co_host"): moderators(422),
    # `identity` is nobody's co-host.
    ("POST", "/api/v1/meetings/<slug>/participants/<identity>/revoke_co_host"): moderators(409),
    # The matrix sends no `on`.
    ("POST", "/api/v1/meetings/<slug>/guest_lobby"): moderators(422),
    **{
        ("POST", f"/api/v1/meetings/<slug>/{action}"): moderators(200)
        for action in ("mute_all", "lock", "unlock", "end")
    },
    ("GET", "/api/v1/meetings/<slug>/lobby"): moderators(200),
    # One's own hand; the matrix sends no `raised`, and nobody is in the room anyway.
    ("POST", "/api/v1/meetings/<slug>/hand"): everyone(422),
    ("POST", "/api/v1/meetings/<slug>/lobby/<lobby_id>/admit"): moderators(404),
    ("POST", "/api/v1/meetings/<slug>/lobby/<lobby_id>/deny"): moderators(404),
    # A lobby place answers only the person waiting in it.
    ("GET", "/api/v1/meetings/<slug>/lobby/<lobby_id>"): everyone(404),
    ("GET", "/api/v1/meetings/<slug>/audit"): {**signed_in(401, 200), "other": 403},
    ("POST", "/livekit/webhook"): everyone(401),
    # The media worker's events: only a body signed with the API secret gets in.
    ("POST", "/worker/events"): everyone(401),
    # Recordings: hosts, co-hosts and operators manage them; people without access must not
    # learn that one exists (404). The recording in `values` is complete and on legal hold;
    # the page forms sent here lack their fields (confirmation, level), so nothing changes.
    ("GET", "/recordings"): signed_in(302, 200),
    ("GET", "/recordings/<int:recording_id>"): {**signed_in(302, 200), "other": 404},
    ("GET", "/recordings/<int:recording_id>/media"): {**signed_in(302, 200), "other": 404},
    # The captions track goes to whoever may watch (the recording in `values` has some).
    ("GET", "/recordings/<int:recording_id>/captions.vtt"): {**signed_in(302, 200), "other": 404},
    ("POST", "/recordings/<int:recording_id>/access"): {**signed_in(302, 302), "other": 404},
    ("POST", "/recordings/<int:recording_id>/delete"): {**signed_in(302, 302), "other": 404},
    ("POST", "/recordings/<int:recording_id>/stop"): {**signed_in(302, 302), "other": 404},
    # Only operators place or lift a legal hold.
    ("POST", "/recordings/<int:recording_id>/hold"): {
        **signed_in(302, 302),
        "other": 404,
        "host": 403,
    },
    # A secret link is the credential; the fake token in `values` opens nothing.
    ("GET", "/recordings/shared/<token>"): everyone(404),
    ("GET", "/recordings/shared/<token>/media"): everyone(404),
    ("GET", "/recordings/shared/<token>/captions.vtt"): everyone(404),
    # The host starts one; the operator then finds it running (409).
    ("POST", "/api/v1/meetings/<slug>/recordings"): {
        **signed_in(401, 201),
        "other": 403,
        "ops": 409,
    },
    # Live captions: the meeting's host and co-hosts only (operators do not write down what
    # people say in others' meetings); the matrix sends no `enabled`.
    ("POST", "/api/v1/meetings/<slug>/captions"): {**moderators(422), "ops": 403},
    # Ingests put an encoder's stream into the meeting: its host and co-hosts only. The
    # matrix sends no `name`, and its ingest id names none.
    ("GET", "/meetings/<slug>/streaming"): {**signed_in(302, 404), "host": 200, "ops": 403},
    ("POST", "/meetings/<slug>/streaming"): {**signed_in(302, 404), "host": 422, "ops": 403},
    ("POST", "/meetings/<slug>/streaming/<ingest_id>/revoke"): {
        **signed_in(302, 404),
        "host": 302,
        "ops": 403,
    },
    # Saved with no destination and no watch page: the form names the field.
    ("POST", "/meetings/<slug>/streaming/plan"): {**signed_in(302, 404), "host": 422, "ops": 403},
    ("POST", "/meetings/<slug>/streaming/plan/remove"): {
        **signed_in(302, 404),
        "host": 302,
        "ops": 403,
    },
    ("GET", "/api/v1/meetings/<slug>/ingests"): {**moderators(200), "ops": 403},
    # Streams out: the same callers. The matrix's meeting is running but its room is not
    # open, and no media worker runs: a start with no destination names the field.
    ("GET", "/api/v1/meetings/<slug>/streams"): {**moderators(200), "ops": 403},
    ("POST", "/api/v1/meetings/<slug>/streams"): {**moderators(422), "ops": 403},
    ("DELETE", "/api/v1/meetings/<slug>/streams"): {**moderators(409), "ops": 403},
    # The watch page follows the meeting's access rule (the matrix's meeting is public).
    ("GET", "/w/<slug>"): everyone(200),
    ("GET", "/w/<slug>/state"): everyone(200),
    ("GET", "/w/<slug>/hls/<job_id>/<name>"): everyone(404),
    ("POST", "/api/v1/meetings/<slug>/ingests"): {**moderators(422), "ops": 403},
    ("DELETE", "/api/v1/meetings/<slug>/ingests/<ingest_id>"): {**moderators(404), "ops": 403},
    ("GET", "/api/v1/recordings"): signed_in(401, 200),
    ("GET", "/api/v1/recordings/<recording_id>"): {**signed_in(401, 200), "other": 404},
    ("GET", "/api/v1/recordings/<recording_id>/media"): {**signed_in(401, 200), "other": 404},
    ("POST", "/api/v1/recordings/<recording_id>/stop"): {**signed_in(401, 409), "other": 404},
    ("DELETE", "/api/v1/recordings/<recording_id>"): {**signed_in(401, 409), "other": 404},
}


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_matrix_covers_every_route(app):
    assert app_routes(app) == set(MATRIX)


@pytest.fixture
def callers(app, make_user, make_meeting, api_token, fake_rooms, tmp_path):
    """One client per role, plus the values that fill the route parameters."""
    host = make_user(email="host@example.com")
    other = make_user(email="other@example.com")
    ops = make_user(email="ops@example.com", role=Role.OPS)
    meeting = make_meeting(host=host, recording_allowed=True)
    recording = held_recording(app, meeting, tmp_path)
    transcribe(meeting, recording)
    clients, bearer = {}, {}
    for role, user in (("other", other), ("host", host), ("ops", ops)):
        clients[role] = signed_in_client(app, user)
        bearer[role] = api_token(user)
    clients["anonymous"] = app.test_client()
    guest = app.test_client()
    guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Gwen"})
    clients["guest"] = guest
    host_token_id = app.extensions["sqlalchemy"].session.scalar(
        ApiToken.__table__.select()
        .with_only_columns(ApiToken.id)
        .where(ApiToken.user_id == host.id)
    )
    values = {
        "slug": meeting.slug,
        "key": rec.occurrences(meeting)[0].key,
        "occurrence_key": rec.occurrences(meeting)[0].key,
        "token": "not-a-real-reset-token",
        "token_id": str(host_token_id),
        "user_id": str(other.id),
        "identity": "g-nobody",
        "lobby_id": "no-such-place",
        "recording_id": str(recording.id),
        "ingest_id": "in_nothing",
        "job_id": "SJ_nothing",
        "name": "index.m3u8",
    }
    return clients, bearer, values


def held_recording(app, meeting, tmp_path) -> Recording:
    """A complete recording with its file, on legal hold."""
    app.config["RECORDINGS_DIR"] = str(tmp_path)
    (tmp_path / "held.mp4").write_bytes(b"mp4")
    recording = Recording(
        meeting=meeting,
        occurrence_key=rec.occurrences(meeting)[0].key,
        room_name=rec.occurrences(meeting)[0].room_name,
        status=RecordingStatus.COMPLETE,
        file_name="held.mp4",
        legal_hold=True,
    )
    db.session.add(recording)
    db.session.commit()
    return recording


def transcribe(meeting, recording: Recording) -> None:
    """The first occurrence has a transcript, one sentence of it said while `recording` ran."""
    started = datetime.now(UTC) - timedelta(hours=1)
    recording.started_at, recording.ended_at = started, started + timedelta(minutes=10)
    transcript = Transcript(
        meeting_id=meeting.id,
        occurrence_key=recording.occurrence_key,
        room_name=recording.room_name,
        origin_at=started - timedelta(minutes=1),
    )
    transcript.segments.append(
        TranscriptSegment(
            segment_id="s1", identity="g-ann", display_name="Ann", start=90, end=93, text="Hello"
        )
    )
    db.session.add(transcript)
    db.session.commit()


def fill(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def call(client, method: str, path: str, role: str, bearer: dict) -> int:
    if path.startswith("/api/"):
        headers = {"Authorization": bearer[role]["Authorization"]} if role in bearer else {}
        body = None if method in ("GET", "DELETE") else {}
        return client.open(path, method=method, json=body, headers=headers).status_code
    if method == "GET":
        return client.get(path).status_code
    page = client.get("/auth/reset").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "email": "x@example.com", "role": "host"}
    return client.post(path, data=form).status_code


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX))
def test_each_role_gets_the_allowed_status(callers, method, rule):
    clients, bearer, values = callers
    path = fill(rule, values)
    got = {role: call(clients[role], method, path, role, bearer) for role in ROLES}
    assert got == MATRIX[(method, rule)]
