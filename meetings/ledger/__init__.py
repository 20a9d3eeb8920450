"""The ledger's pages: a meeting's history and attendance for its hosts, the LiveKit
dashboard for operators. Intake of the events themselves is in meetings.webhooks."""

from flask import Blueprint

bp = Blueprint("ledger", __name__)

from meetings.ledger import views  # noqa: E402, F401
