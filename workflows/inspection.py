"""IncomingInspectionWorkflow: one per inspection lot (id `inspection-<lot_no>`), P6.1-6.3.

The buyer hears of refused lines at once; quality has `ORDERFLOW_SLA_INCOMING_INSPECTION` (8 h)
to record qualified and rejected quantities (head:quality at 8 h, division at 16 h); qualified
goods go into stock and are reserved for the orders that need them, which are signalled; each
rejected line opens an NCR that quality judges (return, repair, concession, scrap), and the
order it was bought for is told so its planner can decide how it gets its material. Whatever
leaves (returned, repaired, scrapped) is owed again on its PO at the judgement; scrap of a
cancelled PO is requisitioned again and the order buys it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.quality.activities import QualityActivities
    from services.warehouse.activities import WarehouseActivities
    from shared import payloads as p
    from shared.material_types import (
        Allocation,
        InspectionLot,
        InspectionRecorded,
        InspectionRequested,
        InspectionResult,
        MaterialNotice,
        NcrClosed,
        NcrJudged,
        NcrSummary,
    )
    from workflows.base import TaskWorkflow
    from workflows.common import notify_order, notify_reserved
    from workflows.tasks import TaskState


@workflow.defn
class IncomingInspectionWorkflow(TaskWorkflow):
    """The 8-hour inspection of one lot, and the NCRs of what it rejects."""

    @workflow.init
    def __init__(self, lot: InspectionLot) -> None:
        self.lot = lot
        self._init_tasks(lot.order_no or "", lot.queue_prefix)
        self.state = "received"
        self.ncrs: dict[str, str] = {}  # ncr_no -> state

    def headline(self) -> str:
        return f"**{self.lot.lot_no}** · {self.lot.supplier} · {self.lot.po_no} · {self.state}"

    @workflow.run
    async def run(self, lot: InspectionLot) -> str:
        stored = await self.activity(
            WarehouseActivities.receipt_stored,
            lot.receipt_no,
            f"receipt {lot.receipt_no} stored",
        )
        if not stored:  # the receipt's transaction failed after this workflow started
            self.state = "abandoned"
        else:
            if lot.refusals:
                await self._tell_buyer(lot)
            if lot.lines:
                await self._inspect(lot)
        self.state = "closed" if self.state != "abandoned" else self.state
        self.describe(f"lot {lot.lot_no} {self.state}")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    @workflow.signal
    async def order_cancelled(self) -> None:
        """The order these goods were bought for was cancelled: the lot carries on for stock.

        The cancellation detached what quality's tables held of the lot then; once the work
        under way here has landed (the inspection task opened, the request recorded), what
        was written under the order meanwhile is detached too."""
        order_no = self.lot.order_no
        self.lot = self.lot.model_copy(update={"order_no": None})
        self.book.order_no = ""
        self.book.escalator.order_no = ""
        if order_no and workflow.patched("order-cancelled-detach-again"):
            await workflow.wait_condition(self._settled)
            await self.activity(
                QualityActivities.detach_inspections,
                order_no,
                f"lot {self.lot.lot_no} carries on for stock, not for cancelled {order_no}",
            )

    @workflow.query
    def status(self) -> dict[str, Any]:
        return {
            "lot_no": self.lot.lot_no,
            "state": self.state,
            "ncrs": self.ncrs,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        if not isinstance(payload, p.IncomingInspection):
            return None
        expected = {line.item: line.qty for line in self.lot.lines}
        seen: set[str] = set()
        for line in payload.lines:
            if line.item not in expected:
                return f"{line.item} is not in lot {self.lot.lot_no} ({', '.join(expected)})"
            if line.item in seen:
                return f"{line.item} appears twice; give one line per item"
            seen.add(line.item)
            total = Decimal(str(line.qualified_qty)) + Decimal(str(line.rejected_qty))
            if total != expected[line.item]:
                return (
                    f"{line.item}: qualified {line.qualified_qty} + rejected {line.rejected_qty} "
                    f"must equal the {expected[line.item]} in the lot"
                )
            if line.rejected_qty > 0 and not (line.defect or "").strip():
                return f"{line.item}: rejected goods need the defect described"
        missing = sorted(set(expected) - seen)
        if missing:
            return f"every item of the lot needs a result; missing {', '.join(missing)}"
        return None

    async def _tell_buyer(self, lot: InspectionLot) -> None:
        """Refused lines warn procurement at once (§6.1)."""
        await self.escalate(
            key=f"{lot.receipt_no}:refused",
            kind="delivery_refused",
            level=1,
            department="procurement",
            role="procurement",
            due_at=lot.received_at,
            message=f"{lot.receipt_no} on {lot.po_no} from {lot.supplier}: "
            + "; ".join(lot.refusals),
        )

    async def _inspect(self, lot: InspectionLot) -> None:
        task = await self.book.open(
            "quality.incoming_inspection",
            f"Inspect lot {lot.lot_no} from {lot.supplier} ({lot.po_no})",
            {
                "lot_no": lot.lot_no,
                "receipt_no": lot.receipt_no,
                "po_no": lot.po_no,
                "supplier": lot.supplier,
                "order_no": lot.order_no,
                "lines": [line.model_dump(mode="json") for line in lot.lines],
            },
        )
        await self.activity(
            QualityActivities.request_inspection,
            InspectionRequested(
                lot_no=lot.lot_no,
                workflow_id=self.workflow_id,
                due_at=task.due_at,
                at=workflow.now(),
            ),
            f"inspection request for {lot.lot_no}, due {task.due_at:%Y-%m-%d %H:%M}Z",
        )
        self.state = "awaiting inspection"
        await self.wait_tasks(task)
        assert task.payload is not None
        recorded: InspectionRecorded = await self.activity(
            QualityActivities.record_inspection,
            InspectionResult(
                lot_no=lot.lot_no,
                lines=task.payload["lines"],
                by=task.completed_by or "quality",
                at=task.completed_at or workflow.now(),
            ),
            f"record inspection of {lot.lot_no}: qualified into stock, rejected to NCRs",
        )
        self.state = "inspected"
        await self._signal_reserved(recorded.allocation, lot.lot_no)
        for ncr in recorded.ncrs:
            self.ncrs[ncr.ncr_no] = "open"
            self.branch(self._judge(ncr))
        await self.until(
            lambda: all(state == "closed" for state in self.ncrs.values()),
            "waiting for NCR judgements",
        )

    async def _judge(self, ncr: NcrSummary) -> None:
        """Quality judges the NCR; the order it was bought for hears of it at once."""
        if ncr.order_no:
            await notify_order(
                ncr.order_no,
                MaterialNotice(
                    kind="ncr",
                    item=ncr.item,
                    qty=ncr.qty,
                    ncr_no=ncr.ncr_no,
                    defect=ncr.defect,
                    message=f"{ncr.ncr_no}: {ncr.qty} {ncr.item} rejected ({ncr.defect})",
                ),
            )
        task = await self.book.open(
            "quality.ncr_judgement",
            f"Judge {ncr.ncr_no}: {ncr.qty} {ncr.item} from {self.lot.supplier}",
            {**ncr.model_dump(mode="json"), "lot_no": self.lot.lot_no, "po_no": self.lot.po_no},
        )
        await self.wait_tasks(task)
        answer = p.NcrJudgement.parse(task.payload)
        closed: NcrClosed = await self.activity(
            QualityActivities.judge_ncr,
            NcrJudged(
                ncr_no=ncr.ncr_no,
                disposition=answer.disposition,
                comment=answer.comment,
                by=task.completed_by or "quality",
                at=task.completed_at or workflow.now(),
            ),
            f"{ncr.ncr_no} judged {answer.disposition}",
        )
        # Signal before the NCR counts as closed: the run ends once every NCR is closed, and
        # a signal from a closed workflow is dropped.
        await self._signal_reserved(closed.allocation, ncr.ncr_no)
        if ncr.order_no and closed.requisitions and workflow.patched("ncr-scrap-requisition"):
            # Scrapped goods of a cancelled PO, requisitioned again: the order buys them.
            for requisition in closed.requisitions:
                await notify_order(
                    ncr.order_no,
                    MaterialNotice(
                        kind="requisition",
                        item=requisition.item,
                        qty=requisition.qty,
                        ncr_no=ncr.ncr_no,
                        requisition=requisition,
                        message=f"{ncr.ncr_no}: {requisition.qty} {requisition.item} bought again",
                    ),
                )
        self.ncrs[ncr.ncr_no] = "closed"

    async def _signal_reserved(self, allocation: Allocation, source: str) -> None:
        await notify_reserved(allocation.reserved, f"reserved from {source}")
