from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from meetings.webhooks import views  # noqa: E402, F401
