"""/ops/audit: every meeting's audit log, filtered by meeting, action, result and dates."""

from flask import abort, render_template, request

from meetings import audit_log
from meetings.models import AuditResult, Meeting
from meetings.ops import bp
from meetings.web import day_arg, ops_required


@bp.get("/audit")
@ops_required
def audit():
    """Every meeting's audit log, filtered by meeting, action, result and dates."""
    wanted, form = _filter_from_args()
    if request.args.get("format") == "csv":
        return audit_log.download(audit_log.entries(wanted, limit=None), "audit.csv")
    return render_template(
        "ops/audit.html",
        rows=audit_log.entries(wanted),
        form=form,
        actions=audit_log.ACTIONS,
        results=list(AuditResult),
    )


def _filter_from_args() -> tuple[audit_log.AuditFilter, dict]:
    """Unknown or malformed filter values are ignored: the page shows them as "all"."""
    args = request.args
    form = {
        name: args.get(name, "")[:100] for name in ("meeting", "action", "result", "from", "to")
    }
    meeting = Meeting.by_slug(form["meeting"]) if form["meeting"] else None
    if form["meeting"] and meeting is None:
        abort(404, "No meeting has this link.")
    result = form["result"] if form["result"] in {r.value for r in AuditResult} else None
    action = form["action"] if form["action"] in audit_log.ACTIONS else None
    wanted = audit_log.AuditFilter(
        meeting=meeting,
        action=action,
        result=AuditResult(result) if result else None,
        since=day_arg("from"),
        until=day_arg("to", next_day=True),
    )
    return wanted, form
