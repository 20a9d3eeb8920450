"""The meeting's streaming page, as its hosts use it: add an encoder and copy its settings
(the key shown once), see its state, remove it; bad input says which field."""

import re

import sqlalchemy as sa

from meetings.background import wait_for_background_work
from meetings.extensions import db
from meetings.models import Ingest, IngestStatus, Role
from tests.support.accounts import csrf_token_from, signed_in_client
from tests.support.rooms import first_room
from tests.support.worker_events import heartbeat, worker_request


def page_url(meeting) -> str:
    return f"/meetings/{meeting.slug}/streaming"


def add(browser, meeting, name: str):
    token = csrf_token_from(browser.get(page_url(meeting)).get_data(as_text=True))
    answer = browser.post(page_url(meeting), data={"name": name, "csrf_token": token})
    wait_for_background_work()
    return answer


def shown_key(page: str) -> str:
    return re.search(
        r'id="new-ingest-key" class="input" type="text" readonly value="([^"]+)"', page
    )[1]


def test_a_host_adds_an_encoder_and_sees_its_key_only_once(
    app, make_meeting, make_user, fake_rooms
):
    host = make_user()
    meeting = make_meeting(host=host)
    browser = signed_in_client(app, host)
    answer = add(browser, meeting, "Stage <b>camera</b>")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    key = shown_key(page)
    assert 'value="rtmp://localhost:1935/live"' in page
    assert "Stage &lt;b&gt;camera&lt;/b&gt;" in page and "<b>camera</b>" not in page
    again = browser.get(page_url(meeting)).get_data(as_text=True)
    assert key not in again and f"…{key[-4:]}" in again
    assert "Stage &lt;b&gt;camera&lt;/b&gt;" in again


def test_a_missing_name_or_no_free_port_is_said_on_the_field(app, make_meeting, make_user):
    host = make_user()
    meeting = make_meeting(host=host)
    browser = signed_in_client(app, host)
    empty = add(browser, meeting, "   ")
    assert empty.status_code == 422
    assert "Name it as people should see it" in empty.get_data(as_text=True)
    app.config["INGEST_RTMP_PORTS"] = "19350"
    assert add(browser, meeting, "One").status_code == 200
    full = add(browser, meeting, "Two")
    assert full.status_code == 422
    assert "All 1 ports for encoders are in use" in full.get_data(as_text=True)
    assert db.session.scalars(sa.select(Ingest.name)).all() == ["One"]


def test_removing_an_encoder_frees_it_and_says_so(app, make_meeting, make_user):
    host = make_user()
    meeting = make_meeting(host=host)
    browser = signed_in_client(app, host)
    add(browser, meeting, "Stage camera")
    ingest = db.session.scalar(sa.select(Ingest))
    token = csrf_token_from(browser.get(page_url(meeting)).get_data(as_text=True))
    removed = browser.post(
        f"{page_url(meeting)}/{ingest.public_id}/revoke",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    page = removed.get_data(as_text=True)
    assert "Stage camera removed: its stream key no longer works." in page
    assert "No encoders yet." in page
    db.session.refresh(ingest)
    assert ingest.revoked_at is not None and ingest.rtmp_port is None


def test_the_state_hosts_see_and_where_the_page_is_linked(app, make_meeting, make_user):
    host, operator = make_user(), make_user(role=Role.OPS)
    meeting = make_meeting(host=host)
    browser = signed_in_client(app, host)
    add(browser, meeting, "Stage camera")
    ingest = db.session.scalar(sa.select(Ingest))
    ingest.status, ingest.refused_count = IngestStatus.LIVE, 2
    db.session.commit()
    page = browser.get(page_url(meeting)).get_data(as_text=True)
    assert "live in the meeting" in page and "2 attempts with a wrong key" in page
    detail = f"/meetings/{meeting.slug}"
    assert page_url(meeting) in browser.get(detail).get_data(as_text=True)
    assert page_url(meeting) not in signed_in_client(app, operator).get(detail).get_data(
        as_text=True
    )


def test_a_meeting_set_to_stream_starts_its_stream_when_a_host_joins(
    app, client, api_token, make_meeting, make_user, fake_rooms
):
    app.config["RECORDER"] = "builtin"  # the media worker streams
    host = make_user()
    meeting = make_meeting(host=host)
    browser = signed_in_client(app, host)
    token = csrf_token_from(browser.get(page_url(meeting)).get_data(as_text=True))
    key = "rtmp://live.example/app/secret-key-2468"
    bad = browser.post(
        f"{page_url(meeting)}/plan",
        data={"destinations": "http://x.example/a/b", "hls": "y", "csrf_token": token},
    )
    assert bad.status_code == 422 and "rtmp_urls.0: use an rtmp://" in bad.get_data(True)
    saved = browser.post(
        f"{page_url(meeting)}/plan",
        data={"destinations": f"{key}\n", "hls": "y", "csrf_token": token},
        follow_redirects=True,
    )
    page = saved.get_data(as_text=True)
    assert "streams when a host joins it" in page and "rtmp://live.example/app/****2468" in page
    assert "secret-key" not in page

    keys = app.config["LIVEKIT_API_KEY"], app.config["LIVEKIT_API_SECRET"]
    body, headers = worker_request(heartbeat("meetings-stream"), *keys)
    assert client.post("/worker/events", data=body, headers=headers).status_code == 200
    fake_rooms.seat(first_room(meeting), "host")
    for _ in range(2):  # a host joining again does not start a second stream
        joined = client.post(
            f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(host)
        )
        assert joined.status_code == 201
        wait_for_background_work()
    jobs = [c[3] for c in fake_rooms.calls if c[0] == "dispatch" and c[2] == "meetings-stream"]
    assert [[o.get("url") for o in job["outputs"]] for job in jobs] == [[key, None]]
