"""When an order may continue as new: between stages, once nothing runs that its state could
not restart (`OrderRest`, a base of `OrderWorkflow`); and how the next run picks up."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.order_records import OrderRecords

if TYPE_CHECKING:
    from workflows.plan import PlanPhase
    from workflows.production import ProductionPhase


class OrderRest(OrderRecords):
    """Continue-as-new for an order's workflow, over the parts of it the check reads."""

    change_lock: asyncio.Lock
    material_lock: asyncio.Lock
    watchers: list[asyncio.Task[None]]
    plan: PlanPhase
    production: ProductionPhase

    async def _enter(self, stage: str, reason: str | None = None) -> None:
        """Enter the next stage; between stages the order may continue as new."""
        await self.set_stage(stage, reason=reason)
        if not (self._history_long() and self._at_rest() and workflow.patched("continue-as-new")):
            return
        # The update that brought the order here returns first (it waits for the order to
        # settle); a run continues as new with no handler in flight.
        await self.until(workflow.all_handlers_finished, f"entered {stage}; continuing as new")
        if self._at_rest() and workflow.all_handlers_finished():
            self.state.runs += 1
            workflow.continue_as_new(self.inp.model_copy(update={"resume": self.state}))

    def _history_long(self) -> bool:
        info = workflow.info()
        limit = self.state.policy.history_events if self.state.policy else 0
        return info.is_continue_as_new_suggested() or (
            limit > 0 and info.get_current_history_length() >= limit
        )

    def _at_rest(self) -> bool:
        """Nothing runs but the main line, the plan's clocks and updates about to return: no
        branch, open task, change, design change or clock that the state could not restart."""
        return (
            self._branches == 1
            and not self.book.open_tasks()
            and not self.material_lock.locked()
            and not self.change_lock.locked()
            and self.state.changes.pending is None
            and not self.state.materials.picking
            and not self.production.design_change_handles
            and all(task.done() for task in self.watchers)
        )

    def _resume(self) -> None:
        """Pick up where the previous run stopped: task and milestone clocks watch again."""
        self.book.resume()
        self.plan.resume()
        self.describe(f"continued in run {self.state.runs} at stage {self.state.stage}")
