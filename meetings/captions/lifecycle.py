"""Live captions of an occurrence: hosts turn them on and off, and a meeting set to caption
itself starts them when a host joins. The captioner is the media worker's job (dispatch.py);
what it reports moves the row on (worker_events.py).

One Transcript per occurrence room holds the live state and, through the captioner's events,
what was said. Turning captions on makes the row if needed (its `origin_at`, from which
segment times count, is when captions first started in the occurrence), gives it a new job
id, sets it `starting`, and dispatches the job. Turning them off sets `off` and withdraws the
dispatch. Every change reaches the room's metadata once committed (notices.py).

Automatic start, the rule: when a host or co-host joins an occurrence of a meeting whose
`captions` setting is on, captions start if that occurrence has no transcript yet, or if
they went off only because its room closed (everyone left, then people came back). They do
not start again when a host turned them off in this occurrence (a host rejoining does not
overrule another host), when they failed (no worker, a captioner lost twice: a host may
start them by hand), or when they are on already. The dispatch runs in the background, so
the host's join never waits for it and never fails because of it.
"""

import logging

from sqlalchemy.exc import IntegrityError

from meetings import audit_log
from meetings import livekit_gateway as gateway
from meetings.audit_log import Actor
from meetings.captions import dispatch
from meetings.captions.state import OFF_BY_HOST, ROOM_CLOSED, set_status, transcript_of
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import AuditResult, CaptionsStatus, Meeting, Transcript, User, utcnow
from meetings.rooms import signals as room_signals
from meetings.scheduling.encryption import refuse_server_media
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window

log = logging.getLogger(__name__)


class CaptionsRefused(ApiError):
    """The request is not carried out; the message is for people. `transcript` is the row
    as it stands, when there is one."""

    def __init__(self, status: int, code: str, message: str, transcript: Transcript | None = None):
        super().__init__(status, code, message)
        self.transcript = transcript


def live_occurrence(meeting: Meeting) -> Occurrence:
    """Raises: CaptionsRefused 409 `not_running` when no occurrence is open now."""
    schedule = window(meeting, early_access=True)
    if schedule.phase != Phase.OPEN:
        raise CaptionsRefused(409, "not_running", "This meeting is not running now.")
    return schedule.occurrence


def check_host(meeting: Meeting, user: User | None, actor: Actor, action: str) -> None:
    """Only the meeting's host and co-hosts turn captions on or off (they hear what is said
    and decide whether it is written down).

    Raises: CaptionsRefused 401 without an account (not audited: anyone who knows a slug
        could fill the meeting's log), 403 for anyone else (audited, committed).
    """
    if user is None:
        raise CaptionsRefused(401, "unauthenticated", "Sign in as one of the meeting's hosts.")
    if not meeting.is_host(user):
        audit_log.record(actor, action, AuditResult.REFUSED, meeting=meeting)
        db.session.commit()
        raise CaptionsRefused(
            403, "forbidden", "Only the meeting's hosts may turn captions on or off."
        )


def turn_on(meeting: Meeting, user: User | None, actor: Actor) -> Transcript:
    """Start live captions in the running occurrence; on already: nothing changes. Waits
    until a worker takes the job (at most RECORDER_ACCEPT_SECONDS).

    Raises:
        CaptionsRefused: 401, 403 (check_host), 409 not running, its room is not open or
            `e2ee_meeting` (end-to-end encrypted), 503 when no worker runs or takes the job
            (the row says `failed` and why).
    """
    check_host(meeting, user, actor, "captions_on")
    refuse_server_media(meeting, "caption it", CaptionsRefused)
    occurrence = live_occurrence(meeting)
    row = _transcript_for(meeting, occurrence)
    if row.status.is_on:
        _audit(actor, "captions_on", meeting, occurrence, AuditResult.OK, detail="already on")
        db.session.commit()
        return row
    _begin(row)
    try:
        dispatch.launch(row)
    except dispatch.NotStarted as refused:
        _audit(actor, "captions_on", meeting, occurrence, AuditResult.FAILED, error=refused.reason)
        db.session.commit()
        status = 409 if refused.code == "room_not_open" else 503
        message = (
            "The meeting's room is not open on the server right now."
            if refused.code == "room_not_open"
            else f"Live captions could not start. {refused.reason}"
        )
        raise CaptionsRefused(status, refused.code, message, row) from refused
    _audit(actor, "captions_on", meeting, occurrence, AuditResult.OK)
    db.session.commit()
    return row


