from flask import Blueprint

bp = Blueprint("health", __name__)

from meetings.health import views  # noqa: E402, F401
