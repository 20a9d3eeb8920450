from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from meetings.models import RecordingAccess

ACCESS_LABELS = {
    RecordingAccess.HOSTS: "Hosts only (the meeting's hosts, co-hosts and operators)",
    RecordingAccess.PARTICIPANTS: "Also signed-in people who were in the meeting while it recorded",
    RecordingAccess.LINK: "Also anyone with a secret link (a new link, which expires)",
}


class AccessForm(FlaskForm):
    access = RadioField(
        "Who may watch",
        choices=[SelectChoice(level.value, label) for level, label in ACCESS_LABELS.items()],
        validators=[DataRequired()],
    )


class HoldForm(FlaskForm):
    hold = BooleanField("Legal hold: nobody can delete it, not even retention")


class DeleteForm(FlaskForm):
    confirm = BooleanField("Delete the file and this record for good", validators=[DataRequired()])


class StopForm(FlaskForm):
    """Only the CSRF token: stopping asks nothing more."""
