"""Pages a person clicks through: sign-up, sign-in, scheduling, the join page."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Frequency, Meeting, User
from tests.support.accounts import PASSWORD, csrf_token_from


def form_post(client, url, data):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def main_text(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index("<main") : page.index("</main>")]


def register(client, email: str, name: str = "Ada Lovelace"):
    fields = {"display_name": name, "email": email, "password": PASSWORD, "confirm": PASSWORD}
    return form_post(client, "/auth/register", fields)


def test_register_mails_a_confirmation_link_and_the_account_works_after_it(
    client, open_registration, outbox, login
):
    response = register(client, "Ada@Example.com")
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    assert user.role == "host" and user.password_hash != PASSWORD
    assert not user.email_verified
    (link,) = outbox.links("ada@example.com")
    path = link.removeprefix("http://localhost")
    confirm_page = client.get(path).get_data(as_text=True)
    assert "Confirm ada@example.com" in confirm_page
    assert not db.session.get(User, user.id).email_verified  # opening the link is not enough
    client.post(path, data={"csrf_token": csrf_token_from(confirm_page)})
    assert db.session.get(User, user.id).email_verified
    login(user)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Ada Lovelace" in page and "No upcoming meetings" in page
    assert "Confirm your email address first" not in page


def test_register_with_a_taken_email_answers_the_same_and_tells_the_owner(
    client, app, make_user, open_registration, outbox
):
    owner = make_user(email="taken@example.com")
    taken = register(client, "taken@example.com", name="Other")
    fresh = register(app.test_client(), "fresh@example.com", name="Other")
    assert (taken.status_code, main_text(taken)) == (
        fresh.status_code,
        main_text(fresh).replace("fresh@", "taken@"),
    )
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3  # owner, operator, fresh
    (note,) = outbox.to(owner.email)
    assert note["Subject"] == "Someone tried to sign up with your address"


def test_register_names_each_bad_field(client, open_registration):
    response = form_post(
        client,
        "/auth/register",
        {"display_name": "", "email": "not-an-email", "password": "short", "confirm": "x"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="display_name-error"' in page
    assert 'id="email-error"' in page
    assert "between 10 and 256 characters" in page
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


class Descriptions(HTMLParser):
    """The ids a page's fields say describe them, and the ids the page has."""

    def __init__(self, page: str):
        super().__init__()
        self.described_by: list[str] = []
        self.ids: set[str] = set()
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.ids.add(found.get("id") or "")
        self.described_by += (found.get("aria-describedby") or "").split()


def test_form_fields_are_described_only_by_text_on_the_page(
    client, make_user, login, open_registration
):
    """A screen reader reads what aria-describedby names: "None" named nothing at all."""
    bad_login = form_post(client, "/auth/login", {"email": "", "password": ""})
    pages = [client.get("/auth/login"), client.get("/auth/register"), bad_login]
    login(make_user())
    pages += [client.get("/meetings/new"), client.get("/account")]
    for response in pages:
        page = response.get_data(as_text=True)
        assert 'aria-describedby="None"' not in page
        found = Descriptions(page)
        assert set(found.described_by) <= found.ids
    assert "email-error" in Descriptions(bad_login.get_data(as_text=True)).described_by


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user):
    user = make_user()
    wrong = form_post(client, "/auth/login", {"email": user.email, "password": "nope-nope-nope"})
    unknown = form_post(client, "/auth/login", {"email": "who@example.com", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 200
    assert "Wrong email or password." in wrong.get_data(as_text=True)
    assert "Wrong email or password." in unknown.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_login_does_not_redirect_off_site(client, make_user):
    user = make_user()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_logout_is_a_post_and_ends_the_session(client, make_user, login):
    login(make_user())
    assert client.get("/auth/logout").status_code == 405
    page = client.get("/dashboard").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(page)})
    assert client.get("/dashboard").status_code == 302


def test_dashboard_requires_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_schedule_meeting_through_the_form(client, make_user, login):
    host = make_user()
    login(host)
    response = form_post(
        client,
        "/meetings/new",
        {
            "title": "Design review",
            "starts_at": "2099-03-01T09:30",
            "duration_minutes": "45",
            "time_zone": "Europe/Paris",
        },
    )
    assert response.status_code == 302
    meeting = db.session.scalar(sa.select(Meeting))
    # 09:30 in Paris in March (UTC+1) is 08:30 UTC.
    assert meeting.starts_at == datetime(2099, 3, 1, 8, 30, tzinfo=UTC)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/m/{meeting.slug}" in detail
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Design review" in dashboard


def test_a_title_or_access_code_too_long_is_refused_with_the_limit_not_cut(
    client, make_user, login
):
    login(make_user())
    form = main_text(client.get("/meetings/new"))
    assert "maxlength" not in form  # the browser would cut a pasted text without a word
    assert '<p class="hint" id="title-hint">Up to 200 characters.</p>' in form
    assert "type it before joining. Up to 64 characters." in form
    response = form_post(
        client,
        "/meetings/new",
        {
            "title": "T" * 230,
            "starts_at": "2099-03-01T09:30",
            "duration_minutes": "45",
            "time_zone": "UTC",
            "access_code": "c" * 70,
        },
    )
    page = main_text(response)
    assert response.status_code == 200
    assert "Use at most 200 characters; this has 230." in page
    assert "Use at most 64 characters; this has 70." in page
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