def turn_off(meeting: Meeting, user: User | None, actor: Actor) -> Transcript | None:
    """Stop live captions in the running occurrence: the captioner's job is withdrawn (what
    it said so far stays in the transcript). A failed state is cleared to `off`.

    Raises:
        CaptionsRefused: 401, 403 (check_host), 409 not running, 503 when the server does
            not answer (nothing changed).
    """
    check_host(meeting, user, actor, "captions_off")
    occurrence = live_occurrence(meeting)
    row = transcript_of(occurrence.room_name)
    if row is None and not meeting.captions:
        _audit(actor, "captions_off", meeting, occurrence, AuditResult.OK, detail="never on")
        db.session.commit()
        return None
    # Off before they ever started, in a meeting set to caption itself: the row remembers
    # the host's choice, so that a host joining later does not overrule it.
    row = row or _transcript_for(meeting, occurrence)
    if row.status.is_on:
        try:
            dispatch.withdraw(row)
        except gateway.LiveKitError as error:
            _audit(actor, "captions_off", meeting, occurrence, AuditResult.FAILED, error=str(error))
            db.session.commit()
            message = "The media server did not answer; captions are still on. Try again."
            raise CaptionsRefused(503, "livekit_unavailable", message, row) from error
    set_status(row, CaptionsStatus.OFF, OFF_BY_HOST)  # a host's choice, whatever it was
    _audit(actor, "captions_off", meeting, occurrence, AuditResult.OK)
    db.session.commit()
    return row


def auto_start(meeting: Meeting, occurrence: Occurrence):
    """Start captions when a host joins, by the rule in this module's docstring; returns the
    background launch's thread, or None. Never raises: joining matters more than captions."""
    if not meeting.captions or meeting.e2ee:  # the captioner could not hear an encrypted one
        return None
    try:
        row = transcript_of(occurrence.room_name)
        if row is not None and not (row.status == CaptionsStatus.OFF and row.reason == ROOM_CLOSED):
            return None
        row = _transcript_for(meeting, occurrence)
        if row.status.is_on:
            return None  # another host's join started them a moment ago
        _begin(row)
    except Exception:
        db.session.rollback()
        log.exception("captions of %s did not start", occurrence.room_name)
        return None
    return dispatch.launch_in_background(row.id, row.job_id)


def _transcript_for(meeting: Meeting, occurrence: Occurrence) -> Transcript:
    """The occurrence's transcript, made now if it has none (two hosts at once: one row)."""
    row = transcript_of(occurrence.room_name)
    if row is not None:
        return row
    row = Transcript(
        meeting_id=meeting.id,
        occurrence_key=occurrence.key,
        room_name=occurrence.room_name,
        origin_at=utcnow(),
        status=CaptionsStatus.OFF,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        found = transcript_of(occurrence.room_name)  # the other request's row
        if found is None:
            raise
        return found
    return row


def _begin(row: Transcript) -> None:
    """A new job for the row, `starting`; committed before the server is asked, so the
    worker's first events find it and a host can turn it off meanwhile."""
    if row.job_id is None:
        row.origin_at = utcnow()  # captions start for the first time in this occurrence
    row.job_id = dispatch.new_job_id()
    row.dispatch_id = None
    row.redispatched = False
    set_status(row, CaptionsStatus.STARTING)
    db.session.commit()


def _audit(
    actor: Actor,
    action: str,
    meeting: Meeting,
    occurrence: Occurrence,
    result: AuditResult,
    **extra,
) -> None:
    """One audit row per request; it commits with the change it describes."""
    audit_log.record(actor, action, result, meeting=meeting, occurrence_key=occurrence.key, **extra)


@room_signals.host_joining.connect
def _on_host_joining(meeting: Meeting, occurrence: Occurrence, **_extra) -> None:
    auto_start(meeting, occurrence)
