from flask import Blueprint

bp = Blueprint("calendar", __name__)

from meetings.calendar import views  # noqa: E402, F401
