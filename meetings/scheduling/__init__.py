from flask import Blueprint

bp = Blueprint("scheduling", __name__)

from meetings.scheduling import views  # noqa: E402, F401
