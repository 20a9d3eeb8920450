"""Joining a meeting: the room page, media tokens, the lobby, and host decisions as stored."""

from flask import Blueprint

bp = Blueprint("rooms", __name__)

# live_effects subscribes to account and schedule changes that must reach live rooms.
from meetings.rooms import api, live_effects, openapi, views  # noqa: E402, F401
