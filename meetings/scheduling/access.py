"""Who a meeting is for: anyone with the link, signed-in people, or invited addresses."""

from meetings.errors import ApiError
from meetings.models import Access, Meeting, Role, User


class NotForYou(ApiError):
    """The meeting is not for this person (401 sign in first, 403 not invited or not proven)."""


def check_audience(meeting: Meeting, user: User | None) -> None:
    """Raises: NotForYou when the meeting is not for this person (401 or 403)."""
    if meeting.is_host(user):
        return
    if meeting.access in (Access.SIGNED_IN, Access.INVITED) and user is None:
        raise NotForYou(401, "sign_in_required", "Sign in to join this meeting.")
    if meeting.access == Access.INVITED and user.email not in meeting.invitee_emails:
        message = "This meeting is for invited people only. Ask the host to invite you."
        raise NotForYou(403, "not_invited", message)
    if meeting.access == Access.INVITED and not user.email_verified:
        # The invitation is for the address: nobody gets in on it before proving it is theirs.
        message = "Confirm your email address first: open the link we mailed you."
        raise NotForYou(403, "email_unverified", message)


def may_see_details(meeting: Meeting, user: User | None) -> bool:
    """May this person read an invite-only meeting's title, description and host? Only those
    it is for (and operators); others see what the join page needs to say no."""
    if meeting.access != Access.INVITED or (user is not None and user.role == Role.OPS):
        return True
    try:
        check_audience(meeting, user)
    except NotForYou:
        return False
    return True
