"""Recordings: egress jobs started from meetings, followed through webhooks, served and shared."""

from flask import Blueprint

bp = Blueprint("recordings", __name__)

from meetings.recordings import views  # noqa: E402, F401
