"""What went wrong with a recording, in words for the people who read it.

The stored `error` is the recording service's own reason ("unavailable: twirp error unknown:
no response from servers"): useful to an operator, meaningless to a host. Hosts read a plain
sentence that says what happened and what to do; operators read both.
"""

from meetings.models import Recording, RecordingStatus

# Reasons this app writes itself (the rest come from the recording service).
STOPPED_BEFORE_ACCEPTED = "Stopped before the server accepted the recording."
NEVER_ANSWERED = "The start request never got an answer from the server."
LOST_BY_SERVER = "The server no longer knows this recording."
NO_RECORDER = "No recorder worker has reported in: is the media worker running?"
NOT_TAKEN = "No recorder worker took the job."
RECORDER_LOST = "recorder lost: it left the room or stopped reporting before the file was finished."
FILE_OUTSIDE_STORAGE = "The server reported a file outside the recordings storage; refused."

TELL_OPERATOR = "if it keeps failing, tell your operator."
DID_NOT_ANSWER = (
    "The recording could not start: the recording service did not answer. "
    f"Try again in a minute; {TELL_OPERATOR}"
)
REFUSED = (
    "The recording could not start: the recording service turned the request down. "
    "Tell your operator; trying again will not help until they have looked at it."
)
# Twirp codes that mean "this request or this app's setup is wrong", not "busy or down".
REFUSED_CODES = ("unauthenticated", "permission_denied", "invalid_argument", "failed_precondition")

NO_RECORDER_RUNNING = (
    "The recording could not start: no recorder is running. Tell your operator; trying "
    "again will not help until the media worker is started."
)
STOPPED_EARLY = "The recording was stopped before it started, so nothing was recorded."
ENDED_EARLY = (
    "The recording ended before anything was recorded, usually because the meeting's room "
    "closed first. Nothing was saved."
)
LOST = (
    "The recording service lost track of this recording (it may have restarted), so there "
    f"is no file. Start a new recording if the meeting is still running; {TELL_OPERATOR}"
)
LOST_WITH_PART = (
    "The recorder stopped unexpectedly (it may have crashed or been restarted). What it had "
    "recorded until then is kept and plays here; the rest of the meeting was not recorded. "
    f"Start a new recording if the meeting is still running; {TELL_OPERATOR}"
)
UNSERVABLE = (
    "The recording service saved the file where this app cannot play it from. "
    "Tell your operator: they can find the file."
)
FAILED = (
    "The recording failed in the recording service and no file was saved. Start a new "
    f"recording if the meeting is still running; {TELL_OPERATOR}"
)
LIMIT_REACHED = (
    "The recording stopped when it reached the recording service's length limit. "
    "Start a new recording to record the rest of a meeting."
)


def could_not_start(reason: str) -> str:
    """The plain message for a start the recording service never accepted."""
    code = reason.split(":", 1)[0].strip().lower()
    return REFUSED if code in REFUSED_CODES else DID_NOT_ANSWER


def failure_message(recording: Recording) -> str:
    """What hosts read about a recording that ended without a file; "" when nothing failed."""
    status, reason = recording.status, recording.error
    if status == RecordingStatus.LIMIT_REACHED:
        return LIMIT_REACHED
    if status == RecordingStatus.ABORTED:
        return STOPPED_EARLY if reason == STOPPED_BEFORE_ACCEPTED else ENDED_EARLY
    if status != RecordingStatus.FAILED:
        return ""
    if reason in (NO_RECORDER, NOT_TAKEN):
        return NO_RECORDER_RUNNING
    if not recording.accepted:  # the service never took the job
        return DID_NOT_ANSWER if reason == NEVER_ANSWERED else could_not_start(reason)
    if reason == RECORDER_LOST:
        return LOST_WITH_PART if recording.partial_file else LOST
    if reason == LOST_BY_SERVER:
        return LOST
    if reason == FILE_OUTSIDE_STORAGE:
        return UNSERVABLE
    return FAILED
