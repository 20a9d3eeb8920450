"""Operator command: `flask --app wsgi streams purge` deletes the HLS files of streams that
ended more than STREAM_HLS_KEEP_HOURS ago (the watch page says "ended" without them)."""

import shutil
from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from meetings.extensions import db
from meetings.models import LiveStream, utcnow

streams_cli = AppGroup("streams", help="Apply the retention of streams' watch-page files.")


def purge_ended(now=None) -> int:
    """Delete the HLS directories of streams ended long enough ago; how many were deleted."""
    hours = current_app.config["STREAM_HLS_KEEP_HOURS"]
    before = (now or utcnow()) - timedelta(hours=hours)
    ended = db.session.scalars(
        sa.select(LiveStream.job_id).where(
            LiveStream.ended_at.is_not(None), LiveStream.ended_at < before
        )
    )
    root = Path(current_app.config["STREAMS_DIR"])
    deleted = 0
    for job_id in ended:
        folder = root / job_id
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            deleted += 1
    return deleted


@streams_cli.command("purge")
def purge() -> None:
    """Delete the watch-page files of streams that ended more than STREAM_HLS_KEEP_HOURS ago."""
    click.echo(f"Deleted the files of {purge_ended()} ended stream(s).")
