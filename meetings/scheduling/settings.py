"""A meeting's settings as a host gives them (form or API), and their validation."""

from dataclasses import dataclass, field, make_dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from meetings.models import Access, Meeting
from meetings.scheduling import recurrence as rec
from meetings.scheduling.options import OPTION_NAMES, OPTIONS

MAX_DURATION_MINUTES = 24 * 60


# A start a few minutes in the past is a slow form, not a mistake.
PAST_START_TOLERANCE = timedelta(minutes=5)


MAX_INTERVAL = 99


class InvalidMeeting(ValueError):
    """Meeting settings that are not acceptable: `field` and `message` tell the first,
    `problems` every (field, message) pair found."""

    def __init__(self, field: str, message: str, *more: tuple[str, str]):
        super().__init__(message)
        self.field = field
        self.message = message
        self.problems = [(field, message), *more]


@dataclass(frozen=True)
class _Schedule:
    """When a meeting takes place and who may come; its options are added from OPTIONS."""

    title: str
    starts_at: datetime  # aware
    duration_minutes: int
    time_zone: str = "UTC"
    description: str = ""
    recurrence: rec.Recurrence | None = None
    access: Access = Access.LINK
    invitees: tuple[str, ...] = ()
    access_code: str | None = None
    co_hosts: tuple[str, ...] = field(default=())


class _SettingsMethods:
    @classmethod
    def of(cls, meeting: Meeting) -> "MeetingSettings":
        """The settings a meeting has now, for partial updates."""
        return cls(
            title=meeting.title,
            starts_at=meeting.starts_at,
            duration_minutes=meeting.duration_minutes,
            time_zone=meeting.time_zone,
            description=meeting.description,
            recurrence=rec.Recurrence.of(meeting),
            access=meeting.access,
            invitees=tuple(meeting.invitee_emails),
            access_code=meeting.access_code,
            co_hosts=tuple(user.email for user in meeting.co_hosts),
            **{name: getattr(meeting, name) for name in OPTION_NAMES},
        )

    def updated(self, **changes) -> "MeetingSettings":
        return replace(self, **changes)


# Everything a host decides about a meeting; forms and the API both build one.
MeetingSettings = make_dataclass(
    "MeetingSettings",
    [(option.name, option.kind | None, field(default=option.default)) for option in OPTIONS],
    bases=(_SettingsMethods, _Schedule),
    frozen=True,
)


@cache
def _places_by_folded_name() -> dict[str, str]:
    """The zones hosts pick from, as the browser's list has them: IANA places (Area/City)
    and UTC. Abbreviations (CET, EST) and Etc/GMT+1 (which means UTC-1) are left out: they
    mislead more than they help."""
    places = [name for name in available_timezones() if "/" in name and not name.startswith("Etc/")]
    return {name.casefold(): name for name in [*places, "UTC"]}


def zone_name(name: str) -> str:
    """The zone's name as IANA spells it (`europe/berlin` is Europe/Berlin).

    Raises: InvalidMeeting naming `time_zone`.
    """
    canonical = _places_by_folded_name().get(name.strip().casefold())
    if canonical is None:
        message = f"Unknown time zone {name!r}: pick a place from the list, such as Europe/Berlin."
        raise InvalidMeeting("time_zone", message)
    return canonical


def known_zone_name(name: str) -> str:
    """IANA's spelling of a zone given in any case; any other name as given, for
    check_settings to judge (a meeting may keep a zone accepted before, such as CET)."""
    try:
        return zone_name(name)
    except InvalidMeeting:
        return name


def zone_or_error(name: str) -> ZoneInfo:
    """Any zone the tz database knows. Raises: InvalidMeeting naming `time_zone`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidMeeting("time_zone", f"Unknown time zone {name!r}.") from None


def local_to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time in the host's zone, as an aware UTC datetime."""
    return local.replace(tzinfo=zone_or_error(zone)).astimezone(UTC)


MIN_ACCESS_CODE = 6


