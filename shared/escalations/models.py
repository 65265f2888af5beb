"""The escalation tables, in schema `escalation`: events, their deliveries to channels, every
send attempt, and the pace of rate-limited channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.models import ts_field

# An escalation is open, then acknowledged (someone took it), then resolved (what was done).
OPEN, ACKED, RESOLVED = "open", "acked", "resolved"
# A delivery's state: retried while pending, until the channel takes it or the cap.
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


# A breached clock, raised to a role (`head:quality`, `division`, ...).
class Escalation(SQLModel, table=True):
    __tablename__ = "escalations"
    # (kind, breached_at): the shortage KPI reads each kind over a month.
    __table_args__ = (
        Index("ix_escalation_escalations_kind_breached_at", "kind", "breached_at"),
        {"schema": "escalation"},
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=48)
    level: int
    order_no: str = Field(index=True, max_length=64)
    task_id: str | None = Field(default=None, max_length=128)
    department: str = Field(max_length=32)
    role: str = Field(max_length=48)
    due_at: datetime | None = ts_field(nullable=True)
    breached_at: datetime = ts_field()
    message: str
    state: str = Field(default=OPEN, index=True, max_length=16)
    acked_by: str | None = None
    # Indexed: the open-escalations KPI asks for those acknowledged after a moment.
    acked_at: datetime | None = ts_field(nullable=True, index=True)
    # What was done about it, by whom and when (`POST /escalations/{id}/resolve`).
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = ts_field(nullable=True)
    created_at: datetime = ts_field()


# One message to one channel: an escalation's, or a business event's (`plan_report`,
# `escalation_digest`). Attempts until the channel took it, or the cap
# (`webhook_max_attempts` failures, `webhook_max_age_seconds`) marked it failed. A channel
# that asked to slow down (rate limit) is not a failure: the message waits its turn.
class ChannelDelivery(SQLModel, table=True):
    __tablename__ = "channel_deliveries"
    __table_args__ = {"schema": "escalation"}

    # `esc-<escalation id>-<channel>` or `evt-<event>-<key>-<channel>`: the receiver's dedupe key
    # (`webhook-id`), the same on every attempt.
    delivery_id: str = Field(primary_key=True, max_length=160)
    # Order of the channel's messages: a paced channel sends them in this order.
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), unique=True, nullable=False)
    )
    channel: str = Field(index=True, max_length=48)
    escalation_id: int | None = Field(
        default=None, foreign_key="escalation.escalations.id", index=True
    )
    event: str | None = Field(default=None, max_length=48)
    # An event's body as it was when it happened (the report, the digest's escalation ids).
    content: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    state: str = Field(default=PENDING, max_length=16)
    # Every send tried; failures are those not answered "slow down" (the cap counts these).
    attempts: int = 0
    failures: int = 0
    last_status: int | None = None
    last_code: str | None = Field(default=None, max_length=64)
    last_error: str | None = None
    created_at: datetime = ts_field()
    # When its activity last looked at it: a pending row nobody touches any more (its workflow
    # was terminated) stops holding the channel's later messages back.
    touched_at: datetime = ts_field()
    delivered_at: datetime | None = ts_field(nullable=True)
    failed_at: datetime | None = ts_field(nullable=True)


# A paced channel's last send (`rate_per_minute`): the next waits until 60/rate seconds after.
class ChannelPace(SQLModel, table=True):
    __tablename__ = "channel_pace"
    __table_args__ = {"schema": "escalation"}

    channel: str = Field(primary_key=True, max_length=48)
    last_sent_at: datetime = ts_field()
    # A rate-limit answer holds the channel's sends back until then.
    paused_until: datetime | None = ts_field(nullable=True)


# One send of a delivery (an escalation or an event to one channel), recorded before it is sent and
# completed with its answer: a POST cut short by a kill stays as an attempt without an answer.
class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt", name="uq_delivery_attempts_attempt"),
        {"schema": "escalation"},
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(index=True, max_length=160)
    # The channel sent to (None: an attempt from before channels, to a bare URL).
    channel: str | None = Field(default=None, max_length=48, index=True)
    # Where it went, safe to show: scheme and host only (paths and queries may hold tokens).
    target: str
    attempt: int
    status: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    started_at: datetime = ts_field()
    finished_at: datetime | None = ts_field(nullable=True)
