"""The recordings list's filters, read from the query string (the page and the API share them)."""

from flask import request

from meetings.models import RecordingStatus
from meetings.recordings import library
from meetings.web import day_arg

SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "longest": "Longest first",
    "largest": "Largest first",
}


def filter_from_args() -> tuple[library.RecordingFilter, dict]:
    """Unknown or malformed filter values are ignored: the page shows them as "all"."""
    args = request.args
    names = ("meeting", "host", "status", "from", "to", "sort")
    form = {name: args.get(name, "")[:100].strip() for name in names}
    status = form["status"] if form["status"] in {s.value for s in RecordingStatus} else None
    wanted = library.RecordingFilter(
        meeting=form["meeting"],
        host=form["host"],
        status=RecordingStatus(status) if status else None,
        since=day_arg("from"),
        until=day_arg("to", next_day=True),
        sort=form["sort"] if form["sort"] in SORT_LABELS else "newest",
    )
    return wanted, form
