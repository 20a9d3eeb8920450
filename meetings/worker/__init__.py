"""The media worker: a separate process that joins LiveKit rooms as a hidden participant.

livekit-server dispatches jobs to it by agent name (the app calls CreateDispatch with the
job's parameters as JSON metadata); it reports back with signed HTTP events. It imports
nothing from the Flask app, so it can run on another machine. `python -m meetings.worker start`
"""
