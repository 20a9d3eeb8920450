from datetime import UTC, datetime, time, timedelta

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from meetings import livekit_gateway as gateway
from meetings.ledger import bp, charts, history, operations
from meetings.models import Meeting, ProcessingResult
from meetings.ops.views import ops_required
from meetings.scheduling import recurrence as rec
from meetings.scheduling import services as scheduling
from meetings.webhooks.derive import KNOWN_EVENTS

# How far back the dashboard's charts look, per bucket.
CHART_SPAN = {"day": timedelta(days=14), "week": timedelta(weeks=12)}


@bp.app_template_filter("ledger_duration")
def duration(seconds: int | float | None) -> str:
    """`1 h 05 min`, `4 min 10 s`, `12 s`; an em dash when unknown."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def managed_meeting_or_404(slug: str) -> Meeting:
    meeting = scheduling.meeting_by_slug(slug)
    if meeting is None or not scheduling.may_manage(current_user, meeting):
        abort(404, "No meeting of yours has this link.")
    return meeting


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
        return Response(
            history.as_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
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
    )


@bp.get("/ops/livekit")
@ops_required
def dashboard():
    """Live rooms, the LiveKit connection, usage charts and the latest events."""
    bucket = request.args.get("bucket", "day")
    if bucket not in operations.BUCKETS:
        bucket = "day"
    now = datetime.now(UTC)
    try:
        live, livekit_error = operations.live_rooms(now), None
    except gateway.LiveKitError as error:
        live, livekit_error = None, str(error) or type(error).__name__
    first = operations.bucket_start(now.date() - CHART_SPAN[bucket] + timedelta(days=1), bucket)
    usage = operations.usage(datetime.combine(first, time.min, UTC), now, bucket, now)
    return render_template(
        "ledger/dashboard.html",
        live=live,
        livekit_error=livekit_error,
        livekit_url=gateway.Settings.from_app().url,
        health=operations.ledger_health(now),
        bucket=bucket,
        usage=usage,
        minutes_chart=charts.columns([(b.start, b.meeting_minutes) for b in usage]),
        people_chart=charts.columns([(b.start, b.participants) for b in usage]),
        events=operations.recent_events(operations.EventFilter(), limit=10),
    )


@bp.get("/ops/livekit/events")
@ops_required
def events():
    """The ledger's events, newest first, filtered by kind, room, result or unknown room."""
    args = request.args
    form = {
        "event": args.get("event", "") if args.get("event") in KNOWN_EVENTS else "",
        "room": args.get("room", "")[:128].strip(),
        "result": args.get("result", "") if args.get("result") in set(ProcessingResult) else "",
        "unknown_room": args.get("unknown_room") == "1",
    }
    wanted = operations.EventFilter(
        event=form["event"] or None,
        room=form["room"],
        result=ProcessingResult(form["result"]) if form["result"] else None,
        unknown_room=form["unknown_room"],
    )
    return render_template(
        "ledger/events.html",
        events=operations.recent_events(wanted),
        form=form,
        kinds=sorted(KNOWN_EVENTS),
        results=list(ProcessingResult),
        page_size=operations.EVENT_PAGE_SIZE,
    )
