from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from meetings.forms import strip


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[DataRequired("Name the token, e.g. 'calendar sync'."), Length(max=80)],
        filters=[strip],
    )
