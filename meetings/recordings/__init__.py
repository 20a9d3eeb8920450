"""Recordings: egress jobs started from meetings, followed through webhooks, served and shared."""

from flask import Blueprint

bp = Blueprint("recordings", __name__)

from meetings.recordings import services, views  # noqa: E402, F401

bp.record_once(lambda _state: services.install_session_hooks())
