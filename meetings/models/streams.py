"""Stream out: a meeting's composite sent live to RTMP destinations (YouTube, Twitch, any RTMP
server) and to HLS for the meeting's watch page, by the media worker's `meetings-stream` job.

A destination's URL carries its stream key: it is stored encrypted (meetings/streaming/
secrets.py) so the job can be dispatched again, and shown only as `destination_hint` (the key's
last four characters).
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.extensions import db
from meetings.models.base import UTCDateTime, _enum_values, utcnow


class StreamStatus(enum.StrEnum):
    STARTING = "starting"  # dispatched; no output is live yet
    LIVE = "live"
    ENDED = "ended"  # stopped by a host, or the room closed
    FAILED = "failed"  # no worker took it, or every output failed

    @property
    def is_on(self) -> bool:
        return self in (StreamStatus.STARTING, StreamStatus.LIVE)


class OutputStatus(enum.StrEnum):
    STARTING = "starting"
    LIVE = "live"
    FAILED = "failed"
    ENDED = "ended"


def _status_column(kind: type[enum.StrEnum], default: enum.StrEnum):
    return mapped_column(
        sa.Enum(kind, native_enum=False, length=16, values_callable=_enum_values), default=default
    )


class LiveStream(db.Model):
    """One streaming of an occurrence's room, from a start to its end."""

    __tablename__ = "live_streams"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    occurrence_key: Mapped[str] = mapped_column(sa.String(32))
    room_name: Mapped[str] = mapped_column(sa.String(128), index=True)
    job_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    dispatch_id: Mapped[str | None] = mapped_column(sa.String(64))
    # With RECORDER=egress, LiveKit Egress streams instead of the media worker.
    egress_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    layout: Mapped[str] = mapped_column(sa.String(16), default="grid")
    status: Mapped[StreamStatus] = _status_column(StreamStatus, StreamStatus.STARTING)
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    started_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    outputs: Mapped[list["StreamOutput"]] = relationship(
        back_populates="stream",
        order_by="StreamOutput.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def hls(self) -> "StreamOutput | None":
        return next((o for o in self.outputs if o.kind == "hls"), None)


class StreamOutput(db.Model):
    """Where a stream goes: an RTMP destination, or HLS for the watch page."""

    __tablename__ = "stream_outputs"
    __table_args__ = (sa.UniqueConstraint("stream_id", "output_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stream_id: Mapped[int] = mapped_column(
        sa.ForeignKey("live_streams.id", ondelete="CASCADE"), index=True
    )
    output_id: Mapped[str] = mapped_column(sa.String(16))  # the job's name for it
    kind: Mapped[str] = mapped_column(sa.String(8))  # "rtmp" or "hls"
    destination_encrypted: Mapped[str | None] = mapped_column(sa.Text)  # rtmp only
    destination_hint: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[OutputStatus] = _status_column(OutputStatus, OutputStatus.STARTING)
    reason: Mapped[str | None] = mapped_column(sa.String(500))

    stream: Mapped[LiveStream] = relationship(back_populates="outputs")


class StreamViewer(db.Model):
    """Someone watching a stream's watch page, as its state polls last saw them: the viewer
    count is those seen lately. `viewer_key` is random, from the viewer's session."""

    __tablename__ = "stream_viewers"
    __table_args__ = (sa.UniqueConstraint("stream_id", "viewer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stream_id: Mapped[int] = mapped_column(
        sa.ForeignKey("live_streams.id", ondelete="CASCADE"), index=True
    )
    viewer_key: Mapped[str] = mapped_column(sa.String(32))
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StreamPlan(db.Model):
    """Where a meeting streams when it starts: set on its Streaming page, started when a host
    joins an occurrence (once per occurrence). The destinations are one encrypted JSON list."""

    __tablename__ = "stream_plans"

    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    destinations_encrypted: Mapped[str] = mapped_column(sa.Text)
    destination_hints: Mapped[str] = mapped_column(sa.Text, default="")  # one per line, masked
    hls: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
