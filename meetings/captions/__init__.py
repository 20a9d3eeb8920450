"""Live captions: the media worker's captioner, dispatched when hosts turn captions on or a
host joins a meeting set to caption itself, followed through its events and LiveKit's."""

from flask import Blueprint

from meetings.captions.state import captions_state

bp = Blueprint("captions", __name__)
# The room page draws the initial state with it (rooms sit below this feature).
bp.add_app_template_global(captions_state, "captions_state")

# lifecycle subscribes to hosts joining; api adds the endpoint to the API's blueprint.
from meetings.captions import api, lifecycle, openapi  # noqa: E402, F401
