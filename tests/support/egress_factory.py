"""Egress webhooks built the way livekit-server builds them: a WebhookEvent whose
`egressInfo` is the EgressInfo of the job (status, times in nanoseconds, fileResults)."""

import itertools
import time

from livekit.protocol.egress import EgressInfo, EgressStatus, FileInfo, RoomCompositeEgressRequest
from livekit.protocol.webhook import WebhookEvent

_ids = itertools.count(1)
SECOND = 1_000_000_000

KIND_FOR_STATUS = {
    "starting": "egress_started",
    "active": "egress_updated",
    "ending": "egress_updated",
    "complete": "egress_ended",
    "failed": "egress_ended",
    "aborted": "egress_ended",
    "limit_reached": "egress_ended",
}


def egress_event(
    status: str,
    room: str,
    egress_id: str,
    *,
    kind: str | None = None,
    started_ns: int | None = None,
    updated_ns: int | None = None,
    error: str = "",
    filename: str = "",
    location: str = "",
    size: int = 0,
    duration_s: float = 0,
    layout: str = "grid",
) -> WebhookEvent:
    """One egress webhook; `kind` defaults to the event the server sends for `status`."""
    now_ns = time.time_ns()
    started = started_ns or now_ns - 60 * SECOND
    info = EgressInfo(
        egress_id=egress_id,
        room_id=f"RM_{room}",
        room_name=room,
        status=EgressStatus.Value(f"EGRESS_{status.upper()}"),
        started_at=started if status != "starting" else 0,
        updated_at=updated_ns or now_ns,
        error=error,
        room_composite=RoomCompositeEgressRequest(room_name=room, layout=layout),
    )
    if status in ("complete", "failed", "aborted", "limit_reached"):
        info.ended_at = updated_ns or now_ns
    if filename:
        info.file_results.append(
            FileInfo(
                filename=filename,
                location=location or filename,
                size=size,
                duration=int(duration_s * SECOND),
                started_at=started,
                ended_at=info.ended_at,
            )
        )
    return WebhookEvent(
        event=kind or KIND_FOR_STATUS[status],
        id=f"EV_egress{next(_ids):06d}",
        created_at=int(time.time()),
        egress_info=info,
    )
