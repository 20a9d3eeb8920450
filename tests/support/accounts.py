"""Signing in with the Flask test client as a browser does: through the real form, CSRF token
included. (A Playwright page signs in with `tests.support.browser_pages.sign_in`.)"""

import re
from typing import Protocol

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery"

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class HasEmail(Protocol):
    email: str


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html) or CSRF_META.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def sign_in(
    client: FlaskClient, who: HasEmail | str, password: str = PASSWORD, **request
) -> TestResponse:
    """Sign `who` (a user or an email address) in on `client`; returns the form's answer,
    a redirect. `request` goes to both requests (e.g. `base_url`)."""
    email = who if isinstance(who, str) else who.email
    token = csrf_token_from(client.get("/auth/login", **request).get_data(as_text=True))
    response = client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        **request,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def signed_in_client(app: Flask, who: HasEmail | str, password: str = PASSWORD) -> FlaskClient:
    """A new browser session (its own cookies) with `who` signed in."""
    client = app.test_client()
    sign_in(client, who, password)
    return client
