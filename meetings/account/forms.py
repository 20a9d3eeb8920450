from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from meetings.forms import at_most, lower, strip


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[DataRequired("Name the token, e.g. 'calendar sync'."), at_most(80)],
        filters=[strip],
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        "New email",
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[strip, lower],
    )
    password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
