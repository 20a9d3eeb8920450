"""A meeting set to stream when it starts: its hosts save where it goes on the Streaming page
(the destinations encrypted as one list, shown masked), and a host joining an occurrence
starts the stream, once per occurrence: a host rejoining, or a stream a host stopped, does
not start another. The start runs in the background, so the join never waits for it.
"""

import json
import logging

import sqlalchemy as sa

from meetings import audit_log
from meetings.audit_log import Actor
from meetings.background import run_in_background
from meetings.extensions import db
from meetings.models import AuditResult, LiveStream, Meeting, StreamPlan, User
from meetings.rooms import signals as room_signals
from meetings.scheduling.encryption import refuse_server_media
from meetings.scheduling.recurrence import Occurrence
from meetings.streaming import destinations, streams
from meetings.web import signed_in_user

log = logging.getLogger(__name__)


def plan_of(meeting: Meeting) -> StreamPlan | None:
    return db.session.get(StreamPlan, meeting.id)


def save(meeting: Meeting, actor: Actor, rtmp_urls: list[str], hls: bool) -> StreamPlan:
    """Raises: StreamRefused 409 `e2ee_meeting` (end-to-end encrypted); ApiError 422 naming
    `rtmp_urls` (or one of them), as a start would."""
    refuse_server_media(meeting, "stream it", streams.StreamRefused)
    urls = streams.checked(rtmp_urls, hls, "grid")
    plan = plan_of(meeting) or StreamPlan(meeting_id=meeting.id)
    plan.destinations_encrypted = destinations.encrypt(json.dumps(urls))
    plan.destination_hints = "\n".join(destinations.hint(url) for url in urls)
    plan.hls = hls
    db.session.add(plan)
    audit_log.record(actor, "stream_plan_saved", AuditResult.OK, meeting=meeting)
    db.session.commit()
    return plan


def remove(meeting: Meeting, actor: Actor) -> None:
    plan = plan_of(meeting)
    if plan is not None:
        db.session.delete(plan)
        audit_log.record(actor, "stream_plan_removed", AuditResult.OK, meeting=meeting)
        db.session.commit()


def hints(plan: StreamPlan) -> list[str]:
    return [line for line in plan.destination_hints.splitlines() if line]


@room_signals.host_joining.connect
def _on_host_joining(meeting: Meeting, occurrence: Occurrence, **_extra) -> None:
    """Never raises: joining matters more than streaming."""
    try:
        plan = plan_of(meeting)
        tried = db.session.scalar(
            sa.select(LiveStream.id).where(LiveStream.room_name == occurrence.room_name)
        )
        user = signed_in_user()
        if plan is None or tried is not None or user is None:
            return
        name = f"stream-plan-{meeting.id}"
        run_in_background(name, _start, meeting.id, user.id)
    except Exception:
        db.session.rollback()
        log.exception("the stream of %s did not start", occurrence.room_name)


def _start(meeting_id: int, user_id: int) -> None:
    meeting, user = db.session.get(Meeting, meeting_id), db.session.get(User, user_id)
    plan = plan_of(meeting) if meeting is not None else None
    if plan is None or user is None:
        return
    actor = Actor(user, f"{user.email} (the meeting's stream starts with it)")
    try:
        urls = json.loads(destinations.decrypt(plan.destinations_encrypted))
        streams.start(meeting, user, actor, urls, plan.hls, "grid")
    except (streams.StreamRefused, destinations.DestinationUnreadable) as refused:
        log.warning("the stream of %s did not start: %s", meeting.slug, refused)
