"""Rate-limit counters, shared by every worker and instance that uses the same database."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from meetings.extensions import db


class RateLimitCounter(db.Model):
    """Hits of one limit key (e.g. wrong passwords for one account from one address) in the
    window that ends at `expires_at` (Unix seconds: compared with the same clock as set)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)

    def __repr__(self) -> str:
        return f"<RateLimitCounter {self.key} {self.count}>"
