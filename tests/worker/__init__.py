"""Tests of the media worker: unit tests, and runs against a real livekit-server."""
