"""Fixtures for every tier: the app, its client, users, and signed webhooks."""

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from config import TestingConfig
from meetings import create_app
from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import Meeting, Role, User

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"
PASSWORD = "correct horse battery"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, what: str) -> None:
    """Skip locally when a real part is missing; under CI=true that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(f"{what} is not available")


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, `g` and DB session, as in production.

    The test itself keeps an app context open for its own queries; without this, requests
    would share that context's `g` (cached CSRF tokens, cached logins) and session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test's own objects see what the request wrote
        return response


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = create_app(
        TestingConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}"}
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(**overrides) -> User:
        number = next(counter)
        fields = {
            "email": f"user{number}@example.com",
            "display_name": f"User {number}",
            "password": PASSWORD,
            "role": Role.HOST,
        } | overrides
        return auth_services.create_user(**fields)

    return make


@pytest.fixture
def make_meeting(app: Flask, make_user) -> Callable[..., Meeting]:
    def make(**overrides) -> Meeting:
        fields = {
            "title": "Weekly sync",
            "starts_at": datetime.now(UTC) + timedelta(hours=1),
            "duration_minutes": 30,
        } | overrides
        if "host" not in fields:
            fields["host"] = make_user()
        meeting = Meeting(**fields)
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return make


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html) or CSRF_META.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Sign `user` in through the real form, CSRF token included."""

    def sign_in(user: User, password: str = PASSWORD) -> FlaskClient:
        token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
        response = client.post(
            "/auth/login", data={"email": user.email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def api_token(app: Flask) -> Callable[[User], dict[str, str]]:
    """Headers carrying a fresh API token for `user`."""

    def headers_for(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {auth_services.issue_api_token(user, 'test')}"}

    return headers_for
