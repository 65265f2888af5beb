"""DailyMrpWorkflow (PROCESS P4.2, §4.3, §4.5): what the daily-MRP Temporal Schedule runs.

Safety stock is topped up (each new requisition approved and bought in its own
RequisitionWorkflow; runs started before that used a StockReplenishmentWorkflow), free stock
goes to the open orders short of it, and whatever nothing covers is requisitioned for the
order; each order is told by the `material_notice` signal. An order whose workflow has ended
is skipped, never a reason to fail the run.

It runs on the plant's working days only: its first step asks the factory calendar about the
plant's local date, and on a day off the run records that it skipped (its result and summary
say why) and ends (shared/plant_days.py).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from services.procurement.mrp.daily import DailyMrpActivities, qty_text
    from shared.material_types import (
        DailyMrpInput,
        DailyMrpResult,
        DailyReallocation,
        DailyRun,
        MaterialNotice,
        SafetyStockRun,
        StockReplenishment,
    )
    from shared.plant_days import PlantDay
    from shared.temporal import department_queue, workflow_queue
    from shared.types import RequisitionInput, RequisitionSummary
    from shared.workflow_ids import (
        order_workflow_id,
        replenish_workflow_id,
        requisition_workflow_id,
    )
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT
    from workflows.replenishment import StockReplenishmentWorkflow
    from workflows.requisition import RequisitionWorkflow

# The order workflow's signal for material news (reservations, new requisitions).
MATERIAL_NOTICE = "material_notice"


def notices_for(
    reserved: dict[str, Decimal], requisitions: list[RequisitionSummary]
) -> list[MaterialNotice]:
    """What one order is told: each item reserved for it, then each new requisition."""
    notices = [
        MaterialNotice(
            kind="reserved",
            item=item,
            qty=qty,
            message=f"daily MRP reserved {qty_text(qty)} {item} from free stock",
        )
        for item, qty in sorted(reserved.items())
    ]
    notices += [
        MaterialNotice(
            kind="requisition",
            item=r.item,
            qty=r.qty,
            requisition=r,
            message=f"daily MRP requisitioned {qty_text(r.qty)} {r.item}: "
            "nothing in stock or on order covers it",
        )
        for r in requisitions
    ]
    return notices


@workflow.defn
class DailyMrpWorkflow:
    """One daily MRP run over safety stock and every open order."""

    @workflow.run
    async def run(self, inp: DailyMrpInput) -> DailyMrpResult:
        now = workflow.now()
        daily = DailyRun(day=now.date(), at=now)
        if workflow.patched("working-days"):
            plant: PlantDay = await workflow.execute_activity_method(
                DailyMrpActivities.mrp_day,
                daily,
                task_queue=department_queue(inp.queue_prefix, "procurement"),
                start_to_close_timeout=DB_TIMEOUT,
                heartbeat_timeout=DB_HEARTBEAT,
                retry_policy=DB_RETRY,
                summary="daily MRP: is the plant's day a working day?",
            )
            if not plant.runs:
                workflow.set_current_details(f"**daily MRP** {plant.reason}")
                return DailyMrpResult(
                    safety_stock=SafetyStockRun(),
                    reallocation=DailyReallocation(),
                    day=plant.day,
                    skipped=plant.reason,
                )
            # The run's day is the plant's local date: it keys what the run creates.
            daily = DailyRun(day=plant.day, at=now)
        workflow.set_current_details(f"**daily MRP** {daily.day}: topping up safety stock")
        stock: SafetyStockRun = await workflow.execute_activity_method(
            DailyMrpActivities.replenish_safety_stock,
            daily,
            task_queue=department_queue(inp.queue_prefix, "procurement"),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"daily MRP {daily.day}: safety stock below its level",
        )
        if workflow.patched("requisition-children"):
            for requisition in stock.created:
                await self._buy(requisition, inp.queue_prefix)
            for requisition in stock.awaiting_approval:
                if not await self._replenishing(requisition):
                    await self._buy(requisition, inp.queue_prefix)
        else:
            for requisition in [*stock.created, *stock.awaiting_approval]:
                await self._replenish(requisition, inp.queue_prefix)
        workflow.set_current_details(f"**daily MRP** {daily.day}: reallocating open orders")
        realloc: DailyReallocation = await workflow.execute_activity_method(
            DailyMrpActivities.reallocate_open_orders,
            daily,
            task_queue=department_queue(inp.queue_prefix, "procurement"),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"daily MRP {daily.day}: free stock to open orders, shortages requisitioned",
        )
        notified, unreachable = await self._tell_orders(realloc)
        workflow.set_current_details(
            f"**daily MRP** {daily.day}: {len(stock.created)} safety-stock requisition(s), "
            f"{len(notified)} order(s) told, {len(unreachable)} no longer running"
        )
        return DailyMrpResult(
            safety_stock=stock,
            reallocation=realloc,
            notified=notified,
            unreachable=unreachable,
            day=daily.day,
        )

    async def _replenish(self, requisition: RequisitionSummary, queue_prefix: str) -> None:
        """Start the requisition's approval and purchase; it outlives this run. A running one
        (yesterday's, still waiting for the head) is left as it is."""
        summary = f"safety stock: buy {qty_text(requisition.qty)} {requisition.item}"
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                StockReplenishmentWorkflow.run,
                StockReplenishment(requisition=requisition, queue_prefix=queue_prefix),
                id=replenish_workflow_id(requisition.key),
                task_queue=workflow_queue(queue_prefix),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=summary[:200],
            )

    async def _buy(self, requisition: RequisitionSummary, queue_prefix: str) -> None:
        """Start the requisition's RequisitionWorkflow (approval by the head, then the PO); it
        outlives this run. A running one (yesterday's, still waiting for the head) is left as
        it is."""
        summary = f"safety stock: buy {qty_text(requisition.qty)} {requisition.item}"
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                RequisitionWorkflow.run,
                RequisitionInput(requisition=requisition, queue_prefix=queue_prefix),
                id=requisition_workflow_id(requisition.key),
                task_queue=workflow_queue(queue_prefix),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=summary[:200],
            )

    async def _replenishing(self, requisition: RequisitionSummary) -> bool:
        """Whether a StockReplenishmentWorkflow of an earlier run still buys it (it answers
        the signal); then no RequisitionWorkflow is started beside it."""
        handle = workflow.get_external_workflow_handle(replenish_workflow_id(requisition.key))
        try:
            await handle.signal(StockReplenishmentWorkflow.still_running)
        except FailureError:
            return False
        return True

    async def _tell_orders(self, realloc: DailyReallocation) -> tuple[list[str], list[str]]:
        """Signal every order the run touched; returns (told, no longer running)."""
        notified: list[str] = []
        unreachable: list[str] = []
        for order_no in sorted(set(realloc.reserved) | set(realloc.requisitions)):
            handle = workflow.get_external_workflow_handle(order_workflow_id(order_no))
            notices = notices_for(
                realloc.reserved.get(order_no, {}), realloc.requisitions.get(order_no, [])
            )
            try:
                for notice in notices:
                    await handle.signal(MATERIAL_NOTICE, notice)
            except FailureError as exc:  # the order has ended (closed, cancelled, gone)
                workflow.logger.info("order-%s not told of daily MRP: %s", order_no, exc)
                unreachable.append(order_no)
                continue
            notified.append(order_no)
        return notified, unreachable
