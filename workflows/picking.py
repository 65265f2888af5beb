"""P7.1 picking: at production start - PICKING_LEAD `warehouse.picking` opens with the pick
list, due at the production start. A line picked short of its list was not on the shelf: it
is written off, reported to planning and procurement, and chased like any shortage; picking
reopens for the rest as soon as it is reserved (or looked for again daily). When every line is
picked the phase is over: the production work order (opened with the master plan, named in
the task) is picked, or, for an order from before then, opens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.warehouse.activities import WarehouseActivities
    from shared import payloads as p
    from shared.material_types import MaterialLine, PickRecord, PickResult
    from workflows.tasks import TaskState, wait_for

if TYPE_CHECKING:
    from workflows.materials import MaterialsPhase


class Picking:
    def __init__(self, materials: MaterialsPhase) -> None:
        self.materials = materials
        # The picking rounds' part of the order's state (pick list, a round running).
        self.state = materials.state

    def rule_violation(self, payload: p.Picking) -> str | None:
        seen: set[str] = set()
        for line in payload.lines:
            if self.state.pick_lines:  # listed by reference: the warehouse checks the lines
                if line.item in seen:
                    return f"{line.item} appears twice; give one line per item"
                seen.add(line.item)
                continue
            if line.item not in self.state.pick_list:
                listed = ", ".join(self.state.pick_list) or "nothing"
                return f"{line.item} is not on the pick list ({listed})"
            if line.item in seen:
                return f"{line.item} appears twice; give one line per item"
            seen.add(line.item)
            if Decimal(str(line.qty_picked)) > self.state.pick_list[line.item]:
                return (
                    f"{line.item}: only {self.state.pick_list[line.item]} is reserved for the "
                    f"order, not {line.qty_picked}"
                )
        return None

    async def supplement(self) -> None:
        """Material a design change added while production runs: chased while it is short,
        picked for production as it is reserved."""
        order = self.materials.ctx
        await order.until(lambda: not self.state.picking, "waiting for the picking under way")
        await self.run(workflow.now())

    async def run(self, start: datetime) -> None:
        """Pick until every line is picked, reopening for what arrives after a short pick."""
        self.state.picking = True
        try:
            await self._rounds(start)
        finally:
            self.state.picking = False

    async def _rounds(self, start: datetime) -> None:
        materials, order = self.materials, self.materials.ctx
        materials.state.picking_started = True
        while True:
            status = await materials.completeness()
            outstanding = status.outstanding
            await materials.stop_chasing(status if outstanding else None)
            if not outstanding:
                return
            ready = status.ready
            if not ready:
                # Short at picking time: chase and warn as the completeness check does, and
                # look again daily even if no reservation notice comes.
                await materials.short(status)
                seen = materials.state.reservations
                again = workflow.now() + timedelta(days=1)
                more = status.outstanding_count - len(outstanding)
                await order.until(
                    lambda seen=seen: materials.state.reservations != seen,  # type: ignore[misc]
                    "waiting for material to pick: "
                    + "; ".join(describe(x) for x in outstanding)
                    + (f"; and {more} more line(s)" if more > 0 else ""),
                    deadline=again,
                    timer_summary=f"look for material to pick again at {again:%Y-%m-%d %H:%M}Z",
                )
                continue
            # More lines to pick than the summary names: the task names the first of them and
            # their count, the warehouse reads the list from the database (issue 17).
            by_reference = status.ready_count > len(ready)
            self.state.pick_list = {} if by_reference else {x.item: x.to_pick for x in ready}
            self.state.pick_lines = status.ready_count if by_reference else 0
            listed: dict[str, object] = {
                "pick_list": [
                    {"item": x.item, "qty": str(x.to_pick), "special": x.special} for x in ready
                ],
                "not_available": [line_context(x) for x in outstanding if x.to_pick <= 0],
                "production_start": start.isoformat(),
                "work_order": self.state.work_order,
            }
            if by_reference:
                listed["pick_lines"] = status.ready_count
                listed["not_available_lines"] = status.outstanding_count - status.ready_count
                listed["see"] = f"GET /orders/{order.inp.order_no} (materials)"
            task = await order.book.open(
                "warehouse.picking",
                f"Pick material of {order.inp.order_no} for production",
                listed,
                due_at=start if start > workflow.now() else None,
            )
            if start > workflow.now():
                order.watch(self._picking_late(task, start))
            await order.wait_tasks(task)
            assert task.payload is not None
            result: PickResult = await order.activity(
                WarehouseActivities.record_pick,
                PickRecord(
                    order_no=order.inp.order_no,
                    task_id=task.task_id,
                    lines=task.payload["lines"],
                    pick_list=self.state.pick_list,
                    by=task.completed_by or "warehouse",
                    at=task.completed_at or workflow.now(),
                    by_reference=by_reference,
                ),
                f"take the picked material of {order.inp.order_no} off the shelf",
            )
            self.state.pick_list, self.state.pick_lines = {}, 0
            if result.short:
                await self._report_short_pick(task, result)

    async def _picking_late(self, task: TaskState, start: datetime) -> None:
        """Picking still open at the production start warns the planner (the task's own clock
        escalates to head:warehouse, then the division)."""
        order = self.materials.ctx
        if await wait_for(
            lambda: not task.is_open, start, f"picking due by production start {start:%H:%M}Z"
        ):
            return
        await order.escalate(
            key=f"{task.task_id}:picking_late",
            kind="picking_late",
            level=1,
            task_id=task.task_id,
            department="planning",
            role="planning",
            due_at=start,
            message=f"material of {order.inp.order_no} is not picked at its production "
            f"start {start:%Y-%m-%d %H:%M}Z",
        )

    async def _report_short_pick(self, task: TaskState, result: PickResult) -> None:
        """Shortages at picking go to the planner and material control (§7.2)."""
        order = self.materials.ctx
        start = await order.production_start()
        shorts = ", ".join(f"{qty} {item}" for item, qty in result.short.items())
        more = (result.short_count or 0) - len(result.short)
        if more > 0:
            shorts += f" and {more} more line(s)"
        for role in ("planning", "procurement"):
            await order.escalate(
                key=f"{task.task_id}:short_pick:{role}",
                kind="short_pick",
                level=1,
                task_id=task.task_id,
                department=role,
                role=role,
                due_at=start,
                message=f"picking for {order.inp.order_no} came up short: {shorts}",
            )


def line_context(line: MaterialLine) -> dict[str, object]:
    return {
        "item": line.item,
        "required": str(line.required),
        "reserved": str(line.reserved),
        "missing": str(line.missing),
        "special": line.special,
        "pending_inspection": str(line.pending_inspection),
        "on_order": str(line.on_order),
        "promised_date": line.promised_date.isoformat() if line.promised_date else None,
    }


def describe(line: MaterialLine) -> str:
    promised = f", promised {line.promised_date}" if line.promised_date else ""
    special = " (special)" if line.special else ""
    return f"{line.required - line.reserved} {line.item}{special}{promised}"
