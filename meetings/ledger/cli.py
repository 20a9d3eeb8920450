"""Operator commands: `flask --app wsgi livekit reconcile|purge`."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.ledger import upkeep
from meetings.webhooks import apply as deriver

livekit_cli = AppGroup("livekit", help="Keep the webhook ledger in step with the LiveKit server.")


@livekit_cli.command("reconcile")
def reconcile() -> None:
    """Close sessions whose room is gone from the server (room_finished was lost)."""
    # A room_finished stored but not derived yet is not lost: derive what is waiting first.
    deriver.derive_pending()
    try:
        report = upkeep.reconcile()
    except gateway.LiveKitUnavailable as error:
        raise click.ClickException(f"LiveKit did not answer: {error}") from None
    except IntegrityError:
        # A webhook made the same session while we compared; its version stands.
        db.session.rollback()
        raise click.ClickException("A webhook changed the ledger meanwhile: run again.") from None
    click.echo(f"{report.live_rooms} room(s) live on the server.")
    for session in report.closed:
        ended = session.ended_at.isoformat(timespec="seconds")
        click.echo(f"Closed {session.room_name} ({session.room_sid}) at {ended}, inferred.")
    for session in report.opened:
        click.echo(f"Opened {session.room_name} ({session.room_sid}): room_started was lost.")
    if not report.closed and not report.opened:
        click.echo("The ledger agrees with the server.")


@livekit_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep this many days of raw events and transcripts (default: LEDGER_RETENTION_DAYS).",
)
def purge(days: int | None) -> None:
    """Delete raw webhook events and transcripts past retention; sessions and attendance
    are kept."""
    days = days or current_app.config["LEDGER_RETENTION_DAYS"]
    if not days:
        click.echo("LEDGER_RETENTION_DAYS is 0: raw events and transcripts are kept for ever.")
        return
    result = upkeep.purge_ledger(days)
    cutoff = result.cutoff.isoformat(timespec="seconds")
    click.echo(
        f"Deleted {result.events} event(s) received before {cutoff} and "
        f"{result.rejection_days} day(s) of rejection counts, and the transcripts of "
        f"{result.transcripts} occurrence(s) over by then. Attendance summaries are kept."
    )
