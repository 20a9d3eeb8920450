"""Operator commands: `flask --app wsgi users ...`."""

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from meetings.auth import services
from meetings.extensions import db
from meetings.models import Role, User

users_cli = AppGroup("users", help="Create accounts and API tokens.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name shown to others.")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.HOST.value)
def create_user(email: str, name: str, password: str, role: str) -> None:
    """Create an account."""
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    try:
        user = services.create_user(email, name, password, Role(role), email_verified=True)
    except services.EmailTaken:
        raise click.ClickException(f"an account for {email} exists already") from None
    click.echo(f"Created {user.role} account {user.email}.")


@users_cli.command("count")
def count_users() -> None:
    """Print how many accounts exist (`make run` tells how to make the first when none)."""
    click.echo(db.session.scalar(sa.select(sa.func.count(User.id))))


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def create_token(email: str, name: str) -> None:
    """Print a new personal API token (shown once; only its hash is stored)."""
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    click.echo(services.issue_api_token(user, name))
