"""Self-service sign-up, as the registration policy allows."""

from dataclasses import dataclass

from meetings.auth import mails as mailer
from meetings.auth.email_links import send_email_verification
from meetings.auth.services import (
    InvalidLink,
    RegistrationClosed,
    create_user,
    find_user_by_email,
    normalise_email,
    now,
    registration_policy,
    usable_invite,
    user_count,
)
from meetings.models import (
    Role,
    User,
)


@dataclass(frozen=True)
class Registration:
    """What a sign-up did. `user` is set when the account may be used at once (an invite
    made for this very address); otherwise a confirmation link went to the address, or,
    when it has an account already, a note to its owner, and the answer is the same."""

    email: str
    user: User | None = None


def register(
    email: str, display_name: str, password: str, invite_token: str | None
) -> Registration:
    """Self-service sign-up, as the registration policy allows.

    Whether an account exists for `email` is not told to the person signing up: both cases
    answer "check your mail" after the same work, and the owner hears about the attempt.

    Raises:
        RegistrationClosed: no account may be made this way now.
        InvalidLink: the invite is unknown, used, expired or for another email.
    """
    if user_count() == 0:
        raise RegistrationClosed(
            "The first account is created by the operator: "
            "flask --app wsgi users create EMAIL --name NAME --password PASSWORD --role ops"
        )
    role, invite = Role.HOST, None
    if invite_token:
        invite = usable_invite(invite_token)
        if invite is None:
            raise InvalidLink(
                "This invite link has expired or was used already. Ask for a new one."
            )
        if invite.email and invite.email != normalise_email(email):
            raise InvalidLink(f"This invite is for {invite.email}.", field="email")
        role = invite.role
    elif registration_policy() != "open":
        raise RegistrationClosed("Registration needs an invite. Ask your operator for a link.")
    existing = find_user_by_email(email)
    if existing is not None:
        User(email="").set_password(password)  # the same hashing work as a new account
        mailer.tell_owner_of_attempt(existing)
        return Registration(normalise_email(email))
    bound = invite is not None and invite.email is not None  # the invite proves the address
    if invite is not None:
        invite.used_at = now()
    user = create_user(email, display_name, password, role, email_verified=bound)
    if bound:
        return Registration(user.email, user)
    send_email_verification(user)
    return Registration(user.email)
