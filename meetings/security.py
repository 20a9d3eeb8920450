"""Who is asking: session logins, API bearer tokens, and the headers every answer carries."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Request, Response, current_app, g, request, session
from sqlalchemy.orm import joinedload

from meetings.auth import services as auth_services
from meetings.extensions import db, login_manager
from meetings.models import ApiToken, User, hash_api_token

BEARER = "Bearer "


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.after_request(add_security_headers)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if bearer_token_sent(request):
        return None  # an explicit API token wins over a browser session
    # The cookie only names a server-side session: logout, disabling the account or a
    # password reset delete it, and the cookie stops working on the next request.
    return auth_services.session_user(user_id, session.get(auth_services.SESSION_TOKEN_KEY))


@login_manager.request_loader
def load_user_from_bearer_token(request: Request) -> User | None:
    """Authenticate API clients by `Authorization: Bearer <token>`."""
    header = request.headers.get("Authorization", "")
    if not header.startswith(BEARER):
        return None
    # The user comes in the same query: every API request needs both.
    token = db.session.scalar(
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == hash_api_token(header[len(BEARER) :]))
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    g.authenticated_by_token = True
    auth_services.note_api_token_use(token)
    return token.user


def bearer_token_sent(request: Request) -> bool:
    return request.headers.get("Authorization", "").startswith(BEARER)


def livekit_origins() -> str:
    """The LiveKit origins the browser may connect to (WebSocket and its HTTP fallback)."""
    parts = urlsplit(current_app.config["LIVEKIT_PUBLIC_URL"])
    if not parts.netloc:
        return ""
    secure = parts.scheme in ("wss", "https")
    ws, http = ("wss", "https") if secure else ("ws", "http")
    return f"{ws}://{parts.netloc} {http}://{parts.netloc}"


def media_origins() -> str:
    """Extra origins a page plays media from (a recording's bucket), set by its view in g."""
    return "".join(f" {origin}" for origin in g.get("media_origins", ()))


def add_security_headers(response: Response) -> Response:
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:; media-src 'self' blob:{media_origins()}; "
        f"connect-src 'self' {livekit_origins()}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["SEND_HSTS"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers.setdefault(
        "Permissions-Policy",
        "camera=(self), microphone=(self), display-capture=(self), geolocation=()",
    )
    return response
