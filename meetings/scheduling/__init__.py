"""Scheduling: meetings, their options, occurrences, join windows and room names."""

from flask import Blueprint

bp = Blueprint("scheduling", __name__)

from meetings.scheduling import api, openapi, views  # noqa: E402, F401
