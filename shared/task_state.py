"""A human task as the workflow that opened it knows it: the source of truth, of which the inbox
row is a projection. Serializable, so a workflow's state can be carried across
continue-as-new."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.working_time.clocks import ClockBook, ClockSpec

OPEN, DONE, WITHDRAWN = "open", "done", "withdrawn"


# A task as the workflow knows it; the inbox row is its projection.
class TaskState(BaseModel):
    task_id: str
    kind: str
    department: str
    title: str
    state: str = OPEN
    created_at: datetime
    due_at: datetime
    second_level_at: datetime
    payload: dict[str, Any] | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None
    escalation_level: int = 0
    # What the due time counts from when it is a clock on the plant's calendar (a planned
    # working day's end), and the calendar version the due times were counted on.
    due_clock: ClockSpec | None = None
    calendar_version: str | None = None
    # Opened with a due instant of its own (kept when the calendar changes).
    fixed_due: bool = False

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


# Every task one workflow has opened, and the sequence its task ids are numbered by.
class TaskBookState(BaseModel):
    tasks: dict[str, TaskState] = Field(default_factory=dict)
    seq: int = 0
    # The workflow's other clocks (milestones, leads), and the newest calendar it heard of.
    clocks: ClockBook = Field(default_factory=ClockBook)


def not_open_message(
    task_id: str, state: str, completed_by: str | None, completed_at: datetime | None
) -> str:
    """Why a task takes no completion, naming who completed it and when: a client whose answer
    was lost learns that its own completion (or a colleague's) went through."""
    if state != DONE:
        return f"task {task_id} is {state}, not open"
    when = f" at {completed_at:%Y-%m-%d %H:%M:%S}Z" if completed_at else ""
    return f"task {task_id} is already done: {completed_by or 'someone'} completed it{when}"
