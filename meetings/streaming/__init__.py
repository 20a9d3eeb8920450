"""Live streaming. Stream out: hosts send the meeting's composite to RTMP destinations and to
its watch page, through a media worker job (or LiveKit Egress). Stream in: a host makes an
ingest (an RTMP URL and a stream key for OBS or a camera encoder), and while the meeting's
room is open a media worker job (or LiveKit Ingress) publishes what the encoder sends as a
participant named by the host."""

from flask import Blueprint

bp = Blueprint("streaming", __name__)

# ingest_jobs and plans subscribe to hosts joining; api adds the endpoints to the API's
# blueprint; views are the hosts' page, watch the audience's.
from meetings.streaming import api, ingest_jobs, openapi, plans, views, watch  # noqa: E402, F401
