"""Stored transcripts: a meeting's transcripts for its hosts (pages, REST, WebVTT/SRT/text
files), full-text search over one's own meetings, captions on recordings. meetings/captions
writes them while a meeting runs; retention is the ledger's (`flask livekit purge`)."""

from flask import Blueprint

bp = Blueprint("transcripts", __name__)

# players answers the recordings pages for their captions track.
from meetings.transcripts import api, openapi, players, views  # noqa: E402, F401
