"""Media workers that reported in: one row per worker process, its heartbeat upserted.

Heartbeats come every few seconds from every worker; they say only "alive, serving these job
kinds", so they are kept here, not in the webhook ledger (where they would bury the events).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from meetings.extensions import db
from meetings.models.base import UTCDateTime, utcnow


class MediaWorker(db.Model):
    __tablename__ = "media_workers"

    worker_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)  # host-pid
    # The agent names it serves, space-separated ("meetings-recorder").
    agent_names: Mapped[str] = mapped_column(sa.String(500), default="")
    jobs_running: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_jobs: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def serves(self, agent_name: str) -> bool:
        return agent_name in self.agent_names.split()


def any_worker_serving(agent_name: str, within: timedelta) -> bool:
    """Whether a worker serving `agent_name` reported in within `within` (a start fails at
    once without one, instead of waiting for a job nobody will take)."""
    recent = db.session.scalars(
        sa.select(MediaWorker).where(MediaWorker.last_seen_at >= utcnow() - within)
    )
    return any(worker.serves(agent_name) for worker in recent)
