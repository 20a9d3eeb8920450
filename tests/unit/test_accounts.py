"""Accounts under attack and in daily use: policy, invites, resets, sessions, tokens, ops."""

import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from meetings.auth import email_links, services
from meetings.extensions import db
from meetings.models import Invite, LoginSession, PasswordReset, Role, SecurityEvent, User
from tests.support.accounts import PASSWORD, csrf_token_from, sign_in, signed_in_client


def form_post(client, url, data, page_url=None):
    token = csrf_token_from(client.get(page_url or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def signup(client, email, url="/auth/register"):
    return form_post(
        client,
        url,
        {"display_name": "New Person", "email": email, "password": PASSWORD, "confirm": PASSWORD},
    )


def events(kind: str) -> list[SecurityEvent]:
    return list(db.session.scalars(db.select(SecurityEvent).where(SecurityEvent.kind == kind)))


def test_first_account_can_only_come_from_the_cli(app, client):
    app.config["REGISTRATION_POLICY"] = "open"
    page = client.get("/auth/register").get_data(as_text=True)
    assert "users create" in page
    response = signup(client, "first@example.com")
    assert "users create" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


@pytest.mark.parametrize("policy", ["invite", "closed"])
def test_registration_without_invite_is_refused_unless_open(app, client, make_user, policy):
    make_user(role=Role.OPS)
    app.config["REGISTRATION_POLICY"] = policy
    page = client.get("/auth/register").get_data(as_text=True)
    assert "Create account</button>" not in page
    response = signup(client, "walk-in@example.com")
    assert response.status_code == 200
    assert services.find_user_by_email("walk-in@example.com") is None


def test_ops_invite_link_works_once_and_for_its_email_only(client, make_user, login):
    operator = make_user(role=Role.OPS)
    login(operator)
    page = form_post(
        client, "/ops/invites", {"email": "invitee@example.com", "role": "host"}, "/ops/users"
    )
    link = re.search(
        r'value="(http://localhost/auth/register\?invite=[^"]+)"', page.get_data(as_text=True)
    )
    assert link, "the invite link is shown to ops"
    invite_url = link.group(1).replace("http://localhost", "")
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})

    wrong = signup(client, "someone-else@example.com", invite_url)
    assert "This invite is for invitee@example.com." in wrong.get_data(as_text=True)
    assert signup(client, "invitee@example.com", invite_url).status_code == 302
    assert services.find_user_by_email("invitee@example.com").role == Role.HOST

    other = client.application.test_client()
    again = signup(other, "invitee2@example.com", invite_url)
    assert "expired or was used already" in again.get_data(as_text=True)
    assert services.find_user_by_email("invitee2@example.com") is None


def test_an_invite_says_what_it_gives_and_fills_in_its_address(app, client, make_user, login):
    operator = make_user(role=Role.OPS)
    login(operator)
    page = form_post(
        client, "/ops/invites", {"email": "Hana@Example.com", "role": "ops"}, "/ops/users"
    ).get_data(as_text=True)
    expires = db.session.scalar(db.select(Invite.expires_at))
    assert "<dt>Account role</dt><dd>ops</dd>" in page
    assert "<dt>For</dt><dd>hana@example.com</dd>" in page
    assert f"{expires:%Y-%m-%d %H:%M} UTC</time>" in page
    assert expires.date() == (datetime.now(UTC) + timedelta(days=7)).date()
    link = re.search(r'value="http://localhost(/auth/register\?invite=[^"]+)"', page).group(1)

    register = app.test_client().get(link).get_data(as_text=True)
    [email_input] = re.findall(r'<input[^>]*id="email"[^>]*>', register)
    assert 'value="hana@example.com"' in email_input
    assert "readonly" in email_input

    anyone = form_post(client, "/ops/invites", {"email": "", "role": "host"}, "/ops/users")
    assert "<dt>For</dt><dd>Anyone who has the link</dd>" in anyone.get_data(as_text=True)


def test_expired_invite_is_refused(client, make_user):
    operator = make_user(role=Role.OPS)
    token = services.create_invite(operator, None, Role.HOST)
    invite = db.session.scalar(db.select(Invite))
    invite.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    response = signup(client, "late@example.com", f"/auth/register?invite={token}")
    assert "expired or was used already" in response.get_data(as_text=True)
    assert services.find_user_by_email("late@example.com") is None


def test_logout_ends_the_session_on_the_server(app, client, make_user, login):
    login(make_user())
    stolen_cookie = client.get_cookie("session").value
    page = client.get("/dashboard").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(page)})
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie)
    assert replay.get("/dashboard").status_code == 302  # the old cookie no longer signs in
    assert db.session.scalar(db.select(db.func.count(LoginSession.id))) == 0


