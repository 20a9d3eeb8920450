"""The account page: API tokens, the calendar feed address, the email address."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from meetings.account import bp
from meetings.account.forms import ApiTokenForm, ChangeEmailForm
from meetings.auth import email_links, services
from meetings.calendar import services as calendar
from meetings.links import public_url


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    """The user's account: API tokens (create, list, revoke)."""
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = services.issue_api_token(current_user, form.name.data)
        form = ApiTokenForm(formdata=None)
    return account_page(form=form, new_token=new_token)


def account_page(
    form: ApiTokenForm | None = None, email_form: ChangeEmailForm | None = None, **shown_once
) -> str:
    """The account page; `shown_once` carries a new secret (API token, feed address) that
    this answer shows and nothing stores."""
    return render_template(
        "account/index.html",
        form=form or ApiTokenForm(formdata=None),
        email_form=email_form or ChangeEmailForm(formdata=None),
        tokens=services.active_api_tokens(current_user),
        **shown_once,
    )


@bp.post("/email")
@login_required
def change_email():
    """Move the account to a new address; a link mailed there confirms it."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            email_links.change_email(current_user, form.email.data, form.password.data)
        except services.AccountError as error:
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            message = f"Your email is now {current_user.email}. Open the link we sent there."
            flash(message, "success")
            return redirect(url_for("account.index"))
    return account_page(email_form=form), 422


@bp.post("/calendar-feed")
@login_required
def rotate_feed_token():
    """Create or replace the user's calendar feed address, shown on this answer only."""
    token = calendar.rotate_feed_token(current_user)
    return account_page(new_feed_url=public_url("calendar.feed", token=token))


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own API tokens."""
    if services.revoke_api_token(current_user, token_id):
        flash("Token revoked. Programs using it are refused from now on.", "success")
    else:
        flash("That token does not exist or was revoked already.", "error")
    return redirect(url_for("account.index"))
