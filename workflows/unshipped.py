"""WeeklyUnshippedWorkflow (PROCESS P2.6): what the weekly-unshipped Temporal Schedule runs.

The schedule starts it every day; its first step asks the factory calendar whether today (the
plant's local date) is the list's day: `unshipped_weekday`, or the next working day when that
day is off. On any other day the run records why not and ends (shared/plant_days.py).

On its day every order in finished goods not yet shipped is asked for a ship date: its workflow
gets the `ship_date_due` signal and opens `sales.ship_date` unless one is open already. An order
whose workflow has ended is listed as unreachable, never a reason to fail the run.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.sales.unshipped import UnshippedActivities
    from shared.plant_days import PlantDay
    from shared.production_types import UnshippedRun, WeeklyUnshippedInput, WeeklyUnshippedResult
    from shared.temporal import department_queue
    from shared.workflow_ids import order_workflow_id
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT

# The order workflow's signal (no argument): open `sales.ship_date` if still unshipped.
SHIP_DATE_DUE = "ship_date_due"


@workflow.defn
class WeeklyUnshippedWorkflow:
    """One weekly run over the orders in finished goods not yet shipped."""

    @workflow.run
    async def run(self, inp: WeeklyUnshippedInput) -> WeeklyUnshippedResult:
        now = workflow.now()
        day = now.date()
        if workflow.patched("working-days"):
            plant: PlantDay = await workflow.execute_activity_method(
                UnshippedActivities.unshipped_day,
                UnshippedRun(at=now),
                task_queue=department_queue(inp.queue_prefix, "sales"),
                start_to_close_timeout=DB_TIMEOUT,
                heartbeat_timeout=DB_HEARTBEAT,
                retry_policy=DB_RETRY,
                summary="unshipped list: is the plant's day the list's day?",
            )
            if not plant.runs:
                workflow.set_current_details(f"**weekly unshipped** {plant.reason}")
                return WeeklyUnshippedResult(day=plant.day, skipped=plant.reason)
            day = plant.day
        workflow.set_current_details(f"**weekly unshipped** {day}: listing orders")
        order_nos: list[str] = await workflow.execute_activity_method(
            UnshippedActivities.unshipped_orders,
            UnshippedRun(at=now),
            task_queue=department_queue(inp.queue_prefix, "sales"),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"weekly unshipped {day}: orders in finished goods not yet shipped",
        )
        result = WeeklyUnshippedResult(day=day)
        for order_no in order_nos:
            handle = workflow.get_external_workflow_handle(order_workflow_id(order_no))
            try:
                await handle.signal(SHIP_DATE_DUE)
            except FailureError as exc:  # the order has ended (closed, cancelled, gone)
                workflow.logger.info("order-%s not asked for a ship date: %s", order_no, exc)
                result.unreachable.append(order_no)
                continue
            result.asked.append(order_no)
        workflow.set_current_details(
            f"**weekly unshipped** {day}: {len(result.asked)} order(s) asked for a ship date, "
            f"{len(result.unreachable)} no longer running"
        )
        return result
