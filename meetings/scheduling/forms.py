from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from meetings.forms import strip
from meetings.scheduling.services import MAX_DURATION_MINUTES


class MeetingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)], filters=[strip])
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
    # Filled by the page with the browser's zone (Intl API); the host never types it.
    time_zone = HiddenField("Time zone", default="UTC", validators=[Optional(), Length(max=64)])
