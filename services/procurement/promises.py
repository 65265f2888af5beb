"""A PO line's promised date kept current (§4.7, §4.9): what the PromiseWatchWorkflow reads of
the line and how a moved or confirmed promise is stored. A line's own `promised_date` is set
once its date moves; until then the PO's date is the line's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from services.procurement.models import PoLine, PurchaseOrder
from shared.activities import DbActivities
from shared.db import session_scope
from shared.procurement_types import LineWatch, PromiseWatchInput, RecordPromise
from shared.temporal import workflow_queue
from shared.timeline import add_event
from shared.workflow_ids import promise_watch_workflow_id

# Started by name: this module is the watch's own activities (workflows/promise_watch.py).
WATCH_TYPE = "PromiseWatchWorkflow"


async def _line(session: AsyncSession, requisition_key: str) -> tuple[PoLine, PurchaseOrder] | None:
    """The PO line of a requisition and its purchase order, if it was ordered."""
    row = (
        await session.execute(
            select(PoLine, PurchaseOrder)
            .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
            .where(col(PoLine.requisition_key) == requisition_key)
        )
    ).first()
    return None if row is None else (row[0], row[1])


class PromiseActivities(DbActivities):
    """The promise watch's reads and writes of procurement's PO lines."""

    @activity.defn
    async def watch_line(self, requisition_key: str) -> LineWatch:
        """Whether the line still owes goods (its PO open, not all received), its promised
        date, and the working days before it that the buyer confirms it."""
        async with session_scope(self._engine) as session:
            found = await _line(session, requisition_key)
        if found is None:
            return LineWatch(open=False)
        line, po = found
        return LineWatch(
            open=po.state == "open" and line.qty_received < line.qty,
            promised_date=line.promised_date or po.promised_date,
            confirm_days=self._settings.po_confirm_days,
        )

    @activity.defn
    async def record_promise(self, promise: RecordPromise) -> None:
        """Store the line's new promised date (a confirmation changes nothing on it) and tell
        the order's timeline; once per line and date."""
        async with session_scope(self._engine) as session:
            found = await _line(session, promise.requisition_key)
            if found is None:
                raise ApplicationError(
                    f"no PO line for requisition {promise.requisition_key}", non_retryable=True
                )
            line, po = found
            if not promise.confirmed:
                line.promised_date = promise.promised_date
            if po.order_no is None:  # stock bought for no order has no timeline
                return
            what = "confirmed" if promise.confirmed else "moved"
            summary = (
                f"{po.po_no}: {line.qty} {line.item} promised {promise.promised_date}, "
                f"confirmed by the buyer"
                if promise.confirmed
                else f"{po.po_no}: {line.qty} {line.item} now promised {promise.promised_date} "
                f"(was {promise.previous})"
            )
            await add_event(
                session,
                key=f"{promise.requisition_key}:promise:{what}:{promise.promised_date}",
                order_no=po.order_no,
                at=promise.at,
                kind="purchase_order",
                actor=promise.by,
                summary=summary + (f": {promise.reason}" if promise.reason else ""),
                detail={
                    "po_no": po.po_no,
                    "promised_date": promise.promised_date.isoformat(),
                    "previous": promise.previous.isoformat(),
                },
            )

    @activity.defn
    async def start_watch(self, inp: PromiseWatchInput) -> None:
        """Start the PO line's PromiseWatchWorkflow on its own (no parent); one already
        running (the API started it for a move) watches the line instead."""
        try:
            await activity.client().start_workflow(
                WATCH_TYPE,
                inp,
                id=promise_watch_workflow_id(inp.requisition_key),
                task_queue=workflow_queue(inp.queue_prefix),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                static_summary=f"watch the promise of {inp.po_no}: {inp.qty} {inp.item}"[:200],
            )
        except WorkflowAlreadyStartedError:
            activity.logger.info("the promise of %s is watched already", inp.po_no)
