from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from meetings.auth import bp, services
from meetings.auth.forms import LoginForm, NewPasswordForm, RegisterForm, ResetRequestForm
from meetings.extensions import limiter
from meetings.links import public_url
from meetings.mail import send_mail


def safe_next_url(target: str | None) -> str:
    """Only local paths: an absolute `next` would be an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("scheduling.dashboard")


def login_attempt_failed(response) -> bool:
    # A successful sign-in redirects; everything else counts against the limits.
    return response.status_code != 302


def attempted_email() -> str:
    return "login:" + request.form.get("email", "").strip().lower()


def login_failure_limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    login_failure_limit,
    key_func=attempted_email,
    methods=["POST"],
    deduct_when=login_attempt_failed,
    scope="login-account",
)
@limiter.limit(
    login_failure_limit,
    methods=["POST"],
    deduct_when=login_attempt_failed,
    scope="login-address",
)
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountDisabled as error:
            form.email.errors.append(error.message)
        else:
            if user is not None:
                _start_session(user)
                return redirect(safe_next_url(request.args.get("next")))
            form.password.errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account, as the registration policy allows."""
    if current_user.is_authenticated:
        return redirect(url_for("scheduling.dashboard"))
    form = RegisterForm(invite=request.args.get("invite", ""))
    invite = services.usable_invite(form.invite.data)
    policy = services.registration_policy()
    first_account = services.user_count() == 0
    if form.validate_on_submit():
        try:
            user = services.register(
                form.email.data, form.display_name.data, form.password.data, form.invite.data
            )
        except services.AccountError as error:
            target = getattr(form, error.field) if error.field else None
            (target.errors if target else form.form_errors).append(error.message)
        else:
            _start_session(user)
            flash(f"Welcome, {user.display_name}. Schedule your first meeting.", "success")
            return redirect(url_for("scheduling.dashboard"))
    is_open = not first_account and (policy == "open" or invite is not None)
    return render_template(
        "auth/register.html",
        form=form,
        is_open=is_open,
        invite=invite,
        policy=policy,
        first_account=first_account,
    )


@bp.post("/logout")
@login_required
def logout():
    """End the session, on the server too."""
    services.end_session(session.get(services.SESSION_TOKEN_KEY))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(login_failure_limit, methods=["POST"], scope="reset-address")
def request_reset():
    """Ask for a password reset link by email."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None and user.is_active:
            token = services.create_password_reset(user)
            link = public_url("auth.reset_password", token=token)
            send_mail(user.email, "Reset your Meetings password", _reset_mail_body(user, link))
        # The same answer whether or not the account exists: no account discovery.
        flash("If an account exists for that email, a reset link is on its way.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a one-time link."""
    if services.usable_reset(token) is None:
        abort(404, "This reset link has expired or was used already. Ask for a new one.")
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.InvalidLink as error:
            abort(404, error.message)
        flash("Your password is changed. Sign in with it.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


def _start_session(user) -> None:
    # A fresh session on login: nothing set before sign-in carries over (session fixation).
    token = services.start_session(
        user, request.remote_addr or "", request.headers.get("User-Agent", "")
    )
    session.clear()
    session[services.SESSION_TOKEN_KEY] = token
    login_user(user)


def _reset_mail_body(user, link: str) -> str:
    minutes = current_app.config["PASSWORD_RESET_VALID_MINUTES"]
    return (
        f"Hello {user.display_name},\n\n"
        f"Someone asked to reset the password of your Meetings account.\n"
        f"Choose a new password here (the link works once, for {minutes} minutes):\n\n"
        f"{link}\n\nIf it was not you, ignore this mail; your password stays as it is.\n"
    )