def test_each_login_gets_a_new_session(client, make_user, login):
    user = make_user()
    client.get("/auth/login")
    anonymous_cookie = client.get_cookie("session").value
    login(user)
    assert client.get_cookie("session").value != anonymous_cookie
    assert len(events("login_succeeded")) == 1


def test_disabling_a_user_stops_their_session_and_tokens_at_once(
    app, client, make_user, login, api_token
):
    victim = make_user()
    headers = api_token(victim)
    victim_browser = signed_in_client(app, victim)
    assert victim_browser.get("/dashboard").status_code == 200
    assert client.get("/api/v1/meetings/none-none-none", headers=headers).status_code == 404

    login(make_user(role=Role.OPS))
    form_post(client, f"/ops/users/{victim.id}/disable", {}, "/ops/users")

    assert victim_browser.get("/dashboard").status_code == 302
    assert client.get("/api/v1/meetings/none-none-none", headers=headers).status_code == 401
    wrong = form_post(
        app.test_client(), "/auth/login", {"email": victim.email, "password": PASSWORD}
    )
    assert "This account is disabled" in wrong.get_data(as_text=True)
    assert [e.target_user_id for e in events("user_disabled")] == [victim.id]


def test_ops_cannot_lock_themselves_out(client, make_user, login):
    operator = make_user(role=Role.OPS)
    login(operator)
    form_post(client, f"/ops/users/{operator.id}/disable", {}, "/ops/users")
    form_post(client, f"/ops/users/{operator.id}/role", {"role": "host"}, "/ops/users")
    db.session.refresh(operator)
    assert (operator.disabled, operator.role) == (False, Role.OPS)


def test_role_change_is_logged_with_who_and_from_where(client, make_user, login):
    operator = make_user(role=Role.OPS)
    host = make_user()
    login(operator)
    form_post(client, f"/ops/users/{host.id}/role", {"role": "ops"}, "/ops/users")
    db.session.refresh(host)
    assert host.role == Role.OPS
    [event] = events("role_changed")
    assert (event.actor_id, event.target_user_id, event.detail) == (
        operator.id,
        host.id,
        "host->ops",
    )
    assert event.ip == "127.0.0.1"
    log_page = client.get("/ops/security?kind=role_changed").get_data(as_text=True)
    assert "host-&gt;ops" in log_page


def test_ops_pages_search_users(client, make_user, login):
    login(make_user(role=Role.OPS))
    make_user(email="alice@example.com", display_name="Alice")
    make_user(email="bob@example.com", display_name="Bob")
    page = client.get("/ops/users?q=ali").get_data(as_text=True)
    assert "alice@example.com" in page
    assert "bob@example.com" not in page


def test_password_reset_by_mail_works_once(app, client, make_user, outbox):
    user = make_user()
    other_browser = app.test_client()
    response = form_post(client, "/auth/reset", {"email": user.email})
    assert response.status_code == 302
    (link,) = outbox.links(user.email)
    link = link.removeprefix("http://localhost")
    # Unknown emails get the same answer and no mail.
    unknown = form_post(other_browser, "/auth/reset", {"email": "nobody@example.com"})
    assert unknown.status_code == 302
    assert len(outbox.messages) == 1

    changed = form_post(
        client, link, {"password": "a-brand-new-password", "confirm": "a-brand-new-password"}
    )
    assert changed.status_code == 302
    assert services.authenticate(user.email, "a-brand-new-password") is not None
    reused = client.get(link)
    assert reused.status_code == 404
    assert "expired or was used already" in reused.get_data(as_text=True)


def test_expired_reset_link_is_refused(client, make_user):
    token = email_links.create_password_reset(make_user())
    reset = db.session.scalar(db.select(PasswordReset))
    reset.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/auth/reset/{token}").status_code == 404


def test_reset_ends_every_session_of_the_account(app, client, make_user, login):
    user = make_user()
    login(user)
    token = email_links.create_password_reset(user)
    email_links.reset_password(token, "another-long-password")
    assert client.get("/dashboard").status_code == 302


def test_ops_can_make_a_reset_link(client, make_user, login):
    user = make_user()
    login(make_user(role=Role.OPS))
    page = form_post(client, f"/ops/users/{user.id}/reset-link", {}, "/ops/users").get_data(
        as_text=True
    )
    assert re.search(r'value="http://localhost/auth/reset/[^"]+"', page)
    assert [e.target_user_id for e in events("password_reset_created")] == [user.id]


