from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from meetings.forms import at_most, strip
from meetings.streaming.ingests import MAX_NAME


class IngestForm(FlaskForm):
    name = StringField(
        "Name in the meeting",
        validators=[
            DataRequired("Name it as people should see it, e.g. 'Stage camera'."),
            at_most(MAX_NAME),
        ],
        filters=[strip],
    )
