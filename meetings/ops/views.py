"""/ops users, settings and the security log."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from meetings.auth import email_links
from meetings.auth import services as accounts
from meetings.extensions import db
from meetings.links import public_url
from meetings.models import Role, User
from meetings.ops import bp, services
from meetings.ops.forms import InviteForm, RegistrationPolicyForm, RoleForm
from meetings.web import ops_required


def user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id, description="No such user.")


@bp.get("/users")
@ops_required
def users():
    """Find users; change their role, disable them, make reset links and invites."""
    query = request.args.get("q", "")[:100]
    return render_template(
        "ops/users.html",
        users=services.search_users(query),
        query=query,
        invite_form=InviteForm(),
        role_form=RoleForm(),
    )


@bp.post("/users/<int:user_id>/role")
@ops_required
def change_role(user_id: int):
    """Give a user the host or ops role."""
    user = user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, "Choose a role: host or operator.")
    try:
        accounts.change_role(current_user, user, Role(form.role.data))
    except accounts.AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"{user.email} is now {user.role}.", "success")
    return redirect(url_for("ops.users", q=request.args.get("q", "")))


@bp.post("/users/<int:user_id>/disable")
@ops_required
def disable(user_id: int):
    """Disable an account: its sessions and API tokens stop working at once."""
    return _set_disabled(user_or_404(user_id), True)


@bp.post("/users/<int:user_id>/enable")
@ops_required
def enable(user_id: int):
    """Enable a disabled account."""
    return _set_disabled(user_or_404(user_id), False)


def _set_disabled(user: User, disabled: bool):
    try:
        accounts.set_disabled(current_user, user, disabled)
    except accounts.AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"{user.email} is {'disabled' if disabled else 'enabled'}.", "success")
    return redirect(url_for("ops.users"))


@bp.post("/users/<int:user_id>/reset-link")
@ops_required
def reset_link(user_id: int):
    """Make a one-time password reset link to hand to the user (when no mail is set up)."""
    user = user_or_404(user_id)
    token = email_links.create_password_reset(user, actor=current_user)
    link = public_url("auth.reset_password", token=token)
    return render_template("ops/link.html", kind="Password reset link", link=link, user=user)


@bp.post("/invites")
@ops_required
def create_invite():
    """Make an invite link that expires."""
    form = InviteForm()
    if not form.validate_on_submit():
        flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
        return redirect(url_for("ops.users"))
    token = accounts.create_invite(current_user, form.email.data or None, Role(form.role.data))
    link = public_url("auth.register", invite=token)
    invite = accounts.usable_invite(token)  # what it gives, to whom, until when
    return render_template("ops/link.html", kind="Invite link", link=link, user=None, invite=invite)


@bp.route("/settings", methods=["GET", "POST"])
@ops_required
def settings():
    """Service-wide settings: the registration policy."""
    form = RegistrationPolicyForm(policy=accounts.registration_policy())
    if form.validate_on_submit():
        accounts.set_registration_policy(current_user, form.policy.data)
        flash("Registration policy saved.", "success")
        return redirect(url_for("ops.settings"))
    return render_template("ops/settings.html", form=form)


@bp.get("/security")
@ops_required
def security_log():
    """Sign-ins, role changes, disables and token events, newest first."""
    kind = request.args.get("kind", "")[:40]
    email = request.args.get("email", "")[:254]
    return render_template(
        "ops/security.html",
        events=services.security_events(kind, email),
        kinds=services.event_kinds(),
        kind=kind,
        email=email,
    )
