"""Lobby and moderation decisions: who may do what, what reaches the server, what is audited.

RoomService is faked here (view logic); tests/integration/test_moderation_on_the_server.py
runs the same actions against a real livekit-server.
"""

import csv
import io
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import AuditEntry, AuditResult, LobbyEntry, Role
from meetings.rooms import decisions as host_decisions
from tests.support.accounts import signed_in_client
from tests.support.rooms import first_room


@pytest.fixture
def lobby_meeting(make_meeting):
    return make_meeting(lobby=True)


def ask_to_join(app, meeting, name):
    """A new browser asks for a token; returns (client, response)."""
    guest = app.test_client()
    response = guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": name})
    return guest, response


def as_host(client, api_token, meeting, method, path, json=None):
    url = f"/api/v1/meetings/{meeting.slug}/{path}"
    return client.open(url, method=method, json=json, headers=api_token(meeting.host))


def audit_rows() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


# ---- the lobby ---------------------------------------------------------------------------


def test_guests_wait_in_order_until_a_host_decides(
    app, client, api_token, lobby_meeting, fake_rooms
):
    ada, first = ask_to_join(app, lobby_meeting, "Ada")
    bob, second = ask_to_join(app, lobby_meeting, "Bob")
    assert (first.status_code, first.get_json()["position"]) == (202, 1)
    assert (second.status_code, second.get_json()["position"]) == (202, 2)
    assert "token" not in first.get_json()
    queue = as_host(client, api_token, lobby_meeting, "GET", "lobby").get_json()["items"]
    assert [person["display_name"] for person in queue] == ["Ada", "Bob"]

    ada_place = f"/api/v1/meetings/{lobby_meeting.slug}/lobby/{first.get_json()['lobby_id']}"
    bob_place = f"/api/v1/meetings/{lobby_meeting.slug}/lobby/{second.get_json()['lobby_id']}"
    assert ada.get(ada_place).get_json()["status"] == "waiting"
    assert (
        as_host(
            client, api_token, lobby_meeting, "POST", f"lobby/{queue[0]['id']}/admit"
        ).status_code
        == 200
    )
    admitted = ada.get(ada_place)
    assert admitted.status_code == 200 and admitted.get_json()["token"]
    assert bob.get(bob_place).get_json()["position"] == 1
    # Someone else cannot collect Ada's token with her lobby id.
    assert bob.get(ada_place).status_code == 404

    assert (
        as_host(
            client, api_token, lobby_meeting, "POST", f"lobby/{queue[1]['id']}/deny"
        ).status_code
        == 200
    )
    assert bob.get(bob_place).get_json()["error"]["code"] == "lobby_denied"
    again = bob.post(f"/api/v1/meetings/{lobby_meeting.slug}/tokens", json={"display_name": "Bob"})
    assert again.status_code == 403
    assert "ask again after" in again.get_json()["error"]["message"]
    decisions = audit_rows()
    assert [(row.action, row.detail) for row in decisions] == [("admit", "Ada"), ("deny", "Bob")]
    assert decisions[0].target == admitted.get_json()["identity"]


def test_a_host_arriving_does_not_admit_anyone(app, client, api_token, lobby_meeting, fake_rooms):
    _, waiting = ask_to_join(app, lobby_meeting, "Early Eve")
    host_ticket = client.post(
        f"/api/v1/meetings/{lobby_meeting.slug}/tokens",
        json={},
        headers=api_token(lobby_meeting.host),
    )
    assert host_ticket.status_code == 201
    queue = as_host(client, api_token, lobby_meeting, "GET", "lobby").get_json()["items"]
    assert [person["id"] for person in queue] == [waiting.get_json()["lobby_id"]]


def test_admitted_people_rejoin_without_waiting_again(
    app, client, api_token, lobby_meeting, fake_rooms
):
    guest, waiting = ask_to_join(app, lobby_meeting, "Rita")
    as_host(
        client, api_token, lobby_meeting, "POST", f"lobby/{waiting.get_json()['lobby_id']}/admit"
    )
    rejoin = guest.post(
        f"/api/v1/meetings/{lobby_meeting.slug}/tokens", json={"display_name": "Rita"}
    )
    assert rejoin.status_code == 201


