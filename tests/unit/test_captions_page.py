"""Live captions on the meeting page (issue 20): the pre-join notice, and the data the room's
captions script reads (the meeting setting, the live status, who may turn them on, where)."""

import json
import re

from meetings.extensions import db
from meetings.models import CaptionsStatus, Transcript
from meetings.scheduling.room_names import room_name
from tests.support.accounts import csrf_token_from

CAPTIONS_DATA = re.compile(r'<script type="application/json" id="captions-data">(.*?)</script>')


def captions_data(page: str) -> dict:
    return json.loads(CAPTIONS_DATA.search(page)[1])


def captions_now(meeting, status: CaptionsStatus) -> None:
    """The transcript row of the meeting's current occurrence, in `status`."""
    db.session.add(
        Transcript(
            meeting_id=meeting.id,
            occurrence_key=meeting.starts_at.strftime("%Y%m%dT%H%MZ"),
            room_name=room_name(meeting.slug, meeting.starts_at),
            status=status,
        )
    )
    db.session.commit()


def test_a_meeting_without_captions_says_nothing_and_links_no_captions_style(client, make_meeting):
    meeting = make_meeting()
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert "captions-prejoin-notice" not in page
    assert "captions.css" not in page
    assert captions_data(page) == {
        "automatic": False,
        "status": "off",
        "mayToggle": False,
        "url": f"/api/v1/meetings/{meeting.slug}/captions",
    }
    # The CC button and the captions settings wait, hidden, for captions.js.
    assert re.search(r'<button type="button" id="toggle-captions"[^>]* hidden>', page)
    assert re.search(r'<fieldset id="captions-settings"[^>]* hidden>', page)


def test_a_meeting_with_captions_says_so_before_joining(client, make_meeting):
    meeting = make_meeting(captions=True)
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    notice = page[page.index('id="captions-prejoin-notice"') :]
    notice = notice[: notice.index("</div>")]
    assert "This meeting has live captions." in notice
    assert "They start when a host joins." in notice
    assert "kept as a transcript for the hosts" in notice
    assert "captions.css" in page
    assert captions_data(page)["automatic"] is True
    # Inside the pre-join form, before the Join button.
    assert page.index("captions-prejoin-notice") < page.index('id="join-button"')


def test_captions_a_host_turned_on_in_the_call_show_on_the_pre_join_page(client, make_meeting):
    meeting = make_meeting()  # the setting is off; a host turned captions on live
    captions_now(meeting, CaptionsStatus.RUNNING)
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert "Live captions are on." in page
    assert "They start when a host joins." not in page
    assert captions_data(page)["status"] == "running"


def test_captions_that_failed_or_were_turned_off_are_not_announced(client, make_meeting):
    for status in (CaptionsStatus.FAILED, CaptionsStatus.OFF):
        meeting = make_meeting()
        captions_now(meeting, status)
        page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
        assert "captions-prejoin-notice" not in page, status
        assert captions_data(page)["status"] == status.value


def test_hosts_and_co_hosts_may_turn_captions_on_others_may_not(
    client, make_user, make_meeting, login
):
    host, co_host, other = make_user(), make_user(), make_user()
    meeting = make_meeting(host=host)
    meeting.co_hosts.append(co_host)
    db.session.commit()
    for person, may in ((host, True), (co_host, True), (other, False)):
        login(person)
        page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
        assert captions_data(page)["mayToggle"] is may, person.display_name
        client.post("/auth/logout", data={"csrf_token": csrf_token_from(page)})
