"""/ops/livekit: live rooms, the LiveKit connection, media workers, usage charts and the
webhook ledger."""

from datetime import UTC, datetime, time, timedelta

from flask import current_app, render_template, request

from meetings import livekit_gateway as gateway
from meetings.ledger import charts, dashboard
from meetings.models import ProcessingResult
from meetings.ops import bp
from meetings.recordings import builtin
from meetings.web import ops_required
from meetings.webhooks import handlers

# How far back the dashboard's charts look, per bucket.
# A worker that stopped reporting stays listed (as gone) for this long, then drops off.
WORKERS_SHOWN_FOR = timedelta(hours=1)
CHART_SPAN = {"day": timedelta(days=14), "week": timedelta(weeks=12)}


@bp.get("/livekit")
@ops_required
def livekit():
    """Live rooms, the LiveKit connection, usage charts and the latest events."""
    bucket = request.args.get("bucket", "day")
    if bucket not in dashboard.BUCKETS:
        bucket = "day"
    now = datetime.now(UTC)
    try:
        live, livekit_error = dashboard.live_rooms(now), None
    except gateway.LiveKitError as error:
        live, livekit_error = None, str(error) or type(error).__name__
    first = dashboard.bucket_start(now.date() - CHART_SPAN[bucket] + timedelta(days=1), bucket)
    usage = dashboard.usage(datetime.combine(first, time.min, UTC), now, bucket, now)
    return render_template(
        "ops/livekit.html",
        live=live,
        livekit_error=livekit_error,
        livekit_url=gateway.Settings.from_app().url,
        health=dashboard.ledger_health(now),
        bucket=bucket,
        usage=usage,
        minutes_chart=charts.columns([(b.start, b.meeting_minutes) for b in usage]),
        people_chart=charts.columns([(b.start, b.participants) for b in usage]),
        events=dashboard.recent_events(dashboard.EventFilter(), limit=10),
        workers=builtin.workers_seen(WORKERS_SHOWN_FOR),
        worker_alive_seconds=current_app.config["RECORDER_HEARTBEAT_SECONDS"],
        recorder=current_app.config["RECORDER"],
        now=now,
    )


@bp.get("/livekit/events")
@ops_required
def livekit_events():
    """The ledger's events, newest first, filtered by kind, room, result or unknown room."""
    args = request.args
    form = {
        "event": args.get("event", "") if args.get("event") in handlers.LEDGER_KINDS else "",
        "room": args.get("room", "")[:128].strip(),
        "result": args.get("result", "") if args.get("result") in set(ProcessingResult) else "",
        "unknown_room": args.get("unknown_room") == "1",
    }
    wanted = dashboard.EventFilter(
        event=form["event"] or None,
        room=form["room"],
        result=ProcessingResult(form["result"]) if form["result"] else None,
        unknown_room=form["unknown_room"],
    )
    return render_template(
        "ops/livekit_events.html",
        events=dashboard.recent_events(wanted),
        form=form,
        kinds=sorted(handlers.LEDGER_KINDS),
        results=list(ProcessingResult),
        page_size=dashboard.EVENT_PAGE_SIZE,
    )
