"""The inbox: one `tasks` table in each department's schema, all of the same shape.

The workflow is the source of truth; an inbox row is the projection it keeps current through
the task activities. Nothing else writes these rows.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from shared.models import metadata
from shared.settings import DEPARTMENTS

OPEN, DONE, WITHDRAWN = "open", "done", "withdrawn"


def _inbox(schema: str) -> Table:
    return Table(
        "tasks",
        metadata,
        Column("task_id", String(128), primary_key=True),
        Column("kind", String(64), nullable=False),
        Column("order_no", String(64), nullable=False),
        Column("workflow_id", String(128), nullable=False),
        Column("title", Text, nullable=False),
        Column("state", String(16), nullable=False, default=OPEN),
        Column("context", JSONB, nullable=False, default=dict),
        Column("payload", JSONB, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False),
        Column("escalation_level", Integer, nullable=False, default=0),
        Column("completed_at", DateTime(timezone=True), nullable=True),
        Column("completed_by", String(128), nullable=True),
        Index(f"ix_{schema}_tasks_state_due", "state", "due_at"),
        # An order's open tasks (the order view, the order-progress triggers of migration
        # 0022); serves lookups by order alone too.
        Index(f"ix_{schema}_tasks_order_no_state", "order_no", "state"),
        schema=schema,
    )


INBOXES: dict[str, Table] = {dept: _inbox(dept) for dept in DEPARTMENTS}


def inbox(department: str) -> Table:
    """The `tasks` table of `department`."""
    return INBOXES[department]
