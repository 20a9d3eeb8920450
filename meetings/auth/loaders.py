"""Who is asking: the browser session's user, or an API token's (`Authorization: Bearer`)."""

import sqlalchemy as sa
from flask import Request, g, request, session
from sqlalchemy.orm import joinedload

from meetings.auth import services as auth_services
from meetings.extensions import db, login_manager
from meetings.models import ApiToken, User, hash_api_token

BEARER = "Bearer "


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
