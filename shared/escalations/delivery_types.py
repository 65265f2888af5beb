"""What the delivery workflows and their activities pass each other: channel names and delivery
ids only. A channel's URL, token or secret never enters a workflow's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


# Route one stored escalation to its channels (one delivery row per channel).
class PlanEscalationDeliveries(BaseModel):
    escalation_id: int


# One message waiting for one channel.
class PlannedDelivery(BaseModel):
    delivery_id: str
    channel: str


# Where an escalation goes: its kind and department (for a failing channel's own escalation)
# and one delivery per channel its routes name.
class DeliveryPlan(BaseModel):
    escalation_id: int
    kind: str
    department: str
    deliveries: list[PlannedDelivery] = Field(default_factory=list)


# Route a business event (`plan_report`, `escalation_digest`) to its channels. `key` makes it
# one event (a report's period, a digest's department and day, plus the run when a re-run is
# news of its own); `content` is its body as it was when it happened.
class PlanEventDeliveries(BaseModel):
    event: str
    key: str
    department: str | None = None
    content: dict[str, Any] = Field(default_factory=dict)


# Send one planned delivery (and retry it) until the channel takes it or the cap fails it.
class SendDelivery(BaseModel):
    delivery_id: str


# A delivery after its last attempt: delivered, or failed at the cap.
class DeliveryOutcome(BaseModel):
    delivery_id: str
    channel: str
    state: str
    attempts: int
    failures: int
    last_error: str | None = None


# A channel whose delivery failed at the cap: raised to `ops` once per channel per hour.
class ChannelFailing(BaseModel):
    channel: str
    delivery_id: str
    department: str
    at: datetime


# Open escalations per department at the start of the plant's working day: the digests
# planned (none on a day off, or for a department without open escalations).
class DigestRun(BaseModel):
    day: str
    skipped: str | None = None
    deliveries: list[PlannedDelivery] = Field(default_factory=list)


# What the daily digest schedule starts EscalationDigestWorkflow with.
class DigestInput(BaseModel):
    queue_prefix: str


# An administrator's test of a channel: one message, one attempt, its answer.
class ChannelTest(BaseModel):
    channel: str
    by: str


class ChannelTestInput(BaseModel):
    queue_prefix: str
    channel: str
    by: str


class ChannelTestResult(BaseModel):
    channel: str
    ok: bool
    status: int | None = None
    code: str | None = None
    error: str | None = None
    duration_ms: int = 0