def test_schedule_form_refuses_past_start_and_bad_zone(client, make_user, login):
    login(make_user())
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = form_post(
        client,
        "/meetings/new",
        {"title": "Late", "starts_at": past, "duration_minutes": "30", "time_zone": "UTC"},
    )
    assert "The start time is in the past." in response.get_data(as_text=True)
    response = form_post(
        client,
        "/meetings/new",
        {
            "title": "Lost",
            "starts_at": "2099-01-01T10:00",
            "duration_minutes": "30",
            "time_zone": "Mars/Olympus",
        },
    )
    assert "Unknown time zone" in response.get_data(as_text=True)
    response = schedule_in_zone(client, "Short", "CET")
    assert "pick a place from the list, such as Europe/Berlin" in response.get_data(as_text=True)
    response = form_post(
        client,
        "/meetings/new",
        {"title": "Long", "starts_at": "2099-01-01T10:00", "duration_minutes": "5000"},
    )
    assert "1 minute to 24 hours" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


def schedule_in_zone(client, title: str, zone: str):
    """The schedule form sent for 2099-01-01 10:00 in `zone`, 30 minutes."""
    fields = {"title": title, "starts_at": "2099-01-01T10:00", "duration_minutes": "30"}
    return form_post(client, "/meetings/new", fields | {"time_zone": zone})


def test_a_zone_typed_in_lower_case_is_read_as_that_place(client, make_user, login):
    login(make_user())
    response = schedule_in_zone(client, "Berlin", "europe/berlin")
    assert response.status_code == 302
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.title == "Berlin"))
    assert meeting.time_zone == "Europe/Berlin"
    assert meeting.starts_at.replace(tzinfo=UTC) == datetime(2099, 1, 1, 9, 0, tzinfo=UTC)


def test_dashboard_lists_own_meetings_as_upcoming_and_past(client, make_user, make_meeting, login):
    host = make_user()
    make_meeting(host=host, title="Mine, soon")
    make_meeting(host=host, title="Mine, over", starts_at=datetime.now(UTC) - timedelta(hours=3))
    make_meeting(title="Someone else's")
    login(host)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Mine, soon" in page
    upcoming, past = page.split("Past meetings", 1)
    assert "Mine, soon" in upcoming
    assert "Mine, over" in past
    assert "Mine, over" not in upcoming
    assert "Someone else" not in page


def test_the_meeting_page_shows_every_setting(client, make_meeting, login):
    meeting = make_meeting(
        recurrence_freq=Frequency.WEEKLY,
        recurrence_interval=2,
        recurrence_weekdays="mo,we",
        recurrence_count=6,
        lobby=True,
        recording_allowed=True,
        auto_record=False,
        max_participants=12,
        webinar=True,
    )
    login(meeting.host)
    page = " ".join(main_text(client.get(f"/meetings/{meeting.slug}")).split())
    assert "<dt>Repeats</dt><dd>Every 2 weeks on Mon, Wed, 6 times</dd>" in page
    assert "<dt>Lobby: I admit people</dt><dd>On</dd>" in page
    assert "<dt>Allow recording</dt><dd>On</dd>" in page
    assert "<dt>Record automatically</dt><dd>Off</dd>" in page
    assert "<dt>Max participants</dt><dd>12</dd>" in page
    assert "<dt>Webinar: only hosts and promoted speakers publish</dt><dd>On</dd>" in page
    assert "Anyone with the link" in page  # the access rule, as before

    single = make_meeting(host=meeting.host, title="Once")
    page = " ".join(main_text(client.get(f"/meetings/{single.slug}")).split())
    assert "<dt>Repeats</dt><dd>Does not repeat</dd>" in page
    assert "<dt>Max participants</dt><dd>No limit</dd>" in page


def test_meeting_detail_is_for_its_host_only(client, make_user, make_meeting, login):
    meeting = make_meeting()
    login(make_user())
    assert client.get(f"/meetings/{meeting.slug}").status_code == 404


def test_join_page_shows_title_as_text_and_carries_no_secrets(client, make_meeting, app):
    meeting = make_meeting(title="<script>alert(1)</script> Planning")
    response = client.get(f"/m/{meeting.slug}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Planning" in page
    assert app.config["LIVEKIT_API_SECRET"] not in page
    assert app.config["SECRET_KEY"] not in page


def test_unknown_meeting_link_says_so(client):
    response = client.get("/m/nope-nope-nope")
    assert response.status_code == 404
    assert "This meeting link is not valid" in response.get_data(as_text=True)


def test_a_mistyped_address_gets_the_products_404_page(client, make_user, login):
    login(make_user())
    response = client.get("/dashbord")
    page = main_text(response)
    assert response.status_code == 404
    assert "There is no page at /dashbord" in page
    assert "requested URL was not found" not in page  # Werkzeug's words
    assert 'href="/dashboard">Go to your dashboard' in page
    assert "Sign out" in response.get_data(as_text=True)  # the usual header, still signed in


def test_pages_send_security_headers(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=(self)" in response.headers["Permissions-Policy"]


def test_only_the_meeting_page_may_compile_webassembly(client, make_meeting):
    # The background effects run MediaPipe's WASM; no page may evaluate JavaScript strings.
    room = client.get(f"/m/{make_meeting().slug}").headers["Content-Security-Policy"]
    login = client.get("/auth/login").headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in room
    assert "script-src 'self';" in login
    assert "unsafe-eval'" not in room.replace("'wasm-unsafe-eval'", "")


def test_every_page_renders_for_a_signed_in_host(client, make_user, make_meeting, login):
    host = make_user()
    meeting = make_meeting(host=host)
    for anonymous_page in ("/auth/login", "/auth/register", f"/m/{meeting.slug}"):
        assert client.get(anonymous_page).status_code == 200, anonymous_page
    login(host)
    for page in ("/dashboard", "/meetings/new", f"/meetings/{meeting.slug}", f"/m/{meeting.slug}"):
        assert client.get(page).status_code == 200, page
