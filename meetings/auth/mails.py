"""The mails accounts send: confirm an address, reset a password, a sign-up for an address
that has an account. Links are on PUBLIC_URL; bodies are plain text."""

from flask import current_app

from meetings.links import public_url
from meetings.mail import send_mail
from meetings.models import User


def verification(user: User, token: str, hours: int) -> None:
    link = public_url("auth.verify_email", token=token)
    send_mail(
        user.email,
        "Confirm your email address for Meetings",
        f"Hello {user.display_name},\n\n"
        f"Open this link to confirm that {user.email} is your address (it works once, for "
        f"{hours} hours):\n\n{link}\n\n"
        "Until you do, meetings that invite this address will not let you in.\n"
        "If you did not ask for this, ignore this mail.\n",
    )


def tell_owner_of_attempt(user: User) -> None:
    send_mail(
        user.email,
        "Someone tried to sign up with your address",
        f"Hello {user.display_name},\n\n"
        "Someone tried to create a Meetings account with this address, which has one already. "
        "If it was you, sign in here:\n\n"
        f"{public_url('auth.login')}\n\n"
        "Forgot your password? Ask for a new one here:\n\n"
        f"{public_url('auth.request_reset')}\n\n"
        "If it was not you, nothing changed; you can ignore this mail.\n",
    )


def password_reset(user: User, token: str) -> None:
    minutes = current_app.config["PASSWORD_RESET_VALID_MINUTES"]
    link = public_url("auth.reset_password", token=token)
    send_mail(
        user.email,
        "Reset your Meetings password",
        f"Hello {user.display_name},\n\n"
        f"Someone asked to reset the password of your Meetings account.\n"
        f"Choose a new password here (the link works once, for {minutes} minutes):\n\n"
        f"{link}\n\nIf it was not you, ignore this mail; your password stays as it is.\n",
    )
