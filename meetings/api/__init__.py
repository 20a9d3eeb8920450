"""REST API v1: JSON in, JSON out, `Authorization: Bearer <token>` or the browser session.

Only what every endpoint shares lives here: the blueprint, authentication, CSRF for session
calls, the error shape (meetings.errors), request bodies and the OpenAPI document. Each
feature registers its own endpoints on `bp` in its `api.py`, and its paths in `openapi.py`.
"""

from flask import Blueprint, current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from meetings.auth.loaders import bearer_token_sent
from meetings.errors import ApiError
from meetings.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens are not sent by browsers on their own, so they need no CSRF token;
# session-authenticated calls are checked in `authenticate` below.
csrf.exempt(bp)
# Guessing API tokens: every 401 from one address counts; past the limit, 429 + Retry-After.
limiter.limit(
    lambda: current_app.config["API_AUTH_FAILURE_LIMIT"],
    deduct_when=lambda response: response.status_code == 401,
    scope="api-auth-failures",
)(bp)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@bp.before_request
def authenticate() -> None:
    signed_in = current_user.is_authenticated  # runs the loaders, which set g
    if bearer_token_sent(request) and not g.get("authenticated_by_token"):
        raise ApiError(401, "invalid_token", "The API token is unknown, revoked or disabled.")
    if signed_in and not g.get("authenticated_by_token") and request.method not in SAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError) as error:
            raise ApiError(400, "csrf_failed", f"CSRF check failed: {error}") from error


from meetings.api import openapi  # noqa: E402, F401
