"""The app as `make run` and the Docker image serve it (gunicorn, several workers, production
settings): limits hold across workers, and logs keep no secrets."""

import http.client
import re
import urllib.parse
from collections.abc import Iterator

import pytest

from meetings.auth import services as auth_services
from meetings.extensions import db
from tests.support.accounts import PASSWORD
from tests.support.app_process import AppProcess, empty_database

pytestmark = pytest.mark.livekit  # a real server process, like the live tier


@pytest.fixture(scope="module")
def production_app(postgres, tmp_path_factory) -> Iterator[AppProcess]:
    workdir = tmp_path_factory.mktemp("production")
    process = AppProcess(empty_database(postgres, workdir, "production"), workdir / "gunicorn.log")
    process.migrate()
    app = process.app()
    with app.app_context():
        auth_services.create_user("lock@example.com", "Lou", PASSWORD, email_verified=True)
        db.session.remove()
        db.engine.dispose()
    process.start()
    yield process
    process.stop()


class Browser:
    """One browser session over plain HTTP. The session cookie is Secure in production, so it
    is carried by hand here, as a TLS proxy would carry it."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.text = response.read().decode()
        connection.close()
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response

    def csrf(self, path: str) -> str:
        page = self.request("GET", path).text
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_the_eleventh_wrong_password_is_refused_whichever_worker_answers(production_app):
    browser = Browser(production_app.port)
    token = browser.csrf("/auth/login")
    wrong = {"email": "lock@example.com", "password": "wrong-wrong", "csrf_token": token}
    statuses = [browser.request("POST", "/auth/login", wrong).status for _ in range(10)]
    assert statuses == [200] * 10
    right = {**wrong, "password": PASSWORD}
    eleventh = browser.request("POST", "/auth/login", right)
    assert eleventh.status == 429
    assert int(eleventh.getheader("Retry-After")) >= 1


def test_secret_links_reach_the_access_log_without_their_secret(production_app):
    browser = Browser(production_app.port)
    secrets_in_urls = {
        "/auth/reset/RESETSECRET123": "/auth/reset/[redacted]",
        "/auth/verify/VERIFYSECRET123": "/auth/verify/[redacted]",
        "/calendar/FEEDSECRET123.ics": "/calendar/[redacted].ics",
        "/recordings/shared/SHARESECRET123": "/recordings/shared/[redacted]",
        "/auth/register?invite=INVITESECRET123": "/auth/register?invite=[redacted]",
    }
    for path in secrets_in_urls:
        browser.request("GET", path)
    production_app.stop()  # flush the log
    log = production_app.log.read_text()
    production_app.start()
    for logged in secrets_in_urls.values():
        assert logged in log
    assert "SECRET123" not in log
