"""An email address grants nothing until its owner proves it is theirs."""

import sqlalchemy as sa

from meetings.auth import email_links, services
from meetings.calendar import services as calendar
from meetings.extensions import db
from meetings.models import Access, MeetingInvitee, Role, User
from tests.support.accounts import PASSWORD, csrf_token_from


def form_post(client, url, data, page_url=None):
    token = csrf_token_from(client.get(page_url or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def confirm_from_mail(client, outbox, address: str) -> None:
    """Open the newest confirmation link mailed to `address` and press Confirm."""
    link = [link for link in outbox.links(address) if "/auth/verify/" in link][-1]
    path = link.removeprefix("http://localhost")
    page = client.get(path).get_data(as_text=True)
    client.post(path, data={"csrf_token": csrf_token_from(page)})


def join(client, meeting):
    """The join-token request a signed-in browser sends (session cookie, CSRF header)."""
    csrf = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(
        f"/api/v1/meetings/{meeting.slug}/tokens", json={}, headers={"X-CSRFToken": csrf}
    )


def test_an_unproven_address_named_in_an_invite_gets_nothing_until_it_is_confirmed(
    client, make_meeting, make_user, login, outbox, fake_rooms
):
    squatter = make_user(email="bob@partner.com", email_verified=False)
    meeting = make_meeting(
        title="Board: Q4 numbers",
        access=Access.INVITED,
        invitees=[MeetingInvitee(email="bob@partner.com")],
    )
    login(squatter)
    refused = join(client, meeting)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "email_unverified")
    page = client.get(f"/m/{meeting.slug}").get_data(as_text=True)
    assert "Confirm your email address first" in page
    assert "Board: Q4 numbers" not in page
    assert "Board: Q4 numbers" not in client.get(f"/api/v1/meetings/{meeting.slug}").get_data(
        as_text=True
    )
    assert client.get(f"/meetings/{meeting.slug}/calendar.ics").status_code == 404
    assert meeting not in calendar.feed_meetings(squatter)

    form_post(client, "/auth/verify", {"next": "/dashboard"}, "/dashboard")
    confirm_from_mail(client, outbox, "bob@partner.com")

    assert db.session.get(User, squatter.id).email_verified
    assert join(client, meeting).status_code == 201
    assert meeting in calendar.feed_meetings(db.session.get(User, squatter.id))
    assert "Board: Q4 numbers" in client.get(f"/m/{meeting.slug}").get_data(as_text=True)


def test_host_powers_go_only_to_a_confirmed_address(client, make_user, api_token):
    headers = api_token(make_user())
    make_user(email="unproven@example.com", email_verified=False)
    make_user(email="proven@example.com")
    body = {"title": "Sync", "starts_at": "2031-01-06T09:00:00+00:00", "duration_minutes": 30}
    refused = client.post(
        "/api/v1/meetings", json={**body, "co_hosts": ["unproven@example.com"]}, headers=headers
    )
    assert (refused.status_code, refused.get_json()["error"]["field"]) == (422, "co_hosts")
    accepted = client.post(
        "/api/v1/meetings", json={**body, "co_hosts": ["proven@example.com"]}, headers=headers
    )
    assert accepted.get_json()["co_hosts"] == ["proven@example.com"]


def test_changing_the_email_makes_it_unproven_and_old_links_prove_nothing(
    client, make_user, login, outbox
):
    user = make_user(email="old@example.com", email_verified=False)
    email_links.send_email_verification(user)
    login(user)
    wrong = form_post(
        client, "/account/email", {"email": "new@example.com", "password": "nope"}, "/account"
    )
    assert "That is not your current password." in wrong.get_data(as_text=True)
    form_post(
        client, "/account/email", {"email": "New@Example.com", "password": PASSWORD}, "/account"
    )
    user = db.session.get(User, user.id)
    assert (user.email, user.email_verified) == ("new@example.com", False)
    old_link = outbox.links("old@example.com")[-1].removeprefix("http://localhost")
    assert client.get(old_link).status_code == 404  # it was sent to the previous address
    confirm_from_mail(client, outbox, "new@example.com")
    assert db.session.get(User, user.id).email_verified


def test_an_invite_made_for_an_address_proves_it_and_an_open_invite_does_not(
    client, app, make_user, outbox
):
    operator = make_user(role=Role.OPS)
    bound = services.create_invite(operator, "hana@example.com", Role.HOST)
    anyone = services.create_invite(operator, None, Role.HOST)
    fields = {"display_name": "Hana", "password": PASSWORD, "confirm": PASSWORD}
    signed_in = form_post(
        client, f"/auth/register?invite={bound}", {**fields, "email": "hana@example.com"}
    )
    assert signed_in.status_code == 302  # in at once: the invite went to this very address
    other = app.test_client()
    checking = form_post(
        other, f"/auth/register?invite={anyone}", {**fields, "email": "ivo@example.com"}
    )
    assert "Check your mail" in checking.get_data(as_text=True)
    verified = dict(db.session.execute(sa.select(User.email, User.email_verified_at)).all())
    assert verified["hana@example.com"] is not None
    assert verified["ivo@example.com"] is None


def test_asking_for_the_link_again_is_limited_per_account(client, make_user, login, outbox):
    user = make_user(email_verified=False)
    login(user)
    answers = [
        form_post(client, "/auth/verify", {"next": "/account"}, "/account") for _ in range(4)
    ]
    page = client.get("/account").get_data(as_text=True)
    assert all(answer.status_code == 302 for answer in answers)
    assert len(outbox.to(user.email)) == 3
    assert "We sent several links already" in page


def test_accounts_made_by_the_operator_cli_are_confirmed(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "op@example.com", "--name", "Op", "--password", "long-enough-pw"]
    )
    assert result.exit_code == 0, result.output
    assert services.find_user_by_email("op@example.com").email_verified
