"""A meeting's options, declared once: the form, the API's request schema, its JSON answer and
its OpenAPI description are all derived from this list.

A new option is one `Option` here, a column and its migration, the template that shows it
(`scheduling/edit.html`), the code that acts on it, and its tests.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    name: str  # the Meeting column, the form field, the JSON and API field
    label: str  # what the form says
    kind: type  # bool or int
    default: bool | int | None
    description: str  # what the API documentation says

    @property
    def nullable(self) -> bool:
        """An option without a default may be cleared (null in the API, empty in the form)."""
        return self.default is None


OPTIONS = (
    Option("lobby", "Lobby: I admit people", bool, True, "people wait until a host admits them"),
    Option(
        "join_before_host",
        "Allow joining before the host",
        bool,
        True,
        "people may join before a host is in",
    ),
    Option("max_participants", "Max participants", int, None, "at least 2; null for no limit"),
    Option("join_muted", "Participants join muted", bool, False, "microphones start muted"),
    Option(
        "webinar",
        "Webinar: only hosts and promoted speakers publish",
        bool,
        False,
        "attendees watch, listen and chat",
    ),
    Option("recording_allowed", "Allow recording", bool, False, "hosts may record"),
    Option(
        "auto_record", "Record automatically", bool, False, "recording starts when a host joins"
    ),
    Option("captions", "Live captions", bool, False, "captions start when a host joins"),
    Option(
        "e2ee",
        "End-to-end encryption",
        bool,
        False,
        "media and chat are encrypted in the browsers with a key that only the join link's "
        "fragment carries (the server never has it): no recording, captions or streaming",
    ),
)
OPTION_NAMES = tuple(option.name for option in OPTIONS)
