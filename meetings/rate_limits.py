"""Rate limits counted in the app's own database, so that every gunicorn worker on a box (and
every instance on one database) counts the same hits: a limit of 10 means 10, however many
processes answer. Flask-Limiter finds this storage by its scheme, `database://`.

The storage reads the database of the app handling the request (`current_app`), in its own
short transaction, so a count is kept even when the request's own work is rolled back.
"""

import random
import time

import sqlalchemy as sa
from flask import current_app
from limits import parse
from limits.storage import Storage
from sqlalchemy.exc import SQLAlchemyError

from meetings.extensions import db, insert_on_conflict, limiter
from meetings.models.limits import RateLimitCounter

TABLE = RateLimitCounter.__table__
# Expired counters are deleted now and then by whoever counts (one call in PURGE_ONE_IN).
PURGE_ONE_IN = 200


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_limit_counters` table."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        fresh = TABLE.c.expires_at <= now
        insert = insert_on_conflict(TABLE).values(key=key, count=amount, expires_at=now + expiry)
        statement = insert.on_conflict_do_update(
            index_elements=[TABLE.c.key],
            set_={
                "count": sa.case((fresh, amount), else_=TABLE.c.count + amount),
                "expires_at": sa.case((fresh, now + expiry), else_=TABLE.c.expires_at),
            },
        ).returning(TABLE.c.count)
        with db.engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 (not a secret)
                connection.execute(sa.delete(TABLE).where(TABLE.c.expires_at < now - 3600))
        return count

    def get(self, key: str) -> int:
        query = sa.select(TABLE.c.count).where(TABLE.c.key == key, TABLE.c.expires_at > time.time())
        with db.engine.connect() as connection:
            return connection.execute(query).scalar() or 0

    def get_expiry(self, key: str) -> float:
        query = sa.select(TABLE.c.expires_at).where(TABLE.c.key == key)
        with db.engine.connect() as connection:
            return connection.execute(query).scalar() or time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(sa.select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(sa.delete(TABLE)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(sa.delete(TABLE).where(TABLE.c.key == key))


# ---- limits counted by hand, where a view decides what counts ---------------------------


def retry_after(limit: str, *identifiers: str) -> int:
    """Seconds until `limit` allows another hit for `identifiers`; 0 when it allows one now."""
    item = parse(limit)
    if limiter.limiter.test(item, *identifiers):
        return 0
    reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(1, int(reset_at - time.time()) + 1)


def count_hit(limit: str, *identifiers: str) -> bool:
    """Count one hit against `limit`; False when this hit went over it."""
    return limiter.limiter.hit(parse(limit), *identifiers)


def app_limit(name: str) -> str:
    """A limit from the settings, e.g. app_limit("ACCESS_CODE_FAILURE_LIMIT")."""
    return current_app.config[name]
