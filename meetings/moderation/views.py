"""The meeting's audit log page, for its hosts (operators read every meeting's on /ops/audit)."""

from flask import render_template, request
from flask_login import login_required

from meetings import audit_log
from meetings.moderation import bp
from meetings.web import managed_meeting_or_404


@bp.get("/meetings/<slug>/audit")
@login_required
def meeting_audit(slug: str):
    """Lobby decisions and moderation actions in one meeting, newest first."""
    meeting = managed_meeting_or_404(slug)
    rows = audit_log.entries(audit_log.AuditFilter(meeting=meeting))
    if request.args.get("format") == "csv":
        return audit_log.download(rows, f"audit-{meeting.slug}.csv")
    return render_template("moderation/meeting_audit.html", rows=rows, meeting=meeting)
