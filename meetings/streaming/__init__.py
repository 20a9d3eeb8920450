"""Live streaming. Stream in: a host makes an ingest (an RTMP URL and a stream key for OBS or
a camera encoder), and while the meeting's room is open a media worker job listens for the
encoder and publishes what it sends as a participant named by the host."""

from flask import Blueprint

bp = Blueprint("streaming", __name__)

# ingest_jobs and plans subscribe to hosts joining; api adds the endpoints to the API's blueprint;
# views are the hosts' page.
from meetings.streaming import api, ingest_jobs, openapi, plans, views, watch  # noqa: E402, F401
