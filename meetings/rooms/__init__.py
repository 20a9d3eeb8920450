from flask import Blueprint

bp = Blueprint("rooms", __name__)

from meetings.rooms import views  # noqa: E402, F401
