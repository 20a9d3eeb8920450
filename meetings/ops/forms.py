from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional

from meetings.auth.services import REGISTRATION_POLICIES
from meetings.forms import lower, strip
from meetings.models import Role

ROLE_CHOICES = [SelectChoice(Role.HOST.value, "Host"), SelectChoice(Role.OPS.value, "Operator")]


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class InviteForm(FlaskForm):
    email = EmailField(
        "Email (optional: leave empty for anyone with the link)",
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
        filters=[strip, lower],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.HOST.value)


POLICY_LABELS = {
    "open": "Open: anyone can create an account",
    "invite": "Invite only: people need a link from an operator",
    "closed": "Closed: only operators create accounts",
}


class RegistrationPolicyForm(FlaskForm):
    policy = RadioField(
        "Registration",
        choices=[SelectChoice(name, POLICY_LABELS[name]) for name in REGISTRATION_POLICIES],
    )
