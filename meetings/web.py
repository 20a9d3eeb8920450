"""Request helpers every feature's views share: who is asking, and what they may reach.

Pages answer 404/403 pages; the JSON API answers `ApiError`s. Both check on the server,
for every request.
"""

from datetime import UTC, datetime, time, timedelta
from functools import wraps

from flask import abort, request, session
from flask_login import current_user, login_required

from meetings.audit_log import Actor
from meetings.errors import ApiError
from meetings.models import Meeting, Role, User


def signed_in_user() -> User | None:
    return current_user if current_user.is_authenticated else None


def current_actor() -> Actor:
    """Who is asking, as the audit log names them: a user, a guest or an address."""
    return Actor.of(signed_in_user(), session.get("guest_identity"), request.remote_addr)


# ---- pages ---------------------------------------------------------------------------------


def ops_required(view):
    """Signed in with the ops role, checked on the server for every request."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != Role.OPS:
            abort(403, "This page is for operators.")
        return view(*args, **kwargs)

    return wrapped


def managed_meeting_or_404(slug: str) -> Meeting:
    """The meeting, if the signed-in caller manages it; 404 otherwise (not 403: others must
    not learn that it exists)."""
    meeting = Meeting.by_slug(slug)
    if meeting is None or not meeting.is_managed_by(current_user):
        abort(404, "No meeting of yours has this link.")
    return meeting


def day_arg(name: str, *, next_day: bool = False) -> datetime | None:
    """`?name=YYYY-MM-DD` as midnight UTC (the next midnight for the end of a range);
    None when absent or malformed, so filters show "all" instead of an error."""
    try:
        day = datetime.strptime(request.args.get(name, "")[:100].strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if next_day else moment


# ---- JSON API ------------------------------------------------------------------------------


def require_user() -> User:
    """Raises: ApiError 401 when the call carries no account."""
    if not current_user.is_authenticated:
        raise ApiError(401, "unauthenticated", "Send `Authorization: Bearer <api token>`.")
    return current_user


def meeting_or_404(slug: str) -> Meeting:
    """Raises: ApiError 404 naming the slug."""
    meeting = Meeting.by_slug(slug)
    if meeting is None:
        raise ApiError(404, "meeting_not_found", f"No meeting has the slug {slug!r}.")
    return meeting


def managed_meeting(slug: str) -> Meeting:
    """Raises: ApiError 401 without an account, 404 unknown slug, 403 not a host or operator."""
    user = require_user()
    meeting = meeting_or_404(slug)
    if not meeting.is_managed_by(user):
        raise ApiError(403, "forbidden", "Only the meeting's hosts or an operator may do this.")
    return meeting


def require_ops() -> User:
    """Raises: ApiError 401 without an account, 403 for anyone but operators."""
    user = require_user()
    if user.role != Role.OPS:
        raise ApiError(403, "forbidden", "Only operators may do this.")
    return user
