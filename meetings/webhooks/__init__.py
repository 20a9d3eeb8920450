from flask import Blueprint, current_app

bp = Blueprint("webhooks", __name__)


@bp.before_app_request
def start_deriver() -> None:
    # On the first request of each process (gunicorn workers are forked after the app is
    # built), so that its first sweep derives what a process killed earlier left pending.
    apply.start_for(current_app._get_current_object())


from meetings.webhooks import apply, views  # noqa: E402, F401
