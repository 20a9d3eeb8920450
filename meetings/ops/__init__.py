"""Operators' pages: users, settings, security log, audit log, LiveKit and the ledger."""

from flask import Blueprint

bp = Blueprint("ops", __name__, url_prefix="/ops")

from meetings.ops import audit, livekit, views  # noqa: E402, F401