def later(client, url: str, headers: dict) -> threading.Timer:
    """A host's POST half a second from now, from another thread (as from another browser)."""
    return threading.Timer(0.5, client.post, (url,), {"headers": headers})


def test_a_held_lobby_request_answers_with_the_token_when_a_host_admits(
    app, client, api_token, lobby_meeting, fake_rooms
):
    guest, waiting = ask_to_join(app, lobby_meeting, "Hela")
    lobby_id = waiting.get_json()["lobby_id"]
    assert waiting.get_json()["livekit_url"] == app.config["LIVEKIT_PUBLIC_URL"]
    admit = later(
        client,
        f"/api/v1/meetings/{lobby_meeting.slug}/lobby/{lobby_id}/admit",
        api_token(lobby_meeting.host),
    )
    started = time.monotonic()
    admit.start()
    held = guest.get(f"/api/v1/meetings/{lobby_meeting.slug}/lobby/{lobby_id}?wait=10")
    admit.join()
    # The decision came through the held request, long before its 10 s were up.
    assert held.status_code == 200 and held.get_json()["token"]
    assert 0.5 <= time.monotonic() - started < 5


def test_a_held_lobby_request_keeps_the_person_seen_and_ends_with_the_meeting(
    app, client, api_token, lobby_meeting, fake_rooms, monkeypatch
):
    monkeypatch.setattr(host_decisions, "HEARTBEAT", timedelta(seconds=0.3))
    guest, waiting = ask_to_join(app, lobby_meeting, "Sam")
    place = f"/api/v1/meetings/{lobby_meeting.slug}/lobby/{waiting.get_json()['lobby_id']}"
    entry = db.session.get(LobbyEntry, waiting.get_json()["lobby_id"])
    asked_at = entry.last_seen_at
    started = time.monotonic()
    still = guest.get(f"{place}?wait=1")
    assert still.get_json()["status"] == "waiting" and time.monotonic() - started >= 1
    db.session.expire_all()
    assert db.session.get(LobbyEntry, entry.id).last_seen_at > asked_at

    end = later(client, f"/api/v1/meetings/{lobby_meeting.slug}/end", api_token(lobby_meeting.host))
    end.start()
    ended = guest.get(f"{place}?wait=10")
    end.join()
    assert ended.get_json()["error"]["code"] == "meeting_ended"


def test_lobby_requests_beyond_the_held_slots_are_answered_at_once(app, lobby_meeting, fake_rooms):
    app.config["LOBBY_WAIT_SLOTS"] = 0
    guest, waiting = ask_to_join(app, lobby_meeting, "Uma")
    started = time.monotonic()
    answer = guest.get(
        f"/api/v1/meetings/{lobby_meeting.slug}/lobby/{waiting.get_json()['lobby_id']}?wait=10"
    )
    assert answer.get_json()["status"] == "waiting" and time.monotonic() - started < 2


# ---- who may moderate --------------------------------------------------------------------


MODERATION_PATHS = ("participants/g-victim/remove", "participants/g-victim/mute", "end", "lock")


def test_signed_in_non_hosts_are_refused_audited_and_nothing_reaches_the_server(
    app, make_meeting, make_user, api_token, fake_rooms
):
    meeting = make_meeting()
    fake_rooms.seat(first_room(meeting), "g-victim")
    client = app.test_client()
    headers = api_token(make_user())
    base = f"/api/v1/meetings/{meeting.slug}"
    for path in MODERATION_PATHS:
        response = client.post(f"{base}/{path}", json={}, headers=headers)
        assert response.status_code == 403
    assert fake_rooms.calls == []
    refused = audit_rows()
    assert [row.action for row in refused] == ["remove", "mute", "end", "lock"]
    assert {row.result for row in refused} == {AuditResult.REFUSED}
    assert refused[0].target == "g-victim"