def check_settings(
    settings: MeetingSettings,
    now: datetime | None = None,
    *,
    start_changed: bool = True,
    code_changed: bool = True,
    zone_changed: bool = True,
) -> list[datetime]:
    """Validate; returns the series' UTC starts.

    Raises:
        InvalidMeeting: naming every setting that is not acceptable (of the recurrence rule,
            checked once the rest is right, the first).
    """
    now = now or datetime.now(UTC)
    problems: list[tuple[str, str]] = []
    if not settings.title.strip():
        problems.append(("title", "Give the meeting a title."))
    try:
        # A new zone is one from the list; one the meeting already has stays acceptable.
        (zone_name if zone_changed else zone_or_error)(settings.time_zone)
    except InvalidMeeting as error:
        problems += error.problems
    if settings.starts_at.tzinfo is None:
        problems.append(("starts_at", "Give the start time with its UTC offset."))
    elif start_changed and settings.starts_at < now - PAST_START_TOLERANCE:
        problems.append(("starts_at", "The start time is in the past."))
    if not 1 <= settings.duration_minutes <= MAX_DURATION_MINUTES:
        problems.append(("duration_minutes", "The duration must be 1 minute to 24 hours."))
    if settings.max_participants is not None and settings.max_participants < 2:
        problems.append(("max_participants", "Allow at least 2 participants."))
    if settings.access_code is not None and not settings.access_code.strip():
        problems.append(("access_code", "The access code cannot be only spaces."))
    # A short code falls to guessing; meetings that had one keep it until it is changed.
    elif (
        code_changed
        and settings.access_code
        and len(settings.access_code.strip()) < MIN_ACCESS_CODE
    ):
        message = f"Use at least {MIN_ACCESS_CODE} characters for the access code."
        problems.append(("access_code", message))
    if settings.access == Access.INVITED and not settings.invitees:
        problems.append(("invitees", "Invite at least one person, or let anyone join."))
    problems += _server_media_conflicts(settings)
    if problems:
        raise InvalidMeeting(*problems[0], *problems[1:])
    return check_recurrence(settings)


# What an end-to-end encrypted meeting cannot have: the server would need to see or hear it.
E2EE_CONFLICTS = (
    ("recording_allowed", "recorded"),
    ("auto_record", "recorded"),
    ("captions", "captioned"),
)


def _server_media_conflicts(settings: MeetingSettings) -> list[tuple[str, str]]:
    if not settings.e2ee:
        return []
    return [
        (
            name,
            f"An end-to-end encrypted meeting cannot be {done}: the server cannot see or "
            "hear it. Turn one of them off.",
        )
        for name, done in E2EE_CONFLICTS
        if getattr(settings, name)
    ]


def check_recurrence(settings: MeetingSettings) -> list[datetime]:
    rule = settings.recurrence
    if rule is None:
        return [settings.starts_at]
    if not 1 <= rule.interval <= MAX_INTERVAL:
        raise InvalidMeeting("recurrence.interval", f"Repeat every 1 to {MAX_INTERVAL} periods.")
    if (rule.count is None) == (rule.until is None):
        raise InvalidMeeting("recurrence", "End the series after a number of times or on a date.")
    if rule.count is not None and not 1 <= rule.count <= rec.MAX_OCCURRENCES:
        message = f"A series has 1 to {rec.MAX_OCCURRENCES} occurrences."
        raise InvalidMeeting("recurrence.count", message)
    local_start = settings.starts_at.astimezone(ZoneInfo(settings.time_zone)).date()
    if rule.until is not None and rule.until < local_start:
        raise InvalidMeeting("recurrence.until", "The series ends before it starts.")
    if any(day not in rec.WEEKDAYS for day in rule.by_weekday):
        raise InvalidMeeting("recurrence.by_weekday", "Weekdays are mo, tu, we, th, fr, sa, su.")
    starts = rec.expand(settings.starts_at, settings.time_zone, rule)
    if len(starts) > rec.MAX_OCCURRENCES:
        message = f"That makes more than {rec.MAX_OCCURRENCES} occurrences; end it sooner."
        raise InvalidMeeting("recurrence.until", message)
    return starts
