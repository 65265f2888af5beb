"""The task types every inbox route and the order view return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


# A task as an inbox lists it.
class TaskPublic(BaseModel):
    task_id: str
    kind: str
    department: str
    order_no: str
    workflow_id: str
    title: str
    state: str
    created_at: datetime
    due_at: datetime
    overdue: bool
    # Working hours until the due time on the plant's calendar (negative: overdue by that
    # much working time); None for a task no longer open.
    due_in_working_hours: float | None = None
    escalation_level: int
    context: dict[str, Any]
    payload: dict[str, Any] | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None


# One task with the JSON schema its completion must follow.
class TaskDetail(TaskPublic):
    payload_schema: dict[str, Any]
    completer_roles: list[str]
