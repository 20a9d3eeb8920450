"""A meeting's history and attendance, for its hosts (operators see /ops/livekit)."""

from datetime import UTC, datetime

from flask import abort, render_template, request
from flask_login import login_required

from meetings.csv_export import csv_download
from meetings.ledger import bp, charts, history
from meetings.scheduling import recurrence as rec
from meetings.web import managed_meeting_or_404


@bp.get("/meetings/<slug>/history")
@login_required
def meeting_history(slug: str):
    """The occurrences that took place, as the media server reported them."""
    meeting = managed_meeting_or_404(slug)
    return render_template(
        "ledger/meeting_history.html",
        meeting=meeting,
        summaries=history.occurrence_summaries(meeting),
        people=history.distinct_people(meeting),
        transcribed=history.transcribed_keys(meeting),
    )


@bp.get("/meetings/<slug>/history/<key>")
@login_required
def occurrence_attendance(slug: str, key: str):
    """Who attended one occurrence, when and for how long: table, timeline, CSV."""
    meeting = managed_meeting_or_404(slug)
    report = history.occurrence_report(meeting, key)
    if not report.summary.sessions and rec.occurrence_by_key(meeting, key) is None:
        abort(404, "This meeting has no such occurrence.")
    if request.args.get("format") == "csv":
        filename = f"attendance-{meeting.slug}-{key}.csv"
        return csv_download(history.as_csv(report), filename)
    summary = report.summary
    timeline = charts.timeline(
        report.people, summary.started_at, summary.ended_at, datetime.now(UTC)
    )
    return render_template(
        "ledger/occurrence.html",
        meeting=meeting,
        key=key,
        report=report,
        summary=summary,
        timeline=timeline,
        has_transcript=key in history.transcribed_keys(meeting),
    )
