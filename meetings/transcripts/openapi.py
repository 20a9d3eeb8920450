"""OpenAPI paths of stored transcripts: a meeting's list, one occurrence as JSON or a file."""

from meetings.api import openapi
from meetings.api.openapi import BEARER, SLUG, TIME, errors, json_response, listing

SPEAKER = {
    "type": "object",
    "properties": {"identity": {"type": "string"}, "display_name": {"type": "string"}},
}

TRANSCRIPTS = listing(
    {
        "type": "object",
        "description": "An occurrence in which something was transcribed.",
        "properties": {
            "occurrence_key": {"type": "string", "example": "20270104T0800Z"},
            "started_at": {
                **TIME,
                "description": "when captions first started; segment times count from here",
            },
            "language": {"type": "string", "example": "en"},
            "segment_count": {"type": "integer"},
            "speakers": {
                "type": "array",
                "description": "who spoke, in order of their first words",
                "items": SPEAKER,
            },
        },
    }
)

SEGMENT = {
    "type": "object",
    "description": "One final caption.",
    "properties": {
        "identity": {"type": "string"},
        "display_name": {"type": "string"},
        "start": {"type": "number", "description": "seconds from `started_at`"},
        "end": {"type": "number", "description": "seconds from `started_at`"},
        "text": {"type": "string"},
    },
}

TRANSCRIPT = {
    "type": "object",
    "properties": {
        "occurrence_key": {"type": "string"},
        "started_at": TIME,
        "language": {"type": "string"},
        "segments": {"type": "array", "items": SEGMENT, "description": "ordered by start"},
    },
}

FORMAT = {
    "name": "format",
    "in": "query",
    "description": "A file instead of JSON: WebVTT (`<v Speaker>` voice spans), SRT or "
    "plain text (`[MM:SS] Speaker: text`), as an attachment.",
    "schema": {"type": "string", "enum": ["vtt", "srt", "txt"]},
}

FILES = {
    "text/vtt": {"schema": {"type": "string"}},
    "application/x-subrip": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}},
}


def paths() -> dict:
    return {
        "/meetings/{slug}/transcripts": {
            "get": {
                "summary": "Occurrences with a transcript, latest first (hosts, co-hosts, ops)",
                "parameters": [SLUG],
                "security": BEARER,
                "responses": {
                    "200": json_response(TRANSCRIPTS, "Transcripts"),
                    **errors(401, 403, 404),
                },
            }
        },
        "/meetings/{slug}/transcripts/{occurrence_key}": {
            "get": {
                "summary": "What was said in one occurrence, as JSON or a file "
                "(hosts, co-hosts, ops)",
                "parameters": [
                    SLUG,
                    {
                        "name": "occurrence_key",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    FORMAT,
                ],
                "security": BEARER,
                "responses": {
                    "200": {
                        "description": "The segments, or the file asked for by `format`",
                        "content": {
                            "application/json": {"schema": TRANSCRIPT},
                            **FILES,
                        },
                    },
                    **errors(400, 401, 403, 404),
                },
            }
        },
    }


openapi.register(paths)
