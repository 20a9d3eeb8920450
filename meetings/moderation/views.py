"""Pages of the audit log: a meeting's for its hosts, everything for operators."""

from datetime import UTC, datetime, time, timedelta

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from meetings.models import AuditResult
from meetings.moderation import audit, bp
from meetings.ops.views import ops_required
from meetings.scheduling import services as scheduling

ACTIONS = (
    "admit",
    "deny",
    "mute",
    "mute_all",
    "ask_unmute",
    "remove",
    "promote",
    "demote",
    "make_co_host",
    "lock",
    "unlock",
    "end",
    "view_lobby",
)


def audit_response(rows, template: str, filename: str, **context):
    """The page, or the same rows as CSV when `?format=csv`."""
    if request.args.get("format") == "csv":
        return Response(
            audit.as_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return render_template(template, rows=rows, **context)


@bp.get("/meetings/<slug>/audit")
@login_required
def meeting_audit(slug: str):
    """Lobby decisions and moderation actions in one meeting, newest first."""
    meeting = scheduling.meeting_by_slug(slug)
    if meeting is None or not scheduling.may_manage(current_user, meeting):
        abort(404, "No meeting of yours has this link.")
    rows = audit.entries(audit.AuditFilter(meeting=meeting))
    return audit_response(
        rows, "moderation/meeting_audit.html", f"audit-{meeting.slug}.csv", meeting=meeting
    )


@bp.get("/ops/audit")
@ops_required
def ops_audit():
    """Every meeting's audit log, filtered by meeting, action, result and dates."""
    wanted, form = _filter_from_args()
    limit = None if request.args.get("format") == "csv" else audit.PAGE_SIZE
    rows = audit.entries(wanted, limit=limit)
    return audit_response(
        rows,
        "moderation/ops_audit.html",
        "audit.csv",
        form=form,
        actions=ACTIONS,
        results=list(AuditResult),
    )


def _filter_from_args() -> tuple[audit.AuditFilter, dict]:
    """Unknown or malformed filter values are ignored: the page shows them as "all"."""
    args = request.args
    form = {
        name: args.get(name, "")[:100] for name in ("meeting", "action", "result", "from", "to")
    }
    meeting = scheduling.meeting_by_slug(form["meeting"]) if form["meeting"] else None
    if form["meeting"] and meeting is None:
        abort(404, "No meeting has this link.")
    result = form["result"] if form["result"] in {r.value for r in AuditResult} else None
    action = form["action"] if form["action"] in ACTIONS else None
    wanted = audit.AuditFilter(
        meeting=meeting,
        action=action,
        result=AuditResult(result) if result else None,
        since=_day(form["from"]),
        until=_day(form["to"], next_day=True),
    )
    return wanted, form


def _day(raw: str, *, next_day: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if next_day else moment
