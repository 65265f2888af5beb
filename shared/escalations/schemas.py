"""The escalation type `/escalations` and the order view return."""

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