def test_api_tokens_are_shown_once_listed_and_revocable(client, make_user, login):
    user = make_user()
    login(user)
    page = form_post(client, "/account", {"name": "calendar sync"}).get_data(as_text=True)
    token = re.search(
        r'id="new-token" class="input" type="text" readonly value="([^"]+)"', page
    ).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/meetings/none-none-none", headers=headers).status_code == 404
    listing = client.get("/account").get_data(as_text=True)
    assert "calendar sync" in listing
    assert "never" not in listing  # the call above shows as its last use
    assert token not in listing  # shown once, never again
    token_id = re.search(r"/account/tokens/(\d+)/revoke", listing).group(1)
    form_post(client, f"/account/tokens/{token_id}/revoke", {}, "/account")
    response = client.get("/api/v1/meetings/none-none-none", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"
    assert len(events("api_token_created")) == 1
    assert len(events("api_token_revoked")) == 1


def test_nobody_revokes_someone_elses_token(client, make_user, login):
    owner = make_user()
    services.issue_api_token(owner, "mine")
    login(make_user())
    form_post(client, "/account/tokens/1/revoke", {}, "/account")
    assert services.active_api_tokens(owner)[0].revoked_at is None


def test_eleventh_wrong_password_is_refused_even_when_right_then_allowed_later(
    app, client, make_user, manual_clock
):
    app.config["LOGIN_FAILURE_LIMIT"] = "10 per 3 seconds"  # the product default is per minute
    user = make_user()
    for _ in range(10):
        assert (
            form_post(
                client, "/auth/login", {"email": user.email, "password": "wrong-wrong"}
            ).status_code
            == 200
        )
    blocked = form_post(client, "/auth/login", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert "Too many attempts" in blocked.get_data(as_text=True)
    manual_clock.advance(3.2)
    allowed = form_post(client, "/auth/login", {"email": user.email, "password": PASSWORD})
    assert allowed.status_code == 302
    assert len(events("login_failed")) == 10


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user()
    cookie = sign_in(client, user).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# ---- links are built on PUBLIC_URL, never on the request's host ---------------------------


@pytest.mark.parametrize(
    ("behind_proxy", "forged_header"),
    [
        pytest.param(False, "Host", id="a_forged_host"),
        # As create_app wires it with TRUSTED_PROXY_COUNT=1: the proxy's X-Forwarded-Host counts.
        pytest.param(True, "X-Forwarded-Host", id="a_forwarded_host_from_the_proxy"),
    ],
)
def test_a_reset_asked_through_a_forged_host_is_refused_and_mails_nothing(
    app, client, make_user, outbox, behind_proxy, forged_header
):
    if behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    user = make_user()
    token = csrf_token_from(client.get("/auth/reset").get_data(as_text=True))
    forged = client.post(
        "/auth/reset",
        data={"email": user.email, "csrf_token": token},
        headers={forged_header: "evil.example"},
    )
    assert forged.status_code == 400
    assert outbox.messages == []


def test_reset_links_use_public_url_whatever_trusted_name_was_asked(app, make_user, outbox):
    app.config.update(
        PUBLIC_URL="https://meet.example.com", TRUSTED_HOSTS=["meet.example.com", "internal"]
    )
    user = make_user()
    inside = app.test_client()
    page = inside.get("/auth/reset", base_url="http://internal")
    token = csrf_token_from(page.get_data(as_text=True))
    inside.post(
        "/auth/reset", data={"email": user.email, "csrf_token": token}, base_url="http://internal"
    )
    (link,) = outbox.links(user.email)
    assert link.startswith("https://meet.example.com/auth/reset/")


def test_an_unknown_email_and_a_wrong_password_take_the_same_time(app, make_user):
    """Nobody learns which addresses have accounts from how fast sign-in says no."""
    app.config.update(LOGIN_FAILURE_LIMIT="1000 per minute", LOGIN_ADDRESS_LIMIT="1000 per minute")
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # production's cost, not the tests' cheap one
    known = [make_user().email for _ in range(20)]
    client = app.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))

    def seconds_to_refuse(email: str) -> float:
        began = time.perf_counter()
        answer = client.post(
            "/auth/login", data={"email": email, "password": "not-it-at-all", "csrf_token": token}
        )
        assert answer.status_code == 200
        return time.perf_counter() - began

    wrong_password, unknown_email = [], []
    for number, email in enumerate(known):  # interleaved: a busy moment hits both alike
        wrong_password.append(seconds_to_refuse(email))
        unknown_email.append(seconds_to_refuse(f"nobody-{number}@example.com"))
    fast, slow = sorted([statistics.median(wrong_password), statistics.median(unknown_email)])
    # Without the dummy hash check the unknown email answers in a small fraction of the time.
    assert fast > 0.6 * slow, (wrong_password, unknown_email)
