from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from meetings.account import bp
from meetings.account.forms import ApiTokenForm
from meetings.auth import services


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    """The user's account: API tokens (create, list, revoke)."""
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = services.issue_api_token(current_user, form.name.data)
        form = ApiTokenForm(formdata=None)
    tokens = services.active_api_tokens(current_user)
    return render_template("account/index.html", form=form, tokens=tokens, new_token=new_token)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own API tokens."""
    if services.revoke_api_token(current_user, token_id):
        flash("Token revoked. Programs using it are refused from now on.", "success")
    else:
        flash("That token does not exist or was revoked already.", "error")
    return redirect(url_for("account.index"))
