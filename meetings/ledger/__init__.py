"""The ledger: what LiveKit reported, as sessions and attendance. A meeting's history for its
hosts, the API's reads, and upkeep (reconcile, purge). The events come in through
meetings.webhooks; operators' pages are in meetings.ops."""

from flask import Blueprint

bp = Blueprint("ledger", __name__)

from meetings.ledger import api, openapi, views  # noqa: E402, F401
