"""The lobby and host moderation: server-enforced, checked against the caller's role, audited."""

from flask import Blueprint

bp = Blueprint("moderation", __name__)

from meetings.moderation import api, openapi, views  # noqa: E402, F401
