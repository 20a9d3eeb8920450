import sqlalchemy as sa
from flask import current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.health import bp
from meetings.short_cache import cache_of


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers: the database must answer; LiveKit is reported."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        database = "unreachable"
    # Anyone may ask /healthz: LiveKit hears about it at most every few seconds per process.
    reachable = cache_of("livekit_reachable", seconds=5).get("livekit", gateway.is_reachable)
    livekit = "ok" if reachable else "unreachable"
    status = "ok" if database == "ok" else "degraded"
    return jsonify({"status": status, "database": database, "livekit": livekit}), (
        200 if database == "ok" else 503
    )
