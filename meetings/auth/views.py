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

from meetings import rate_limits
from meetings.auth import bp, email_links, registration, services
from meetings.auth.forms import LoginForm, NewPasswordForm, RegisterForm, ResetRequestForm
from meetings.extensions import limiter


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


def account_and_address() -> str:
    # Wrong passwords count per account *and* address: a stranger who types wrong passwords
    # for someone else's account locks only themselves out, never the owner.
    email = request.form.get("email", "").strip().lower()
    return f"login:{email}|{request.remote_addr}"


def config_limit(name: str):
    return lambda: current_app.config[name]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    config_limit("LOGIN_FAILURE_LIMIT"),
    key_func=account_and_address,
    methods=["POST"],
    deduct_when=login_attempt_failed,
    scope="login-account",
)
@limiter.limit(
    config_limit("LOGIN_ADDRESS_LIMIT"),
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
    if invite is not None and invite.email and not form.is_submitted():
        form.email.data = invite.email  # the only address this invite registers
    policy = services.registration_policy()
    first_account = services.user_count() == 0
    if form.validate_on_submit():
        try:
            signed_up = registration.register(
                form.email.data, form.display_name.data, form.password.data, form.invite.data
            )
        except services.AccountError as error:
            target = getattr(form, error.field) if error.field else None
            (target.errors if target else form.form_errors).append(error.message)
        else:
            if signed_up.user is None:
                return render_template("auth/check_mail.html", email=signed_up.email)
            _start_session(signed_up.user)
            flash(
                f"Welcome, {signed_up.user.display_name}. Schedule your first meeting.",
                "success",
            )
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
@limiter.limit(config_limit("RESET_ADDRESS_LIMIT"), methods=["POST"], scope="reset-address")
def request_reset():
    """Ask for a password reset link by email."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        email_links.request_password_reset(form.email.data)
        # The same answer whether or not the account exists: no account discovery.
        flash("If an account exists for that email, a reset link is on its way.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a one-time link."""
    if email_links.usable_reset(token) is None:
        abort(404, "This reset link has expired or was used already. Ask for a new one.")
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            email_links.reset_password(token, form.password.data)
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


@bp.get("/verify/<token>")
def verify_email(token: str):
    """The page a confirmation link opens: one button confirms (a mail scanner that only
    fetches the link confirms nothing)."""
    link = email_links.usable_verification(token)
    if link is None:
        abort(404, "This confirmation link has expired or was used. Ask for a new one.")
    return render_template("auth/verify.html", email=link.email)


@bp.post("/verify/<token>")
def confirm_email(token: str):
    """Confirm the address the link was sent to."""
    try:
        user = email_links.verify_email(token)
    except services.InvalidLink as error:
        abort(404, error.message)
    flash(f"{user.email} is confirmed.", "success")
    if current_user.is_authenticated:
        return redirect(url_for("scheduling.dashboard"))
    return redirect(url_for("auth.login"))


@bp.post("/verify")
@login_required
def resend_verification():
    """Mail the signed-in user a new confirmation link (a few an hour)."""
    if current_user.email_verified:
        flash("Your email address is confirmed already.", "info")
    elif rate_limits.count_hit(
        current_app.config["VERIFY_MAIL_LIMIT"], "verify-mail", str(current_user.id)
    ):
        email_links.send_email_verification(current_user)
        flash(f"We sent a new confirmation link to {current_user.email}.", "success")
    else:
        flash("We sent several links already. Check your mail, or try again in an hour.", "error")
    return redirect(safe_next_url(request.form.get("next")))
