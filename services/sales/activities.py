"""Sales activities: keep the order record's stage, status and due date current."""

from __future__ import annotations

from sqlalchemy import update
from temporalio import activity

from services.sales.cancellation import CancellationActivities
from services.sales.changes import ChangeActivities
from services.sales.models import Order
from services.sales.notices import NoticeActivities
from services.sales.payments import PaymentActivities
from services.sales.service import record_order
from services.sales.unshipped import UnshippedActivities
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event
from shared.types import OrderInput, StageChange


class SalesActivities(DbActivities):
    """The sales service's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def record_order(self, intake: OrderInput) -> None:
        """Write the order row the workflow was started for, unless the gateway already did
        (it starts the workflow first, then writes the row: it may have died in between)."""
        async with session_scope(self._engine) as session:
            await record_order(session, intake)

    @activity.defn
    async def record_stage(self, change: StageChange) -> None:
        """Move the order record to a stage (and status), with the timeline entry."""
        values: dict[str, object] = {
            "stage": change.stage,
            "status": change.status,
            "updated_at": change.at,
        }
        if change.reason is not None:
            values["status_reason"] = change.reason
        if change.due_date is not None:
            values["due_date"] = change.due_date
        async with session_scope(self._engine) as session:
            await session.execute(
                update(Order).where(Order.order_no == change.order_no).values(**values)  # type: ignore[arg-type]
            )
            summary = f"stage {change.stage}" + (
                f" ({change.status})" if change.status != "active" else ""
            )
            if change.reason:
                summary += f": {change.reason}"
            await add_event(
                session,
                key=f"{change.order_no}:stage:{change.stage}:{change.status}:{change.at.isoformat()}",
                order_no=change.order_no,
                at=change.at,
                kind="stage",
                actor="orderflow",
                summary=summary,
                detail={
                    "stage": change.stage,
                    "status": change.status,
                    "due_date": change.due_date.isoformat() if change.due_date else None,
                },
            )


ACTIVITIES: list[type] = [
    TaskActivities,
    EscalationActivities,
    SalesActivities,
    UnshippedActivities,
    CancellationActivities,
    ChangeActivities,
    PaymentActivities,
    NoticeActivities,
]
