"""Operator commands: `flask --app wsgi recordings reconcile|purge`."""

import click
from flask.cli import AppGroup

from meetings import livekit_gateway as gateway
from meetings.recordings import library
from meetings.recordings import reconcile as reconciling

recordings_cli = AppGroup("recordings", help="Settle stuck recordings; apply retention.")


@recordings_cli.command("reconcile")
def reconcile() -> None:
    """Ask the server (ListEgress) about recordings stuck in starting/active and settle them."""
    try:
        settled = reconciling.reconcile()
    except gateway.LiveKitError as error:
        raise click.ClickException(f"the media server did not answer: {error}") from error
    for item in settled:
        row = item.recording
        click.echo(
            f"recording {row.id} ({row.room_name}): {item.before} -> {row.status}: {item.note}"
        )
    click.echo(f"{len(settled)} recording(s) settled.")


@recordings_cli.command("purge")
def purge() -> None:
    """Delete recordings older than RECORDING_RETENTION_DAYS (not those on legal hold)."""
    deleted, held = library.purge_expired()
    click.echo(f"Deleted {deleted} recording(s); kept {held} on legal hold.")
