from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from meetings.account import views  # noqa: E402, F401
