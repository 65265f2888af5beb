"""The escalation types `/escalations` and the order view return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


# An escalation as the API shows it.
class EscalationPublic(BaseModel):
    id: int
    kind: str
    level: int
    order_no: str
    task_id: str | None
    department: str
    role: str
    due_at: datetime | None
    breached_at: datetime
    message: str
    state: str
    acked_by: str | None = None
    acked_at: datetime | None = None


# An escalation's delivery to one bot, as `GET /escalations` shows it (the URL redacted).
class DeliveryStatePublic(BaseModel):
    target: str
    delivery_id: str | None
    state: str
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


# An escalation in the `GET /escalations` list: with its delivery state per bot.
class EscalationListed(EscalationPublic):
    deliveries: list[DeliveryStatePublic] = []
