"""Cancelling an order: what the unwinding closes beside the order's own tables. Inbox rows of
the order's workflow or its design changes that opened after the withdrawal are withdrawn, and
the order's open escalations are resolved by the cancellation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import ActivityEnvironment

from services.sales.cancellation import CancellationActivities
from services.sales.models import Order
from shared.db import session_scope
from shared.escalations.models import Escalation
from shared.production_types import CancellationResult, UnwindOrder
from shared.settings import Settings
from shared.tasks.models import inbox
from tests.cancellation_drivers import (
    CANCELLED_BY,
    D,
)

# -- what the unwinding closes beside the order's own tables -------------------------------------


async def test_unwind_withdraws_late_inbox_rows_and_resolves_the_orders_escalations(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    """Rows of the order's workflow or its design changes still open when the order unwinds
    (their opening landed after the withdrawal) are withdrawn; its open escalations are
    acknowledged, but one about a task now carried on for stock; nothing of others moves."""
    s = uuid.uuid4().hex[:8]
    order_no, other = f"CX-{s}", f"CX-{s}-other"
    at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    rows = {
        # (inbox, task id, order, workflow)
        "late": ("sales", f"order-{order_no}-t9", order_no, f"order-{order_no}"),
        "dcn": ("engineering", f"dcn-{order_no}-I1-t1", order_no, f"dcn-{order_no}-I1"),
        "lot": ("quality", f"inspection-IL-{s}-t1", "", f"inspection-IL-{s}"),
        "theirs": ("sales", f"order-{other}-t1", other, f"order-{other}"),
    }
    async with session_scope(engine) as session:
        for no in (order_no, other):
            session.add(
                Order(
                    order_no=no,
                    workflow_id=f"order-{no}",
                    customer="Test",
                    project_name="cancellation",
                    contract_no="C-1",
                    drawing_refs=[],
                    requested_date=date(2027, 3, 1),
                    amount=D(100000),
                    currency="CNY",
                    stage="materials",
                    created_by="test",
                    created_at=at - timedelta(days=30),
                    updated_at=at - timedelta(days=30),
                )
            )
        await session.flush()
        for dept, task_id, owner, workflow_id in rows.values():
            await session.execute(
                insert(inbox(dept)).values(
                    task_id=task_id,
                    kind="quality.incoming_inspection",
                    order_no=owner,
                    workflow_id=workflow_id,
                    title=task_id,
                    state="open",
                    context={},
                    created_at=at - timedelta(days=2),
                    due_at=at - timedelta(days=1),
                    escalation_level=1,
                )
            )
        escalated = {
            name: Escalation(
                key=f"{s}:{name}",
                kind="task_overdue",
                level=1,
                order_no=owner,
                task_id=task_id,
                department=dept,
                role=f"head:{dept}",
                due_at=at - timedelta(days=1),
                breached_at=at - timedelta(days=1),
                message=name,
                created_at=at - timedelta(days=1),
            )
            for name, (dept, task_id, owner, _) in rows.items()
        }
        # The lot's escalation was raised while it was still the order's; a milestone's
        # has no task; one was acknowledged by its head already.
        escalated["lot"].order_no = order_no
        escalated["milestone"] = Escalation(
            key=f"{s}:milestone",
            kind="milestone_overdue",
            level=1,
            order_no=order_no,
            department="planning",
            role="head:planning",
            breached_at=at - timedelta(hours=3),
            message="milestone",
            created_at=at - timedelta(hours=3),
        )
        escalated["seen"] = Escalation(
            key=f"{s}:seen",
            kind="milestone_overdue",
            level=1,
            order_no=order_no,
            department="planning",
            role="head:planning",
            breached_at=at - timedelta(hours=5),
            message="seen",
            state="acked",
            acked_by="head-li",
            acked_at=at - timedelta(hours=4),
            created_at=at - timedelta(hours=5),
        )
        session.add_all(escalated.values())

    settings = base_settings.model_copy(update={"labour_cost_per_day": D(0)})
    result: CancellationResult = await ActivityEnvironment().run(
        CancellationActivities(engine, settings).unwind_order,
        UnwindOrder(order_no=order_no, reason="customer withdrew", by="sam", at=at),
    )

    async with session_scope(engine) as session:
        states = {
            name: (
                await session.execute(
                    select(inbox(dept).c.state).where(inbox(dept).c.task_id == task_id)
                )
            ).scalar_one()
            for name, (dept, task_id, _, _) in rows.items()
        }
        stored = (
            await session.execute(select(Escalation).where(col(Escalation.key).startswith(f"{s}:")))
        ).scalars()
        acks = {e.message: (e.id or 0, e.state, e.acked_by, e.acked_at) for e in stored}
    assert states == {"late": "withdrawn", "dcn": "withdrawn", "lot": "open", "theirs": "open"}
    closed = ("acked", CANCELLED_BY, at)
    assert {name: ack[1:] for name, ack in acks.items()} == {
        "late": closed,
        "dcn": closed,
        "milestone": closed,
        "lot": ("open", None, None),  # quality still owes that inspection
        "theirs": ("open", None, None),
        "seen": ("acked", "head-li", at - timedelta(hours=4)),
    }
    assert result.escalations_closed == sorted(acks[n][0] for n in ("late", "dcn", "milestone"))
