from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from meetings.forms import at_most, strip
from meetings.models import Access, Frequency, Meeting
from meetings.scheduling.options import OPTIONS
from meetings.scheduling.recurrence import MAX_OCCURRENCES, WEEKDAYS, Recurrence
from meetings.scheduling.settings import (
    MAX_DURATION_MINUTES,
    MeetingSettings,
    known_zone_name,
    local_to_utc,
)

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), at_most(200)], filters=[strip])
    description = TextAreaField(
        "Description", validators=[Optional(), at_most(5000)], filters=[strip]
    )
    starts_at = DateTimeLocalField(
        "Starts", format="%Y-%m-%dT%H:%M", validators=[DataRequired("Pick a start time.")]
    )
    duration_minutes = IntegerField(
        "Duration (minutes)",
        default=30,
        validators=[
            DataRequired("Give a duration in minutes."),
            NumberRange(1, MAX_DURATION_MINUTES, "The duration must be 1 minute to 24 hours."),
        ],
    )
    # Filled with the browser's zone by the page; hosts may pick another.
    time_zone = StringField("Time zone", default="UTC", validators=[at_most(64)], filters=[strip])

    repeat = SelectField(
        "Repeats",
        default="",
        choices=[
            SelectChoice("", "Does not repeat"),
            SelectChoice("daily", "Daily"),
            SelectChoice("weekly", "Weekly"),
            SelectChoice("monthly", "Monthly"),
        ],
    )
    interval = IntegerField("Every", default=1, validators=[Optional(), NumberRange(1, 99)])
    by_weekday = CheckboxList(
        "On",
        choices=[
            SelectChoice(day, label) for day, label in zip(WEEKDAYS, WEEKDAY_LABELS, strict=True)
        ],
        validate_choice=True,
    )
    ends = RadioField(
        "Ends",
        default="count",
        choices=[SelectChoice("count", "After"), SelectChoice("until", "On")],
    )
    count = IntegerField(
        "Occurrences", default=10, validators=[Optional(), NumberRange(1, MAX_OCCURRENCES)]
    )
    until = DateField("Last day", validators=[Optional()])

    access = RadioField(
        "Who may join",
        default=Access.LINK.value,
        choices=[
            SelectChoice(Access.LINK.value, "Anyone with the link"),
            SelectChoice(Access.SIGNED_IN.value, "Signed-in users only"),
            SelectChoice(Access.INVITED.value, "Invited people only"),
        ],
    )
    invitees = TextAreaField("Invited emails (one per line)", validators=[at_most(20000)])
    co_hosts = TextAreaField(
        "Co-hosts (emails of accounts, one per line)", validators=[at_most(5000)]
    )
    access_code = StringField("Access code (optional)", validators=[Optional(), at_most(64)])
    # The options' fields are added from OPTIONS below the class.

    def to_settings(self) -> MeetingSettings:
        """Raises: InvalidMeeting for an unknown time zone."""
        recurrence = None
        if self.repeat.data:
            by_until = self.ends.data == "until"
            recurrence = Recurrence(
                freq=Frequency(self.repeat.data),
                interval=self.interval.data or 1,
                by_weekday=tuple(self.by_weekday.data or ())
                if self.repeat.data == "weekly"
                else (),
                count=None if by_until else self.count.data,
                until=self.until.data if by_until else None,
            )
        zone = known_zone_name(self.time_zone.data or "UTC")
        return MeetingSettings(
            title=self.title.data,
            description=self.description.data or "",
            starts_at=local_to_utc(self.starts_at.data, zone),
            duration_minutes=self.duration_minutes.data,
            time_zone=zone,
            recurrence=recurrence,
            access=Access(self.access.data),
            invitees=tuple(_lines(self.invitees.data)),
            access_code=self.access_code.data or None,
            co_hosts=tuple(_lines(self.co_hosts.data)),
            **{option.name: self[option.name].data for option in OPTIONS},
        )

    @classmethod
    def for_meeting(cls, meeting: Meeting) -> "MeetingForm":
        """The edit form, filled with the meeting's settings in its own time zone."""
        rule = Recurrence.of(meeting)
        local_start = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))
        return cls(
            title=meeting.title,
            description=meeting.description,
            starts_at=local_start.replace(tzinfo=None),
            duration_minutes=meeting.duration_minutes,
            time_zone=meeting.time_zone,
            repeat=rule.freq.value if rule else "",
            interval=rule.interval if rule else 1,
            by_weekday=list(rule.by_weekday) if rule else [],
            ends="until" if rule and rule.until else "count",
            count=rule.count if rule and rule.count else 10,
            until=rule.until if rule else None,
            access=meeting.access.value,
            invitees="\n".join(meeting.invitee_emails),
            co_hosts="\n".join(user.email for user in meeting.co_hosts),
            access_code=meeting.access_code or "",
            **{option.name: getattr(meeting, option.name) for option in OPTIONS},
        )


def _option_field(option):
    if option.kind is bool:
        return BooleanField(option.label, default=option.default)
    return IntegerField(option.label, default=option.default, validators=[Optional()])


for _option in OPTIONS:
    setattr(MeetingForm, _option.name, _option_field(_option))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


class CancelForm(FlaskForm):
    pass
