from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
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


class StreamPlanForm(FlaskForm):
    destinations = TextAreaField(
        "RTMP destinations, one per line",
        filters=[strip],
        render_kw={"rows": 3, "spellcheck": "false"},
    )
    hls = BooleanField("Also on the watch page", default=True)
