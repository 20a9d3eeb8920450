from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from meetings.auth.services import MIN_PASSWORD_LENGTH
from meetings.forms import at_most, lower, strip

PASSWORD_RULE = Length(
    min=MIN_PASSWORD_LENGTH, max=256, message="Use between 10 and 256 characters."
)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class NewPasswordForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), PASSWORD_RULE])
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class RegisterForm(NewPasswordForm):
    display_name = StringField(
        "Display name", validators=[DataRequired(), at_most(80)], filters=[strip]
    )
    email = EmailField(
        "Email",
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[strip, lower],
    )
    invite = HiddenField()


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
