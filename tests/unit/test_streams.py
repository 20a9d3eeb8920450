"""Stream out as hosts, the media worker and the audience see it: starting and stopping (the
meeting's hosts; bad input names the field and changes nothing), destinations kept encrypted
and shown masked, the job's dispatch, the state its events give each output, and the watch
page: its access rule, its states, its viewer count and the HLS files it serves."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from livekit.protocol.models import ParticipantInfo

from meetings.extensions import db
from meetings.models import (
    Access,
    AuditEntry,
    AuditResult,
    LiveStream,
    MeetingInvitee,
    Role,
    StreamOutput,
    utcnow,
)
from meetings.streaming import destinations
from tests.support.accounts import signed_in_client
from tests.support.rooms import first_room
from tests.support.webhook_factory import (
    egress_event,
    participant_event,
    room_event,
    webhook_request,
)
from tests.support.worker_events import heartbeat, worker_event, worker_request

AGENT = "meetings-stream"
KEY = "abcd-efgh-ijkl-9876"
YOUTUBE = f"rtmp://a.rtmp.youtube.example/live2/{KEY}"


@pytest.fixture
def send(client, app):
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def post(body: bytes) -> None:
        body, headers = worker_request(body, *keys)
        assert client.post("/worker/events", data=body, headers=headers).status_code == 200

    return post


@pytest.fixture
def hook(client, app):
    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]

    def post(event) -> None:
        body, headers = webhook_request(event, *keys)
        assert client.post("/livekit/webhook", data=body, headers=headers).status_code == 200

    return post


@pytest.fixture
def live(app, make_meeting, make_user, fake_rooms, send):
    """A running meeting whose host is in its room, and a worker serving streams."""
    app.config["RECORDER"] = "builtin"  # the media worker streams (egress: the tests at the end)
    meeting = make_meeting(host=make_user(email="host@example.com"))
    fake_rooms.seat(first_room(meeting), "host")
    send(heartbeat(AGENT))
    return meeting


def url(meeting) -> str:
    return f"/api/v1/meetings/{meeting.slug}/streams"


def start(client, api_token, meeting, **body):
    return client.post(url(meeting), json=body, headers=api_token(meeting.host))


def stored() -> LiveStream:
    [row] = db.session.scalars(sa.select(LiveStream)).all()
    db.session.refresh(row)
    return row


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({}, "rtmp_urls", "give a destination"),
        ({"rtmp_urls": "rtmp://x/a/k"}, "rtmp_urls", "list"),
        ({"rtmp_urls": ["http://x.example/a/k"]}, "rtmp_urls.0", "rtmp:// or rtmps://"),
        ({"rtmp_urls": ["rtmp://x.example/live"]}, "rtmp_urls.0", "add the stream key"),
        ({"rtmp_urls": ["rtmp://127.0.0.1/live/k"]}, "rtmp_urls.0", "private address"),
        ({"rtmp_urls": ["rtmp://10.1.2.3:1935/live/k"]}, "rtmp_urls.0", "private address"),
        ({"rtmp_urls": [YOUTUBE, YOUTUBE]}, "rtmp_urls", "repeated"),
        ({"rtmp_urls": [f"{YOUTUBE}{n}" for n in range(6)]}, "rtmp_urls", "at most 5"),
        ({"hls": True, "layout": "mosaic"}, "layout", "grid or speaker"),
        ({"hls": "yes"}, "hls", "bool"),
        ({"hls": True, "rtmp_url": YOUTUBE}, "rtmp_url", "Extra inputs"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    client, api_token, live, fake_rooms, body, field, says
):
    answer = start(client, api_token, live, **body)
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["field"] == field and says.lower() in error["message"].lower()
    assert db.session.scalars(sa.select(LiveStream)).all() == []
    assert not [c for c in fake_rooms.calls if c[0] == "dispatch"]


def test_only_the_meetings_hosts_start_and_stop_streams(client, api_token, live, make_user):
    stranger, operator = make_user(), make_user(role=Role.OPS)
    assert client.post(url(live), json={"hls": True}).status_code == 401
    for outsider in (stranger, operator):
        headers = api_token(outsider)
        assert client.post(url(live), json={"hls": True}, headers=headers).status_code == 403
        assert client.delete(url(live), headers=headers).status_code == 403
    assert db.session.scalars(sa.select(LiveStream)).all() == []
    refused = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.result == AuditResult.REFUSED)
    ).all()
    assert sorted(refused) == ["stream_started"] * 2 + ["stream_stopped"] * 2


def test_a_start_dispatches_one_job_and_keeps_the_key_only_encrypted(
    client, api_token, live, fake_rooms
):
    answer = start(client, api_token, live, rtmp_urls=[f"  {YOUTUBE} "], hls=True)
    assert answer.status_code == 201, answer.get_json()
    stream = answer.get_json()["stream"]
    assert stream["status"] == "starting" and stream["watch_url"].endswith(f"/w/{live.slug}")
    rtmp, hls = stream["outputs"]
    assert rtmp["destination"] == "rtmp://a.rtmp.youtube.example/live2/****9876"
    assert hls == {
        "output_id": "hls",
        "kind": "hls",
        "destination": None,
        "status": "starting",
        "reason": "",
    }
    [job] = [c[3] for c in fake_rooms.calls if c[0] == "dispatch"]
    row = stored()
    assert job == {
        "job_id": row.job_id,
        "room": first_room(live),
        "layout": "grid",
        "outputs": [
            {"output_id": rtmp["output_id"], "kind": "rtmp", "url": YOUTUBE},
            {"output_id": "hls", "kind": "hls"},
        ],
    }
    columns = [getattr(o, c.key) for o in row.outputs for c in StreamOutput.__table__.columns]
    assert KEY not in json.dumps(columns, default=str)
    listed = client.get(url(live), headers=api_token(live.host)).get_json()
    assert KEY not in json.dumps(listed)
    again = start(client, api_token, live, hls=True)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_streaming"


def test_a_changed_secret_key_makes_stored_destinations_unreadable(app):
    token = destinations.encrypt(YOUTUBE)
    assert destinations.decrypt(token) == YOUTUBE
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-too"
    with pytest.raises(destinations.DestinationUnreadable):
        destinations.decrypt(token)


def test_without_a_worker_or_one_that_takes_the_job_the_start_fails_and_says_so(
    app, client, api_token, make_meeting, make_user, fake_rooms, send
):
    app.config["RECORDER"] = "builtin"
    meeting = make_meeting(host=make_user())
    fake_rooms.seat(first_room(meeting), "host")
    answer = start(client, api_token, meeting, hls=True)
    assert answer.status_code == 503 and "No media worker is running" in answer.get_data(True)
    assert stored().status == "failed"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "stream_started"))
    assert entry.result == AuditResult.FAILED and "No media worker" in entry.error

    send(heartbeat(AGENT))
    fake_rooms.workers_take_jobs = False
    db.session.delete(stored())
    db.session.commit()
    answer = start(client, api_token, meeting, hls=True)
    assert answer.status_code == 503 and "No media worker took" in answer.get_data(True)
    assert ("delete_dispatch", first_room(meeting), "AD_fake1") in fake_rooms.calls
    assert stored().status == "failed"


def test_each_output_lives_and_fails_on_its_own(client, api_token, live, send):
    other = "rtmp://b.example/app/key-two-5555"
    start(client, api_token, live, rtmp_urls=[YOUTUBE, other], hls=True)
    row = stored()
    first, second = (o.output_id for o in row.outputs[:2])

    def event(kind, **data):
        send(worker_event(kind, data, job_id=row.job_id, room=row.room_name))
        return client.get(url(live), headers=api_token(live.host)).get_json()["streams"][0]

    state = event("stream_output", output_id="hls", status="live")
    assert state["status"] == "live"
    reason = "could not connect to b.example:1935: connection refused"
    state = event("stream_output", output_id=second, status="failed", reason=reason)
    assert state["status"] == "live"
    assert [(o["status"], o["reason"]) for o in state["outputs"]] == [
        ("starting", ""),
        ("failed", reason),
        ("live", ""),
    ]
    state = event("stream_output", output_id=first, status="live")
    state = event("stream_ended", reason="stopped")
    assert state["status"] == "ended" and state["ended_at"] is not None
    assert [o["status"] for o in state["outputs"]] == ["ended", "failed", "ended"]


def test_every_output_failing_fails_the_stream(client, api_token, live, send):
    start(client, api_token, live, rtmp_urls=[YOUTUBE])
    row = stored()
    for data in ({"output_id": row.outputs[0].output_id, "status": "failed", "reason": "refused"},):
        send(worker_event("stream_output", data, job_id=row.job_id, room=row.room_name))
    send(worker_event("stream_ended", {"reason": "every output failed"}, job_id=row.job_id))
    assert stored().status == "failed" and stored().reason == "every output failed"


def test_a_host_stops_the_stream_and_the_job_is_withdrawn(
    client, api_token, live, fake_rooms, send
):
    start(client, api_token, live, hls=True)
    # Everyone in the room reads the stream's state from the room's metadata (the Live sign).
    assert fake_rooms.metadata[first_room(live)] == {"stream": "starting"}
    row = stored()
    send(worker_event("stream_output", {"output_id": "hls", "status": "live"}, job_id=row.job_id))
    assert fake_rooms.metadata[first_room(live)] == {"stream": "live"}
    answer = client.delete(url(live), headers=api_token(live.host))
    assert fake_rooms.metadata[first_room(live)] == {"stream": "ended"}
    assert answer.status_code == 200 and answer.get_json()["stream"]["status"] == "ended"
    assert ("delete_dispatch", first_room(live), "AD_fake1") in fake_rooms.calls
    again = client.delete(url(live), headers=api_token(live.host))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_streaming"


def test_a_lost_worker_or_a_closed_room_ends_the_stream(client, api_token, live, hook):
    start(client, api_token, live, hls=True)
    row = stored()
    left = participant_event("participant_left", row.room_name, f"stream-{row.job_id}", "PA_s")
    left.participant.kind = ParticipantInfo.Kind.AGENT
    hook(left)
    assert stored().status == "failed" and "stopped" in stored().reason

    db.session.delete(stored())
    db.session.commit()
    start(client, api_token, live, hls=True)
    hook(room_event("room_finished", first_room(live)))
    assert stored().status == "ended" and stored().reason == "the meeting's room closed"


# ---- the watch page -----------------------------------------------------------------------------


def watch(client, meeting):
    return client.get(f"/w/{meeting.slug}/state").get_json()


def test_the_watch_page_says_soon_then_live_with_viewers_then_ended(
    app, client, api_token, live, send, tmp_path
):
    app.config["STREAMS_DIR"] = str(tmp_path)
    page = client.get(f"/w/{live.slug}")
    assert page.status_code == 200 and "The stream starts soon" in page.get_data(True)
    assert watch(client, live)["state"] == "soon"
    start(client, api_token, live, hls=True)
    row = stored()
    assert watch(client, live)["state"] == "soon"  # starting: nothing to play yet
    send(worker_event("stream_output", {"output_id": "hls", "status": "live"}, job_id=row.job_id))
    state = watch(client, live)
    assert state["state"] == "live"
    assert state["playlist"] == f"/w/{live.slug}/hls/{row.job_id}/index.m3u8"
    assert app.test_client().get(f"/w/{live.slug}/state").get_json()["viewers"] == 2
    assert watch(client, live)["viewers"] == 2  # the same viewer again is not counted twice

    folder = tmp_path / row.job_id
    folder.mkdir()
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\nseg_1.ts\n")
    (folder / "seg_1.ts").write_bytes(b"\x47" * 188)
    playlist = client.get(state["playlist"])
    assert playlist.status_code == 200 and playlist.mimetype == "application/vnd.apple.mpegurl"
    assert playlist.headers["Cache-Control"] == "no-cache"
    assert "Access-Control-Allow-Origin" not in playlist.headers
    assert playlist.get_data(as_text=True).startswith("#EXTM3U")
    playlist.close()
    segment = client.get(f"/w/{live.slug}/hls/{row.job_id}/seg_1.ts")
    assert (
        segment.status_code == 200 and segment.headers["Cache-Control"] == "private, max-age=3600"
    )
    for bad in ("..%2Fsecret", "seg_1.mp4", "index.m3u8.bak"):
        assert client.get(f"/w/{live.slug}/hls/{row.job_id}/{bad}").status_code == 404

    client.delete(url(live), headers=api_token(live.host))
    assert watch(client, live)["state"] == "ended"
    assert "The stream has ended" in client.get(f"/w/{live.slug}").get_data(True)


def test_an_invited_only_meetings_stream_is_for_its_invitees(app, client, make_meeting, make_user):
    invited, stranger = make_user(email="guest@example.com"), make_user()
    meeting = make_meeting(host=make_user(), access=Access.INVITED)
    db.session.add(MeetingInvitee(meeting_id=meeting.id, email=invited.email))
    db.session.commit()
    anonymous = client.get(f"/w/{meeting.slug}")
    assert anonymous.status_code == 401 and "Sign in to watch" in anonymous.get_data(True)
    assert client.get(f"/w/{meeting.slug}/state").status_code == 403
    outsider = signed_in_client(app, stranger).get(f"/w/{meeting.slug}")
    assert outsider.status_code == 403 and "invited people only" in outsider.get_data(True)
    assert meeting.title not in outsider.get_data(True)
    guest = signed_in_client(app, invited)
    assert guest.get(f"/w/{meeting.slug}").status_code == 200
    assert guest.get(f"/w/{meeting.slug}/state").get_json()["state"] == "soon"


# ---- RECORDER=egress: LiveKit Egress streams, its webhooks say how ------------------------------


def test_with_egress_the_stream_goes_through_livekit_egress_and_its_webhooks(
    app, client, api_token, live, fake_rooms, hook, tmp_path
):
    app.config.update(RECORDER="egress", STREAMS_EGRESS_DIR="/egress/streams/")
    other = "rtmp://b.example/app/key-two-5555"
    answer = start(client, api_token, live, rtmp_urls=[YOUTUBE, other], hls=True)
    assert answer.status_code == 201, answer.get_json()
    row = stored()
    [call] = [c for c in fake_rooms.calls if c[0] == "start_stream"]
    assert call == (
        "start_stream",
        first_room(live),
        "grid",
        [YOUTUBE, other],
        f"/egress/streams/{row.job_id}/seg",
    )
    assert row.egress_id == "EG_fake1" and row.dispatch_id is None

    event = egress_event("egress_updated", first_room(live), "EG_fake1")
    event.egress_info.stream_results.add(url="rtmp://a.rtmp.youtube.example/live2/{key}", status=0)
    event.egress_info.stream_results.add(
        url="rtmp://b.example/app/{key}", status=2, error="connection refused"
    )
    event.egress_info.segment_results.add(segment_count=3)
    hook(event)
    stream = client.get(url(live), headers=api_token(live.host)).get_json()["streams"][0]
    assert stream["status"] == "live"
    assert [(o["status"], o["reason"]) for o in stream["outputs"]] == [
        ("live", ""),
        ("failed", "connection refused"),
        ("live", ""),
    ]
    assert watch(client, live)["state"] == "live"

    stopped = client.delete(url(live), headers=api_token(live.host))
    assert stopped.get_json()["stream"]["status"] == "ended"
    assert ("stop_egress", "EG_fake1") in fake_rooms.calls


def test_with_egress_a_refusal_fails_the_start_with_the_servers_reason(
    app, client, api_token, live, fake_rooms
):
    app.config["RECORDER"] = "egress"
    fake_rooms.egress_refusal = "unavailable: no response from servers"
    answer = start(client, api_token, live, hls=True)
    assert answer.status_code == 503
    assert "no response from servers" in answer.get_json()["error"]["message"]
    assert stored().status == "failed"


def test_an_egress_that_fails_fails_the_stream(app, client, api_token, live, hook):
    app.config["RECORDER"] = "egress"
    start(client, api_token, live, rtmp_urls=[YOUTUBE])
    event = egress_event("egress_ended", first_room(live), "EG_fake1", status="EGRESS_FAILED")
    event.egress_info.error = "pipeline error"
    hook(event)
    assert stored().status == "failed" and stored().reason == "pipeline error"


def test_purge_deletes_the_watch_page_files_of_streams_ended_long_ago(app, tmp_path, live):
    streams_dir = tmp_path / "streams"
    app.config.update(STREAMS_DIR=str(streams_dir), STREAM_HLS_KEEP_HOURS=24)
    now = utcnow()
    rows = [
        LiveStream(meeting_id=live.id, occurrence_key="k", room_name="r", job_id=job, ended_at=at)
        for job, at in (
            ("SJ_old", now - timedelta(hours=25)),
            ("SJ_recent", now - timedelta(hours=23)),
            ("SJ_live", None),
        )
    ]
    db.session.add_all(rows)
    db.session.commit()
    for row in rows:
        (streams_dir / row.job_id).mkdir(parents=True)
        (streams_dir / row.job_id / "index.m3u8").write_text("#EXTM3U\n")
    result = app.test_cli_runner().invoke(args=["streams", "purge"])
    assert result.exit_code == 0 and "Deleted the files of 1 ended stream(s)." in result.output
    assert sorted(p.name for p in streams_dir.iterdir()) == ["SJ_live", "SJ_recent"]
