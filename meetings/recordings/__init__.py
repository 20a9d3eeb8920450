"""Recordings: egress jobs started from meetings, followed through webhooks, served and shared."""

from flask import Blueprint

bp = Blueprint("recordings", __name__)

# auto_record subscribes to hosts joining.
from meetings.recordings import api, auto_record, openapi, views  # noqa: E402, F401