def test_callers_without_an_account_are_refused_without_filling_the_audit_log(
    app, make_meeting, fake_rooms
):
    meeting = make_meeting()
    fake_rooms.seat(first_room(meeting), "g-victim")
    client = app.test_client()
    client.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Mallory"})
    base = f"/api/v1/meetings/{meeting.slug}"
    for _ in range(25):
        for path in MODERATION_PATHS:
            response = client.post(f"{base}/{path}", json={})
            assert response.status_code == 401
    assert fake_rooms.calls == []
    assert audit_rows() == []


# ---- actions -----------------------------------------------------------------------------


def test_mute_names_the_track_and_unknown_people_get_404(
    client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting()
    room = first_room(meeting)
    fake_rooms.seat(room, "g-loud")
    response = as_host(client, api_token, meeting, "POST", "participants/g-loud/mute", {})
    assert response.status_code == 200
    assert fake_rooms.calls == [("mute", room, "g-loud", "TR_g-loud")]
    camera = as_host(
        client, api_token, meeting, "POST", "participants/g-loud/mute", {"source": "camera"}
    )
    assert (camera.status_code, camera.get_json()["error"]["code"]) == (404, "no_track")
    nobody = as_host(client, api_token, meeting, "POST", "participants/g-gone/mute", {})
    assert nobody.status_code == 404
    assert "'g-gone' is not in the meeting" in nobody.get_json()["error"]["message"]
    bad = as_host(client, api_token, meeting, "POST", "participants/g-loud/mute", {"source": "x"})
    assert bad.status_code == 422


def test_removed_people_get_no_new_token(app, client, api_token, make_meeting, fake_rooms):
    meeting = make_meeting()
    guest, first = ask_to_join(app, meeting, "Troll")
    identity = first.get_json()["identity"]
    fake_rooms.seat(first_room(meeting), identity)
    assert (
        as_host(client, api_token, meeting, "POST", f"participants/{identity}/remove").status_code
        == 200
    )
    again = guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Troll"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (403, "removed")


def test_a_failed_removal_keeps_nothing_and_says_why(
    app, client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting()
    guest, first = ask_to_join(app, meeting, "Lucky")
    identity = first.get_json()["identity"]
    fake_rooms.seat(first_room(meeting), identity)
    fake_rooms.unreachable = True
    response = as_host(client, api_token, meeting, "POST", f"participants/{identity}/remove")
    assert response.status_code == 503
    assert "not reachable" in response.get_json()["error"]["message"]
    [entry] = audit_rows()
    assert (entry.action, entry.result) == ("remove", AuditResult.FAILED)
    assert "connection refused" in entry.error
    fake_rooms.unreachable = False
    again = guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Lucky"})
    assert again.status_code == 201


def test_lock_keeps_newcomers_out_and_end_closes_the_occurrence(
    app, client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting()
    assert as_host(client, api_token, meeting, "POST", "lock").status_code == 200
    _, locked = ask_to_join(app, meeting, "Late Larry")
    assert (locked.status_code, locked.get_json()["error"]["code"]) == (423, "meeting_locked")
    assert as_host(client, api_token, meeting, "POST", "unlock").status_code == 200
    assert ask_to_join(app, meeting, "Late Larry")[1].status_code == 201

    assert as_host(client, api_token, meeting, "POST", "end").status_code == 200
    assert fake_rooms.calls == [("delete_room", first_room(meeting))]
    _, ended = ask_to_join(app, meeting, "Later Lou")
    assert (ended.status_code, ended.get_json()["error"]["code"]) == (410, "meeting_ended")


def test_a_promoted_attendee_keeps_publishing_after_a_rejoin(
    app, client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting(webinar=True)
    guest, first = ask_to_join(app, meeting, "Speaker Sue")
    assert first.get_json()["can_publish"] is False
    identity = first.get_json()["identity"]
    fake_rooms.seat(first_room(meeting), identity)
    assert (
        as_host(client, api_token, meeting, "POST", f"participants/{identity}/promote").status_code
        == 200
    )
    assert fake_rooms.calls[0][:4] == ("set_publishing", first_room(meeting), identity, True)
    rejoin = guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Sue"})
    assert rejoin.get_json()["can_publish"] is True
    assert (
        as_host(client, api_token, meeting, "POST", f"participants/{identity}/demote").status_code
        == 200
    )
    again = guest.post(f"/api/v1/meetings/{meeting.slug}/tokens", json={"display_name": "Sue"})
    assert again.get_json()["can_publish"] is False


def test_mute_all_spares_the_hosts(client, api_token, make_meeting, fake_rooms):
    meeting = make_meeting()
    fake_rooms.seat(first_room(meeting), meeting.host.livekit_identity, "g-one", "g-two")
    response = as_host(client, api_token, meeting, "POST", "mute_all")
    assert response.get_json()["muted"] == 2
    assert sorted(call[2] for call in fake_rooms.calls) == ["g-one", "g-two"]
    [row] = audit_rows()
    assert (row.action, row.detail) == ("mute_all", "muted 2: g-one, g-two")


def test_only_account_holders_become_co_hosts(
    client, api_token, make_meeting, make_user, fake_rooms
):
    meeting = make_meeting()
    colleague = make_user()
    fake_rooms.seat(first_room(meeting), colleague.livekit_identity, "g-guest")
    guest = as_host(client, api_token, meeting, "POST", "participants/g-guest/make_co_host")
    assert guest.status_code == 422
    path = f"participants/{colleague.livekit_identity}/make_co_host"
    assert as_host(client, api_token, meeting, "POST", path).status_code == 200
    db.session.refresh(meeting)
    assert colleague in meeting.co_hosts


# ---- the audit log -----------------------------------------------------------------------


def test_hosts_read_their_meetings_audit_log(client, api_token, make_meeting, fake_rooms):
    meeting = make_meeting()
    as_host(client, api_token, meeting, "POST", "lock")
    as_host(client, api_token, meeting, "POST", "participants/g-nobody/remove")
    items = as_host(client, api_token, meeting, "GET", "audit").get_json()["items"]
    assert [(item["action"], item["result"]) for item in items] == [
        ("remove", "failed"),
        ("lock", "ok"),
    ]
    assert items[0]["actor"] == meeting.host.email


# One click on a host control, the row it leaves in the audit log the host reads: never two.
ONE_ROW_PER_ACTION = [
    ("participants/g-one/mute", {}, 200, "mute", "g-one", "ok"),
    ("participants/g-one/mute", {"source": "camera"}, 404, "mute", "g-one", "failed"),
    ("participants/g-gone/mute", {}, 404, "mute", "g-gone", "failed"),
    ("mute_all", {}, 200, "mute_all", "", "ok"),
    ("participants/g-one/ask_unmute", {}, 200, "ask_unmute", "g-one", "ok"),
    ("participants/g-one/remove", {}, 200, "remove", "g-one", "ok"),
    ("participants/g-one/promote", {}, 200, "promote", "g-one", "ok"),
    ("participants/g-one/demote", {}, 200, "demote", "g-one", "ok"),
    ("participants/g-one/lower_hand", {}, 200, "lower_hand", "g-one", "ok"),
    ("participants/g-one/make_co_host", {}, 422, "make_co_host", "g-one", "failed"),
    ("participants/{colleague}/make_co_host", {}, 200, "make_co_host", "{colleague}", "ok"),
    ("participants/{co_host}/revoke_co_host", {}, 200, "revoke_co_host", "{co_host}", "ok"),
    ("lock", {}, 200, "lock", "", "ok"),
    ("unlock", {}, 200, "unlock", "", "ok"),
    ("guest_lobby", {"on": True}, 200, "guest_lobby_on", "", "ok"),
    ("end", {}, 200, "end", "", "ok"),
    ("lobby/{lobby_id}/admit", {}, 200, "admit", "{waiting}", "ok"),
    ("lobby/{lobby_id}/deny", {}, 200, "deny", "{waiting}", "ok"),
]


@pytest.mark.parametrize("case", ONE_ROW_PER_ACTION)
def test_each_host_action_writes_one_audit_row(
    app, client, api_token, make_meeting, make_user, fake_rooms, case
):
    path, body, status, action, target, result = case
    colleague, co_host = make_user(), make_user()
    meeting = make_meeting(co_hosts=[co_host])
    lobby_meeting = make_meeting(host=meeting.host, lobby=True)
    _, waiting = ask_to_join(app, lobby_meeting, "Wendy")
    names = {
        "colleague": colleague.livekit_identity,
        "co_host": co_host.livekit_identity,
        "lobby_id": waiting.get_json()["lobby_id"],
        "waiting": db.session.get(LobbyEntry, waiting.get_json()["lobby_id"]).identity,
    }
    seated = (meeting.host.livekit_identity, "g-one", "g-two", names["colleague"], names["co_host"])
    fake_rooms.seat(first_room(meeting), *seated)
    if path.startswith("lobby/"):
        meeting = lobby_meeting
    answer = as_host(client, api_token, meeting, "POST", path.format(**names), body)
    assert answer.status_code == status
    items = as_host(client, api_token, meeting, "GET", "audit").get_json()["items"]
    assert [(i["action"], i["target"], i["result"]) for i in items] == [
        (action, target.format(**names), result)
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_audit_csv_does_not_carry_spreadsheet_formulas(make_meeting, start):
    from meetings import audit_log as audit

    meeting = make_meeting()
    entry = audit.record(
        audit.Actor(None, "guest g-1"),
        "remove",
        AuditResult.REFUSED,
        meeting=meeting,
        target=f'{start}HYPERLINK("http://evil")',
    )
    rows = list(csv.DictReader(io.StringIO(audit.as_csv([entry]))))
    assert rows[0]["target"].startswith(f"'{start}")


def test_audit_pages_show_actions_as_text_and_export_csv(
    app, client, api_token, make_meeting, make_user, login, fake_rooms
):
    meeting = make_meeting()
    _, waiting = ask_to_join(app, make_meeting(lobby=True, host=meeting.host), "<b>Bold</b> Bo")
    assert waiting.status_code == 202
    as_host(client, api_token, meeting, "POST", "lock")
    other = make_meeting()
    as_host(client, api_token, other, "POST", "unlock")

    login(meeting.host)
    page = client.get(f"/meetings/{meeting.slug}/audit").get_data(as_text=True)
    assert "lock" in page and "unlock" not in page
    exported = client.get(f"/meetings/{meeting.slug}/audit?format=csv")
    assert exported.mimetype == "text/csv"
    assert [
        row["action"] for row in csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
    ] == ["lock"]

    ops = signed_in_client(app, make_user(role=Role.OPS))
    everything = ops.get("/ops/audit").get_data(as_text=True)
    assert "lock" in everything and "unlock" in everything
    only_unlock = ops.get("/ops/audit?action=unlock").get_data(as_text=True)
    assert "<td>unlock</td>" in only_unlock and "<td>lock</td>" not in only_unlock
    assert ops.get("/ops/audit?meeting=nope-nope-nope").status_code == 404
    assert ops.get("/ops/audit?from=garbage&result=bogus").status_code == 200


def test_a_name_with_html_stays_text_in_the_audit_log(
    app, client, api_token, make_meeting, login, fake_rooms
):
    meeting = make_meeting(lobby=True)
    _, waiting = ask_to_join(app, meeting, "<img src=x onerror=alert(1)>")
    as_host(client, api_token, meeting, "POST", f"lobby/{waiting.get_json()['lobby_id']}/deny")
    login(meeting.host)
    page = client.get(f"/meetings/{meeting.slug}/audit").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_hands_are_raised_by_the_server_and_lowered_by_hosts(
    app, client, api_token, make_meeting, fake_rooms
):
    meeting = make_meeting()
    room = first_room(meeting)
    guest, first = ask_to_join(app, meeting, "Handy Hal")
    identity = first.get_json()["identity"]
    hand = f"/api/v1/meetings/{meeting.slug}/hand"
    assert guest.post(hand, json={"raised": True}).status_code == 404  # not in the room yet
    fake_rooms.seat(room, identity)
    assert guest.post(hand, json={"raised": True}).status_code == 200
    [(call, _, who, attributes)] = fake_rooms.calls
    assert (call, who) == ("set_attributes", identity)
    assert datetime.fromisoformat(attributes["hand"]) <= datetime.now(UTC)
    assert guest.post(hand, json={"raised": "yes"}).status_code == 422

    lowered = as_host(client, api_token, meeting, "POST", f"participants/{identity}/lower_hand")
    assert lowered.status_code == 200
    assert fake_rooms.calls[-1] == ("set_attributes", room, identity, {"hand": ""})
    # A guest cannot lower someone else's hand.
    other, _ = ask_to_join(app, meeting, "Other Olga")
    refused = other.post(
        f"/api/v1/meetings/{meeting.slug}/participants/{identity}/lower_hand", json={}
    )
    assert refused.status_code == 401


# ---- decisions that hold after the token ---------------------------------------------------


def test_removing_a_guest_makes_guests_wait_until_a_host_lets_them_in_again(
    app, client, api_token, make_meeting, make_user, fake_rooms
):
    meeting = make_meeting(lobby=False)
    _, joined = ask_to_join(app, meeting, "Mallory")
    identity = joined.get_json()["identity"]
    fake_rooms.seat(first_room(meeting), identity)
    removed = as_host(client, api_token, meeting, "POST", f"participants/{identity}/remove")
    assert removed.get_json()["guests_wait"] is True
    # Cookies cleared: a new guest identity. They wait now, where they walked in before.
    _, back = ask_to_join(app, meeting, "Not Mallory")
    assert (back.status_code, back.get_json()["status"]) == (202, "waiting")
    member = client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers=api_token(make_user())
    )
    assert member.status_code == 201  # people with an account cannot hide behind a new name
    assert as_host(client, api_token, meeting, "GET", "lobby").get_json()["guests_wait"]
    [row] = audit_rows()
    assert (row.action, row.detail) == ("remove", "guests now wait in the lobby")

    off = as_host(client, api_token, meeting, "POST", "guest_lobby", json={"on": False})
    assert off.status_code == 200
    _, direct = ask_to_join(app, meeting, "Gus")
    assert direct.status_code == 201


def test_a_denied_guest_cannot_queue_again_from_the_same_address(
    app, client, api_token, lobby_meeting, fake_rooms
):
    _, first = ask_to_join(app, lobby_meeting, "Dora")
    as_host(client, api_token, lobby_meeting, "POST", f"lobby/{first.get_json()['lobby_id']}/deny")
    _, again = ask_to_join(app, lobby_meeting, "Dora again")  # a new browser, same address
    assert (again.status_code, again.get_json()["error"]["code"]) == (403, "lobby_denied")
    elsewhere = app.test_client().post(
        f"/api/v1/meetings/{lobby_meeting.slug}/tokens",
        json={"display_name": "Eve"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert elsewhere.status_code == 202


def test_taking_a_co_hosts_role_ends_their_powers_and_tells_the_room(
    app, client, api_token, make_meeting, make_user, fake_rooms
):
    co_host = make_user()
    meeting = make_meeting(co_hosts=[co_host])
    fake_rooms.seat(first_room(meeting), co_host.livekit_identity)
    path = f"participants/{co_host.livekit_identity}/revoke_co_host"
    assert as_host(client, api_token, meeting, "POST", path).status_code == 200
    assert co_host not in db.session.get(type(meeting), meeting.id).co_hosts
    call, _, who, may_publish, metadata = fake_rooms.calls[-1]
    assert may_publish  # a participant still speaks outside webinars
    assert (call, who, metadata["role"]) == (
        "set_publishing",
        co_host.livekit_identity,
        "participant",
    )
    refused = client.post(
        f"/api/v1/meetings/{meeting.slug}/lock", json={}, headers=api_token(co_host)
    )
    assert refused.status_code == 403
    again = as_host(client, api_token, meeting, "POST", path)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "not_co_host")


def test_a_signed_in_caller_cannot_fill_the_audit_log_without_limit(
    app, make_meeting, make_user, api_token, fake_rooms
):
    app.config["MODERATION_LIMIT"] = "5 per minute"
    meeting = make_meeting()
    headers = api_token(make_user())
    client = app.test_client()
    statuses = [
        client.post(f"/api/v1/meetings/{meeting.slug}/lock", json={}, headers=headers).status_code
        for _ in range(8)
    ]
    assert statuses == [403] * 5 + [429] * 3
    assert len(audit_rows()) == 5
